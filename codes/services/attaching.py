"""Putting codes on units and taking them off (DOMAIN.md, "Rules of time").

An unstarted code attached to a unit without cover starts now; onto a covered unit it queues
behind the cover, with no gap and no lost day. A released code keeps its own clock. Releasing a
running code keeps its clock (nothing is refunded); releasing a scheduled one makes it available
again; the unit's remaining codes move forward so its cover has no hole.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_build, events_write
from cms.actors import SYSTEM, require_writer
from cms.errors import DomainError, Refusal
from cms.models import Account
from units.models import Unit

from .. import rules
from ..models import ON_UNIT_STATES, Code, CodeState
from .clock import record_clock, record_unit_states
from .common import each_code, ids_of, pk_of
from .locks import lock_codes, lock_units


@dataclass(frozen=True)
class Pairing:
    code_id: int
    unit_id: int


@dataclass
class Locked:
    """The rows a change works on, locked and brought up to the clock: the units, the codes, and
    each unit's chain (the codes covering it now or queued, in order)."""

    units: dict[int, Unit]
    codes: dict[int, Code]
    chains: dict[int, list[Code]]
    now: datetime

    def cover(self, unit_id: int) -> rules.Cover:
        return rules.cover_of(self.chains[unit_id], self.now)


def lock_for_units(
    code_ids: Iterable[int], unit_ids: Iterable[int], *, now: datetime | None, units: dict[int, Unit] | None = None
) -> Locked:
    """Lock the units (unless the caller already has: `units`), then the given codes with every
    code on those units, and record what the clock decided for the latter.

    Without `now`, the clock is read once the locks are held: a transaction that waited for
    them must not judge the rows it gets by a moment earlier than the change it waited for."""
    units = units if units is not None else lock_units(unit_ids)
    codes = lock_codes(code_ids, on_units=units)
    now = now or timezone.now()
    on_units = [c for c in codes.values() if c.unit_id in units and c.status in ON_UNIT_STATES]
    record_clock(on_units, now=now, actor=SYSTEM)
    chains: dict[int, list[Code]] = {unit_id: [] for unit_id in units}
    for code in on_units:
        if code.status in ON_UNIT_STATES:
            chains[code.unit_id].append(code)
    for chain in chains.values():
        chain.sort(key=lambda c: c.activated_at)
    locked = Locked(units=units, codes=codes, chains=chains, now=now)
    # A unit whose cover the clock ended before this change was deactivated then, by nobody.
    record_units(locked, units, actor=SYSTEM, by_clock=True)
    return locked


def record_units(locked: Locked, unit_ids, *, actor, by_clock: bool = False) -> None:
    """Record the state the changed chains give these units."""
    flags = {pk: unit.is_active for pk, unit in locked.units.items()}
    record_unit_states(
        flags, {pk: locked.chains[pk] for pk in set(unit_ids) if pk in locked.chains}, now=locked.now, actor=actor,
        by_clock=by_clock,
    )
    for pk, unit in locked.units.items():
        unit.is_active = flags[pk]


def save_positions(codes: list[Code]) -> None:
    """One row at a time, in the order given (chain order): each move is to a place the rows
    written before it have left, so the unique indexes on a unit's positions never see two rows
    in one place. A redeemed code's reservation is cleared in the same statement."""
    for code in codes:
        Code.objects.filter(pk=code.pk).update(
            unit_id=code.unit_id, activated_at=code.activated_at, expires_at=code.expires_at, status=code.status,
            reserved_for=code.reserved_for, reserved_at=code.reserved_at,
        )


def attach_pairs(
    pairs: list[Pairing],
    *,
    actor,
    visible_from: Account | None,
    now: datetime | None,
    redeemed: bool = False,
    client_address: str | None = None,
    units: dict[int, Unit] | None = None,
) -> list[Code]:
    """Attach each code to its unit, in order (several codes for one unit queue up); all or
    nothing. `visible_from`: the account whose branch the codes and units must lie in (None for
    a redemption, which finds its own). `units`: see `lock_for_units`."""
    locked = lock_for_units([p.code_id for p in pairs], [p.unit_id for p in pairs], now=now, units=units)
    now = locked.now
    refusals: list[Refusal] = []
    attached: list[Code] = []
    seen: set[int] = set()
    reserved_for: dict[int, str] = {}
    for pair in pairs:
        code, unit = locked.codes.get(pair.code_id), locked.units.get(pair.unit_id)
        if code is None or (visible_from is not None and not visible_from.contains(code.holder)):
            refusals.append(rules.not_found(rules.label(code, pair.code_id)))
            continue
        if unit is None or (visible_from is not None and not visible_from.contains(unit.owner)):
            refusals.append(rules.not_found(code.display_text, "unit"))
            continue
        if code.pk in seen:
            refusals.append(Refusal(code.display_text, _("This code is listed more than once."), "duplicate"))
            continue
        seen.add(code.pk)
        cover = locked.cover(unit.pk)
        if (refused := rules.attach_refusal(code, unit, cover, now, by_text=redeemed)) is not None:
            refusals.append(refused)
            continue
        placement = rules.attach_placement(code, cover, now)
        if (reservation := rules.reservation_of(code, now)) is not None:  # redeemed by its recipient
            reserved_for[code.pk] = reservation.recipient
        code.unit = unit
        code.activated_at, code.expires_at, code.status = placement.starts_at, placement.ends_at, placement.status
        code.reserved_for, code.reserved_at = "", None
        locked.chains[unit.pk].append(code)
        attached.append(code)
    if refusals:
        raise DomainError.for_refusals(refusals, len(pairs))
    save_positions(attached)
    events_write(
        [
            event_build(
                action=Action.REDEEMED if redeemed else Action.SCHEDULED if code.status == CodeState.SCHEDULED else Action.ATTACHED,
                actor=actor,
                occurred_at=now,
                code=code,
                unit=code.unit,
                client_address=client_address,
                details=({"scheduled": True} if code.status == CodeState.SCHEDULED else {})
                | ({"reserved_for": reserved_for[code.pk]} if code.pk in reserved_for else {}),
            )
            for code in attached
        ]
    )
    record_units(locked, {c.unit_id for c in attached}, actor=actor)
    return attached


