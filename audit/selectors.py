"""Reads of the audit log, always limited to the user's part of the tree."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from cms.models import Account
from cms.selectors import active_account

from .models import Event


def events_visible_to(user) -> QuerySet[Event]:
    """Events of the user's part of the tree: those whose account (the code's holder after the
    change, or the unit's owner) or whose from-account (a code shared or recalled out of it) lies
    in the user's account or below it.

    The subtree is one indexed prefix query on the account path, used as a sub-select, so the
    database can use the (account, occurred_at) and (from_account, occurred_at) indexes and no
    account row is joined for the scoping.
    """
    account = active_account(user)
    if account is None:
        return Event.objects.none()
    subtree = Account.objects.filter(path__startswith=account.path).values("pk")
    return Event.objects.filter(Q(account_id__in=subtree) | Q(from_account_id__in=subtree))


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants [start, end) covering the local days first..last (inclusive) in a zone."""
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end
