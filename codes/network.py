"""Read models of the network (the Accounts pages): the tree with its counts, and stock per account.

The tree: every account the user can see, with counts of units, active units
and codes by state, for the account itself and rolled up over everything below it.

Four queries whatever the size of the tree: the accounts, units per owner, units with a running
code per owner, codes per holder and state (conditional `Count`s over `codes.selectors.state_q`).
The subtotals are then rolled up in Python over the materialised paths -- no recursion over the
database.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from cms.models import Account
from cms.selectors import accounts_visible_to
from codes.models import Code, CodeState
from codes.selectors import codes_visible_to, state_q
from units.selectors import units_visible_to

STATES = [state.value for state in CodeState]


@dataclass
class AccountNode:
    account: Account
    users: int = 0
    own: Counter = field(default_factory=Counter)  # counts of the account itself
    total: Counter = field(default_factory=Counter)  # the account and everything below it
    children: list["AccountNode"] = field(default_factory=list)

    @property
    def codes_total(self) -> int:
        return sum(self.total[s] for s in STATES)

    def state_counts(self) -> list[tuple[str, str, int]]:
        """(state, label, count) over the subtree, in lifecycle order."""
        return [(state.value, state.label, self.total[state.value]) for state in CodeState]


def account_tree(user, now: datetime | None = None) -> list[AccountNode]:
    """The roots (the user's own account, as a one-element list) of the visible tree."""
    now = now or timezone.now()
    accounts = list(accounts_visible_to(user).annotate(user_count=Count("users")).order_by("path"))
    if not accounts:
        return []
    nodes = {a.path: AccountNode(account=a, users=a.user_count) for a in accounts}
    by_id = {a.pk: nodes[a.path] for a in accounts}

    for row in units_visible_to(user).order_by().values("owner_id").annotate(n=Count("pk")):
        by_id[row["owner_id"]].own["units"] = row["n"]
    running_units = (
        units_visible_to(user)
        .filter(pk__in=Code.objects.filter(state_q(CodeState.RUNNING, now)).values("unit_id"))
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
    )
    for row in running_units:
        by_id[row["owner_id"]].own["active_units"] = row["n"]
    per_holder = (
        codes_visible_to(user)
        .order_by()
        .values("holder_id")
        .annotate(**{state: Count("pk", filter=state_q(state, now)) for state in STATES})
    )
    for row in per_holder:
        node = by_id.get(row["holder_id"])
        if node is not None:
            node.own.update({state: row[state] for state in STATES})

    step = Account.steplen
    root_depth = accounts[0].depth
    roots = []
    for account in accounts:  # ordered by path: parents come before their children
        node = nodes[account.path]
        for length in range(step * root_depth, len(account.path) + 1, step):
            ancestor = nodes.get(account.path[:length])
            if ancestor is not None:
                ancestor.total.update(node.own)
        parent = nodes.get(account.path[:-step])
        if parent is not None and account.depth > root_depth:
            parent.children.append(node)
        else:
            roots.append(node)
    return roots


# --- stock per account ---------------------------------------------------------------------------
# How many unstarted (available) codes each account holds, by period, and how many it consumed in
# the last days, so the provider sees who is running out.

#: Fewer days of stock than this, at the recent pace, and the account is running out.
RUNNING_OUT_DAYS = 14


@dataclass
class StockRow:
    account: Account
    available: dict[int, int] = field(default_factory=dict)  # period (days) -> count
    consumed: int = 0
    window_days: int = 30

    @property
    def available_total(self) -> int:
        return sum(self.available.values())

    @property
    def days_left(self) -> int | None:
        """Days the stock lasts at the pace of the last window; None when nothing was consumed."""
        if not self.consumed:
            return None
        return int(self.available_total * self.window_days / self.consumed)

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
    or consumed stock), in tree order. Three queries.

    Consumption is a code's first start (DOMAIN.md): `activated_at` is set when the clock starts
    and never moves after, so moving a queue, re-attaching a released code or returning a
    scheduled code to stock consumes nothing. It counts against the code's holder."""
    now = now or timezone.now()
    accounts = list(accounts_visible_to(user).order_by("path"))
    if not accounts:
        return Stock(rows=[], periods=[], days=days)
    available: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        codes_visible_to(user)
        .filter(state_q(CodeState.AVAILABLE, now))
        .order_by()
        .values("holder_id", "period_days")
        .annotate(n=Count("pk"))
    ):
        available[row["holder_id"]][row["period_days"]] = row["n"]
    consumed = dict(
        codes_visible_to(user)
        .filter(activated_at__gt=now - timedelta(days=days), activated_at__lte=now)
        .order_by()
        .values("holder_id")
        .annotate(n=Count("pk"))
        .values_list("holder_id", "n")
    )
    rows = [
        StockRow(account=a, available=available.get(a.pk, {}), consumed=consumed.get(a.pk, 0), window_days=days)
        for a in accounts
        if not a.is_customer or a.pk in available or a.pk in consumed
    ]
    periods = sorted({p for per in available.values() for p in per})
    return Stock(rows=rows, periods=periods, days=days)