def codes_attach(*, pairs: Iterable[tuple], actor, now: datetime | None = None, client_address=None) -> list[Code]:
    """Attach many codes, each to its unit (pairs of code and unit, objects or ids), in order:
    several codes for one unit queue up behind each other. All or nothing."""
    account = require_writer(actor)
    pairings = [Pairing(pk_of(code), pk_of(unit)) for code, unit in pairs]
    if not pairings:
        return []
    with transaction.atomic():
        return attach_pairs(pairings, actor=actor, visible_from=account, now=now, client_address=client_address)


def code_attach(*, code: Code | int, unit: Unit | int, actor, now: datetime | None = None, client_address=None) -> Code:
    """Attach one code to one unit: it starts now if the unit has no running code, otherwise it is
    scheduled to start exactly when the unit's cover ends."""
    return codes_attach(pairs=[(code, unit)], actor=actor, now=now, client_address=client_address)[0]


def _rebase(chain: list[Code], *, now: datetime, actor, unit: Unit) -> tuple[list[Code], list]:
    """Lay a unit's remaining codes end to end with no gap: behind the running code if there is
    one, else from now. Returns the codes that moved and their audit entries."""
    moved, events = [], []
    running = chain[0] if chain and chain[0].activated_at <= now else None
    cursor = running.expires_at if running else now
    for code in chain:
        if code is running:
            continue
        if code.activated_at != cursor:
            planned = code.activated_at
            code.activated_at, code.expires_at = cursor, cursor + timedelta(days=code.period_days)
            moved.append(code)
            if cursor <= now:
                code.status = CodeState.RUNNING
                events.append(event_build(action=Action.STARTED, actor=actor, occurred_at=now, code=code, unit=unit))
            else:  # still waiting, at a new place in the queue: a change too (invariant 5)
                events.append(
                    event_build(
                        action=Action.SCHEDULED, actor=actor, occurred_at=now, code=code, unit=unit,
                        details={"scheduled": True, "moved_from": planned.isoformat()},
                    )
                )
        cursor = code.expires_at
    return moved, events


@dataclass(frozen=True)
class Released:
    """What a release did: the codes taken off, and the units it left without cover."""

    codes: list[Code]
    deactivated: list[Unit]


def codes_release(*, codes: Iterable[Code | int], actor, now: datetime | None = None) -> Released:
    """Detach codes from their units. All or nothing. Returns the codes released and the units
    the release left without cover."""
    account = require_writer(actor)
    ids = ids_of(codes)
    if not ids:
        return Released(codes=[], deactivated=[])
    with transaction.atomic():
        seen_on = dict(Code.objects.filter(pk__in=ids).values_list("pk", "unit_id"))
        locked = lock_for_units(ids, seen_on.values(), now=now)
        now = locked.now

        def refusal(code: Code) -> Refusal | None:
            if code.unit_id != seen_on.get(code.pk):  # moved between the read and the lock
                return Refusal(code.display_text, _("This code changed meanwhile; try again."), "conflict")
            return rules.release_refusal(code, now)

        released = each_code(ids, locked.codes, account, refusal)
        released_ids = {code.pk for code in released}
        # Decided on the covers before the change, by the rule the release's preview asks.
        deactivated = sorted(
            (unit for pk, unit in locked.units.items() if rules.release_ends_cover(locked.cover(pk), released_ids)),
            key=lambda unit: (unit.name, unit.pk),
        )
        events = []
        for code in released:
            unit = locked.units[code.unit_id]
            locked.chains[unit.pk].remove(code)
            was_running = code.activated_at <= now
            planned = code.activated_at
            code.unit = None
            if was_running:
                code.status = CodeState.RELEASED
            else:
                code.activated_at = code.expires_at = None
                code.status = CodeState.AVAILABLE
            events.append(
                event_build(
                    action=Action.RELEASED, actor=actor, occurred_at=now, code=code, unit=unit,
                    details={} if was_running else {"was_scheduled": True, "planned_start": planned.isoformat()},
                )
            )
        moved = []
        for unit_id in {u for u in seen_on.values() if u in locked.units}:
            shifted, shift_events = _rebase(locked.chains[unit_id], now=now, actor=actor, unit=locked.units[unit_id])
            moved += shifted
            events += shift_events
        save_positions(released)
        save_positions(moved)
        events_write(events)
        record_units(locked, seen_on.values(), actor=actor)
        return Released(codes=released, deactivated=deactivated)


def code_release(*, code: Code | int, actor, now: datetime | None = None) -> Code:
    return codes_release(codes=[code], actor=actor, now=now).codes[0]
