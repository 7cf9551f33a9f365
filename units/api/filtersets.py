"""Filters of the units API: the same questions as the Units window (state, owner "and below",
device type, free text, cover end)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cms.selectors import accounts_visible_to
from units.models import Unit, normalize_hardware_id

from .serializers import UNIT_STATES


class UnitFilterSet(django_filters.FilterSet):
    """Works on a queryset annotated by `units.selectors.with_cover`."""

    q = django_filters.CharFilter(label=_("Search"), method="search", help_text=_("Name or hardware id"))
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=UNIT_STATES, method="filter_state")
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None, method="filter_owner")
    owner_below = django_filters.BooleanFilter(label=_("and accounts below"), method="noop", widget=forms.CheckboxInput)
    device_type = django_filters.CharFilter(label=_("Device type"), lookup_expr="iexact")
    covered_until = django_filters.IsoDateTimeFromToRangeFilter(label=_("Covered until"))

    class Meta:
        model = Unit
        fields = ["q", "state", "owner", "owner_below", "device_type", "covered_until"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["owner"].queryset = accounts_visible_to(getattr(request, "user", None))

    def noop(self, queryset, name, value):
        return queryset

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(name__icontains=term) | Q(hardware_id__startswith=normalize_hardware_id(term)))

    def filter_state(self, queryset, name, value):
        if not value or set(value) == {"active", "deactivated"}:
            return queryset
        return queryset.filter(active_now="active" in value)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_owner(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("owner_below"):
            return queryset.filter(owner__path__startswith=account.path)
        return queryset.filter(owner=account)
