"""The clock's background jobs (Celery beat, `codes.tasks`): record the expirations, lapsed use-by
dates and starts the clock has decided, with the units these leave active or deactivated; and
daily, take expired codes off their units and mark them archived. Bounded chunks, one
transaction each; idempotent; two runs at once record each change once (the second waits on the
row locks, then finds nothing left)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import BigIntegerField, Q
from django.db.models.functions import Coalesce, Mod
from django.utils import timezone

from audit.models import Action
from audit.services import events_insert_for_rows
from cms.actors import SYSTEM
from units.models import Unit
from units.status_cache import status_forget

from ..models import ON_UNIT_STATES, Code, CodeState
from .clock import CODE_ENTRY, record_clock, record_unit_states, update_by_ids


@dataclass
class ExpiryRun:
    expired: int = 0
    started: int = 0
    units_changed: int = 0


def _due_q(now: datetime) -> Q:
    """Codes whose recorded status the clock has overtaken; each branch has its partial index."""
    return (
        Q(status__in=[CodeState.RUNNING, CodeState.RELEASED], expires_at__lte=now)
        | Q(status=CodeState.SCHEDULED, activated_at__lte=now)
        | Q(status=CodeState.AVAILABLE, usable_until__lte=now)
    )


def _due_rows(now: datetime, partition: tuple[int, int], chunk_size: int):
    due = Code.objects.filter(_due_q(now))
    if partition[1] > 1:
        k, n = partition
        due = due.alias(
            partition_key=Mod(Coalesce("unit_id", "id", output_field=BigIntegerField()), n, output_field=BigIntegerField())
        ).filter(partition_key=k)
    # No ORDER BY: the partial indexes answer the branches and the scan stops at the limit.
    return list(due.order_by().values_list("pk", "unit_id")[:chunk_size])


#: What the job reads of a code: enough for `code_state`, no model instance per row.
_ROW_FIELDS = ("pk", "unit_id", "status", "activated_at", "expires_at", "usable_until", "revoked_at")


def codes_expire_due(
    *, now: datetime | None = None, chunk_size: int | None = None, actor=SYSTEM, partition: tuple[int, int] = (0, 1)
) -> ExpiryRun:
    """Record what the clock has decided, chunk by chunk. A code on a unit is never handled alone:
    its unit is locked and its whole chain brought up to date at once, so a chunk boundary never
    starts a scheduled code while the one before it is still recorded as running. Without `now`,
    each chunk reads the clock once its rows are locked."""
    k, n = partition
    if not (n >= 1 and 0 <= k < n):
        raise ValueError(f"partition {partition!r}: want (k, n) with 0 <= k < n")
    chunk_size = chunk_size or settings.KEYLINE_EXPIRY_CHUNK
    run = ExpiryRun()
    while True:
        with transaction.atomic():
            due = _due_rows(now or timezone.now(), partition, chunk_size)
            if not due:
                return run
            unit_ids = {unit_id for _pk, unit_id in due if unit_id is not None}
            locked_units = list(
                Unit.objects.filter(pk__in=unit_ids)
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list("pk", "is_active", "owner__path", "hardware_id")
            )
            units = {pk: is_active for pk, is_active, _path, _hardware_id in locked_units}
            status_forget((path, hardware_id) for _pk, _active, path, hardware_id in locked_units)
            rows = list(
                Code.objects.filter(
                    Q(pk__in=[pk for pk, unit_id in due if unit_id is None], unit__isnull=True)
                    | Q(unit_id__in=units, status__in=ON_UNIT_STATES)
                )
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list(*_ROW_FIELDS, named=True)
            )
            moment = now or timezone.now()  # the rows are ours now: read the clock again
            changes = record_clock(rows, now=moment, actor=actor)
            chains = {unit_id: [] for unit_id in changes.units}
            for row in rows:
                if row.unit_id in chains:
                    chains[row.unit_id].append(row)
            changed_units = record_unit_states(units, chains, now=moment, actor=actor, by_clock=True)
            run.expired += len(changes.expired) + len(changes.lapsed)
            run.started += len(changes.started)
            run.units_changed += changed_units
        # Fewer rows than asked: that was the last chunk. Nothing recorded: another run is working
        # through the same rows (or they changed meanwhile) and finishes them.
        if len(due) < chunk_size or not (changes.started or changes.expired or changes.lapsed or changed_units):
            return run


def codes_archive_expired(*, now: datetime | None = None, chunk_size: int | None = None, actor=SYSTEM) -> int:
    """Daily clean-up: take expired codes off their units and mark them archived. They stay in
    the database for reports (invariant 7); the working views hide them. An expired code is no
    part of its unit's cover, so only code rows are locked."""
    now = now or timezone.now()
    chunk_size = chunk_size or settings.KEYLINE_EXPIRY_CHUNK
    codes_expire_due(now=now, chunk_size=chunk_size, actor=actor)
    archived = 0
    while True:
        with transaction.atomic():
            due = list(
                Code.objects.filter(status=CodeState.EXPIRED, archived_at__isnull=True)
                .order_by()
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not due:
                return archived
            locked = list(
                Code.objects.filter(pk__in=due, status=CodeState.EXPIRED, archived_at__isnull=True)
                .order_by("pk")
                .select_for_update(of=("self",), no_key=True)
                .values_list("pk", flat=True)
            )
            # The entries first: they copy the unit each code is taken off.
            events_insert_for_rows(
                action=Action.ARCHIVED, model=Code, copied=CODE_ENTRY, ids=locked, actor=actor, occurred_at=now
            )
            update_by_ids(Code, locked, unit=None, archived_at=now)
            archived += len(locked)
        if len(due) < chunk_size or not locked:
            return archived
