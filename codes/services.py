"""The service layer for codes: every change to a code, and to the unit states codes decide,
goes through these functions (DOMAIN.md is the specification).

Each public function takes keyword-only arguments and the acting user (or `cms.actors.SYSTEM`),
checks the actor's rights and the domain rules, locks the rows it changes (units before codes,
each in primary-key order: see `codes.locking`), writes the audit entries in the same
transaction, and raises `cms.errors.DomainError` on refusal. Bulk functions are all-or-nothing:
they check every row, and when any is refused they raise with the complete list and change
nothing.
"""

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, NoReturn

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Mod
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_build, events_insert_for_rows, events_write
from cms import fixed_sql
from cms.actors import ANONYMOUS, SYSTEM, is_person, require_account, require_writer
from cms.errors import DomainError, NotFound, PermissionDenied, Refusal
from cms.models import Account
from units.cover_cache import units_changed
from units.models import Unit, normalize_hardware_id

from . import text as code_text
from .locking import lock_codes, lock_codes_and_chains, lock_unit_for_code, lock_units
from .models import ON_UNIT_STATES, Batch, Code, CodeState
from .selectors import code_state, code_use_by_passed
from .use_by import local_today, use_by_ends_at

logger = logging.getLogger(__name__)


# --- actors ------------------------------------------------------------------------------------


_require_account = require_account
_require_writer = require_writer


def _require_provider_admin(actor) -> Account:
    account = _require_account(actor)
    if not actor.is_provider_admin:
        raise PermissionDenied(_("Only the provider's admins can do this."))
    return account


def _pk(item) -> int:
    return item if isinstance(item, int) else item.pk


def _label(code: Code | None, pk: int) -> str:
    return code.display_text if code is not None else f"#{pk}"


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


# --- recording what the clock decided -------------------------------------------------------


def _record_clock(codes: Iterable[Code], *, now: datetime, actor, events: list) -> set[int]:
    """Bring the recorded status of locked codes in line with the clock: record expirations
    (and lapsed use-by dates), then starts of scheduled codes. Returns the ids of the units
    whose codes changed. Two statements, expirations first, so a unit never holds two rows
    marked running, even for a moment."""
    expired, started = [], []
    touched_units: set[int] = set()
    for code in codes:
        derived = code_state(code, now)
        if derived == code.status:
            continue
        if code.status == CodeState.SCHEDULED and derived in (CodeState.RUNNING, CodeState.EXPIRED):
            events.append(event_build(action=Action.STARTED, actor=actor, occurred_at=now, code=code, unit_id=code.unit_id))
        if derived == CodeState.EXPIRED:
            expired.append(code)
            events.append(
                event_build(
                    action=Action.EXPIRED,
                    actor=actor,
                    occurred_at=now,
                    code=code,
                    unit_id=code.unit_id,
                    details={"use_by_passed": True} if code.activated_at is None else {},
                )
            )
        elif derived == CodeState.RUNNING:
            started.append(code)
        code.status = derived
        if code.unit_id is not None:
            touched_units.add(code.unit_id)
    if expired:
        Code.objects.filter(pk__in=[c.pk for c in expired]).update(status=CodeState.EXPIRED)
    if started:
        Code.objects.filter(pk__in=[c.pk for c in started]).update(status=CodeState.RUNNING)
    return touched_units


def _record_unit_states(
    units: dict[int, Unit], unit_ids: Iterable[int], *, now, actor, events: list, chains: dict | None = None
) -> None:
    """Write each locked unit's active flag as its codes decide now, with an audit entry for
    every unit whose state changes.

    `chains`: the units' live chains as `_lock_for_units` returned them and the caller changed
    them (every code on the unit that is scheduled or running by the clock, locked). A unit is
    active exactly when a code of its chain runs now; without chains the database is asked."""
    ids = {i for i in unit_ids if i in units}
    if not ids:
        return
    if chains is not None:
        active_ids = {
            i for i in ids if any(c.activated_at <= now < c.expires_at for c in chains.get(i, ()))
        }
    else:
        active_ids = set(
            Code.objects.filter(unit_id__in=ids, activated_at__lte=now, expires_at__gt=now).values_list(
                "unit_id", flat=True
            )
        )
    activate = [units[i] for i in ids if i in active_ids and not units[i].is_active]
    deactivate = [units[i] for i in ids if i not in active_ids and units[i].is_active]
    fixed_sql.update(Unit, [u.pk for u in activate], is_active=True)
    fixed_sql.update(Unit, [u.pk for u in deactivate], is_active=False)
    for unit in activate:
        unit.is_active = True
        events.append(event_build(action=Action.UNIT_ACTIVATED, actor=actor, occurred_at=now, unit=unit))
    for unit in deactivate:
        unit.is_active = False
        events.append(event_build(action=Action.UNIT_DEACTIVATED, actor=actor, occurred_at=now, unit=unit))


