"""Reads of codes. A code's state is derived from its fields and the clock: `code_state` for
one loaded code, `state_q` / `with_state` for querysets, so lists and counts never depend on a
background job having run (invariant 2).
"""

from datetime import datetime

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils import timezone

from .models import Code, CodeState


def code_state(code: Code, now: datetime | None = None) -> CodeState:
    now = now or timezone.now()
    if code.revoked_at is not None:
        return CodeState.REVOKED
    if code.activated_at is None:
        if code.use_by is not None and code.use_by < now.date():
            return CodeState.EXPIRED  # never applied before its use-by date: lapsed
        return CodeState.AVAILABLE
    if code.expires_at <= now:
        return CodeState.EXPIRED
    if code.unit_id is None:
        return CodeState.RELEASED
    if code.activated_at <= now:
        return CodeState.RUNNING
    return CodeState.SCHEDULED


def code_use_by_passed(code: Code, now: datetime) -> bool:
    return code.activated_at is None and code.use_by is not None and code.use_by < now.date()


def state_q(state: str, now: datetime | None = None, prefix: str = "") -> Q:
    """The rows of a queryset (of codes, or of a relation named by prefix) in one state now.
    Mirrors `code_state` exactly; the property test checks they agree."""
    now = now or timezone.now()
    today = now.date()

    def q(**kwargs):
        return Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})

    if state == CodeState.REVOKED:
        return q(revoked_at__isnull=False)
    if state == CodeState.AVAILABLE:
        return q(revoked_at__isnull=True, activated_at__isnull=True) & (
            q(use_by__isnull=True) | q(use_by__gte=today)
        )
    if state == CodeState.EXPIRED:
        return q(revoked_at__isnull=True) & (
            q(expires_at__lte=now) | q(activated_at__isnull=True, use_by__lt=today)
        )
    if state == CodeState.RELEASED:
        return q(unit__isnull=True, activated_at__isnull=False, expires_at__gt=now)
    if state == CodeState.RUNNING:
        return q(unit__isnull=False, activated_at__lte=now, expires_at__gt=now)
    if state == CodeState.SCHEDULED:
        return q(unit__isnull=False, activated_at__gt=now)
    raise ValueError(f"unknown state {state!r}")


def states_q(states, now: datetime | None = None, prefix: str = "") -> Q:
    now = now or timezone.now()
    combined = Q(pk__in=[])
    for state in states:
        combined |= state_q(state, now, prefix)
    return combined


def with_state(queryset: QuerySet[Code], now: datetime | None = None) -> QuerySet[Code]:
    """Annotate `state` (computed in SQL) on a queryset of codes."""
    now = now or timezone.now()
    return queryset.annotate(
        state=Case(
            *[When(state_q(state, now), then=Value(state.value)) for state in CodeState],
            output_field=CharField(),
        )
    )


def codes_visible_to(user) -> QuerySet[Code]:
    """Codes held by the user's account or anything below it (DOMAIN.md, "Holder")."""
    account = getattr(user, "account", None)
    if account is None or not account.is_active:
        return Code.objects.none()
    if account.depth == 1:
        # A provider sees its whole tree: the provider column is cheaper than the path join.
        return Code.objects.filter(provider_id=account.pk)
    return Code.objects.filter(holder__path__startswith=account.path)


def codes_on_unit_q(now: datetime) -> Q:
    """Codes that sit on their unit now: running or scheduled."""
    return Q(unit__isnull=False, activated_at__isnull=False, expires_at__gt=now)


def code_by_text(canonical_text: str) -> Code | None:
    return Code.objects.filter(text=canonical_text).select_related("holder", "batch").first()
