"""Stock per account: how many unstarted (available) codes each account holds, by period, and
how many it used in the last days, so the provider sees who is running out.

"Used" counts the audit entries `attached`, `scheduled` and `redeemed` whose account is the
code's holder at the time -- the account whose stock the code came from.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from audit.models import Action, Event
from codes.models import CodeState
from codes.selectors import codes_visible_to, state_q

from .models import Account
from .selectors import accounts_visible_to

USED_ACTIONS = (Action.ATTACHED, Action.SCHEDULED, Action.REDEEMED)
#: Fewer days of stock than this, at the recent pace, and the account is running out.
RUNNING_OUT_DAYS = 14


@dataclass
class StockRow:
    account: Account
    available: dict[int, int] = field(default_factory=dict)  # period (days) -> count
    used: int = 0

    @property
    def available_total(self) -> int:
        return sum(self.available.values())

    @property
    def days_left(self) -> int | None:
        """Days the stock lasts at the pace of the last window; None when nothing was used."""
        if not self.used:
            return None
        return int(self.available_total * self.window_days / self.used)

    window_days: int = 30

    @property
    def running_out(self) -> bool:
        days = self.days_left
        return days is not None and days < RUNNING_OUT_DAYS


@dataclass
class Stock:
    rows: list[StockRow]
    periods: list[int]
    days: int


def stock_per_account(user, *, days: int = 30, now: datetime | None = None) -> Stock:
    """One row per provider or reseller account the user can see (and per customer that holds
    or used stock), in tree order. Three queries."""
    now = now or timezone.now()
    accounts = list(accounts_visible_to(user).order_by("path"))
    if not accounts:
        return Stock(rows=[], periods=[], days=days)
    scope = accounts[0]
    available: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        codes_visible_to(user)
        .filter(state_q(CodeState.AVAILABLE, now))
        .order_by()
        .values("holder_id", "period_days")
        .annotate(n=Count("pk"))
    ):
        available[row["holder_id"]][row["period_days"]] = row["n"]
    used = dict(
        Event.objects.filter(
            action__in=USED_ACTIONS,
            occurred_at__gte=now - timedelta(days=days),
            occurred_at__lte=now,
            account__path__startswith=scope.path,
        )
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )
    rows = [
        StockRow(account=a, available=available.get(a.pk, {}), used=used.get(a.pk, 0), window_days=days)
        for a in accounts
        if not a.is_customer or a.pk in available or a.pk in used
    ]
    periods = sorted({p for per in available.values() for p in per})
    return Stock(rows=rows, periods=periods, days=days)