def _lock_for_units(
    code_ids: Iterable[int], unit_ids: Iterable[int], *, now, actor, events: list, locked_units: dict | None = None
):
    """Lock the units, then (one statement, primary-key order) the given codes together with
    every code recorded as sitting on those units; record what the clock has decided for the
    latter. Returns (units by id, codes by id, live chain per unit id sorted by start, now).
    `locked_units`: the units (by id, with their owner) when the caller has already locked them,
    in this transaction and before any code.

    `now` None: the clock is read once the locks are held, never before. A transaction that
    waited for the locks must not judge the rows it finally gets by an earlier moment than the
    one that changed them (it would e.g. see a code started by the winner as not started yet,
    and deactivate its unit)."""
    units = locked_units if locked_units is not None else lock_units(unit_ids)
    codes = lock_codes_and_chains(code_ids, units)
    now = now or timezone.now()
    on_units = [c for c in codes.values() if c.unit_id in units and c.status in ON_UNIT_STATES]
    _record_clock(on_units, now=now, actor=actor, events=events)
    chains: dict[int, list[Code]] = {unit_id: [] for unit_id in units}
    for code in on_units:
        if code_state(code, now) in ON_UNIT_STATES:
            chains[code.unit_id].append(code)
    for chain in chains.values():
        chain.sort(key=lambda c: c.activated_at)
    return units, codes, chains, now


def _rebase_chain(chain: list[Code], *, now, actor, events: list, unit: Unit) -> list[Code]:
    """Lay a unit's remaining codes end to end with no gap: behind the running code if there is
    one, otherwise starting now. Returns the codes whose position changed."""
    moved = []
    running = chain[0] if chain and chain[0].activated_at <= now else None
    cursor = running.expires_at if running else now
    for code in chain:
        if code is running:
            continue
        if code.activated_at != cursor:
            planned = code.activated_at
            code.activated_at = cursor
            code.expires_at = cursor + timedelta(days=code.period_days)
            moved.append(code)
            if cursor <= now:
                code.status = CodeState.RUNNING
                events.append(event_build(action=Action.STARTED, actor=actor, occurred_at=now, code=code, unit=unit))
            else:  # still waiting, at a new place in the queue: that is a change too (invariant 5)
                events.append(
                    event_build(
                        action=Action.SCHEDULED, actor=actor, occurred_at=now, code=code, unit=unit,
                        details={"scheduled": True, "moved_from": planned.isoformat()},
                    )
                )
        cursor = code.expires_at
    return moved


def _save_positions(codes: list[Code]) -> None:
    # One row at a time, in chain order: each move is earlier than the row after it, so the
    # partial unique indexes on (unit, activated_at) and running codes never see a clash.
    # Fixed SQL (`cms.fixed_sql`): every attach and redemption writes its code here.
    for code in codes:
        fixed_sql.update(
            Code, [code.pk], unit_id=code.unit_id, activated_at=code.activated_at, expires_at=code.expires_at,
            status=code.status,
        )


# --- attaching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pairing:
    code_id: int
    unit_id: int


def _attach_pairs(
    pairs: list[_Pairing],
    *,
    actor,
    visible_from: Account | None,
    now: datetime | None,
    action: str,
    client_address: str | None = None,
    locked_units: dict | None = None,
) -> list[Code]:
    """Attach each code to its unit, in order; all-or-nothing. `visible_from` limits which codes
    and units the actor may name (None: the public redemption page, which has its own checks).
    `locked_units`: see `_lock_for_units`."""
    events: list = []
    units, codes, chains, now = _lock_for_units(
        [p.code_id for p in pairs], [p.unit_id for p in pairs], now=now, actor=SYSTEM, events=events,
        locked_units=locked_units,
    )
    refusals: list[Refusal] = []
    attached: list[Code] = []
    seen: set[int] = set()
    for pair in pairs:
        code, unit = codes.get(pair.code_id), units.get(pair.unit_id)
        label = _label(code, pair.code_id)
        if code is None or (visible_from is not None and not visible_from.contains(code.holder)):
            refusals.append(Refusal(label, _("No such code in your part of the network."), "not_found"))
            continue
        if unit is None or (visible_from is not None and not visible_from.contains(unit.owner)):
            refusals.append(Refusal(label, _("No such unit in your part of the network."), "not_found"))
            continue
        if code.pk in seen:
            refusals.append(Refusal(label, _("This code is listed more than once."), "duplicate"))
            continue
        seen.add(code.pk)
        state = code_state(code, now)
        if state == CodeState.REVOKED:
            refusals.append(Refusal(label, _("This code has been revoked."), "code_revoked"))
            continue
        if state == CodeState.EXPIRED:
            if code_use_by_passed(code, now):
                refusals.append(
                    Refusal(
                        label,
                        _("This code had to be used by %(date)s.") % {"date": date_format(code.use_by)},
                        "code_use_by_passed",
                    )
                )
            else:
                refusals.append(Refusal(label, _("This code has expired."), "code_expired"))
            continue
        if state in ON_UNIT_STATES:
            refusals.append(Refusal(label, _("This code is already in use on a unit."), "code_already_used"))
            continue
        if not code.holder.contains(unit.owner):
            refusals.append(
                Refusal(
                    label,
                    _("Unit %(unit)s is outside the part of the network that holds this code (%(holder)s).")
                    % {"unit": unit.hardware_id, "holder": code.holder.name},
                    "outside_branch",
                )
            )
            continue
        chain = chains[unit.pk]
        running = chain[0] if chain and chain[0].activated_at <= now else None
        if state == CodeState.RELEASED:
            # A started code keeps its own clock: it can only fill a unit that has no cover.
            if running is not None:
                refusals.append(
                    Refusal(
                        label,
                        _(
                            "This code has already started and keeps running on its own clock; it can only go "
                            "onto a unit without cover, and unit %(unit)s is covered until %(until)s."
                        )
                        % {"unit": unit.hardware_id, "until": _when(chain[-1].expires_at)},
                        "unit_covered",
                    )
                )
                continue
            code.unit = unit
            code.status = CodeState.RUNNING
        else:  # available: start now, or queue behind the unit's cover with no gap
            start = chain[-1].expires_at if chain else now
            code.unit = unit
            code.activated_at = start
            code.expires_at = start + timedelta(days=code.period_days)
            code.status = CodeState.RUNNING if start <= now else CodeState.SCHEDULED
        chain.append(code)
        attached.append(code)
        if action == Action.REDEEMED:
            event_action = Action.REDEEMED
        else:
            event_action = Action.SCHEDULED if code.status == CodeState.SCHEDULED else Action.ATTACHED
        events.append(
            event_build(
                action=event_action,
                actor=actor,
                occurred_at=now,
                code=code,
                unit=unit,
                client_address=client_address,
                details={"scheduled": True} if code.status == CodeState.SCHEDULED else {},
            )
        )
    if refusals:
        raise DomainError.for_refusals(refusals, len(pairs))
    # The codes' and units' UPDATEs travel with the audit entries' INSERT: one round trip.
    with fixed_sql.writes_together():
        _save_positions(sorted(attached, key=lambda c: (c.unit_id, c.activated_at)))
        # The chains hold every live code of these units (locked, brought up to date, the new
        # ones appended): they decide the units' state without asking the database again.
        _record_unit_states(units, {c.unit_id for c in attached}, now=now, actor=actor, events=events, chains=chains)
        events_write(events)
    return attached


