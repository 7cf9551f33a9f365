"""A unit's cover as the pages and the API read it: `with_cover` annotates lists in SQL, `unit_cover`
reads one unit's chain and asks `codes.rules.cover_of`, the rule the services apply; a property
test holds the two together. Also the Units window's rows, a unit's timeline, and the units a
release would leave without cover.

The state is derived from the codes and the clock, never read from the recorded `Unit.is_active`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, IntegerField, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Action, Event
from units.models import Unit
from units.selectors import units_visible_to

from . import rules
from .models import Code
from .rules import Cover, cover_of
from .selectors import codes_visible_to


def with_cover(queryset: QuerySet[Unit], now: datetime | None = None) -> QuerySet[Unit]:
    """Annotate `active_now` (a code is running) and `covered_until` (end of the last running
    or scheduled code) in SQL."""
    now = now or timezone.now()
    on_unit = Code.objects.filter(unit=OuterRef("pk"), activated_at__isnull=False, expires_at__gt=now)
    return queryset.annotate(
        active_now=Exists(on_unit.filter(activated_at__lte=now)),
        covered_until=Subquery(
            on_unit.order_by().values("unit").annotate(end=Max("expires_at")).values("end")[:1]
        ),
    )


def unit_cover(unit: Unit, now: datetime | None = None) -> Cover:
    """The unit's running code and the codes scheduled behind it, in order."""
    now = now or timezone.now()
    chain = (
        Code.objects.filter(unit=unit, activated_at__isnull=False, expires_at__gt=now)
        .select_related("batch", "holder")
        .order_by("activated_at")  # the unit's position index, not a walk of the primary key
    )
    return cover_of(chain, now)


def units_a_release_deactivates(codes: QuerySet[Code], now: datetime | None = None) -> list[Unit]:
    """The units that releasing these codes would leave without cover now, by name: read, not
    locked, and decided by the rule the release applies (`codes.rules.release_ends_cover`), so the
    confirmation names the units the release then deactivates."""
    now = now or timezone.now()
    on_units = codes.filter(unit__isnull=False).order_by()
    # One query: every code covering those units, each marked whether it is among these.
    live = (
        Code.objects.filter(unit_id__in=on_units.values("unit_id"), activated_at__isnull=False, expires_at__gt=now)
        .annotate(selected=Exists(on_units.filter(pk=OuterRef("pk"))))
        .select_related("unit")
    )
    chains: dict[int, list[Code]] = defaultdict(list)
    units: dict[int, Unit] = {}
    for code in live:
        chains[code.unit_id].append(code)
        units[code.unit_id] = code.unit
    selected = {code.pk for chain in chains.values() for code in chain if code.selected}
    ended = [units[pk] for pk, chain in chains.items() if rules.release_ends_cover(cover_of(chain, now), selected)]
    return sorted(ended, key=lambda unit: (unit.name, unit.pk))


