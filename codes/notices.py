"""Expiry notices: which are due for a user (the services that define them are in
`codes.services.notices`).

An account's admins and operators define notices (name, text, days before expiry, shown
repeatedly or once). After sign-in, each user of that account sees the notices for which some
units of its branch lose their cover within the notice's days, with a link to the Units window
filtered on exactly those units.

A unit loses its cover when the last of its running and scheduled codes ends: a unit renewed
ahead of time is not due, and a released code on no unit makes nothing due. "Within N days"
means: still covered now, and the cover ends on or before the N-th day after today, in the
account's time zone. That is what the Units window's cover-end filter (`cover_ends_after` today,
`cover_ends_before` today + N, on the local date) shows, so the count on the notice and the rows
behind its link agree.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cms.selectors import active_account
from units.models import Unit
from units.selectors import units_visible_to

from .models import Code, ExpiryNotice, NoticeSeen

MIN_DAYS, MAX_DAYS = 1, 99


# --- the expiry window, shared with the dashboard ----------------------------------------------


@dataclass(frozen=True)
class ExpiryWindow:
    """Codes (or covers) ending after `now` and before the end of the local day `last_day`."""

    now: datetime
    first_day: date
    last_day: date
    end: datetime

    @property
    def q(self) -> Q:
        return Q(expires_at__gt=self.now, expires_at__lt=self.end)

    @property
    def codes_url(self) -> str:
        query = urlencode({"expires_after": self.first_day.isoformat(), "expires_before": self.last_day.isoformat()})
        return f"{reverse('codes:list')}?{query}"

    @property
    def units_url(self) -> str:
        query = urlencode({"cover_ends_after": self.first_day.isoformat(), "cover_ends_before": self.last_day.isoformat()})
        return f"{reverse('units:list')}?{query}"


def expiry_window(days: int, *, now: datetime, zone: ZoneInfo) -> ExpiryWindow:
    today = timezone.localtime(now, zone).date()
    last_day = today + timedelta(days=days)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    return ExpiryWindow(now=now, first_day=today, last_day=last_day, end=end)


def notices_of(user) -> QuerySet[ExpiryNotice]:
    """The notices of the user's own account."""
    account = active_account(user)
    if account is None:
        return ExpiryNotice.objects.none()
    return ExpiryNotice.objects.filter(account_id=account.pk)



# --- the selector the dashboard shows ------------------------------------------------------------


@dataclass(frozen=True)
class DueNotice:
    notice: ExpiryNotice
    count: int  # units whose cover ends in the window
    window: ExpiryWindow

    @property
    def units_url(self) -> str:
        return self.window.units_url


def notices_due_for(user, now: datetime | None = None) -> list[DueNotice]:
    """The notices of the user's account with at least one unit of its branch losing its cover
    within their days, skipping show-once notices the user has already seen. Three queries,
    whatever the number of notices: the notices, what the user has seen, and one aggregate."""
    now = now or timezone.now()
    notices = list(notices_of(user))
    if not notices:
        return []
    seen = set(NoticeSeen.objects.filter(user_id=user.pk, notice__in=notices).values_list("notice_id", flat=True))
    return _with_units_due([n for n in notices if n.show_repeatedly or n.pk not in seen], user, now)


def notices_due_for_users(users: list, now: datetime | None = None) -> dict[int, list[DueNotice]]:
    """`notices_due_for` for several users of one account, by user id, in three queries in all
    (the notices, what these users have seen, one aggregate): what a notice counts depends on
    the account only, the units and notices being the account's."""
    now = now or timezone.now()
    if not users:
        return {}
    notices = list(notices_of(users[0]))
    if not notices:
        return {user.pk: [] for user in users}
    seen = set(
        NoticeSeen.objects.filter(user_id__in=[u.pk for u in users], notice__in=notices).values_list(
            "user_id", "notice_id"
        )
    )
    due = _with_units_due(notices, users[0], now)
    return {
        user.pk: [d for d in due if d.notice.show_repeatedly or (user.pk, d.notice.pk) not in seen] for user in users
    }


def _with_units_due(notices: list[ExpiryNotice], user, now: datetime) -> list[DueNotice]:
    """Those of the notices with at least one of the user's units losing its cover within their
    days, with the count: one aggregate over the units' cover ends (none without notices)."""
    if not notices:
        return []
    zone = user.account.zone
    windows = {n.pk: expiry_window(n.days_before, now=now, zone=zone) for n in notices}
    widest = max(windows.values(), key=lambda w: w.end)
    counts = cover_ends(user, now).filter(cover_ends__lt=widest.end).aggregate(
        **{f"n{pk}": Count("unit_id", filter=Q(cover_ends__lt=window.end)) for pk, window in windows.items()}
    )
    return [
        DueNotice(notice=n, count=counts[f"n{n.pk}"], window=windows[n.pk])
        for n in notices
        if counts[f"n{n.pk}"]
    ]


def cover_ends(user, now: datetime) -> QuerySet:
    """(unit_id, cover_ends) of the user's covered units: the end of the last of each unit's
    running and scheduled codes, whoever holds them (the cover is the unit's). One grouped scan
    of the live codes, not a subquery per unit; `codes.cover.with_cover` says the same per unit."""
    return (
        Code.objects.filter(
            unit_id__in=units_visible_to(user).values("pk"), activated_at__isnull=False, expires_at__gt=now
        )
        .values("unit_id")
        .annotate(cover_ends=Max("expires_at"))
        .order_by()
    )


def units_losing_cover(due: DueNotice, user, *, limit: int) -> list:
    """The first `limit` units of a due notice, soonest end first, with `cover_ends` (the
    instant) annotated: what a notice mail lists."""
    window = due.window
    ends = dict(
        cover_ends(user, window.now).filter(cover_ends__lt=window.end).order_by("cover_ends", "unit_id")
        .values_list("unit_id", "cover_ends")[:limit]
    )
    units = Unit.objects.in_bulk(list(ends))
    listed = []
    for pk, end in ends.items():
        unit = units[pk]
        unit.cover_ends = end
        listed.append(unit)
    return listed