def codes_attach(*, pairs: Iterable[tuple], actor, now: datetime | None = None, client_address=None) -> list[Code]:
    """Attach many codes, each to its unit (pairs of code and unit, objects or ids), in order:
    several codes for one unit queue up behind each other. All-or-nothing. Without `now`, the
    clock is read once the rows are locked."""
    account = _require_writer(actor)
    pairings = [_Pairing(_pk(code), _pk(unit)) for code, unit in pairs]
    if not pairings:
        return []
    with transaction.atomic():
        return _attach_pairs(
            pairings, actor=actor, visible_from=account, now=now, action=Action.ATTACHED, client_address=client_address
        )


def code_attach(*, code: Code | int, unit: Unit | int, actor, now: datetime | None = None, client_address=None) -> Code:
    """Attach one code to one unit: it starts now if the unit has no running code, otherwise it
    is scheduled to start exactly when the unit's cover ends."""
    return codes_attach(pairs=[(code, unit)], actor=actor, now=now, client_address=client_address)[0]


# --- releasing --------------------------------------------------------------------------------


def codes_release(*, codes: Iterable[Code | int], actor, now: datetime | None = None) -> list[Code]:
    """Detach codes from their units. A running code becomes released and keeps its clock
    (nothing is refunded); a scheduled code becomes available again. The unit's remaining codes
    move forward so its cover has no hole. All-or-nothing. Without `now`, the clock is read
    once the rows are locked."""
    account = _require_writer(actor)
    ids = [_pk(c) for c in codes]
    if not ids:
        return []
    with transaction.atomic():
        events: list = []
        seen_units = dict(Code.objects.filter(pk__in=ids).values_list("pk", "unit_id"))
        units, locked, chains, now = _lock_for_units(ids, seen_units.values(), now=now, actor=SYSTEM, events=events)
        refusals, released = [], []
        for pk in ids:
            code = locked.get(pk)
            if code is None or not account.contains(code.holder):
                refusals.append(Refusal(_label(code, pk), _("No such code in your part of the network."), "not_found"))
                continue
            if code.unit_id != seen_units.get(pk):
                refusals.append(Refusal(code.display_text, _("This code changed meanwhile; try again."), "conflict"))
                continue
            if code in released:
                continue
            if code_state(code, now) not in ON_UNIT_STATES:
                refusals.append(Refusal(code.display_text, _("This code is not on a unit."), "invalid_state"))
                continue
            released.append(code)
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))

        moved: list[Code] = []
        for code in released:
            unit = units[code.unit_id]
            chains[unit.pk].remove(code)
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
                    action=Action.RELEASED,
                    actor=actor,
                    occurred_at=now,
                    code=code,
                    unit=unit,
                    details={} if was_running else {"was_scheduled": True, "planned_start": planned.isoformat()},
                )
            )
        for unit_id in {u for u in seen_units.values() if u in units}:
            moved += _rebase_chain(chains[unit_id], now=now, actor=actor, events=events, unit=units[unit_id])
        _save_positions(released)
        _save_positions(sorted(moved, key=lambda c: (c.unit_id, c.activated_at)))
        _record_unit_states(units, seen_units.values(), now=now, actor=actor, events=events)
        events_write(events)
        return released


def code_release(*, code: Code | int, actor, now: datetime | None = None) -> Code:
    return codes_release(codes=[code], actor=actor, now=now)[0]


# --- sharing, recalling, revoking -------------------------------------------------------------


def _check_unstarted(code: Code, now, verb: str) -> Refusal | None:
    state = code_state(code, now)
    if state == CodeState.AVAILABLE:
        return None
    if state in ON_UNIT_STATES:
        reason = _("Only a code that sits on no unit can be %(verb)s; release it first.") % {"verb": verb}
    else:
        reason = _("Only a code that has never started can be %(verb)s; this one is %(state)s.") % {
            "verb": verb,
            "state": CodeState(state).label.lower(),
        }
    return Refusal(code.display_text, reason, "invalid_state")


