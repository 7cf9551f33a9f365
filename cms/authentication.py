"""Personal API tokens: `Authorization: Token <key>`.

Only the SHA-256 hash of a key is stored (`cms.ApiToken`); the key itself is shown once, when
it is created (profile page, or `manage.py api_token USERNAME`). Looking a key up in the
database costs one indexed query (token, user and account together); `last_used_at` is written
at most once a minute per token, with a single UPDATE.

Every API call (and the unit-status call, issue 7) keeps what a key resolved to -- the token,
its user and the user's account -- in the cache for KEYLINE_TOKEN_CACHE_SECONDS
(`token_entry`), so a warm call costs one cache round trip instead of that query. Deleting a
token, or changing a user or an account, changes a version (`cms.hotcache`) that every entry is
checked against, in that same round trip, on each use: the change takes effect at once, for
writes as for reads. With Redis, each web process also keeps the entries it read, and answers
from them without the round trip while it listens to the changes channel (`cms.hotcache`, "the
per-process tier").
"""

import copy
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .errors import DomainError, NotFound
from .hotcache import (
    accounts_version_key,
    changes_pending,
    hot_key,
    local_tier,
    logins_changed,
    logins_version_key,
    versions_current,
)
from .models import ApiToken

logger = logging.getLogger(__name__)

KEYWORD = "Token"
#: How stale `last_used_at` may get before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


# --- services ---------------------------------------------------------------------------------


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its key, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A token needs a name."), code="validation_error")
    if len(name) > 100:
        raise DomainError(_("A token name has at most 100 characters."), code="validation_error")
    with transaction.atomic():
        if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
            raise DomainError(
                _("You already have %(count)d tokens: delete one first.") % {"count": MAX_TOKENS_PER_USER},
                code="validation_error",
            )
        return ApiToken.issue(user=user, name=name)


def api_token_delete(*, user, token_id: int) -> None:
    """Delete one of the user's own tokens; the key stops working at once."""
    with transaction.atomic():
        deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
        if not deleted:
            raise NotFound()
        logins_changed()


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


# --- the hot path's token entries -----------------------------------------------------------


def token_key(key_hash: str) -> str:
    return hot_key("token", key_hash)


def token_versions_keys() -> list[str]:
    """The version keys a token entry is checked against, in the order of its "versions"."""
    return [accounts_version_key(), logins_version_key()]


def token_entry(key: str, *, cached: dict | None, versions: tuple) -> dict:
    """What a key stands for: {"user", "token", "account_id", "account_path", "account_depth",
    "versions"}, the user coming with its account (None for a user without one). Raises
    `AuthenticationFailed` like `TokenAuthentication.authenticate_key`.

    `cached` is the entry read from the cache (or None) and `versions` the accounts and logins
    versions read in the same round trip (`versions_current`: never "no version"), *before* the
    database: an entry is stored under the versions read before it was built, so a change
    committed meanwhile (which sets new versions after its commit) is never hidden by it
    (`cms.hotcache`). A missing or outdated entry is
    rebuilt by `authenticate_key` -- the same checks, and the same `last_used_at` bookkeeping,
    as without the cache -- and stored for KEYLINE_TOKEN_CACHE_SECONDS, which is also the
    resolution of `last_used_at` (LAST_USED_RESOLUTION)."""
    if cached is not None and cached["versions"] == versions:
        return cached
    user, token = TokenAuthentication().authenticate_key(key)
    account = user.account
    entry = {
        "user": user,
        "token": token,
        "account_id": account.pk if account is not None else None,
        "account_path": account.path if account is not None else None,
        "account_depth": account.depth if account is not None else None,
        "versions": versions,
    }
    try:
        cache.set(token_key(ApiToken.hash_key(key)), entry, settings.KEYLINE_TOKEN_CACHE_SECONDS)
    except Exception:  # the cache is unreachable: the next call asks the database again
        logger.exception("could not store a token entry")
    return entry


def token_record(key: str, *, cached: dict | None, versions: tuple) -> dict | None:
    """The unit-status call's view of a key: its `token_entry` when the key belongs to an
    active user of an active account, or None (no such key, disabled, no account: the caller
    then answers through the API's own authentication, with its 401)."""
    try:
        entry = token_entry(key, cached=cached, versions=versions)
    except exceptions.AuthenticationFailed:
        return None
    return entry if entry["account_id"] is not None else None


# --- authentication ---------------------------------------------------------------------------


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give the key after “Token ”."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return self.authenticate_cached(key)

    def authenticate_cached(self, key: str):
        """`authenticate_key` through the cache (`token_entry`): one round trip when warm, none
        when this process's local tier holds the entry (`cms.hotcache`). Not in a transaction
        that has changed users, tokens or accounts (`changes_pending`)."""
        if changes_pending():
            return self.authenticate_key(key)
        key_hash = ApiToken.hash_key(key)
        tier = local_tier()
        if tier is not None:
            who = (settings.KEYLINE_HOT_CACHE_NAMESPACE, key_hash)
            if (kept := tier.token(who, settings.KEYLINE_TOKEN_CACHE_SECONDS)) is not None:
                return _own_copies(kept)
            generation = tier.token_generation  # before the cache is read (LocalTier.put_token)
        entry_key, version_keys = token_key(key_hash), token_versions_keys()
        try:
            got = cache.get_many([entry_key, *version_keys])
        except Exception:  # the cache is unreachable: the database answers, and nothing is stored
            logger.exception("could not read the token cache; asking the database")
            return self.authenticate_key(key)
        versions = versions_current(got, version_keys)
        if versions is None:  # the cache could not give the versions: the database answers, nothing is stored
            return self.authenticate_key(key)
        entry = token_entry(key, cached=got.get(entry_key), versions=versions)
        if tier is not None:
            tier.put_token(generation, who, entry)
            return _own_copies(entry)
        return entry["user"], entry["token"]

    def authenticate_key(self, key: str):
        token = (
            ApiToken.objects.select_related("user__account")
            .defer("user__password")  # the user is kept in the cache (`token_entry`): not its password hash
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active or (user.account is not None and not user.account.is_active):
            raise exceptions.AuthenticationFailed(_("This user or account is disabled."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token

    def authenticate_header(self, request):
        return self.keyword


def _own_copies(entry: dict) -> tuple:
    """The entry's user and token for one request: copies, so that nothing a request sets on
    them reaches the entry the local tier keeps for the next ones (the user's account, read
    only, is shared)."""
    return copy.copy(entry["user"]), copy.copy(entry["token"])


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "cms.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal token from your profile page, sent as `Token <key>`.",
        }
