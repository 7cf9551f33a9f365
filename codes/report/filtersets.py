"""Filters of the Report (the audit log as the activation-code report)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.selectors import day_bounds
from cms.selectors import accounts_visible_to
from cms.web.filters import AccountChoiceFilter, DayRangeFilter, FilterForm
from codes import text as code_text
from units.models import normalize_hardware_id

#: The names of the time range's two fields (django-filter's range suffixes).
TIME_AFTER, TIME_BEFORE = "occurred_after", "occurred_before"

#: The Action filter's options, grouped by what they concern (each action once).
ACTION_GROUPS = [
    (_("Codes"), [
        Action.GENERATED, Action.SHARED, Action.RECALLED, Action.ATTACHED, Action.SCHEDULED, Action.STARTED,
        Action.RELEASED, Action.EXPIRED, Action.REVOKED, Action.ARCHIVED, Action.REDEEMED, Action.REDEEM_REFUSED,
        Action.RESERVED, Action.RESERVATION_CANCELLED,
    ]),
    (_("Units"), [Action.UNIT_ACTIVATED, Action.UNIT_DEACTIVATED]),
    (_("Accounts & users"), [
        Action.ACCOUNT_CREATED, Action.ACCOUNT_RENAMED, Action.ACCOUNT_MOVED, Action.ACCOUNT_CHANGED,
        Action.ACCOUNT_DISABLED, Action.ACCOUNT_ENABLED, Action.USER_CREATED, Action.USER_CHANGED,
        Action.USER_ROLE_CHANGED, Action.USER_PASSWORD_SET, Action.USER_DISABLED, Action.USER_ENABLED,
        Action.INVITATION_SENT, Action.INVITATION_USED, Action.TOKEN_CREATED, Action.TOKEN_REVOKED,
    ]),
    (_("Sign-in"), [Action.SIGNED_IN, Action.LOCKED_OUT]),
    (_("Notices & mail"), [
        Action.NOTICE_CREATED, Action.NOTICE_CHANGED, Action.NOTICE_DELETED, Action.NOTICE_SENT, Action.CODE_SENT,
    ]),
]


def action_choices() -> list:
    """`Action.choices` in optgroups; an action no group names yet comes last, under "Other"."""
    grouped = [(label, [(action.value, action.label) for action in actions]) for label, actions in ACTION_GROUPS]
    named = {action for _label, actions in ACTION_GROUPS for action in actions}
    others = [(value, label) for value, label in Action.choices if value not in named]
    return grouped + ([(_("Other"), others)] if others else [])


class EventFilterSet(django_filters.FilterSet):
    occurred = DayRangeFilter(
        label=_("Time"), method="filter_occurred",
        help_text=_("Days in your account's time zone. Empty: all time."),
    )
    account = AccountChoiceFilter(
        label=_("Account"), queryset=None, method="filter_account", empty_label=_("Any account"),
    )
    account_below = django_filters.BooleanFilter(
        label=_("and accounts below"), method="noop", widget=forms.CheckboxInput
    )
    unit = django_filters.CharFilter(label=_("Unit"), method="filter_unit", help_text=_("Name or hardware id"))
    code = django_filters.CharFilter(label=_("Code"), method="filter_code", help_text=_("The code, or its beginning"))
    action = django_filters.MultipleChoiceFilter(
        label=_("Action"), choices=action_choices(), widget=forms.SelectMultiple(attrs={"size": 10})
    )
    actor = django_filters.CharFilter(
        label=_("Actor"), field_name="actor_label", lookup_expr="icontains", help_text=_("User name, or “system”"),
    )

    class Meta:
        form = FilterForm

    def __init__(self, data=None, *args, request=None, **kwargs):
        user = getattr(request, "user", None)
        account = getattr(user, "account", None)
        self.zone = account.zone if account is not None else timezone.get_current_timezone()
        if data is None or (TIME_AFTER not in data and TIME_BEFORE not in data):
            # No time range asked for (first visit): today, in the account's time zone.
            today = timezone.localtime(timezone.now(), self.zone).date().isoformat()
            data = data.copy() if data is not None else {}
            data[TIME_AFTER] = data[TIME_BEFORE] = today
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["account"].field.queryset = accounts_visible_to(user).order_by("path") if user is not None else None

    def noop(self, queryset, name, value):
        return queryset

    def filter_occurred(self, queryset, name, value):
        if value is None:
            return queryset
        first, last = value.start, value.stop
        if first is not None:
            queryset = queryset.filter(occurred_at__gte=day_bounds(first, first, self.zone)[0])
        if last is not None:
            queryset = queryset.filter(occurred_at__lt=day_bounds(last, last, self.zone)[1])
        return queryset

    def filter_account(self, queryset, name, account):
        if account is None:
            return queryset
        if self.form.cleaned_data.get("account_below"):
            return queryset.filter(Q(account__path__startswith=account.path) | Q(from_account__path__startswith=account.path))
        return queryset.filter(Q(account=account) | Q(from_account=account))

    def filter_unit(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(unit__hardware_id=normalize_hardware_id(value)) | Q(unit__name__icontains=value))

    def filter_code(self, queryset, name, value):
        canonical = code_text.normalize(value)
        if not canonical:
            return queryset.none() if value.strip() else queryset
        return queryset.filter(code__text__startswith=canonical)