def codes_share(
    *, codes: Iterable[Code | int], to_account: Account | int, actor, now: datetime | None = None
) -> int:
    """Move unstarted codes down the tree to an account below their current holder."""
    now = now or timezone.now()
    account = _require_writer(actor)
    target = Account.objects.filter(pk=_pk(to_account)).first()
    if target is None or not account.contains(target):
        raise NotFound(_("No such account in your part of the network."))
    ids = [_pk(c) for c in codes]
    if not ids:
        return 0
    with transaction.atomic():
        locked = lock_codes(ids)
        refusals, events, seen = [], [], set()
        for pk in ids:
            code = locked.get(pk)
            if code is None or not account.contains(code.holder):
                refusals.append(Refusal(_label(code, pk), _("No such code in your part of the network."), "not_found"))
                continue
            if pk in seen:
                continue
            seen.add(pk)
            if (refusal := _check_unstarted(code, now, _("shared"))) is not None:
                refusals.append(refusal)
                continue
            if not code.holder.strictly_contains(target):
                refusals.append(
                    Refusal(
                        code.display_text,
                        _("%(target)s is not below %(holder)s, the code's holder.")
                        % {"target": target.name, "holder": code.holder.name},
                        "outside_branch",
                    )
                )
                continue
            if not target.is_active:
                refusals.append(Refusal(code.display_text, _("%(target)s is disabled.") % {"target": target.name}, "invalid_state"))
                continue
            from_account = code.holder
            code.holder = target
            events.append(
                event_build(
                    action=Action.SHARED, actor=actor, occurred_at=now, code=code,
                    from_account=from_account, to_account=target,
                )
            )
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))
        Code.objects.filter(pk__in=seen).update(holder=target)
        events_write(events)
        return len(seen)


def code_share(*, code: Code | int, to_account: Account | int, actor, now: datetime | None = None) -> int:
    return codes_share(codes=[code], to_account=to_account, actor=actor, now=now)


def codes_recall(*, codes: Iterable[Code | int], actor, now: datetime | None = None) -> int:
    """Move unstarted codes held below the actor's account back up to it."""
    now = now or timezone.now()
    account = _require_writer(actor)
    ids = [_pk(c) for c in codes]
    if not ids:
        return 0
    with transaction.atomic():
        locked = lock_codes(ids)
        refusals, events, seen = [], [], set()
        for pk in ids:
            code = locked.get(pk)
            if code is None or not account.contains(code.holder):
                refusals.append(Refusal(_label(code, pk), _("No such code in your part of the network."), "not_found"))
                continue
            if pk in seen:
                continue
            seen.add(pk)
            if code.holder_id == account.pk:
                refusals.append(Refusal(code.display_text, _("Your account already holds this code."), "invalid_state"))
                continue
            if (refusal := _check_unstarted(code, now, _("recalled"))) is not None:
                refusals.append(refusal)
                continue
            from_account = code.holder
            code.holder = account
            events.append(
                event_build(
                    action=Action.RECALLED, actor=actor, occurred_at=now, code=code,
                    from_account=from_account, to_account=account,
                )
            )
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))
        Code.objects.filter(pk__in=seen).update(holder=account)
        events_write(events)
        return len(seen)


def code_recall(*, code: Code | int, actor, now: datetime | None = None) -> int:
    return codes_recall(codes=[code], actor=actor, now=now)


def codes_revoke(*, codes: Iterable[Code | int], actor, reason: str = "", now: datetime | None = None) -> int:
    """Void codes that never started (provider admins only). Final."""
    now = now or timezone.now()
    account = _require_provider_admin(actor)
    ids = [_pk(c) for c in codes]
    if not ids:
        return 0
    with transaction.atomic():
        locked = lock_codes(ids)
        refusals, events, seen = [], [], set()
        for pk in ids:
            code = locked.get(pk)
            if code is None or not account.contains(code.holder):
                refusals.append(Refusal(_label(code, pk), _("No such code in your part of the network."), "not_found"))
                continue
            if pk in seen:
                continue
            seen.add(pk)
            if (refusal := _check_unstarted(code, now, _("revoked"))) is not None:
                refusals.append(refusal)
                continue
            code.revoked_at = now
            code.status = CodeState.REVOKED
            events.append(
                event_build(
                    action=Action.REVOKED, actor=actor, occurred_at=now, code=code,
                    details={"reason": reason} if reason else {},
                )
            )
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))
        Code.objects.filter(pk__in=seen).update(revoked_at=now, status=CodeState.REVOKED)
        events_write(events)
        return len(seen)


def code_revoke(*, code: Code | int, actor, reason: str = "", now: datetime | None = None) -> int:
    return codes_revoke(codes=[code], actor=actor, reason=reason, now=now)


# --- redeeming (end customers) ----------------------------------------------------------------

#: Refusal codes that must all read "not valid" on the public page, so nobody can probe which.
_NOT_VALID = {"code_revoked", "code_use_by_passed", "not_found"}


def _not_valid() -> DomainError:
    return DomainError(_("This code is not valid."), code="code_not_valid")


