"""Writing the audit log. Called only from other services, inside the transaction whose change an
entry describes (invariant 5). The log knows codes, units and accounts only by their ids."""

import json

from django.db import connection
from django.utils import timezone

from cms.actors import ANONYMOUS, is_person

from .models import Event


def _actor_fields(actor) -> dict:
    if is_person(actor):
        return {"actor": actor, "actor_label": actor.get_username(), "actor_account_id": actor.account_id}
    return {"actor": None, "actor_label": str(actor or ANONYMOUS), "actor_account_id": None}


def event_build(
    *,
    action: str,
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
    """An unsaved entry. `code` is a code (or a row with its fields) as it is after the change:
    its holder, activation, expiry and period are copied. `unit` is a unit (or a row with `pk`
    and `owner_id`). The entry's account is the one given, else the code's holder, else the
    unit's owner."""
    if unit is not None:
        unit_id = unit.pk
    if account is not None:
        account_id = account.pk
    elif code is not None:
        account_id = code.holder_id
    else:
        account_id = unit.owner_id if unit is not None else None
    return Event(
        occurred_at=occurred_at or timezone.now(),
        action=action,
        **_actor_fields(actor),
        account_id=account_id,
        from_account=from_account,
        to_account=to_account,
        code_id=code.pk if code is not None else None,
        unit_id=unit_id,
        batch_id=batch.pk if batch is not None else getattr(code, "batch_id", None),
        activated_at=getattr(code, "activated_at", None),
        expires_at=getattr(code, "expires_at", None),
        period_days=getattr(code, "period_days", None),
        client_address=client_address,
        details=details or {},
    )


def events_write(events: list[Event]) -> list[Event]:
    return Event.objects.bulk_create(events, batch_size=2000) if events else []


def event_record(**kwargs) -> Event:
    return events_write([event_build(**kwargs)])[0]


#: Per statement of `events_insert_for_rows`.
_IDS_PER_STATEMENT = 5000


def events_insert_for_rows(
    *, action: str, model, ids, copied: dict[str, str], actor, occurred_at, details: dict | None = None,
    computed: dict[str, tuple[str, list]] | None = None,
) -> int:
    """One entry per row of `model` named in `ids`, in primary-key order, for the background jobs'
    thousands of changes at a time. `copied` maps entry columns to the row's columns (e.g.
    {"code_id": "id", "account_id": "holder_id"}); it may name `occurred_at` too (a code's expiry
    is when its period ended, whenever the job runs), else every entry takes `occurred_at`.
    `computed` maps entry columns to an SQL expression over the row `r` and its parameters, for a
    value no column holds (a unit's end of cover is its codes' latest end). Raw SQL: the ORM cannot say INSERT ... SELECT,
    and the database copying each row's fields needs no Python object per entry."""
    ids = sorted(ids)
    if not ids:
        return 0
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"

    def typed(sql: str, column: str) -> str:
        # PostgreSQL types a SELECT list before the INSERT sees it.
        field = Event._meta.get_field(column.removesuffix("_id")) if column.endswith("_id") else Event._meta.get_field(column)
        db_type = field.target_field.db_type(connection) if field.is_relation else field.db_type(connection)
        return f"CAST({sql} AS {db_type.split('(')[0]})" if postgres else sql

    actor_fields = _actor_fields(actor)
    fixed = {
        "occurred_at": connection.ops.adapt_datetimefield_value(occurred_at),
        "recorded_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        "action": str(action),
        "actor_id": actor_fields["actor"].pk if actor_fields["actor"] is not None else None,
        "actor_label": actor_fields["actor_label"],
        "actor_account_id": actor_fields["actor_account_id"],
        "details": json.dumps(details or {}),
    }
    computed = computed or {}
    for name in (*copied, *computed):
        fixed.pop(name, None)
    columns = [*fixed, *copied, *computed]
    select = (
        [typed("%s", name) for name in fixed]
        + [typed(f"r.{quote(source)}", name) for name, source in copied.items()]
        + [typed(f"({sql})", name) for name, (sql, _params) in computed.items()]
    )
    computed_params = [param for _sql, params in computed.values() for param in params]
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[start : start + _IDS_PER_STATEMENT]
            where, id_params = ("r.id = ANY(%s::bigint[])", [chunk]) if postgres else (f"r.id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            cursor.execute(
                f"INSERT INTO {quote(Event._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
                f"SELECT {', '.join(select)} FROM {quote(model._meta.db_table)} r WHERE {where} ORDER BY r.id",
                [*fixed.values(), *computed_params, *id_params],
            )
            written += cursor.rowcount
    return written