def units_for_window(user, now: datetime | None = None) -> QuerySet[Unit]:
    """The user's visible units with everything the Units table shows, computed in SQL:
    `active_now`, `covered_until` (from `with_cover`), the running code (`current_code_id`,
    `current_code_text`) and how many codes are scheduled behind it (`scheduled_count`).

    A unit can run on a code held above the user's account (a reseller's customer's unit
    running on a code the provider kept): such a code is not the user's to see (DOMAIN.md,
    "Holder"), so its id and text are left out; `active_now` still says the unit is active."""
    now = now or timezone.now()
    running = Code.objects.filter(unit=OuterRef("pk"), activated_at__lte=now, expires_at__gt=now).order_by(
        "activated_at"
    )
    account = getattr(user, "account", None)
    if account is not None and account.depth > 1:
        running = running.filter(holder__path__startswith=account.path)
    scheduled = (
        Code.objects.filter(unit=OuterRef("pk"), activated_at__gt=now)
        .order_by()
        .values("unit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        with_cover(units_visible_to(user), now)
        .annotate(
            current_code_id=Subquery(running.values("pk")[:1]),
            current_code_text=Subquery(running.values("text")[:1]),
            scheduled_count=Coalesce(Subquery(scheduled[:1], output_field=IntegerField()), Value(0)),
        )
        .select_related("owner")
    )


def masked_code(display_text: str) -> str:
    """Enough of a code to tell it apart, not enough to use it: its first group."""
    return f"{display_text[:5]}-…"


def codes_seen_by(user, code_ids) -> set[int]:
    """Which of these codes, all on one of the user's units, the user may see: all of them for
    the provider's users (no query), those held in the user's branch for anybody else."""
    account = getattr(user, "account", None)
    if account is not None and account.depth == 1:
        return set(code_ids)
    return set(codes_visible_to(user).filter(pk__in=set(code_ids)).values_list("pk", flat=True))


# --- the timeline of one unit -----------------------------------------------------------------

ATTACHING = {Action.ATTACHED, Action.SCHEDULED, Action.REDEEMED, Action.STARTED}


@dataclass
class Segment:
    """One stretch of time during which a code covered (or will cover) the unit."""

    code_id: int
    code_text: str
    period_days: int
    start: datetime
    end: datetime
    kind: str  # "past", "running" or "scheduled"
    released: bool = False
    attached_at: datetime | None = None
    # False for a code held above the viewer's account: shown masked, without a link.
    visible: bool = True

    @property
    def masked_text(self) -> str:
        return masked_code(self.code_text)
    # Position on the bar, in percent of its width (set by `UnitTimeline.layout`).
    left: float = 0.0
    width: float = 0.0


@dataclass
class Tick:
    moment: datetime
    left: float


@dataclass
class UnitTimeline:
    unit: Unit
    now: datetime
    segments: list[Segment] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    now_left: float = 0.0
    ticks: list[Tick] = field(default_factory=list)

    @property
    def past(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == "past"]

    @property
    def current(self) -> list[Segment]:
        return [s for s in self.segments if s.kind != "past"]

    def layout(self, months: int = 6) -> "UnitTimeline":
        """Fit every segment on one horizontal axis: from the first start (at most `months`
        months back: older codes stay in the table) to the end of the cover (at least 30 days
        ahead of now, so "now" never sits at the right edge)."""
        horizon = self.now - timedelta(days=30 * months)
        starts = [s.start for s in self.segments if s.end > horizon]
        self.start = max(min(starts, default=self.now - timedelta(days=30)), horizon)
        self.start = min(self.start, self.now - timedelta(days=7))
        self.end = max([s.end for s in self.segments] + [self.now + timedelta(days=30)])
        total = (self.end - self.start).total_seconds()

        def pos(moment):
            return round(100 * max(0.0, min(1.0, (moment - self.start).total_seconds() / total)), 3)

        for seg in self.segments:
            seg.left = pos(seg.start)
            seg.width = max(round(pos(seg.end) - seg.left, 3), 0.4 if seg.end > self.start else 0.0)
        self.now_left = pos(self.now)
        # About six evenly spaced dates under the bar.
        step = (self.end - self.start) / 6
        self.ticks = [Tick(self.start + step * i, pos(self.start + step * i)) for i in range(7)]
        return self


def unit_history(unit: Unit) -> QuerySet[Event]:
    """Every audit event about the unit, newest first."""
    return (
        Event.objects.filter(unit=unit)
        .select_related("code", "actor", "from_account", "to_account")
        .order_by("-occurred_at", "-pk")
    )


def unit_timeline(unit: Unit, now: datetime | None = None) -> UnitTimeline:
    """Past, running and scheduled cover of a unit.

    Running and scheduled codes come from the codes themselves (`unit_cover`). Past ones come
    from the audit log, because a code that expired or was released is no longer on the unit:
    each attach (or start, or move in the queue) of a code on this unit opens or updates its
    stretch; a release ends it then (a code released while still scheduled never covered the
    unit and is dropped).
    """
    now = now or timezone.now()
    cover = unit_cover(unit, now)
    current_ids = {c.pk for c in cover.chain}
    open_segments: dict[int, Segment] = {}
    past: list[Segment] = []
    events = (
        Event.objects.filter(unit=unit, code__isnull=False, action__in=[*ATTACHING, Action.RELEASED])
        .select_related("code")
        .order_by("occurred_at", "pk")
    )
    for event in events:
        code = event.code
        if event.action == Action.RELEASED:
            segment = open_segments.pop(code.pk, None)
            if segment is not None and not event.details.get("was_scheduled"):
                segment.end = min(segment.end, event.occurred_at)
                segment.released = True
                past.append(segment)
            continue
        if event.activated_at is None or event.expires_at is None:
            continue
        segment = open_segments.get(code.pk)
        if segment is None:
            # From the attach on: a released code re-attached keeps its own (earlier) clock.
            attached_at = event.activated_at if event.action == Action.STARTED else event.occurred_at
            segment = open_segments[code.pk] = Segment(
                code.pk, code.display_text, code.period_days, event.activated_at, event.expires_at, "past",
                attached_at=attached_at,
            )
        segment.start = max(event.activated_at, segment.attached_at)
        segment.end = event.expires_at
    for code_id, segment in open_segments.items():  # neither released nor on the unit now: expired
        if code_id in current_ids:
            continue
        segment.end = min(segment.end, now)
        if segment.end > segment.start:
            past.append(segment)
    past.sort(key=lambda s: (s.start, s.code_id))
    current = []
    if cover.running:
        c = cover.running
        current.append(Segment(c.pk, c.display_text, c.period_days, c.activated_at, c.expires_at, "running"))
    for c in cover.scheduled:
        current.append(Segment(c.pk, c.display_text, c.period_days, c.activated_at, c.expires_at, "scheduled"))
    return UnitTimeline(unit=unit, now=now, segments=past + current).layout()


def unit_is_active(unit: Unit, now: datetime | None = None) -> bool:
    return unit_cover(unit, now).is_active