def code_redeem(
    *,
    code_text: str,
    hardware_id: str,
    actor=ANONYMOUS,
    client_address: str | None = None,
    now: datetime | None = None,
) -> Code:
    """An end customer applies a code to their own unit (the public page, or a signed-in
    customer). Refusals are recorded as `redeem_refused` (outside the refused transaction)."""
    found: dict = {}
    try:
        with transaction.atomic():
            # The clock is read once the rows are locked (see `_lock_for_units`).
            return _redeem(code_text, hardware_id, actor=actor, client_address=client_address, now=now, found=found)
    except DomainError as refusal:
        with transaction.atomic():
            code = found.get("code")
            if code is None and "code_id" in found:  # known by its id only: read it for the entry
                code = Code.objects.filter(pk=found["code_id"]).first()
            events_write(
                [
                    event_build(
                        action=Action.REDEEM_REFUSED,
                        actor=actor,
                        occurred_at=now or timezone.now(),
                        code=code,
                        unit=found.get("unit"),
                        client_address=client_address,
                        details={"reason": refusal.code},
                    )
                ]
            )
        raise


def _redeem(typed_code, typed_hardware_id, *, actor, client_address, now, found) -> Code:
    canonical = code_text.normalize(typed_code)
    if not code_text.is_well_formed(canonical):
        raise DomainError(_("This code looks mistyped: check it and try again."), code="code_mistyped")
    own_account = None
    if is_person(actor):
        own_account = _require_writer(actor)
    hardware_id = normalize_hardware_id(typed_hardware_id)
    # One statement finds the code's provider's unit by its hardware id and locks it (units
    # before codes, see `codes.locking`); `_attach_pairs` then locks the code by the id that came
    # along. The owner is checked on the locked row, which stays as read until the end.
    unit = lock_unit_for_code(canonical, hardware_id)
    if unit is None:
        _refuse_without_unit(canonical, hardware_id, own_account=own_account, found=found)
    if own_account is not None and own_account.provider_path != unit.owner.provider_path:
        raise _not_valid()  # a code of another provider than the caller's (the unit is of the code's)
    found["code_id"] = unit.code_id
    if own_account is not None and not own_account.contains(unit.owner):
        raise DomainError(_("No unit with this hardware id can take this code."), code="unit_not_eligible")
    found["unit"] = unit
    try:
        return _attach_pairs(
            [_Pairing(unit.code_id, unit.pk)],
            actor=actor,
            visible_from=None,
            now=now,
            action=Action.REDEEMED,
            client_address=client_address,
            locked_units={unit.pk: unit},
        )[0]
    except DomainError as error:
        reason = error.refusals[0].code if error.refusals else error.code
        if reason in _NOT_VALID:
            raise _not_valid() from error
        if reason == "code_already_used":
            raise DomainError(_("This code has already been used."), code="code_already_used") from error
        if reason == "code_expired":
            raise DomainError(_("This code has expired."), code="code_expired") from error
        if reason == "outside_branch":
            raise DomainError(_("No unit with this hardware id can take this code."), code="unit_not_eligible") from error
        raise


def _refuse_without_unit(canonical: str, hardware_id: str, *, own_account, found: dict) -> NoReturn:
    """Why a redemption found no unit to lock: no such code (or another provider's, for the
    caller) is "not valid"; so is a unit that exists only at another provider than the code's
    (issue 5); otherwise no unit can take the code. Always raises."""
    code = next(iter(Code.objects.filter(text=canonical).select_related("provider").order_by()[:1]), None)
    if code is None or (own_account is not None and code.provider.path != own_account.provider_path):
        raise _not_valid()
    found["code"] = code
    if Unit.objects.filter(hardware_id=hardware_id).exists():
        raise _not_valid()
    raise DomainError(_("No unit with this hardware id can take this code."), code="unit_not_eligible")


# --- batches ----------------------------------------------------------------------------------


