"""Forms of the Units pages: input only; the rules are checked by `codes.services`."""

import csv
import io

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from codes import text as code_text
from codes.pairing import CsvLine, LineError

#: An upload bigger than this is refused before it is read.
CSV_MAX_BYTES = 512 * 1024
CSV_MAX_LINES = 1000


class ApplyCodesForm(forms.Form):
    period_days = forms.TypedChoiceField(
        label=_("Period"), coerce=int, choices=(),
        help_text=_("Each unit gets one available code of this period, from the codes you may use."),
    )

    def __init__(self, *args, periods: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period_days"].choices = [(p, _("%(days)d days") % {"days": p}) for p in periods]


def _looks_like_header(hardware_id: str, typed_code: str) -> bool:
    canonical = code_text.normalize(typed_code)
    return not code_text.looks_like_a_code(canonical) and not any(c.isdigit() for c in hardware_id + typed_code)


def parse_attach_csv(content: str) -> tuple[list[CsvLine], list[LineError]]:
    """Lines of `hardware id, code` (comma, semicolon or tab; a header line is skipped, blank
    lines too). Returns the lines that have the right shape and an error for every other."""
    first = next((line for line in content.splitlines() if line.strip()), "")
    delimiter = next((d for d in (";", "\t") if d in first), ",")
    lines, errors = [], []
    for index, row in enumerate(csv.reader(io.StringIO(content), delimiter=delimiter), start=1):
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        raw = ", ".join(cells)
        if len(cells) != 2 or not cells[0] or not cells[1]:
            errors.append(LineError(index, raw, str(_("Expected two values: hardware id, code."))))
            continue
        if not lines and not errors and _looks_like_header(*cells):
            continue  # a header line
        lines.append(CsvLine(index, cells[0], cells[1]))
    return lines, errors


class AttachCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("One line per code: hardware id, code (comma, semicolon or tab). A header line is allowed."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(kb)d KB).") % {"kb": CSV_MAX_BYTES // 1024}
            )
        raw = upload.read()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file must be UTF-8 text (CSV).")) from None
        lines, errors = parse_attach_csv(content)
        if len(lines) + len(errors) > CSV_MAX_LINES:
            raise forms.ValidationError(
                ngettext("At most %(max)d line per file.", "At most %(max)d lines per file.", CSV_MAX_LINES)
                % {"max": CSV_MAX_LINES}
            )
        if not lines and not errors:
            raise forms.ValidationError(_("The file has no lines."))
        self.parsed_lines, self.line_errors = lines, errors
        return upload
