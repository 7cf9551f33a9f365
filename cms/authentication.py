"""Personal API tokens: `Authorization: Token <key>`.

Only the SHA-256 hash of a key is stored (`cms.ApiToken`); the key itself is shown once, when
it is created (profile page, or `manage.py api_token USERNAME`). Looking a key up costs one
indexed query (token, user and account together); `last_used_at` is written at most once a
minute per token, with a single UPDATE, so the hot path (a tracking server asking about a unit)
stays cheap.

The unit-status call (issue 7) goes further: it keeps what a key resolved to in the cache for
KEYLINE_TOKEN_CACHE_SECONDS (`token_record`), so a warm call asks the database nothing.
Deleting a token, or changing a user or an account, changes a version (`cms.hotcache`) that
every entry is checked against on use, so the change takes effect at once.
"""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .errors import DomainError, NotFound
from .hotcache import hot_key, logins_changed
from .models import ApiToken

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


def token_record(key: str, *, cached: dict | None, versions: tuple) -> dict | None:
    """What a key stands for on the hot path: {"account_id", "account_path", "account_depth",
    "versions"} of an active user of an active account, or None (no such key, disabled, no
    account: the caller then answers through the API's own authentication, with its 401).

    `cached` is the entry read from the cache (or None) and `versions` the accounts and logins
    versions read in the same round trip, before the database. A missing or outdated entry is
    rebuilt by `TokenAuthentication.authenticate_key` -- the same checks, and the same
    `last_used_at` bookkeeping, as any other API call -- and stored for
    KEYLINE_TOKEN_CACHE_SECONDS, which is also the resolution of `last_used_at`
    (LAST_USED_RESOLUTION)."""
    if cached is not None and cached["versions"] == versions:
        return cached
    try:
        user, _token = TokenAuthentication().authenticate_key(key)
    except exceptions.AuthenticationFailed:
        return None
    account = user.account
    if account is None or not account.is_active:
        return None
    record = {
        "account_id": account.pk, "account_path": account.path, "account_depth": account.depth, "versions": versions
    }
    cache.set(token_key(ApiToken.hash_key(key)), record, settings.KEYLINE_TOKEN_CACHE_SECONDS)
    return record


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
        return self.authenticate_key(key)

    def authenticate_key(self, key: str):
        token = (
            ApiToken.objects.select_related("user__account")
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