def _validated_batch_terms(*, quantity, period_days, unit_price, currency, use_by, time_zone, now) -> tuple:
    problems = []
    try:
        quantity = int(quantity)
        if not 1 <= quantity <= settings.KEYLINE_MAX_BATCH:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(
            Refusal("quantity", _("Quantity must be between 1 and %(max)d.") % {"max": settings.KEYLINE_MAX_BATCH}, "validation_error")
        )
    try:
        period_days = int(period_days)
        if not 1 <= period_days <= 3660:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(Refusal("period_days", _("The period must be between 1 and 3660 days."), "validation_error"))
    try:
        unit_price = Decimal(str(unit_price)).quantize(Decimal("0.01"))
        if unit_price < 0 or unit_price >= Decimal("1e10"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.append(Refusal("unit_price", _("The unit price must be a positive amount."), "validation_error"))
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.append(Refusal("currency", _("The currency must be a three-letter code such as EUR."), "validation_error"))
    if use_by is not None and use_by < local_today(time_zone, now):
        problems.append(Refusal("use_by", _("The use-by date cannot be in the past."), "validation_error"))
    if problems:
        raise DomainError(_("The batch was not created: please correct the errors."), code="validation_error", refusals=problems)
    return quantity, period_days, unit_price, currency


def batch_generate(
    *,
    actor,
    quantity: int,
    period_days: int,
    unit_price,
    currency: str,
    use_by=None,
    note: str = "",
    background: bool | None = None,
    now: datetime | None = None,
) -> Batch:
    """Create a batch of new codes held by the provider (provider admins only).

    Small batches are generated in this transaction. Large ones (over KEYLINE_SYNC_BATCH_LIMIT,
    or `background=True`) are created empty and filled by a Celery task sent after commit;
    `Batch.generated_count` shows its progress.
    """
    now = now or timezone.now()
    account = _require_provider_admin(actor)
    quantity, period_days, unit_price, currency = _validated_batch_terms(
        quantity=quantity, period_days=period_days, unit_price=unit_price, currency=currency, use_by=use_by,
        time_zone=account.time_zone, now=now,
    )
    if background is None:
        background = quantity > settings.KEYLINE_SYNC_BATCH_LIMIT
    with transaction.atomic():
        batch = Batch.objects.create(
            provider=account,
            created_by=actor,
            quantity=quantity,
            period_days=period_days,
            unit_price=unit_price,
            currency=currency,
            use_by=use_by,
            note=(note or "")[:500],
            status=Batch.Status.GENERATING,
        )
        if background:
            from .tasks import batch_fill_task

            transaction.on_commit(lambda: batch_fill_task.delay(batch.pk))
        else:
            batch_fill(batch_id=batch.pk, now=now)
            batch.refresh_from_db()
    return batch


def batch_fill(*, batch_id: int, chunk_size: int = 5000, now: datetime | None = None) -> Batch:
    """Generate a batch's missing codes in chunks, one transaction each, so progress is visible
    and a crash resumes where it stopped. Safe to run twice at once: the batch row is locked."""
    while True:
        with transaction.atomic():
            # created_by is nullable (an outer join), which PostgreSQL cannot lock. The provider is
            # locked because its time zone sets the codes' use-by deadline (`account_update` moves
            # the deadlines of existing codes under the same lock).
            batch = (
                Batch.objects.select_for_update(of=("self", "provider"), no_key=True)
                .select_related("created_by__account", "provider")
                .get(pk=batch_id)
            )
            missing = batch.quantity - batch.generated_count
            if missing <= 0:
                if batch.status != Batch.Status.READY:
                    batch.status = Batch.Status.READY
                    batch.save(update_fields=["status"])
                return batch
            moment = now or timezone.now()
            ids = _insert_codes(batch, min(missing, chunk_size))
            actor = batch.created_by or SYSTEM
            # One INSERT ... SELECT per chunk: no Event object is built per code.
            events_insert_for_rows(action=Action.GENERATED, model=Code, ids=ids, actor=actor, occurred_at=moment)
            batch.generated_count += len(ids)
            if batch.generated_count >= batch.quantity:
                batch.status = Batch.Status.READY
            batch.save(update_fields=["generated_count", "status"])


def _insert_codes(batch: Batch, count: int) -> list[int]:
    """Insert `count` new codes of the batch; returns their ids. On PostgreSQL with COPY (ids
    drawn from the table's sequence first), elsewhere with bulk_create."""
    generate = code_text.generate
    usable_until = use_by_ends_at(batch.use_by, batch.provider.time_zone)
    for _attempt in range(5):
        texts = [generate() for _ in range(count)]
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    return _copy_codes(batch, texts, usable_until)
                codes = [
                    Code(
                        text=text,
                        provider_id=batch.provider_id,
                        batch_id=batch.pk,
                        period_days=batch.period_days,
                        use_by=batch.use_by,
                        usable_until=usable_until,
                        holder_id=batch.provider_id,
                        status=CodeState.AVAILABLE,
                    )
                    for text in texts
                ]
                return [code.pk for code in Code.objects.bulk_create(codes, batch_size=5000)]
        except IntegrityError:  # 100 random bits: a clash is astronomically unlikely, but cheap to survive
            logger.warning("code text collision while filling batch %s; retrying the chunk", batch.pk)
    raise RuntimeError("could not generate unique codes")


def _copy_codes(batch: Batch, texts: list[str], usable_until: datetime | None) -> list[int]:
    """COPY the rows in (no model instance, no per-row parameters): the ids come from the
    identity sequence beforehand, as an INSERT would have drawn them."""
    table = Code._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(texts)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        fixed = (
            batch.provider_id, batch.pk, batch.period_days, batch.use_by, usable_until, batch.provider_id,
            CodeState.AVAILABLE.value,
        )
        columns = "id, text, provider_id, batch_id, period_days, use_by, usable_until, holder_id, status"
        # The psycopg 3 cursor under Django's wrapper; its errors (a text clash) as Django's.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, text in zip(ids, texts, strict=True):
                copy.write_row((pk, text, *fixed))
    return ids


# --- the clock: background jobs ---------------------------------------------------------------


@dataclass
class ExpiryRun:
    expired: int = 0
    started: int = 0
    units_changed: int = 0
    workers: int = 1

    def __add__(self, other: "ExpiryRun") -> "ExpiryRun":
        return ExpiryRun(
            expired=self.expired + other.expired,
            started=self.started + other.started,
            units_changed=self.units_changed + other.units_changed,
            workers=self.workers + other.workers,
        )


def _due_q(now: datetime) -> Q:
    return (
        Q(status__in=[CodeState.RUNNING, CodeState.RELEASED], expires_at__lte=now)
        | Q(status=CodeState.SCHEDULED, activated_at__lte=now)
        | Q(status=CodeState.AVAILABLE, usable_until__lte=now)
    )


def _partition_q(partition: tuple[int, int]) -> Q:
    """The codes of partition k of n: a code on a unit goes with its unit (so a unit's whole chain
    is always in one partition), a code on no unit by its own id. The partial indexes of `_due_q`
    still find the due rows; this is a filter on the rows they return."""
    k, n = partition
    if not (n >= 1 and 0 <= k < n):
        raise ValueError(f"partition {partition!r}: want (k, n) with 0 <= k < n")
    if n == 1:
        return Q()
    key = Mod(Coalesce("unit_id", "id", output_field=BigIntegerField()), n, output_field=BigIntegerField())
    return Q(Exact(key, k))


class _JobRow(NamedTuple):
    """What the jobs read of a code: enough for `code_state`, no model instance per row."""

    pk: int
    unit_id: int | None
    status: str
    activated_at: datetime | None
    expires_at: datetime | None
    usable_until: datetime | None
    revoked_at: datetime | None


def _pk_in(ids, field: str = "pk") -> Q:
    """`field IN ids` for the jobs' long id lists. On PostgreSQL the list travels as one array
    parameter: thousands of placeholders cost more to bind than the statement costs to run."""
    ids = list(ids)
    if connection.vendor == "postgresql" and len(ids) > 50:
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (fixed_sql.bigint_array(ids),))})
    return Q(**{f"{field}__in": ids})


