"""Reads of codes. A code's state is derived from its fields and the clock: `codes.rules.code_state`
for one loaded code, `state_q` / `with_state` here for querysets, so lists and counts never depend
on a background job having run (invariant 2).
"""

from datetime import datetime

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from cms.selectors import active_account, branch_holder_ids, branch_ids

from .models import Code, CodeState


def state_q(state: str, now: datetime | None = None, prefix: str = "", *, on_unit: bool = False) -> Q:
    """The rows of a queryset (of codes, or of a relation named by prefix) in one state now.
    Mirrors `codes.rules.code_state` exactly; the property test checks they agree.

    `on_unit=True`: the caller restricts the recorded status to running or scheduled, which the
    check constraint `code_on_unit_has_position` ties to a unit, so the running and scheduled
    conditions leave out `unit IS NOT NULL`: said twice, it misleads the planner into sorting
    every running code instead of walking the live codes in expiry order (ADR 1)."""
    now = now or timezone.now()

    def q(**kwargs):
        return Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})

    if state == CodeState.REVOKED:
        return q(revoked_at__isnull=False)
    if state == CodeState.AVAILABLE:
        return q(revoked_at__isnull=True, activated_at__isnull=True) & (
            q(usable_until__isnull=True) | q(usable_until__gt=now)
        )
    if state == CodeState.EXPIRED:
        return q(revoked_at__isnull=True) & (
            q(expires_at__lte=now) | q(activated_at__isnull=True, usable_until__lte=now)
        )
    if state == CodeState.RELEASED:
        return q(unit__isnull=True, activated_at__isnull=False, expires_at__gt=now)
    on_a_unit = {} if on_unit else {"unit__isnull": False}
    if state == CodeState.RUNNING:
        return q(**on_a_unit, activated_at__lte=now, expires_at__gt=now)
    if state == CodeState.SCHEDULED:
        return q(**on_a_unit, activated_at__gt=now)
    raise ValueError(f"unknown state {state!r}")


#: The recorded statuses a row in each derived state can carry. The recorded status only ever
#: lags the clock (the job records a start or an expiry after the clock decided it; revoking,
#: attaching and releasing write both at once), so a running code may still be recorded as
#: scheduled, and an expired one as anything but revoked.
RECORDED_AS = {
    CodeState.AVAILABLE: [CodeState.AVAILABLE],
    CodeState.SCHEDULED: [CodeState.SCHEDULED],
    CodeState.RUNNING: [CodeState.RUNNING, CodeState.SCHEDULED],
    CodeState.RELEASED: [CodeState.RELEASED],
    CodeState.REVOKED: [CodeState.REVOKED],
}


def states_q(states, now: datetime | None = None, prefix: str = "") -> Q:
    now = now or timezone.now()
    states = set(states)
    # Only codes on a unit asked for: the status condition below says they are on one.
    on_unit = bool(states) and states <= {CodeState.RUNNING, CodeState.SCHEDULED}
    combined = Q(pk__in=[])
    for state in sorted(states):
        combined |= state_q(state, now, prefix, on_unit=on_unit)
    if states and CodeState.EXPIRED not in states:
        # Redundant with the derived conditions, but indexable: it lets PostgreSQL use the
        # status indexes (and the partial indexes on live rows) instead of walking past every
        # expired code, a third of a mature table, in expiry order.
        recorded = sorted({status for state in states for status in RECORDED_AS[state]})
        combined &= Q(**{f"{prefix}status__in": recorded})
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


def for_code_table(queryset: QuerySet[Code]) -> QuerySet[Code]:
    """The codes as the Codes window's table reads them (`codes.tables.CodeTable`): only the
    fields its columns show, and the unit's, holder's and batch's values it shows as columns of
    the code's row (`unit_name`, `holder_name`, `batch_unit_price`, ...): one model instance a
    row rather than four, in one query (ADR 27)."""
    return queryset.only(
        "text", "period_days", "activated_at", "expires_at", "unit_id", "holder_id", "batch_id", "reserved_for",
        "reserved_at",
    ).annotate(
        unit_name=F("unit__name"), unit_hardware_id=F("unit__hardware_id"), holder_name=F("holder__name"),
        batch_unit_price=F("batch__unit_price"), batch_currency=F("batch__currency"),
    )


def codes_visible_to(user) -> QuerySet[Code]:
    """Codes held by the user's account or anything below it (DOMAIN.md, "Holder")."""
    account = active_account(user)
    if account is None:
        return Code.objects.none()
    if account.depth == 1:
        # A provider sees its whole tree: the provider column is cheaper than the path join.
        return Code.objects.filter(provider_id=account.pk)
    # The branch's ids, not a join on the path, so the planner reads through the holder indexes.
    # The provider condition is redundant but lets the window's ordered walk use the provider's
    # live-codes index (ADR 5).
    provider_id, _ids = branch_ids(account)
    return Code.objects.filter(provider_id=provider_id, holder_id__in=branch_holder_ids(account))


def codes_on_unit_q(now: datetime) -> Q:
    """Codes that sit on their unit now: running or scheduled."""
    return Q(unit__isnull=False, activated_at__isnull=False, expires_at__gt=now)


def code_by_text(canonical_text: str) -> Code | None:
    return Code.objects.filter(text=canonical_text).select_related("holder", "batch").first()
