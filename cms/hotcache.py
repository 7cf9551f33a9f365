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

With Redis, each web process also keeps the entries it checked in memory and answers from
them without the round trip while it listens to a changes channel on which every version change
is published ("the per-process tier", below).

The services change versions (`publish_on_commit`) once, after commit: before that the change is
not visible to anyone else, and an entry another process builds meanwhile (from the state
before the change) carries the old version and is never used again. The transaction that makes
the change reads around the cache until it ends (`changes_pending`): its own reads see its
changes, and it stores no entry built from a state that may yet be rolled back. (The services
used to change the versions at once as well; that second round trip was a twentieth of a
redemption's instructions, docs/BENCHMARKS-notes.md, seventh round.) The cache is a read-side
implementation detail: the rules stay in the services and selectors; an entry only ever holds
what the selectors would answer.
"""

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

#: Version keys never time out (they are small: one per unit ever changed). A cache may still
#: drop one (Redis evicting under memory pressure; Django's file cache, the embedded default,
#: deletes a random third of its entries whenever it holds 300): `versions_current` gives a
#: missing key a fresh value before anything is built or used under it, so a dropped version
#: can never make an entry built before a change look current again.
VERSION_SECONDS = None
_KEYS_PER_MSET = 10_000


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


def publish_on_commit(change: Callable[[], None]) -> None:
    """Run a cache change once the current transaction commits (at once outside one). Until
    then `changes_pending` tells this transaction's readers to go around the cache. Cache errors
    are logged, never raised: a write must not fail because the cache is unreachable."""
    safe = _safely(change)

    def published():
        published.pending = False
        safe()

    published.pending = True
    transaction.on_commit(published)


def changes_pending() -> bool:
    """Whether the current transaction has changed what hot-path entries hold. Its changes
    reach the cache after commit, so until then its reads must go to the database, and store
    nothing. (Django keeps the transaction's commit callbacks, and drops those of a savepoint
    rolled back.)"""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(
        getattr(callback, "pending", False) for _savepoints, callback, _robust in connection.run_on_commit
    )


def versions_current(got: dict, keys: list[str]) -> tuple | None:
    """The current values of these version keys, as read in `got` (a `get_many` answer that
    asked for them). A key the cache does not hold (never set, or dropped) is first given a
    fresh value (`cache.add`: a value another process set meanwhile wins), never read as "no
    version": an entry built under "no version" would match again whenever the key went missing
    again, after a change. None when the cache cannot say (unreachable): then nothing may be
    used or stored, and the caller asks the database."""
    missing = [key for key in keys if got.get(key) is None]
    if missing:
        got = dict(got)
        try:
            taken = []
            for key in missing:
                value = new_version()
                if cache.add(key, value, VERSION_SECONDS):
                    got[key] = value
                else:
                    taken.append(key)
            if taken:  # set by another process meanwhile: its value is the current one
                got.update(cache.get_many(taken))
        except Exception:  # the cache is down: the answer falls back to the database
            logger.exception("could not set a missing version key")
            return None
    versions = tuple(got.get(key) for key in keys)
    return None if None in versions else versions


def versions_renew(keys: Iterable[str], *, hardware_ids: Iterable[str] | None = None) -> None:
    """Give each version key a new value after commit, and tell every process's local tier
    what to drop (`hardware_ids`, or None: everything)."""
    keys = list(keys)
    if not keys:
        return
    scope = None if hardware_ids is None else sorted(set(hardware_ids))

    def change():
        LOCAL.forget(scope)
        # One new value for every key of the change: an entry is good while its key's value is
        # the one it was built under, so a value need only differ from the key's last one.
        version = new_version()
        if not _publishing():
            cache.set_many(dict.fromkeys(keys, version), VERSION_SECONDS)
            return
        # The new versions and the message in one round trip, and in one MULTI/EXEC: a process
        # that reads the message finds the new versions. The keys go as MSETs (no expiry, as
        # VERSION_SECONDS), each key and the value encoded as django-redis's `set` would: the
        # expiry job renews tens of thousands of units at a time, and a `set` per key cost
        # 50 us of Python each (a third of the job's Python).
        client = cache.client
        value = client.encode(version)
        with client.get_client(write=True).pipeline() as pipe:
            for start in range(0, len(keys), _KEYS_PER_MSET):
                pipe.mset({client.make_key(key): value for key in keys[start : start + _KEYS_PER_MSET]})
            pipe.publish(_channel(), _message(scope))
            pipe.execute()

    publish_on_commit(change)


def accounts_changed() -> None:
    """An account changed: every token and cover entry is rebuilt on its next use. Such
    changes are rare; an entry costs one call's queries to rebuild."""
    versions_renew([accounts_version_key()])


def logins_changed() -> None:
    """A user or a token changed: every token entry is checked against the database again on
    its next use (a disabled user or a deleted token stops working at once)."""
    versions_renew([logins_version_key()])


# --- the per-process tier ----------------------------------------------------------------------
# Under gunicorn's threaded workers the cache round trip costs as much CPU as all the rest of
# the status call (the thread blocks and is woken again). So each web process also keeps, in
# memory, the token entry and record it last checked for a (caller, unit), and answers from
# them without asking the cache -- only while it is *subscribed* to the changes channel, on
# which every change above is published after commit: a process drops what a change touches as
# soon as the message arrives (within milliseconds, or COALESCE_SECONDS when changes come in a
# stream: see `_listen`; and at once in the process that made it).
# If the subscription breaks, the tier is emptied and unused until it is back. Entries also
# age out after LOCAL_SECONDS (a safety net, and so a token's `last_used_at` is still written
# every few minutes): long enough that a process meets a unit again before its entry goes --
# a tracker reports every few seconds, and the processes share the load.
#
# Token entries are kept the same way, on their own (`token`, `put_token`), for every API call
# the token authentication answers (`cms.authentication`): a redemption's round trip for its
# token entry, and the unpickling of its user and token, were 3-6% of its CPU in process
# (docs/BENCHMARKS-notes.md, twelfth round). A token entry depends on accounts and logins only:
# a unit's change leaves it, and any account or login change (published as "everything")
# drops it. It ages out after KEYLINE_TOKEN_CACHE_SECONDS, as the shared entry does, so
# `last_used_at` keeps its resolution.
# Needs Redis (KEYLINE_STATUS_LOCAL_TIER, on when REDIS_URL is set).

LOCAL_SECONDS = 120
LOCAL_MAX_UNITS = 50_000
LOCAL_MAX_TOKENS = 10_000


class LocalTier:
    def __init__(self):
        self.entries: dict[str, dict] = {}  # hardware id -> {(namespace, key hash): (stored at, token, record)}
        self.tokens: dict[tuple, tuple] = {}  # (namespace, key hash) -> (stored at, token entry)
        self.generation = 0  # changes seen; an entry read before a change is not stored after it
        self.token_generation = 0  # the same, counting only the changes that drop token entries
        self.ready = False  # subscribed: changes reach this process
        self.pid = None
        self.lock = threading.Lock()

    def get(self, hardware_id: str, who: tuple):
        found = self.entries.get(hardware_id, {}).get(who)
        if found is not None and time.monotonic() - found[0] < LOCAL_SECONDS:
            return found
        return None

    def put(self, generation: int, hardware_id: str, who: tuple, token: dict, record: dict) -> None:
        with self.lock:
            if generation != self.generation or not self.ready:
                return
            if len(self.entries) >= LOCAL_MAX_UNITS:
                self.entries.clear()
            self.entries.setdefault(hardware_id, {})[who] = (time.monotonic(), token, record)

    def token(self, who: tuple, seconds: float) -> dict | None:
        found = self.tokens.get(who)
        if found is not None and time.monotonic() - found[0] < seconds:
            return found[1]
        return None

    def put_token(self, generation: int, who: tuple, entry: dict) -> None:
        with self.lock:
            if generation != self.token_generation or not self.ready:
                return
            if len(self.tokens) >= LOCAL_MAX_TOKENS:
                self.tokens.clear()
            self.tokens[who] = (time.monotonic(), entry)

    def forget(self, hardware_ids: list[str] | None) -> None:
        with self.lock:
            self.generation += 1
            if hardware_ids is None:
                self.token_generation += 1
                self.tokens.clear()
                self.entries.clear()
            else:
                for hardware_id in hardware_ids:
                    self.entries.pop(hardware_id, None)


LOCAL = LocalTier()
_starting = threading.Lock()


def _channel() -> str:
    return cache.make_key("hot:changes")


def _publishing() -> bool:
    """Whether changes are published on the changes channel (Redis, with the local tier on)."""
    return settings.KEYLINE_STATUS_LOCAL_TIER and hasattr(cache, "client")


def _message(scope: list[str] | None) -> str:
    return "*" if scope is None else json.dumps(scope)


def local_tier() -> LocalTier | None:
    """This process's tier when it may be used now (starting its listener on first use)."""
    if not settings.KEYLINE_STATUS_LOCAL_TIER:
        return None
    if LOCAL.pid != os.getpid():  # first use in this (forked) process
        with _starting:
            if LOCAL.pid != os.getpid():
                LOCAL.__init__()
                LOCAL.pid = os.getpid()
                threading.Thread(target=_listen, name="hotcache-changes", daemon=True).start()
    return LOCAL if LOCAL.ready else None


#: How long the listener gathers the messages that follow a first one before acting on them
#: together: another process may answer from before a change for up to this long after it.
COALESCE_SECONDS = 0.05


def _scope_of(messages: list[dict]) -> list[str] | None:
    """The hardware ids these change messages name together, or None when one says everything."""
    hardware_ids: set[str] = set()
    for message in messages:
        if message["type"] != "message":
            continue
        data = message["data"].decode()
        if data == "*":
            return None
        hardware_ids.update(json.loads(data))
    return sorted(hardware_ids)


def _listen() -> None:
    while True:
        try:
            pubsub = cache.client.get_client(write=False).pubsub()
            pubsub.subscribe(_channel())
            for message in pubsub.listen():
                if message["type"] == "subscribe":
                    LOCAL.forget(None)
                    LOCAL.ready = True
                elif message["type"] == "message":
                    # Every process hears every change: at 300 redemptions a second, waking
                    # for each message cost each of five processes about 190 us of CPU per
                    # message, together a seventh of a redemption's CPU. So the first message
                    # of a quiet spell is acted on at once, and those that follow within
                    # COALESCE_SECONDS together, in one wake-up (42 us a message at that rate;
                    # docs/BENCHMARKS-notes.md, twelfth round).
                    LOCAL.forget(_scope_of([message]))
                    time.sleep(COALESCE_SECONDS)
                    following = []
                    while (more := pubsub.get_message(timeout=0)) is not None:
                        following.append(more)
                    if following:
                        LOCAL.forget(_scope_of(following))
        except Exception:
            logger.warning("hot-path changes channel lost; answering from the cache until it is back", exc_info=True)
        LOCAL.ready = False
        LOCAL.forget(None)
        time.sleep(1)


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