def _any_of(model, ids, field: str = "pk") -> Q:
    """`field IN ids` as `field = ANY(array)` on PostgreSQL: for the side of an OR. The planner
    answers each side of `A = ANY(..) OR B = ANY(..)` from its index (a BitmapOr); with `_pk_in`'s
    subqueries it walked the whole primary key instead (0.7 s per chunk of 5,000 on 1M codes)."""
    ids = list(ids)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": ids})
    column = model._meta.pk.column if field == "pk" else model._meta.get_field(field).column
    quote = connection.ops.quote_name
    sql = f"{quote(model._meta.db_table)}.{quote(column)} = ANY(%s::bigint[])"
    return Q(RawSQL(sql, (fixed_sql.bigint_array(ids),), output_field=BooleanField()))


def _ids_update(model, ids: list[int], **values) -> None:
    for start in range(0, len(ids), 5000):
        model.objects.filter(_pk_in(ids[start : start + 5000])).update(**values)


def codes_expire_due(
    *, now: datetime | None = None, chunk_size: int | None = None, actor=SYSTEM, partition: tuple[int, int] = (0, 1)
) -> ExpiryRun:
    """Record what the clock has decided: expirations (and lapsed use-by dates), starts of
    scheduled codes, and the units these leave active or deactivated. Works in bounded chunks,
    one transaction each; idempotent; two runs at once record each change exactly once (the
    second waits on the row locks, then finds nothing left to record).

    A code on a unit is never handled alone: its unit is locked and the unit's whole chain is
    brought up to date in one go (expirations before starts), so a chunk boundary can never
    start a scheduled code while the code before it is still recorded as running.

    Set-based: rows are read as tuples, changed with one UPDATE per kind of change and audited
    with one INSERT ... SELECT per kind of entry (`audit.services.events_insert_for_rows`).

    Without `now`, each chunk reads the clock again once its rows are locked: a run that waited
    for a service's locks must not judge that service's changes by an earlier moment (it would
    take a code the service just started for one not started yet, and deactivate its unit).

    `partition=(k, n)` takes only the due codes of partition k of n (`_partition_q`): a code on a
    unit goes with its unit, so the n partitions are disjoint sets of units and chains, and n runs
    side by side (`codes_expire_due_parallel`) never wait for each other's locks."""
    fixed_now = now
    in_partition = _partition_q(partition)
    chunk_size = chunk_size or settings.KEYLINE_EXPIRY_CHUNK
    run = ExpiryRun()
    while True:
        with transaction.atomic():
            now = fixed_now or timezone.now()
            # No ORDER BY (not even Code's default "-pk", which made PostgreSQL walk the primary key
            # backwards through the whole table): the partial indexes answer the three branches and
            # the scan stops at the limit; the rows are locked in primary-key order below.
            due = list(
                Code.objects.filter(_due_q(now), in_partition).order_by().values_list("pk", "unit_id")[:chunk_size]
            )
            if not due:
                return run
            unit_ids = sorted({unit_id for _pk_, unit_id in due if unit_id is not None})
            locked_units = list(
                Unit.objects.filter(_pk_in(unit_ids))
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list("pk", "is_active", "hardware_id")
            )
            units = {pk: is_active for pk, is_active, _hardware_id in locked_units}
            # The set-based twin of `lock_units`: these units' cover records are given up, in bulk.
            units_changed(hardware_id for _pk_, _active, hardware_id in locked_units)
            off_unit = [pk for pk, unit_id in due if unit_id is None]
            rows = [
                _JobRow(*values)
                for values in Code.objects.filter(
                    (_any_of(Code, off_unit) & Q(unit__isnull=True))
                    | (_any_of(Code, units, "unit") & Q(status__in=ON_UNIT_STATES))
                )
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list(*_JobRow._fields)
            ]
            now = fixed_now or timezone.now()  # the rows are ours now: read the clock again
            started, expired, lapsed, to_running = [], [], [], []
            touched: set[int] = set()
            for row in rows:
                derived = code_state(row, now)
                if derived == row.status:
                    continue
                if row.status == CodeState.SCHEDULED and derived in (CodeState.RUNNING, CodeState.EXPIRED):
                    started.append(row.pk)
                if derived == CodeState.EXPIRED:
                    (lapsed if row.activated_at is None else expired).append(row.pk)
                elif derived == CodeState.RUNNING:
                    to_running.append(row.pk)
                if row.unit_id is not None:
                    touched.add(row.unit_id)
            # Expirations first: a unit never holds two rows recorded as running.
            _ids_update(Code, expired + lapsed, status=CodeState.EXPIRED)
            _ids_update(Code, to_running, status=CodeState.RUNNING)
            events_insert_for_rows(action=Action.STARTED, model=Code, ids=started, actor=actor, occurred_at=now)
            events_insert_for_rows(action=Action.EXPIRED, model=Code, ids=expired, actor=actor, occurred_at=now)
            events_insert_for_rows(
                action=Action.EXPIRED, model=Code, ids=lapsed, actor=actor, occurred_at=now,
                details={"use_by_passed": True},
            )
            run.expired += len(expired) + len(lapsed)
            run.started += len(started)
            changed = _record_unit_flags(units, touched, now=now, actor=actor)
            run.units_changed += changed
        # Fewer rows than asked: that was the last chunk. Nothing to record: another run is
        # working through the same rows (or they changed meanwhile); it finishes them.
        if len(due) < chunk_size or not (started or expired or lapsed or changed):
            return run


