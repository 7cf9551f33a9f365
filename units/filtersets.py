"""Filters of the Units page. They work on `codes.cover.units_for_window`, whose
annotations (`active_now`, `covered_until`) derive the state from the codes and the clock."""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.selectors import day_bounds
from cms.selectors import accounts_visible_to
from cms.web.filters import AccountChoiceFilter, DayRangeFilter, FilterForm

from .models import normalize_hardware_id

ACTIVE, DEACTIVATED = "active", "deactivated"
STATE_CHOICES = [(ACTIVE, _("Active")), (DEACTIVATED, _("Deactivated"))]


class UnitFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Name, hardware id or device type")
    )
    state = django_filters.ChoiceFilter(label=_("State"), choices=STATE_CHOICES, method="filter_state",
                                        empty_label=_("Any"))
    owner = AccountChoiceFilter(label=_("Owner"), queryset=None, method="filter_owner")
    owner_below = django_filters.BooleanFilter(label=_("and accounts below"), method="noop", widget=forms.CheckboxInput)
    cover_ends = DayRangeFilter(
        label=_("Cover ends"), method="filter_cover_ends",
        help_text=_("Days in your account's time zone: units whose last running or scheduled code ends then."),
    )
    expires_within = django_filters.NumberFilter(
        label=_("Cover ends within (days)"), method="filter_expires_within", min_value=0, max_value=3660,
        help_text=_("Units whose cover (running and scheduled codes) ends within this many days."),
    )
    no_code = django_filters.BooleanFilter(
        label=_("No code"), method="filter_no_code", widget=forms.CheckboxInput,
        help_text=_("Units with no running or scheduled code."),
    )

    class Meta:
        form = FilterForm

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        accounts = accounts_visible_to(user) if user is not None else None
        owner = self.filters["owner"].field
        owner.queryset = accounts.order_by("path") if accounts is not None else None
        owner.top = getattr(getattr(user, "account", None), "depth", 1)
        self.now = timezone.now()

    def noop(self, queryset, name, value):
        return queryset

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(name__icontains=term)
            | Q(hardware_id__startswith=normalize_hardware_id(term))
            | Q(device_type__icontains=term)
        )

    def filter_state(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.filter(active_now=True)
        if value == DEACTIVATED:
            return queryset.filter(active_now=False)
        return queryset

    def filter_owner(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("owner_below"):
            return queryset.filter(owner__path__startswith=account.path)
        return queryset.filter(owner=account)

    def filter_expires_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(covered_until__gt=self.now, covered_until__lte=self.now + timedelta(days=int(value)))

    def filter_cover_ends(self, queryset, name, value):
        if value is None:
            return queryset
        zone = self.request.user.account.zone
        if value.start is not None:
            queryset = queryset.filter(covered_until__gte=day_bounds(value.start, value.start, zone)[0])
        if value.stop is not None:
            queryset = queryset.filter(covered_until__lt=day_bounds(value.stop, value.stop, zone)[1])
        return queryset

    def filter_no_code(self, queryset, name, value):
        if value:
            return queryset.filter(covered_until__isnull=True)
        return queryset
