"""One error shape for the whole API.

Every refusal answers ``{"error": {"code": "<stable_machine_code>", "message": "<human text>",
"details": [{"item": ..., "reason": ..., "code": ...}, ...]}}``:

- a `cms.errors.DomainError` raised by a service keeps its code; a bulk refusal lists every
  refused item in `details` (services check every row before refusing);
- Django REST framework's own errors (validation, authentication, permissions, 404, 405, ...)
  get a stable code of their own; a validation error lists each field problem in `details`.

The HTTP status follows from the machine code (`STATUS_BY_CODE`).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from cms.errors import DomainError, RateLimited

#: HTTP status of each machine code. A code not listed here is a refusal of the request as
#: made: 400.
STATUS_BY_CODE = {
    # the request itself is wrong
    "validation_error": status.HTTP_400_BAD_REQUEST,
    "parse_error": status.HTTP_400_BAD_REQUEST,
    "code_mistyped": status.HTTP_400_BAD_REQUEST,
    "code_not_valid": status.HTTP_400_BAD_REQUEST,
    "unit_not_eligible": status.HTTP_400_BAD_REQUEST,
    "duplicate": status.HTTP_400_BAD_REQUEST,
    # who is asking
    "not_authenticated": status.HTTP_401_UNAUTHORIZED,
    "authentication_failed": status.HTTP_401_UNAUTHORIZED,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    # what is asked about
    "not_found": status.HTTP_404_NOT_FOUND,
    "method_not_allowed": status.HTTP_405_METHOD_NOT_ALLOWED,
    "not_acceptable": status.HTTP_406_NOT_ACCEPTABLE,
    "unsupported_media_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    # the state of the code or unit does not allow it
    "code_already_used": status.HTTP_409_CONFLICT,
    "code_expired": status.HTTP_409_CONFLICT,
    "code_revoked": status.HTTP_409_CONFLICT,
    "code_use_by_passed": status.HTTP_409_CONFLICT,
    "code_reserved": status.HTTP_409_CONFLICT,
    "unit_covered": status.HTTP_409_CONFLICT,
    "outside_branch": status.HTTP_409_CONFLICT,
    "invalid_state": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
    "bulk_refused": status.HTTP_409_CONFLICT,
    "idempotency_in_progress": status.HTTP_409_CONFLICT,
    "idempotency_key_reused": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
}


def status_for(code: str) -> int:
    return STATUS_BY_CODE.get(code, status.HTTP_400_BAD_REQUEST)


def error_body(code: str, message, details=()) -> dict:
    return {"error": {"code": code, "message": str(message), "details": list(details)}}


def error_response(code: str, message, details=(), headers=None) -> Response:
    return Response(error_body(code, message, details), status=status_for(code), headers=headers)


def _flatten(detail, path: str = "") -> list[dict]:
    """DRF's nested validation errors as a flat list of {item, reason, code}."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            items += _flatten(value, f"{path}.{key}" if path else str(key))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                items += _flatten(value, f"{path}.{index}" if path else str(index))
            else:
                items += _flatten(value, path)
        return items
    return [{"item": path, "reason": str(detail), "code": getattr(detail, "code", None) or "invalid"}]


_DRF_CODES = [
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
]


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every handled error in the one shape."""
    if isinstance(exc, DomainError):
        set_rollback()
        details = [{"item": r.item, "reason": str(r.reason), "code": r.code} for r in exc.refusals]
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(exc.code, exc.message, details, headers=headers)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling takes over

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    code = next((code for cls, code in _DRF_CODES if isinstance(exc, cls)), None)
    if code is None:
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
    if isinstance(exc, exceptions.ValidationError):
        message, details = _("The request is not valid: see the details."), _flatten(exc.detail)
    else:
        message, details = str(exc.detail), []
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


# --- the shape in the OpenAPI schema ------------------------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="What was refused: a code, a field name, a hardware id.")
    reason = serializers.CharField(help_text="Why, for people (translated).")
    code = serializers.CharField(help_text="Why, for machines (stable).")


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine code, e.g. code_already_used.")
    message = serializers.CharField(help_text="Human text (translated).")
    details = ErrorItemSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


_DESCRIPTIONS = {
    400: "The request is not valid (validation_error, code_mistyped, code_not_valid, ...).",
    401: "No or an invalid token (not_authenticated, authentication_failed).",
    403: "Your role or account may not do this (permission_denied).",
    404: "Not found in your part of the network (not_found).",
    405: "Method not allowed (method_not_allowed).",
    409: "The state of the code or unit does not allow it (code_already_used, code_expired, "
    "invalid_state, bulk_refused, ...); details list every refused item.",
    415: "Unsupported media type: send JSON (unsupported_media_type).",
    422: "This Idempotency-Key was used with another request (idempotency_key_reused).",
    429: "Too many attempts (rate_limited); see the Retry-After header.",
}


def errors(*statuses: int) -> dict:
    """OpenAPI responses for the given error statuses, plus the ones every endpoint can give."""
    wanted = sorted({400, 401, 403, 405, *statuses})
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in wanted}