def _expiry_workers(workers: int | None) -> int:
    """How many partitions the expiry job runs side by side. One on SQLite (a single writer), and
    one inside a caller's transaction: another connection could not see its uncommitted rows, and
    the job's chunks are meant to commit one by one."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, workers if workers is not None else settings.KEYLINE_EXPIRY_WORKERS)


def codes_expire_due_parallel(
    *, now: datetime | None = None, chunk_size: int | None = None, actor=SYSTEM, workers: int | None = None
) -> ExpiryRun:
    """`codes_expire_due` as the clock's jobs run it: on PostgreSQL, partitions 0..n-1 at once
    (n = `workers`, by default `settings.KEYLINE_EXPIRY_WORKERS`), each on its own thread and
    database connection, so the database's work (the status UPDATE and its indexes, the audit
    rows and their foreign-key checks at commit) is spread over n backends. Otherwise one serial
    run (`_expiry_workers`). Returns the sum of the partitions' runs; `workers` says how many ran.

    Every partition runs to its end; then an exception raised in any of them is raised here. The
    chunks that committed stay committed: the job is idempotent, and the next run finishes the rest."""
    n = _expiry_workers(workers)
    if n == 1:
        return codes_expire_due(now=now, chunk_size=chunk_size, actor=actor)

    def run_partition(k: int) -> ExpiryRun:
        try:
            return codes_expire_due(now=now, chunk_size=chunk_size, actor=actor, partition=(k, n))
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="codes-expire-due") as pool:
        futures = [pool.submit(run_partition, k) for k in range(n)]
    errors = [future.exception() for future in futures if future.exception() is not None]
    for error in errors[1:]:
        logger.error("codes_expire_due: another partition failed too", exc_info=error)
    if errors:
        raise errors[0]
    total = ExpiryRun(workers=0)
    for future in futures:
        total += future.result()
    return total


def _record_unit_flags(units: dict[int, bool], unit_ids: set[int], *, now, actor) -> int:
    """The set-based twin of `_record_unit_states` for locked units given as {id: is_active}."""
    ids = [i for i in unit_ids if i in units]
    if not ids:
        return 0
    active = set(
        Code.objects.filter(_pk_in(ids, "unit_id"), activated_at__lte=now, expires_at__gt=now).values_list(
            "unit_id", flat=True
        )
    )
    activate = [i for i in ids if i in active and not units[i]]
    deactivate = [i for i in ids if i not in active and units[i]]
    _ids_update(Unit, activate, is_active=True)
    _ids_update(Unit, deactivate, is_active=False)
    events_insert_for_rows(action=Action.UNIT_ACTIVATED, model=Unit, ids=activate, actor=actor, occurred_at=now)
    events_insert_for_rows(action=Action.UNIT_DEACTIVATED, model=Unit, ids=deactivate, actor=actor, occurred_at=now)
    for i in activate:
        units[i] = True
    for i in deactivate:
        units[i] = False
    return len(activate) + len(deactivate)


def codes_archive_expired(*, now: datetime | None = None, chunk_size: int | None = None, actor=SYSTEM) -> int:
    """Daily clean-up: detach expired codes from their units and mark them archived. They stay
    in the database for reports (invariant 7); the working views hide them.

    Only code rows are locked: an expired code is no part of its unit's cover, so detaching it
    changes no unit's state and needs no unit lock."""
    now = now or timezone.now()
    chunk_size = chunk_size or settings.KEYLINE_EXPIRY_CHUNK
    codes_expire_due_parallel(now=now, chunk_size=chunk_size, actor=actor)
    archived = 0
    while True:
        with transaction.atomic():
            due = list(
                Code.objects.filter(status=CodeState.EXPIRED, archived_at__isnull=True)
                .order_by()  # the partial index code_to_archive, not a walk of the primary key
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not due:
                return archived
            locked = list(
                Code.objects.filter(_pk_in(due), status=CodeState.EXPIRED, archived_at__isnull=True)
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list("pk", flat=True)
            )
            # The entries first: they copy the unit each code is taken off.
            events_insert_for_rows(action=Action.ARCHIVED, model=Code, ids=locked, actor=actor, occurred_at=now)
            _ids_update(Code, locked, unit=None, archived_at=now)
            archived += len(locked)
        if len(due) < chunk_size or not locked:
            return archived
