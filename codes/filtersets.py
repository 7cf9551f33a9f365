"""Filters of the Codes window (also used by the API where it fits).

Every choice offered (accounts, batches, periods) comes from the user's part of the tree, so a
foreign id is an invalid filter, never another tenant's rows. Date ranges are whole days in the
account's time zone (the middleware activates it) and compare the indexed timestamp columns.
"""

import functools

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms.models import Account
from cms.selectors import accounts_visible_to, branch_holder_ids
from cms.web.filters import AccountChoiceFilter, CheckboxList, DayRangeFilter, FilterForm
from units.models import Unit, normalize_hardware_id

from . import text as code_text
from .batch_selectors import batches_of_codes_visible_to
from .models import Code, CodeState
from .selectors import states_q

#: The working view: codes that can still do something. Expired and revoked codes show only
#: when the filter asks for them (invariant 7: they stay in the database for reports).
DEFAULT_STATES = [CodeState.AVAILABLE, CodeState.SCHEDULED, CodeState.RUNNING, CodeState.RELEASED]


class CodeFilterForm(FilterForm):
    def clean(self):
        cleaned = super().clean()
        for name in ("activated", "expires"):
            span = cleaned.get(name)
            if span and span.start and span.stop and span.start > span.stop:
                self.add_error(name, _("The first day is after the last day."))
        return cleaned


class CodeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", help_text=_("Code, unit, hardware id or account"))
    state = django_filters.MultipleChoiceFilter(
        label=_("State"), choices=CodeState.choices, method="filter_state", widget=CheckboxList,
        help_text=_("None ticked: all but expired and revoked."),
    )
    holder = AccountChoiceFilter(
        label=_("Shared with"), queryset=None, method="filter_holder", empty_label=_("Any account"),
    )
    holder_below = django_filters.BooleanFilter(label=_("and accounts below"), method="noop", widget=forms.CheckboxInput)
    unit = django_filters.CharFilter(label=_("Unit"), method="filter_unit", help_text=_("Name or hardware id"))
    # The batches on offer and their periods, both read from one list (`__init__`).
    period_days = django_filters.ChoiceFilter(label=_("Period"), choices=[], empty_label=_("Any period"))
    batch = django_filters.ChoiceFilter(label=_("Batch"), choices=[], empty_label=_("Any batch"))
    activated = DayRangeFilter(label=_("Activation"), field_name="activated_at")
    expires = DayRangeFilter(label=_("Expires"), field_name="expires_at")

    class Meta:
        form = CodeFilterForm
        fields: list[str] = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        account = getattr(user, "account", None)
        accounts = accounts_visible_to(user) if user is not None else None
        # Set on this instance's fields: a filter's field, once built, is copied with it
        # (cms.web.filters.AccountChoiceFilter).
        holder = self.filters["holder"].field
        holder.queryset = accounts.only("pk", "name", "depth", "path").order_by("path") if accounts is not None else None
        holder.top = account.depth if account is not None else 1
        batches = batches_of_codes_visible_to(user)
        # Read once per request, when the form first checks or shows either list.
        offered = functools.cache(lambda: list(batches.only("pk", "quantity", "period_days").order_by("-pk")))
        # Below the provider a batch is known by its number and period, not by its size.
        label = str if getattr(user, "is_provider_user", False) else lambda b: f"#{b.pk} · {b.period_days} d"
        self.filters["batch"].field.choices = lambda: [(batch.pk, label(batch)) for batch in offered()]
        self.filters["period_days"].field.choices = lambda: [
            (days, _("%(days)d days") % {"days": days}) for days in sorted({batch.period_days for batch in offered()})
        ]
        self.now = timezone.now()

    def noop(self, queryset, name, value):
        return queryset

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        # One indexed lookup per branch (units by name or hardware id, accounts by name, codes by
        # their text), their ids combined with UNION ALL: an OR across joins, or even across
        # IN-subqueries, leaves PostgreSQL no index to use, and it reads every code.
        branches = [
            Code.objects.filter(
                unit_id__in=Unit.objects.filter(
                    Q(name__icontains=term) | Q(hardware_id__startswith=normalize_hardware_id(term))
                ).values("pk")
            ),
            Code.objects.filter(holder_id__in=Account.objects.filter(name__icontains=term).values("pk")),
        ]
        canonical = code_text.normalize(term)
        if canonical:
            branches.append(Code.objects.filter(text__startswith=canonical))
        branches = [branch.order_by().values("pk") for branch in branches]
        return queryset.filter(pk__in=branches[0].union(*branches[1:], all=True))

    def filter_state(self, queryset, name, value):
        # Applied in .qs (below) so that "no state chosen" means the working view.
        return queryset

    def filter_holder(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("holder_below"):
            own = getattr(getattr(self.request, "user", None), "account", None)
            if own is not None and own.depth > 1 and account.pk == own.pk:
                # The user's own branch is what the window lists anyway; naming it twice would
                # make the planner square its share of the codes and pick a worse plan.
                return queryset
            return queryset.filter(holder_id__in=branch_holder_ids(account))  # see cms.selectors.branch_ids
        return queryset.filter(holder=account)

    def filter_unit(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            unit_id__in=Unit.objects.filter(
                Q(hardware_id=normalize_hardware_id(value)) | Q(name__icontains=value)
            ).values("pk")
        )

    @property
    def chosen_states(self) -> list[str]:
        states = self.form.cleaned_data.get("state") if self.is_bound and self.form.is_valid() else None
        return list(states or DEFAULT_STATES)

    @property
    def qs(self):
        queryset = super().qs
        return queryset.filter(states_q(self.chosen_states, self.now))
