"""Reads of units. Whether a unit is active is derived from its codes and the clock."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from codes.models import Code

from .models import Unit


def units_visible_to(user) -> QuerySet[Unit]:
    """Units owned by the user's account or anything below it."""
    account = getattr(user, "account", None)
    if account is None or not account.is_active:
        return Unit.objects.none()
    return units_in_branch(account_id=account.pk, path=account.path, depth=account.depth)


def units_in_branch(*, account_id: int, path: str, depth: int) -> QuerySet[Unit]:
    """Units owned by this account or anything below it; a provider's by its provider column
    (cheaper than the path). Also read by the unit-status call from its cached token entry."""
    if depth == 1:
        return Unit.objects.filter(provider_id=account_id)
    return Unit.objects.filter(owner__path__startswith=path)


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


@dataclass
class UnitCover:
    unit: Unit
    now: datetime
    running: Code | None = None
    scheduled: list[Code] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.running is not None

    @property
    def covered_until(self) -> datetime | None:
        chain = ([self.running] if self.running else []) + self.scheduled
        return chain[-1].expires_at if chain else None

    @property
    def days_left(self) -> int:
        until = self.covered_until
        if until is None:
            return 0
        return max(0, (until - self.now).days)


def unit_cover(unit: Unit, now: datetime | None = None) -> UnitCover:
    """The unit's running code and the codes scheduled behind it, in order."""
    now = now or timezone.now()
    chain = list(
        Code.objects.filter(unit=unit, activated_at__isnull=False, expires_at__gt=now)
        .select_related("batch", "holder")
        .order_by("activated_at")
    )
    cover = UnitCover(unit=unit, now=now)
    for code in chain:
        if code.activated_at <= now:
            cover.running = code
        else:
            cover.scheduled.append(code)
    return cover


def unit_is_active(unit: Unit, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return Code.objects.filter(unit=unit, activated_at__lte=now, expires_at__gt=now).exists()
