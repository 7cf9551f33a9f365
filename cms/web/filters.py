"""The filter column of a window: its form, widgets and filters. Django's own form rendering lays
it out, through its Jinja2 renderer (ADR 32), with the templates in cms/jinja2/cms/forms/ and
cms/jinja2/cms/widgets/."""

from datetime import date

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.renderers import Jinja2
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from .labels import indented_account_label


class FilterFormRenderer(Jinja2):
    """Django's form renderer, with the filter column's layout of a form and of a field."""

    form_template_name = "cms/forms/filter_form.html"
    field_template_name = "cms/forms/filter_field.html"


#: One renderer for every filter form: a renderer keeps its template engine and parsed templates.
RENDERER = FilterFormRenderer()


def _bootstrap_class(widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):  # a checkbox list is a RadioSelect
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


class FilterForm(forms.Form):
    """The form of a window's filter column (a FilterSet's `Meta.form`): each field with its label
    (a legend over a group of inputs), errors and help text, and Bootstrap's classes on its inputs
    (`is-invalid` on those of a field with an error)."""

    default_renderer = RENDERER
    label_suffix = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # the form's own copies
            field.widget.attrs.setdefault("class", _bootstrap_class(field.widget))
            if type(field.widget) is forms.Select:
                # Its options inline, not one template each: an account list can be long.
                field.widget.template_name = "cms/widgets/select.html"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs['class']} is-invalid"


class CheckboxList(forms.CheckboxSelectMultiple):
    """Checkboxes laid out as Bootstrap's `form-check`s, under the field's legend."""

    template_name = "cms/widgets/checkbox_list.html"


class DayRangeWidget(DateRangeWidget):
    """Two date pickers, "from" and "to", one under the other: they fit the filter column."""

    template_name = "cms/widgets/date_range.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["part_labels"] = [_("from"), _("to")]
        return context


#: The days a day filter takes: any a person means, and far from the ends of the calendar, where a
#: day's first or last instant in a time zone falls outside what Python and the databases hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def bounded(field: forms.MultiValueField, first, last) -> None:
    """Each half of a range field refuses what lies outside first..last, with the field's error."""
    for half in field.fields:
        half.validators += [MinValueValidator(first), MaxValueValidator(last)]


class DayRangeField(django_filters.fields.DateRangeField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bounded(self, FIRST_DAY, LAST_DAY)


class DayRangeFilter(django_filters.DateFromToRangeFilter):
    """A range of whole days, "from" and "to", each between FIRST_DAY and LAST_DAY."""

    field_class = DayRangeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DayRangeWidget())
        super().__init__(*args, **kwargs)


class AccountChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """The options of an account list from plain rows (id, name, depth) read in one query: no
    model instance per option and no server-side cursor, which `QuerySet.iterator()` opens on
    PostgreSQL (three round trips for a list shown on every window)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, name, depth in self.queryset.values_list("pk", "name", "depth"):
            yield (pk, indented_account_label(name, depth, top=self.field.top))


class AccountChoiceField(django_filters.fields.ModelChoiceField):
    """A list of accounts that reads as the tree (`indented_account_label`): `top` is the depth
    shown flush left. A chosen id is still checked against, and cleaned from, its queryset."""

    iterator = AccountChoiceIterator

    def __init__(self, *args, top: int = 1, **kwargs):
        self.top = top
        super().__init__(*args, **kwargs)


class AccountChoiceFilter(django_filters.ModelChoiceFilter):
    """Filters by one account of a list labelled as the tree. Give each instance its accounts and
    `top` on its field (`filterset.filters[name].field`), not on the filter: django-filter builds
    a field once per filter and copies it with the filter, and describing the API (drf-spectacular)
    builds the class-level filters' fields, which every later instance would then carry."""

    field_class = AccountChoiceField
