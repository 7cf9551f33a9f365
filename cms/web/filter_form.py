"""The filter column of a window, written in one pass.

The column used to go through crispy-forms (`{{ filter.form|crispy }}`): a template for the
form, one for each field and one for each checkbox of a list, each resolving a dozen variables.
On the Codes window that was a quarter of the page's CPU, as much as the fifty rows of the table
(issue 7). The filter forms are small and all alike, so this writes the same Bootstrap 5 markup
directly: a label (or a legend, for a group of inputs), the widget, its error and its help text.
The other forms of the product (creating a batch, inviting a user) stay with crispy.

The widgets keep rendering themselves (`BoundField.as_widget`), except a list of checkboxes,
which is written here: through Django's templates it cost one template per option.
"""

from django import forms
from django.utils.safestring import SafeString, mark_safe

from .html import format_html


def _widget_class(widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


def _errors(field) -> str:
    """The field's errors, under the id Django's `aria-describedby` on the input points to."""
    if not field.errors:
        return ""
    messages = mark_safe("".join(format_html("<div>{}</div>", error) for error in field.errors))
    return format_html('<div id="{}_error" class="invalid-feedback d-block">{}</div>', field.auto_id, messages)


def _help(field) -> str:
    if not field.help_text:
        return ""
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)


def _rendered_widget(field) -> str:
    css = _widget_class(field.field.widget)
    if field.errors:
        return field.as_widget(attrs={"class": css + " is-invalid", "aria-invalid": "true"})
    return field.as_widget(attrs={"class": css})


def _checkbox(field) -> str:
    return format_html(
        '<div class="mb-3"><div id="div_id_{}" class="form-check">{} '
        '<label for="{}" class="form-check-label">{}</label>{}{}</div></div>',
        field.html_name, _rendered_widget(field), field.id_for_label, field.label, _errors(field), _help(field),
    )


def _checkbox_list(field) -> str:
    """A `CheckboxSelectMultiple` (or `RadioSelect`): a legend over one checkbox per choice."""
    input_type = field.field.widget.input_type
    invalid = " is-invalid" if field.errors else ""
    options = []
    for option in field.subwidgets:
        data = option.data
        options.append(
            format_html(
                '<div class="form-check"><input type="{}" class="form-check-input{}" name="{}" value="{}" id="{}"{}> '
                '<label for="{}" class="form-check-label">{}</label></div>',
                input_type, invalid, data["name"], data["value"], data["attrs"]["id"],
                mark_safe(" checked") if data["selected"] else "", data["attrs"]["id"], data["label"],
            )
        )
    described_by = [f"{field.auto_id}_helptext"] if field.help_text else []
    described_by += [f"{field.auto_id}_error"] if field.errors else []
    described = format_html(' aria-describedby="{}"', " ".join(described_by)) if described_by else ""
    return format_html(
        '<div id="div_id_{}" class="mb-3"><fieldset{}><legend class="form-label fs-6">{}</legend>'
        "<div>{}</div>{}{}</fieldset></div>",
        field.html_name, mark_safe(described), field.label, mark_safe("".join(options)), _errors(field), _help(field),
    )


def _group(field) -> str:
    """A widget of several inputs (a date range): a legend names them together."""
    return format_html(
        '<div id="div_id_{}" class="mb-3"><fieldset><legend class="form-label fs-6">{}</legend>{}{}{}</fieldset></div>',
        field.html_name, field.label, _rendered_widget(field), _errors(field), _help(field),
    )


def _labelled(field) -> str:
    return format_html(
        '<div id="div_id_{}" class="mb-3"><label for="{}" class="form-label">{}</label>{}{}{}</div>',
        field.html_name, field.id_for_label, field.label, _rendered_widget(field), _errors(field), _help(field),
    )


def render_filter_form(form: forms.Form) -> SafeString:
    """The fields of a filter form as the filter column shows them (the form's non-field errors
    are shown by the page, above the table)."""
    parts = []
    for field in form:
        widget = field.field.widget
        if field.is_hidden:
            parts.append(str(field))
        elif isinstance(widget, forms.CheckboxInput):
            parts.append(_checkbox(field))
        elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            parts.append(_checkbox_list(field))
        elif isinstance(widget, forms.MultiWidget):
            parts.append(_group(field))
        else:
            parts.append(_labelled(field))
    return mark_safe("".join(parts))
