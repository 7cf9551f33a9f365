"""Versioned cache entries for the API's hot path: the unit-status call a tracking server makes
before accepting a unit's data (issue 7).

The call reads three things from the default cache (Redis in production) in one round trip:
the caller's token (`cms.authentication.token_record`), the unit's cover record
(`units.cover_cache`) and the *version keys* those entries were built under. An entry is good
only while the versions it carries are the current ones:

- the **accounts version** (one key): changes whenever an account changes (renamed, disabled,
  moved, created). Cover entries hold the owner's name and path, token entries the caller's
  account and path: both carry the accounts version they were built under.
- the **logins version** (one key): changes whenever a user or a token changes (disabled,
  deleted, ...). Token entries carry it too.
- a **unit version** (one key per hardware id): changes whenever a service changes the unit or
  the codes on it.

Why versions rather than deleting entries: a reader that missed builds the entry from the
database and stores it. If a change commits between its read and its store, a deleted key would
be overwritten by the stale entry, which would then live until its timeout. Here the reader
stores the entry under the version it read *before* reading the database; the change sets a new
version after commit, so the stale entry is never used.

The services change versions (`forget_now_and_on_commit`) twice: at once, so the rest of the
transaction (and a test running inside one) reads the change, and again after commit, so an
entry rebuilt from the pre-commit state in between is never used. The cache is a read-side
implementation detail: the rules stay in the services and selectors; an entry only ever holds
what the selectors would answer.
"""

import logging
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

#: Version keys never time out (they are small: one per unit ever changed), so a missing
#: version can never make an entry built before a change look current again. (A cache that
#: evicts keys under memory pressure could still drop one: give Redis room, or `noeviction`.)
VERSION_SECONDS = None


def hot_key(*parts: str) -> str:
    return ":".join(("hot", settings.KEYLINE_HOT_CACHE_NAMESPACE, *parts))


def accounts_version_key() -> str:
    return hot_key("version", "accounts")


def logins_version_key() -> str:
    return hot_key("version", "logins")


def new_version() -> str:
    return secrets.token_hex(8)


def _safely(change: Callable[[], None]) -> Callable[[], None]:
    def run():
        try:
            change()
        except Exception:  # the cache is down: its entries time out; the answer falls back to the database
            logger.exception("could not update the hot-path cache")

    return run


def forget_now_and_on_commit(change: Callable[[], None]) -> None:
    """Run a cache change now and once more after the current transaction commits (see the
    module docstring). Cache errors are logged, never raised: a write must not fail because
    the cache is unreachable."""
    change = _safely(change)
    change()
    transaction.on_commit(change)


def versions_renew(keys: Iterable[str]) -> None:
    """Give each version key a new value, now and after commit."""
    keys = list(keys)
    if not keys:
        return
    forget_now_and_on_commit(lambda: cache.set_many({key: new_version() for key in keys}, VERSION_SECONDS))


def accounts_changed() -> None:
    """An account changed: every token and cover entry is rebuilt on its next use. Such
    changes are rare; an entry costs one call's queries to rebuild."""
    versions_renew([accounts_version_key()])


def logins_changed() -> None:
    """A user or a token changed: every token entry is checked against the database again on
    its next use (a disabled user or a deleted token stops working at once)."""
    versions_renew([logins_version_key()])


# --- a backstop for writes outside the services ------------------------------------------------
# The services say what they change (above). The Django admin and the shell save models
# directly; these receivers cover those saves, so the hot path never keeps answering from an
# entry that such an edit made wrong. (`update()` sends no signal: the services call the
# functions above themselves.)


def _account_saved(sender, **kwargs):
    accounts_changed()


def _login_saved(sender, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # every sign-in writes it; no token entry depends on it
    logins_changed()


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from .models import Account, ApiToken

    for signal in (post_save, post_delete):
        signal.connect(_account_saved, sender=Account, dispatch_uid="hotcache-account")
        signal.connect(_login_saved, sender=get_user_model(), dispatch_uid="hotcache-user")
    post_delete.connect(_login_saved, sender=ApiToken, dispatch_uid="hotcache-token")
