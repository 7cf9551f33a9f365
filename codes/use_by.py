"""A use-by date is a day in the provider's time zone.

"Use by 10 December" promises the code can be applied until that day ends where the provider
sells it, not until midnight UTC: for a provider in Auckland that is eleven hours earlier, in
Los Angeles eight hours later. Each code therefore carries `usable_until`, the first instant
after its use-by day in its provider's zone, and the state rules compare it with the clock as
they compare `expires_at` (`codes.selectors.code_state`, `state_q`, the expiry job).
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext as _

from .models import Code, CodeState

#: How far ahead of today a new use-by date may lie: as far as the longest period. Far from the
#: end of the calendar too, where the deadline after the day would be no instant at all.
MAX_DAYS_AHEAD = 3660


def use_by_ends_at(use_by: date | None, time_zone: str) -> datetime | None:
    """The first instant after the use-by day in `time_zone` (midnight there, or the first
    instant of the next day where a clock change skips midnight: `fold=0` maps a skipped time
    forward). In UTC: an instant in a skipped hour never compares equal to one in another zone
    (PEP 495)."""
    if use_by is None:
        return None
    return datetime.combine(use_by + timedelta(days=1), time.min, tzinfo=zoneinfo.ZoneInfo(time_zone)).astimezone(UTC)


def local_today(time_zone: str, now: datetime) -> date:
    """The date it is now in `time_zone`: what a new use-by date is checked against."""
    return now.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


def use_by_refusal(use_by: date, *, today: date) -> str | None:
    """Why a new batch cannot have this use-by date (`today` in the provider's zone), or None."""
    if use_by < today:
        return _("The use-by date cannot be in the past.")
    if use_by > today + timedelta(days=MAX_DAYS_AHEAD):
        latest = today + timedelta(days=MAX_DAYS_AHEAD)
        return _("The use-by date can be at most %(days)d days ahead: %(latest)s at the latest.") % {
            "days": MAX_DAYS_AHEAD, "latest": latest.isoformat()}
    return None


def usable_until_follow_zone(*, provider_id: int, time_zone: str) -> int:
    """Move the deadline of the provider's codes still recorded as available to its (new) time
    zone; returns how many rows changed. Call it in the transaction that changes the zone.

    Codes the expiry job has already recorded as lapsed stay expired: their audit trail says so,
    and a final state never changes. One statement per use-by date, as there are few dates (one
    per batch at most)."""
    unused = Code.objects.filter(provider_id=provider_id, status=CodeState.AVAILABLE, use_by__isnull=False)
    changed = 0
    for use_by in unused.order_by().values_list("use_by", flat=True).distinct():
        ends_at = use_by_ends_at(use_by, time_zone)
        changed += unused.filter(use_by=use_by).exclude(usable_until=ends_at).update(usable_until=ends_at)
    return changed
