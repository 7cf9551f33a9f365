"""API filters of the report: time, account ("and below"), unit, code, action, batch.

The Report page's FilterSet (`codes.report.filtersets.EventFilterSet`) asks for whole days in the
account's time zone and shows today when no range is given: right for a page, wrong for an
integrator pulling the log. Here the range is two ISO 8601 instants and no range means all time;
the account filter means the same as the page's."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from audit.models import Action, Event
from cms.api.filtersets import InstantRangeFilter, IntegerFilter
from cms.selectors import accounts_visible_to
from codes import text as code_text
from units.models import normalize_hardware_id


class EventFilterSet(django_filters.FilterSet):
    occurred = InstantRangeFilter(label=_("Time"), field_name="occurred_at")
    action = django_filters.MultipleChoiceFilter(label=_("Action"), choices=Action.choices)
    account = django_filters.ModelChoiceFilter(
        label=_("Account"), queryset=None, method="filter_account",
        help_text=_("Events of this account: the account concerned, or the one codes moved from."),
    )
    account_below = django_filters.BooleanFilter(label=_("and accounts below"), method="noop", widget=forms.CheckboxInput)
    unit = django_filters.CharFilter(label=_("Unit"), method="filter_unit", help_text=_("Hardware id"))
    code = django_filters.CharFilter(label=_("Code"), method="filter_code", help_text=_("Code text, in any typing"))
    batch = IntegerFilter(label=_("Batch"), field_name="batch_id")

    class Meta:
        model = Event
        fields = ["occurred", "action", "account", "account_below", "unit", "code", "batch"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["account"].field.queryset = accounts_visible_to(getattr(request, "user", None))

    def noop(self, queryset, name, value):
        return queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_account(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("account_below"):
            return queryset.filter(
                Q(account__path__startswith=account.path) | Q(from_account__path__startswith=account.path)
            )
        return queryset.filter(Q(account=account) | Q(from_account=account))

    def filter_unit(self, queryset, name, value):
        hardware_id = normalize_hardware_id(value)
        return queryset.filter(unit__hardware_id=hardware_id) if hardware_id else queryset

    def filter_code(self, queryset, name, value):
        text = code_text.normalize(value)
        return queryset.filter(code__text=text) if text else queryset
