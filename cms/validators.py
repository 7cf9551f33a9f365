"""Free text a person types: a name, a note, a hardware id is one line of visible characters; a
notice's text may also hold line breaks and tabs. Control characters (a vertical tab or a NUL
pasted from another program) cannot be stored in a spreadsheet file and break the exports, so they
are refused where the text comes in: a form's field and an API serializer's field take these
validators, and the services ask `typed_text`, so the three cannot disagree."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

#: Written as what is allowed, so the API's schema publishes it as the field's pattern.
one_line = RegexValidator(
    r"\A[^\x00-\x1f\x7f-\x9f]*\Z",
    message=_("Control characters (tabs, line breaks, invisible characters pasted from another program) "
              "are not allowed here."),
    code="control_character",
)
lines = RegexValidator(
    r"\A[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*\Z",
    message=_("Control characters other than line breaks and tabs (invisible characters pasted from another "
              "program) are not allowed here."),
    code="control_character",
)


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be kept, or None."""
    try:
        (lines if multiline else one_line)(text)
    except ValidationError as error:
        return str(error.messages[0])
    return None


def typed_text(value: str | None, *, label, multiline: bool = False) -> str:
    """`value` as a service keeps it: without surrounding spaces, or refused, naming the field by
    its `label`."""
    text = (value or "").strip()
    if problem := text_problem(text, multiline=multiline):
        raise DomainError(f"{label}: {problem}", code="validation_error")
    return text
