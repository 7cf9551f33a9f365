"""The unit-status call's answers in Django's cache, one key per unit.

A tracking server asks about each of its units every minute or so, before accepting the unit's
data. The answer is kept until the clock would change it (the running code ends, a scheduled one
starts, a day of cover passes) and at most KEYLINE_STATUS_CACHE_SECONDS; every service that
changes a unit or the codes on it deletes the unit's key, and again once its transaction commits.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from cms.models import Account


def status_key(provider_path: str, hardware_id: str) -> str:
    """A hardware id is unique within a provider, whose tree path every account below it starts with."""
    return f"unit-status:{provider_path}:{hardware_id}"


def status_forget(units: Iterable[tuple[str, str]]) -> None:
    """Drop the kept answers of these units, given as (owner's path, hardware id)."""
    keys = [status_key(owner_path[: Account.steplen], hardware_id) for owner_path, hardware_id in units]
    if keys:
        # Now, so this transaction's own requests read afresh, and again after the commit, in case
        # another request stored the answer from before the change meanwhile.
        caches["lookups"].delete_many(keys)
        transaction.on_commit(lambda: caches["lookups"].delete_many(keys), robust=True)


def status_get(key: str, now: datetime):
    """The kept answer, unless the clock has overtaken it (the entry says until when it holds:
    a cache's own timeout follows the cache's clock, not the application's)."""
    entry = caches["lookups"].get(key)
    return entry if entry is not None and now < entry["valid_until"] else None


def status_set(key: str, entry: dict, *, now: datetime, seconds_until_change: float | None) -> None:
    seconds = settings.KEYLINE_STATUS_CACHE_SECONDS
    if seconds_until_change is not None:
        seconds = max(0, min(seconds, int(seconds_until_change)))
    if seconds:
        caches["lookups"].set(key, {**entry, "valid_until": now + timedelta(seconds=seconds)}, seconds)
