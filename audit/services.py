"""Writing the audit log. Called only from other services, inside their transaction."""

from django.utils import timezone

from cms import fixed_sql
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
    """Insert events in one statement per 2,000 rows (fewer where the backend takes fewer parameters).
    Fixed SQL (`cms.fixed_sql.insert`): every service writes its entries here, and for the one
    or two entries of a redemption `bulk_create` cost more CPU than the statement's own work."""
    if not events:
        return []
    return fixed_sql.insert(Event, events)


def event_record(**kwargs) -> Event:
    return events_write([event_build(**kwargs)])[0]


# --- set-based writing for the background jobs ------------------------------------------------

# What an entry copies from the row it describes: (account, code, unit, batch, activation,
# expiry, period), as SQL over the alias "r".
_FROM_CODE = ("r.holder_id", "r.id", "r.unit_id", "r.batch_id", "r.activated_at", "r.expires_at", "r.period_days")
_FROM_UNIT = ("r.owner_id", None, "r.id", None, None, None, None)
_COPIED_TYPES = ("bigint", "bigint", "bigint", "bigint", "timestamp with time zone", "timestamp with time zone",
                 "smallint")
_IDS_PER_STATEMENT = 5000


def events_insert_for_rows(*, action: str, model, ids, actor, occurred_at, details: dict | None = None) -> int:
    """Audit entries for many codes or units at once, one `INSERT ... SELECT` per 5,000 rows:
    the database copies each row's fields, so no Python object is built per entry (the expiry
    job records thousands a second this way). `model` is `codes.Code` or `units.Unit`; entries
    come in primary-key order. Call inside the transaction that changes the rows, before any
    change that the entry must not see (e.g. the archive job's detaching)."""
    import json

    from django.db import connection

    ids = sorted(ids)
    if not ids:
        return 0
    postgres = connection.vendor == "postgresql"

    def typed(sql: str, pg_type: str) -> str:
        # PostgreSQL types the SELECT list before the INSERT sees it; SQLite needs no casts (and
        # would read an unknown type name as NUMERIC).
        return f"CAST({sql} AS {pg_type})" if postgres else sql

    if is_person(actor):
        actor_id, actor_label, actor_account_id = actor.pk, actor.get_username(), actor.account_id
    else:
        actor_id, actor_label, actor_account_id = None, str(actor or ANONYMOUS), None
    copied = _FROM_UNIT if model is Unit else _FROM_CODE
    select = [
        typed("%s", "timestamp with time zone"),
        typed("%s", "varchar"),
        typed("%s", "bigint"),
        typed("%s", "varchar"),
        typed("%s", "bigint"),
        *(typed(expr or "NULL", pg_type) for expr, pg_type in zip(copied, _COPIED_TYPES, strict=True)),
        typed("%s", "jsonb"),
    ]
    head_params = [
        connection.ops.adapt_datetimefield_value(occurred_at),
        str(action),
        actor_id,
        actor_label,
        actor_account_id,
    ]
    columns = (
        "occurred_at, action, actor_id, actor_label, actor_account_id, account_id, code_id, unit_id, batch_id, "
        "activated_at, expires_at, period_days, details"
    )
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[start : start + _IDS_PER_STATEMENT]
            if postgres:  # one array parameter instead of thousands of placeholders
                where, id_params = "r.id = ANY(%s::bigint[])", [fixed_sql.bigint_array(chunk)]
            else:
                where, id_params = f"r.id IN ({', '.join(['%s'] * len(chunk))})", chunk
            sql = (
                f"INSERT INTO {Event._meta.db_table} ({columns}) "
                f"SELECT {', '.join(select)} FROM {model._meta.db_table} r WHERE {where} ORDER BY r.id"
            )
            cursor.execute(sql, [*head_params, json.dumps(details or {}), *id_params])
            written += cursor.rowcount
    return written
