"""Personal API tokens: `Authorization: Token <key>`.

Only the SHA-256 hash of a key is stored (`cms.ApiToken`); the key itself is shown once, when
it is created (profile page, or `manage.py api_token USERNAME`). A key is looked up with one
indexed query (token, user and account together); `last_used_at` is written at most once a
minute per token. Lookups are cached (below).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from audit.models import Action
from audit.services import event_build, events_write

from .errors import DomainError, NotFound
from .models import Account, ApiToken
from .validators import typed_text

logger = logging.getLogger(__name__)

KEYWORD = "Token"
#: How stale `last_used_at` may get before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


# --- services ---------------------------------------------------------------------------------


def _token_entry(action: str, token: ApiToken, *, user, actor, **details):
    """An entry about a token, on its user's account; it names the token, never its key."""
    return event_build(
        action=action, actor=actor, account=user.account,
        details={"user": user.get_username(), "token": token.name, **details},
    )


def api_token_create(*, user, name: str, actor=None) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its key, which is never shown again. `actor`:
    who creates it, when not the user itself (`manage.py api_token`: the system)."""
    name = typed_text(name, label=_("Name"))
    if not name:
        raise DomainError(_("A token needs a name."), code="validation_error")
    if len(name) > 100:
        raise DomainError(_("A token name has at most 100 characters."), code="validation_error")
    with transaction.atomic():
        # The user's row serialises two creations, so the count below holds.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
            raise DomainError(
                _("You already have %(count)d tokens: delete one first.") % {"count": MAX_TOKENS_PER_USER},
                code="validation_error",
            )
        token, key = ApiToken.issue(user=user, name=name)
        events_write([_token_entry(Action.TOKEN_CREATED, token, user=user, actor=actor or user)])
    return token, key


def api_token_delete(*, user, token_id: int) -> None:
    """Delete one of the user's own tokens; the key stops working at once."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise NotFound()
        tokens_forget(token)
        token.delete()
        events_write([_token_entry(Action.TOKEN_REVOKED, token, user=user, actor=user)])


def tokens_revoke(*, user, actor, reason: str) -> int:
    """Delete every token of a user (in the caller's transaction), each with its entry."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user).order_by("pk"))
    if not tokens:
        return 0
    tokens_forget(ApiToken.objects.filter(pk__in=[t.pk for t in tokens]))
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    events_write([_token_entry(Action.TOKEN_REVOKED, t, user=user, actor=actor, reason=reason) for t in tokens])
    return len(tokens)


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


# --- what a key stands for, in the cache ------------------------------------------------------
# A key's lookup (token, user and account, as plain field values) stays in the cache for at most
# KEYLINE_TOKEN_CACHE_SECONDS (ADR 26). The services that change them drop it (`tokens_forget`);
# the timeout bounds a lookup that raced a change, or a change made elsewhere (the admin site).


def _token_key(key_hash: str) -> str:
    return f"api-token:{key_hash}"


def _fields(instance, *, leave_out=()) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if f.name not in leave_out}


def _entry_of(token: ApiToken) -> dict:
    user = token.user
    return {
        "token": _fields(token),
        "user": _fields(user, leave_out=("password",)),
        "account": _fields(user.account) if user.account is not None else None,
    }


def _token_of(entry: dict) -> tuple[ApiToken, object]:
    """Model instances from an entry, as a query would load them (the user's password deferred)."""
    token = ApiToken.from_db("default", list(entry["token"]), list(entry["token"].values()))
    user_model = get_user_model()
    user = user_model.from_db("default", list(entry["user"]), list(entry["user"].values()))
    account = Account.from_db("default", list(entry["account"]), list(entry["account"].values())) if entry["account"] else None
    user_model.account.field.set_cached_value(user, account)
    ApiToken.user.field.set_cached_value(token, user)
    return token, user


def tokens_forget(tokens) -> None:
    """Drop the cached lookups of these tokens (a queryset, or a token)."""
    key_hashes = [tokens.key_hash] if isinstance(tokens, ApiToken) else tokens.values_list("key_hash", flat=True)
    keys = [_token_key(key_hash) for key_hash in key_hashes]
    if keys:
        # Now, so this transaction's own requests look up afresh, and again after the commit, in
        # case another request stored the lookup from before the change meanwhile.
        caches["lookups"].delete_many(keys)
        transaction.on_commit(lambda: caches["lookups"].delete_many(keys), robust=True)


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
        key_hash = ApiToken.hash_key(key)
        entry = caches["lookups"].get(_token_key(key_hash))
        if entry is None:
            token = ApiToken.objects.select_related("user__account").filter(key_hash=key_hash).first()
            if token is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            entry = _entry_of(token)
            caches["lookups"].set(_token_key(key_hash), entry, settings.KEYLINE_TOKEN_CACHE_SECONDS)
        token, user = _token_of(entry)
        if not user.is_active or (user.account is not None and not user.account.is_active):
            raise exceptions.AuthenticationFailed(_("This user or account is disabled."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
            caches["lookups"].set(_token_key(key_hash), {**entry, "token": {**entry["token"], "last_used_at": now}},
                      settings.KEYLINE_TOKEN_CACHE_SECONDS)
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
