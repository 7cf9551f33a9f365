"""Expiry notices: which are due for a user (the services that define them are in
`codes.services.notices`).

An account's admins and operators define notices (name, text, days before expiry, shown
repeatedly or once). After sign-in, each user of that account sees the notices for which some
of the codes they can see expire within the notice's days, with a link to the Codes window
filtered on exactly those codes.

"Within N days" means: not yet expired, and expiring on or before the N-th day after today, in
the account's time zone. That is what the Codes window's expiry filter (`expires_after` today,
`expires_before` today + N, on the local date) shows with its default states, so the count on
the notice and the rows behind its link agree.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cms.selectors import active_account

from .models import ExpiryNotice, NoticeSeen
from .selectors import codes_visible_to

MIN_DAYS, MAX_DAYS = 1, 99


# --- the expiry window, shared with the dashboard ----------------------------------------------


@dataclass(frozen=True)
class ExpiryWindow:
    """Codes expiring after `now` and before the end of the local day `last_day`."""

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
    count: int
    window: ExpiryWindow

    @property
    def codes_url(self) -> str:
        return self.window.codes_url


def notices_due_for(user, now: datetime | None = None) -> list[DueNotice]:
    """The notices of the user's account with at least one visible code expiring within their
    days, skipping show-once notices the user has already seen. Three queries, whatever the
    number of notices: the notices, what the user has seen, and one aggregate over the codes."""
    now = now or timezone.now()
    notices = list(notices_of(user))
    if not notices:
        return []
    seen = set(NoticeSeen.objects.filter(user_id=user.pk, notice__in=notices).values_list("notice_id", flat=True))
    return _with_codes_due([n for n in notices if n.show_repeatedly or n.pk not in seen], user, now)


def notices_due_for_users(users: list, now: datetime | None = None) -> dict[int, list[DueNotice]]:
    """`notices_due_for` for several users of one account, by user id, in three queries in all
    (the notices, what these users have seen, one aggregate over the codes): what a notice
    counts depends on the account only, the codes and notices being the account's."""
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
    due = _with_codes_due(notices, users[0], now)
    return {
        user.pk: [d for d in due if d.notice.show_repeatedly or (user.pk, d.notice.pk) not in seen] for user in users
    }


def _with_codes_due(notices: list[ExpiryNotice], user, now: datetime) -> list[DueNotice]:
    """Those of the notices with at least one of the user's visible codes expiring within their
    days, with the count: one aggregate over the codes (none when there are no notices)."""
    if not notices:
        return []
    zone = user.account.zone
    windows = {n.pk: expiry_window(n.days_before, now=now, zone=zone) for n in notices}
    widest = max(windows.values(), key=lambda w: w.end)
    counts = codes_visible_to(user).filter(widest.q).aggregate(
        **{f"n{pk}": Count("pk", filter=window.q) for pk, window in windows.items()}
    )
    return [
        DueNotice(notice=n, count=counts[f"n{n.pk}"], window=windows[n.pk])
        for n in notices
        if counts[f"n{n.pk}"]
    ]
