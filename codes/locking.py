"""Row locks for the service layer.

Every service that changes codes or units locks the rows first, always in the same order
(units, then codes) and in primary-key order within each table, so two bulk actions never wait
for each other in a cycle.

The locks are `FOR NO KEY UPDATE` (`no_key=True`): nothing here changes a key, and unlike
`FOR UPDATE` this mode does not block the `FOR KEY SHARE` lock PostgreSQL takes on a row that a
new audit event references. Otherwise a refused redemption, recording its `redeem_refused` entry
(which references the code and then the unit), could deadlock with the redemption that won. On SQLite `select_for_update` is a no-op; there the embedded settings
open every transaction with BEGIN IMMEDIATE, which serialises writers instead.
"""

from collections.abc import Iterable
from functools import cache

from django.db import connection

from cms import fixed_sql
from cms.models import Account
from units.cover_cache import units_changed
from units.models import Unit

from .models import ON_UNIT_STATES, Code


def lock_units(unit_ids: Iterable[int]) -> dict[int, Unit]:
    """Lock units that the caller is about to change, or whose codes it is about to change.

    Every service that changes a unit's cover (attach, release, redeem, a customer's move)
    locks the unit here first, so this is also where the unit's cached cover record
    (`units.cover_cache`, read by the unit-status call) is given up: at once and again after
    commit. A refused change only costs the next status call one rebuild."""
    ids = sorted(set(i for i in unit_ids if i is not None))
    if not ids:
        return {}
    rows = Unit.objects.filter(pk__in=ids).select_related("owner").order_by("pk").select_for_update(of=("self",), no_key=True)
    units = {unit.pk: unit for unit in rows}
    units_changed(unit.hardware_id for unit in units.values())
    return units


def lock_unit_for_code(code_text: str, hardware_id: str) -> Unit | None:
    """Find the unit with this hardware id of the provider whose code this is, and lock it, in
    one statement (the redemption path: a hardware id is unique only within a provider, and the
    code, locked next, comes after its unit). The unit comes with its owner and `code_id`, the
    code's id; None when there is no such code, or no such unit at the code's provider. Like
    `lock_units`, gives up the unit's cached cover record.

    Fixed SQL (`cms.fixed_sql`): the redemption runs it on every call, and through the ORM its
    building and compiling cost several times what the database does."""
    with fixed_sql.prepared_cursor() as cursor:
        cursor.execute(_unit_for_code_sql(connection.vendor), [hardware_id, code_text])
        row = cursor.fetchone()
    if row is None:
        return None
    unit, end = fixed_sql.load(Unit, row)
    owner, end = fixed_sql.load(Account, row, end)
    Unit.owner.field.set_cached_value(unit, owner)
    unit.code_id = row[end]
    units_changed([unit.hardware_id])
    return unit


@cache
def _unit_for_code_sql(vendor: str) -> str:
    code, unit, account = fixed_sql.table(Code), fixed_sql.table(Unit), fixed_sql.table(Account)
    # The code is only read (it is locked next, after its unit): the lock names the unit alone.
    return (
        f"SELECT {fixed_sql.columns(Unit, 'u')}, {fixed_sql.columns(Account, 'a')}, c.id"
        f" FROM {code} c"
        f" JOIN {unit} u ON u.provider_id = c.provider_id AND u.hardware_id = %s"
        f" JOIN {account} a ON a.id = u.owner_id"
        f" WHERE c.text = %s LIMIT 1{fixed_sql.lock_clause('u')}"
    )


_ON_UNIT_STATES_SQL = ", ".join(f"'{state}'" for state in ON_UNIT_STATES)  # our own constants: plain words


def lock_codes_and_chains(code_ids: Iterable[int], unit_ids: Iterable[int]) -> dict[int, Code]:
    """Lock, in one statement and in primary-key order, the given codes together with every code
    recorded as sitting on the given units (scheduled or running), each with its holder. Call
    with the units already locked (units before codes). Fixed SQL, as `lock_unit_for_code`:
    every attach, release and redemption runs it."""
    code_ids, unit_ids = sorted(set(code_ids)), sorted(set(unit_ids))
    if not code_ids and not unit_ids:
        return {}
    where, params = [], []
    if code_ids:
        sql, ids = fixed_sql.any_of("c.id", code_ids)
        where.append(sql)
        params += ids
    if unit_ids:
        sql, ids = fixed_sql.any_of("c.unit_id", unit_ids)
        # The states as literals, not parameters: a generic plan can then use the partial index
        # on them (`code_one_position_per_unit`).
        where.append(f"{sql} AND c.status IN ({_ON_UNIT_STATES_SQL})")
        params += ids
    sql = (
        f"SELECT {fixed_sql.columns(Code, 'c')}, {fixed_sql.columns(Account, 'h')}"
        f" FROM {fixed_sql.table(Code)} c JOIN {fixed_sql.table(Account)} h ON h.id = c.holder_id"
        f" WHERE ({') OR ('.join(where)}) ORDER BY c.id{fixed_sql.lock_clause('c')}"
    )
    codes = {}
    with fixed_sql.prepared_cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            code, end = fixed_sql.load(Code, row)
            holder, _end = fixed_sql.load(Account, row, end)
            Code.holder.field.set_cached_value(code, holder)
            codes[code.pk] = code
    return codes


def lock_codes(code_ids: Iterable[int], **filters) -> dict[int, Code]:
    ids = sorted(set(code_ids))
    if not ids:
        return {}
    rows = (
        Code.objects.filter(pk__in=ids, **filters)
        .select_related("holder")
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    )
    return {code.pk: code for code in rows}


def lock_chain(unit_id: int, now) -> list[Code]:
    """The codes sitting on a unit now (running, then scheduled in order), locked. Call with
    the unit already locked."""
    return list(
        Code.objects.filter(unit_id=unit_id, activated_at__isnull=False, expires_at__gt=now)
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    )
