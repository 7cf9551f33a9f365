"""Widgets of the window's filter column (their templates live in cms/templates/cms/widgets/,
where Django's default form renderer finds them)."""

import django_filters
import django_filters.fields
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django_filters.widgets import DateRangeWidget

from .html import escape, format_html


def _attributes(attrs: dict) -> str:
    """What Django's `django/forms/widgets/attrs.html` writes for a widget's attributes."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )


def input_html(widget: dict) -> str:
    """What Django's `django/forms/widgets/input.html` writes for a widget's context."""
    value = widget["value"]
    shown = "" if value is None else f' value="{escape(value)}"'
    attributes = _attributes(widget["attrs"])
    return f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"{shown}{attributes}>'


# The filter column's inputs write their markup in one pass, as `QuickSelect` does below: each
# went through two or three templates (the input, its attributes), and a page has eight of them,
# a tenth of the Codes window's filter column (issue 7). tests/ui/test_quick_widgets.py holds
# them to Django's own templates.


class QuickInput:
    """Mixin for an `Input` widget rendered without its templates (`input.html` markup)."""

    def render(self, name, value, attrs=None, renderer=None):
        return mark_safe(input_html(self.get_context(name, value, attrs)["widget"]))


class QuickTextInput(QuickInput, forms.TextInput):
    pass


class QuickCheckboxInput(QuickInput, forms.CheckboxInput):
    pass


class DayRangeWidget(DateRangeWidget):
    """Two date pickers, "from" and "to", one under the other: they fit the filter column.

    Written in one pass; `cms/widgets/date_range.html` is the same markup as a template (the
    tests compare the two)."""

    template_name = "cms/widgets/date_range.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        subwidgets = self.get_context(name, value, attrs)["widget"]["subwidgets"]
        labels = (gettext("from"), gettext("to"))
        # The template includes each input's own template, which ends with two line breaks.
        parts = (
            f'<div class="date-range-part"><span class="date-range-label">{escape(label)}</span>'
            f"{input_html(sub)}\n\n</div>"
            for label, sub in zip(labels, subwidgets, strict=True)
        )
        return mark_safe(f'<div class="date-range">{"".join(parts)}</div>')


class QuickSelect(forms.Select):
    """A `<select>` whose options are written in one pass, not through one template each.

    Django renders every `<option>` through `select_option.html`: the "Shared with" filter of a
    provider lists every account of the network (about 150 in the benchmark's), which made it
    the dearest part of the Codes window after the table (issue 7). The markup is the one of
    Django's templates (tests/ui/test_quick_select.py compares them)."""

    def render(self, name, value, attrs=None, renderer=None):
        # Select.get_context and optgroups, in one loop: an option's only attribute is `selected`
        # (a Select's options do not inherit the widget's attributes).
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        values = self.format_value(value)
        parts = [f'<select name="{escape(name)}"{_attributes(attrs)}>']
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            grouped = isinstance(option_label, list | tuple)
            if grouped:
                parts.append(f'\n  <optgroup label="{escape(option_value)}">')
            for value_, label in option_label if grouped else [(option_value, option_label)]:
                selected = (not has_selected or self.allow_multiple_selected) and str(value_) in values
                has_selected |= selected
                parts.append(
                    f'\n  <option value="{escape(value_)}"{" selected" if selected else ""}>{escape(label)}</option>\n'
                )
            if grouped:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class _PlainQuerysetChoices(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # not .iterator(): see ListedChoiceFilter
            yield self.choice(obj)


class ListedChoices(django_filters.fields.ModelChoiceIterator, _PlainQuerysetChoices):
    """django-filter's choices (with its "null" choice) over one plain read of the queryset."""


class ListedChoiceField(django_filters.fields.ModelChoiceField):
    """`checked_among_rows`: check the chosen value among the rows the list reads, instead of
    Django's second query (`queryset.get(pk=...)`). Only for a short list that the page reads
    anyway (the Codes window's batches, which also give the period filter its choices): where a
    list can be long and a request need not read it (an API call naming one owner among thousands
    of accounts), the single-row query is the cheaper check."""

    iterator = ListedChoices

    def __init__(self, *args, checked_among_rows: bool = False, **kwargs):
        self.checked_among_rows = checked_among_rows
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        # For a reseller's batch list, Django's second form of the same question was planned as a
        # bitmap over the branch's codes of the batch: 3 ms at 1M codes (docs/BENCHMARKS-notes.md,
        # fourteenth round). The queryset keeps the rows it read, so the list costs one query.
        if (
            not self.checked_among_rows
            or value in self.empty_values
            or (self.null_label is not None and value == self.null_value)
        ):
            return super().to_python(value)
        self.validate_no_null_characters(value)
        meta = self.queryset.model._meta
        key = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        try:
            wanted = key.to_python(getattr(value, key.attname) if isinstance(value, self.queryset.model) else value)
        except ValidationError:  # not even of the key's type ("abc" for an id)
            wanted = None
        if wanted is not None:
            for row in self.queryset:
                if getattr(row, key.attname) == wanted:
                    return row
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


class ListedChoiceFilter(django_filters.ModelChoiceFilter):
    """A model choice filter whose list is read with one plain query. Django's own iterator reads
    the choices through `QuerySet.iterator()`, which on PostgreSQL opens a server-side cursor:
    DECLARE, FETCH and CLOSE, three round trips and a WITH HOLD cursor, for the few rows of a
    filter's list. For short lists only (the field's queryset keeps the rows it read)."""

    field_class = ListedChoiceField
