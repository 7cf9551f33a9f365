"""`Idempotency-Key` for POSTs.

The first answer to a POST with a given key is kept for 24 hours in the cache (Redis in
production), under the caller and the key. Sending the same key with the same request again
replays that answer (status and body, with `Idempotent-Replayed: true`) and changes nothing;
the same key with a different request (method, path, query or body) is refused with
`idempotency_key_reused` (422). While the first request is still running, a second one with the
same key waits for nothing: it gets `idempotency_in_progress` (409) and may retry. `cache.add`
is the lock, so two identical requests racing each other run the service once.

Server errors (5xx) and rate-limit refusals (429) are not kept: they say nothing final, and the
client is expected to retry them.
"""

import functools
import hashlib
import json

from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from cms.errors import DomainError

HEADER = "Idempotency-Key"
TTL = 24 * 60 * 60
LOCK_TTL = 60
MAX_KEY_LENGTH = 255

#: Documents the header on every POST that honours it.
PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID): the same key with the same request within 24 hours returns "
        "the first answer again and changes nothing."
    ),
)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=JSONEncoder, default=str)
    raw = "\n".join([request.method, request.path, request.META.get("QUERY_STRING", ""), body])
    return hashlib.sha256(raw.encode()).hexdigest()


def _cache_key(request, key: str) -> str:
    user = getattr(request.user, "pk", None)
    return "keyline:idempotency:" + hashlib.sha256(f"{user}\n{key}".encode()).hexdigest()


def _replay(stored: dict, fingerprint: str) -> Response:
    if stored["fingerprint"] != fingerprint:
        raise DomainError(
            _("This Idempotency-Key was already used with a different request."), code="idempotency_key_reused"
        )
    return Response(stored["data"], status=stored["status"], headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    """Decorate a POST handler of an APIView or a ViewSet action."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise DomainError(
                _("The Idempotency-Key header must have 1 to %(max)d characters.") % {"max": MAX_KEY_LENGTH},
                code="validation_error",
            )
        fingerprint = _fingerprint(request)
        cache_key = _cache_key(request, key)
        if (stored := cache.get(cache_key)) is not None:
            return _replay(stored, fingerprint)
        lock = cache_key + ":lock"
        if not cache.add(lock, 1, LOCK_TTL):
            raise DomainError(
                _("A request with this Idempotency-Key is still being processed; retry shortly."),
                code="idempotency_in_progress",
            )
        try:
            if (stored := cache.get(cache_key)) is not None:  # finished between our get and add
                return _replay(stored, fingerprint)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # an answered refusal is an answer too; a bug re-raises here
                response = view.handle_exception(exc)
            if response.status_code < 500 and response.status_code != 429:
                data = json.loads(json.dumps(response.data, cls=JSONEncoder))
                cache.set(cache_key, {"fingerprint": fingerprint, "status": response.status_code, "data": data}, TTL)
            return response
        finally:
            cache.delete(lock)

    return wrapper
