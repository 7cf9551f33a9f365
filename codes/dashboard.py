"""Read-only numbers of the dashboard, each scoped to the user's part of the tree and computed in
a fixed number of queries whatever the size of the data (aggregates with `Count(filter=...)`
over `codes.selectors.state_q`, so states are the clock's, not a background job's)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from codes.models import Code, CodeState
from codes.notices import ExpiryWindow, expiry_window
from codes.selectors import codes_visible_to, state_q
from units.selectors import units_visible_to

EXPIRING_DAYS = (7, 30)
CHART_DAYS = 90
#: Bootstrap colours of the states on the dashboard.
STATE_COLOURS = {
    CodeState.AVAILABLE: "success",
    CodeState.SCHEDULED: "info",
    CodeState.RUNNING: "primary",
    CodeState.RELEASED: "warning",
    CodeState.EXPIRED: "secondary",
    CodeState.REVOKED: "danger",
}


# --- codes ------------------------------------------------------------------------------------


@dataclass
class PeriodRow:
    period_days: int
    by_state: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def cells(self) -> list[int]:
        return [self.by_state[state] for state in CodeState.values]


@dataclass
class CodeSummary:
    by_state: dict[str, int]
    periods: list[PeriodRow]
    expiring: dict[int, int]
    windows: dict[int, ExpiryWindow]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def states(self) -> list[tuple[str, str, int, str]]:
        """(value, label, count, colour) in lifecycle order, coloured as the Codes window's badges."""
        return [
            (state.value, state.label, self.by_state[state.value], STATE_COLOURS[state])
            for state in CodeState
        ]

    @property
    def expiring_rows(self) -> list[tuple[int, int, str]]:
        """(days, count, link to the Codes window) for each horizon."""
        return [(days, self.expiring[days], self.windows[days].codes_url) for days in EXPIRING_DAYS]


def code_summary(user, *, now: datetime | None = None) -> CodeSummary:
    """Codes by period and state, and how many expire within 7 and 30 days. One query."""
    now = now or timezone.now()
    zone = user.account.zone
    windows = {days: expiry_window(days, now=now, zone=zone) for days in EXPIRING_DAYS}
    aggregates = {f"state_{state.value}": Count("pk", filter=state_q(state, now)) for state in CodeState}
    aggregates |= {f"expiring_{days}": Count("pk", filter=window.q) for days, window in windows.items()}
    rows = codes_visible_to(user).order_by().values("period_days").annotate(**aggregates).order_by("period_days")
    by_state = dict.fromkeys(CodeState.values, 0)
    expiring = dict.fromkeys(EXPIRING_DAYS, 0)
    periods = []
    for row in rows:
        counts = {state: row[f"state_{state}"] for state in CodeState.values}
        periods.append(PeriodRow(period_days=row["period_days"], by_state=counts))
        for state, count in counts.items():
            by_state[state] += count
        for days in EXPIRING_DAYS:
            expiring[days] += row[f"expiring_{days}"]
    return CodeSummary(by_state=by_state, periods=periods, expiring=expiring, windows=windows)


# --- units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSummary:
    active: int
    deactivated: int

    @property
    def total(self) -> int:
        return self.active + self.deactivated


def unit_summary(user, *, now: datetime | None = None) -> UnitSummary:
    """Units active (a code is running now) and deactivated. One query."""
    now = now or timezone.now()
    running = Code.objects.filter(unit=OuterRef("pk")).filter(state_q(CodeState.RUNNING, now))
    counts = (
        units_visible_to(user)
        .annotate(active_now=Exists(running))
        .aggregate(total=Count("pk"), active=Count("pk", filter=Q(active_now=True)))
    )
    return UnitSummary(active=counts["active"], deactivated=counts["total"] - counts["active"])


# --- activations per day ------------------------------------------------------------------------


def activations_per_day(user, *, now: datetime | None = None, days: int = CHART_DAYS) -> list[tuple[date, int]]:
    """How many of the user's visible codes started running on each of the last `days` local days
    (today included), oldest first, days without activations as 0. One query."""
    now = now or timezone.now()
    zone: ZoneInfo = user.account.zone
    today = timezone.localtime(now, zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=zone)
    rows = (
        codes_visible_to(user)
        .filter(activated_at__gte=start, activated_at__lte=now)
        .order_by()
        .annotate(day=TruncDate("activated_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("pk"))
    )
    counts = {row["day"]: row["count"] for row in rows}
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]


# --- the chart, drawn on the server as SVG --------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value)
    labels: list[tuple[float, date]]  # (x, day)
    total: int
    maximum: int
    baseline: float = field(init=False)

    def __post_init__(self):
        self.baseline = self.top + self.plot_height


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^n at or above value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(series: list[tuple[date, int]], *, width: int = 900, height: int = 250) -> BarChart:
    left, right, top, bottom = 40, 8, 10, 26
    plot_width, plot_height = width - left - right, height - top - bottom
    maximum = max((count for _, count in series), default=0)
    ceiling = _nice_ceiling(maximum)
    slot = plot_width / max(len(series), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, (day, count) in enumerate(series):
        bar_height = plot_height * count / ceiling
        bars.append(
            Bar(
                x=round(left + i * slot + gap / 2, 2), y=round(top + plot_height - bar_height, 2),
                width=round(slot - gap, 2), height=round(bar_height, 2), day=day, count=count,
            )
        )
    ticks = [(round(top + plot_height - plot_height * v / ceiling, 2), v) for v in sorted({0, ceiling // 2, ceiling})]
    labels = [(round(left + i * slot + slot / 2, 2), day) for i, (day, _) in enumerate(series) if day.day in (1, 15)]
    return BarChart(
        width=width, height=height, left=left, top=top, plot_width=plot_width, plot_height=plot_height,
        bars=bars, ticks=ticks, labels=labels, total=sum(c for _, c in series), maximum=maximum,
    )
