"""Filters of the Codes window (also used by the API where it fits)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms.selectors import accounts_visible_to

from . import text as code_text
from .models import Batch, CodeState
from .selectors import states_q

#: The working view: codes that can still do something. Expired and revoked codes show only
#: when the filter asks for them (invariant 7: they stay in the database for reports).
DEFAULT_STATES = [CodeState.AVAILABLE, CodeState.SCHEDULED, CodeState.RUNNING, CodeState.RELEASED]


class CodeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", help_text=_("Code, unit name or hardware id"))
    state = django_filters.MultipleChoiceFilter(
        label=_("State"), choices=CodeState.choices, method="filter_state",
        widget=forms.CheckboxSelectMultiple,
    )
    holder = django_filters.ModelChoiceFilter(label=_("Shared with"), queryset=None, method="filter_holder")
    holder_below = django_filters.BooleanFilter(
        label=_("and accounts below"), method="noop", widget=forms.CheckboxInput
    )
    unit = django_filters.CharFilter(label=_("Unit"), method="filter_unit", help_text=_("Name or hardware id"))
    period_days = django_filters.NumberFilter(label=_("Period (days)"))
    activated = django_filters.DateFromToRangeFilter(
        label=_("Activation"), field_name="activated_at__date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    expires = django_filters.DateFromToRangeFilter(
        label=_("Expires"), field_name="expires_at__date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    batch = django_filters.ModelChoiceFilter(label=_("Batch"), queryset=None)

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        accounts = accounts_visible_to(user) if user is not None else None
        self.filters["holder"].queryset = accounts
        provider_ids = accounts.filter(depth=1).values("pk") if accounts is not None else []
        # Batches are the provider's; resellers see the batches their codes came from.
        self.filters["batch"].queryset = (
            Batch.objects.filter(Q(provider__in=provider_ids) | Q(codes__holder__in=accounts)).distinct()
            if accounts is not None
            else Batch.objects.none()
        )
        self.now = timezone.now()

    def noop(self, queryset, name, value):
        return queryset

    def search(self, queryset, name, value):
        canonical = code_text.normalize(value)
        term = value.strip()
        if not term:
            return queryset
        condition = Q(unit__name__icontains=term) | Q(unit__hardware_id__startswith=term.upper())
        if canonical:
            condition |= Q(text__startswith=canonical)
        return queryset.filter(condition)

    def filter_state(self, queryset, name, value):
        # Applied in .qs (below) so that "no state chosen" means the working view.
        return queryset

    def filter_holder(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("holder_below"):
            return queryset.filter(holder__path__startswith=account.path)
        return queryset.filter(holder=account)

    def filter_unit(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(unit__hardware_id=value.upper()) | Q(unit__name__icontains=value))

    @property
    def qs(self):
        queryset = super().qs
        states = (self.form.cleaned_data.get("state") if self.is_bound and self.form.is_valid() else None) or DEFAULT_STATES
        return queryset.filter(states_q(states, self.now))
