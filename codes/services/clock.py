"""Recording what the clock has decided: codes that started or ended since their status was last
written, and the units these leave active or deactivated. The expiry job records it for every
due code; every service records it first for the locked rows it is about to change, so it never
judges a row by a stale status.

Set-based: one UPDATE per kind of change and one INSERT ... SELECT per kind of audit entry,
whether it is for one code or five thousand."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from audit.models import Action
from audit.services import events_insert_for_rows
from units.models import Unit

from ..models import Code, CodeState
from ..rules import code_state, cover_of

#: What an entry about a code or a unit copies from its row.
CODE_ENTRY = {
    "account_id": "holder_id", "code_id": "id", "unit_id": "unit_id", "batch_id": "batch_id",
    "activated_at": "activated_at", "expires_at": "expires_at", "period_days": "period_days",
}
UNIT_ENTRY = {"account_id": "owner_id", "unit_id": "id"}

_IDS_PER_UPDATE = 5000


def update_by_ids(model, ids: list[int], **values) -> None:
    for start in range(0, len(ids), _IDS_PER_UPDATE):
        model.objects.filter(pk__in=ids[start : start + _IDS_PER_UPDATE]).update(**values)


@dataclass
class ClockChanges:
    started: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)  # ran to their end
    lapsed: list[int] = field(default_factory=list)  # never applied before their use-by date ended
    running: list[int] = field(default_factory=list)  # to be recorded as running
    units: set[int] = field(default_factory=set)  # whose codes changed


def clock_changes(rows, now: datetime) -> ClockChanges:
    """What the clock decided for these rows (codes, or rows with their fields) since their
    status was written."""
    changes = ClockChanges()
    for row in rows:
        derived = code_state(row, now)
        if derived == row.status:
            continue
        if row.status == CodeState.SCHEDULED and derived in (CodeState.RUNNING, CodeState.EXPIRED):
            changes.started.append(row.pk)
        if derived == CodeState.EXPIRED:
            (changes.lapsed if row.activated_at is None else changes.expired).append(row.pk)
        elif derived == CodeState.RUNNING:
            changes.running.append(row.pk)
        if row.unit_id is not None:
            changes.units.add(row.unit_id)
    return changes


def record_clock(rows, *, now: datetime, actor) -> ClockChanges:
    """Write what the clock decided for these locked rows, with their audit entries. Code
    instances among them get their new status too."""
    changes = clock_changes(rows, now)
    # Expirations first: a unit never holds two rows recorded as running, even for a moment.
    update_by_ids(Code, changes.expired + changes.lapsed, status=CodeState.EXPIRED)
    update_by_ids(Code, changes.running, status=CodeState.RUNNING)
    # Each entry is dated when the clock decided it (a start, an end, a use-by deadline), however
    # late a job notices; the entry's write time says when that was.
    entry = {"model": Code, "actor": actor, "occurred_at": now}
    events_insert_for_rows(action=Action.STARTED, ids=changes.started, copied=CODE_ENTRY | {"occurred_at": "activated_at"}, **entry)
    events_insert_for_rows(action=Action.EXPIRED, ids=changes.expired, copied=CODE_ENTRY | {"occurred_at": "expires_at"}, **entry)
    events_insert_for_rows(
        action=Action.EXPIRED, ids=changes.lapsed, details={"use_by_passed": True},
        copied=CODE_ENTRY | {"occurred_at": "usable_until"}, **entry,
    )
    for row in rows:
        if isinstance(row, Code):
            row.status = code_state(row, now)
    return changes


def _cover_ended_sql(now: datetime) -> tuple[str, list]:
    """When a unit the clock left uncovered lost its cover: the latest end among the codes still
    recorded on it (an ended code stays on its unit until the daily clean-up; a released one left
    it, and its release recorded the unit's state then)."""
    table, quote = Code._meta.db_table, connection.ops.quote_name
    adapted = connection.ops.adapt_datetimefield_value(now)
    return (
        f"COALESCE((SELECT MAX(c.{quote('expires_at')}) FROM {quote(table)} c "
        f"WHERE c.{quote('unit_id')} = r.{quote('id')} AND c.{quote('expires_at')} <= %s), %s)",
        [adapted, adapted],
    )


def record_unit_states(
    units: dict[int, bool], chains: dict[int, list], *, now: datetime, actor, by_clock: bool = False
) -> int:
    """Write each locked unit's active flag as its codes decide now, with an entry for every unit
    whose state changes. `units`: id -> flag as recorded, updated in place; `chains`: for each
    unit to decide, every code recorded as sitting on it (locked). `by_clock`: the changes are the
    clock's alone (no service changed these units' codes), so a deactivation is dated when the
    cover ended. Returns how many changed."""
    decided = {pk: cover_of(chain, now).is_active for pk, chain in chains.items() if pk in units}
    activate = [pk for pk, active in decided.items() if active and not units[pk]]
    deactivate = [pk for pk, active in decided.items() if not active and units[pk]]
    update_by_ids(Unit, activate, is_active=True)
    update_by_ids(Unit, deactivate, is_active=False)
    entry = {"model": Unit, "copied": UNIT_ENTRY, "actor": actor, "occurred_at": now}
    events_insert_for_rows(action=Action.UNIT_ACTIVATED, ids=activate, **entry)
    events_insert_for_rows(
        action=Action.UNIT_DEACTIVATED, ids=deactivate,
        computed={"occurred_at": _cover_ended_sql(now)} if by_clock else None, **entry,
    )
    units.update(dict.fromkeys(activate, True) | dict.fromkeys(deactivate, False))
    return len(activate) + len(deactivate)
