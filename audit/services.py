"""Writing the audit log. Called only from other services, inside their transaction."""

from django.utils import timezone

from cms.actors import ANONYMOUS, is_person
from units.models import Unit

from .models import Action, Event


def event_build(
    *,
    action: Action | str,
    actor,
    occurred_at=None,
    code=None,
    unit=None,
    unit_id: int | None = None,
    account=None,
    from_account=None,
    to_account=None,
    batch=None,
    client_address: str | None = None,
    details: dict | None = None,
) -> Event:
    """An unsaved event. Activation, expiry and period are taken from the code as it is now,
    so build the event after changing the code."""
    if is_person(actor):
        actor_user, actor_label, actor_account = actor, actor.get_username(), actor.account
    else:
        actor_user, actor_label, actor_account = None, str(actor or ANONYMOUS), None
    if unit is not None:
        unit_id = unit.pk
    # Ids, not objects: building thousands of events must not load their relations.
    if account is None:
        account_id = code.holder_id if code is not None else (unit.owner_id if unit is not None else None)
        if account_id is None and unit_id is not None:
            account_id = Unit.objects.filter(pk=unit_id).values_list("owner_id", flat=True).first()
    else:
        account_id = account.pk
    if batch is not None:
        batch_id = batch.pk
    else:
        batch_id = code.batch_id if code is not None else None
    return Event(
        occurred_at=occurred_at or timezone.now(),
        action=action,
        actor=actor_user,
        actor_label=actor_label,
        actor_account=actor_account,
        account_id=account_id,
        from_account=from_account,
        to_account=to_account,
        code=code,
        unit_id=unit_id,
        batch_id=batch_id,
        activated_at=getattr(code, "activated_at", None),
        expires_at=getattr(code, "expires_at", None),
        period_days=getattr(code, "period_days", None),
        client_address=client_address,
        details=details or {},
    )


def events_write(events: list[Event]) -> list[Event]:
    """Insert events in one statement (per 2,000 rows)."""
    if not events:
        return []
    return Event.objects.bulk_create(events, batch_size=2000)


def event_record(**kwargs) -> Event:
    return events_write([event_build(**kwargs)])[0]
