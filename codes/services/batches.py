"""Creating codes: a batch of N codes of one period, held by the provider (provider admins
only). Large batches are filled by the worker in chunks, with visible progress."""

import functools
import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from celery import group, shared_task
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import events_insert_for_rows
from cms.actors import SYSTEM
from cms.errors import DomainError, Refusal
from cms.validators import text_problem

from .. import text as code_text
from ..models import Batch, Code, CodeState
from ..use_by import local_today, use_by_ends_at, use_by_refusal
from .clock import CODE_ENTRY
from .common import require_provider_admin

logger = logging.getLogger(__name__)

#: How long a batch still generating may go without counting a chunk before beat takes its fill
#: for lost with a killed worker and sends another: a live fill counts one every second or so.
STALLED_AFTER = timedelta(minutes=2)


def _validated_batch_terms(*, quantity, period_days, unit_price, currency, use_by, note="", time_zone, now) -> tuple:
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
    if use_by is not None and (refusal := use_by_refusal(use_by, today=local_today(time_zone, now))):
        problems.append(Refusal("use_by", refusal, "validation_error"))
    if problem := text_problem(note or ""):
        problems.append(Refusal("note", problem, "validation_error"))
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
    account = require_provider_admin(actor)
    quantity, period_days, unit_price, currency = _validated_batch_terms(
        quantity=quantity, period_days=period_days, unit_price=unit_price, currency=currency, use_by=use_by,
        note=note, time_zone=account.time_zone, now=now,
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
            progressed_at=now,
        )
        if background:
            transaction.on_commit(lambda: batch_fill_in_worker(batch))
        else:
            batch_fill(batch_id=batch.pk, now=now)
            batch.refresh_from_db()
    return batch


def batch_fill(*, batch_id: int, chunk_size: int | None = None, now: datetime | None = None) -> Batch:
    """Generate a batch's missing codes in chunks, one transaction each, so progress is visible
    and a crash resumes where it stopped. Several fills of one batch may run at once (the worker
    runs a group of them, ADR 16): a chunk is written first and counted last, under the batch's
    lock, and a chunk that no longer fits, or whose use-by deadline the provider's time zone has
    moved meanwhile, is rolled back."""
    chunk_size = chunk_size or settings.KEYLINE_BATCH_CHUNK
    while True:
        batch = Batch.objects.select_related("created_by__account", "provider").get(pk=batch_id)
        missing = batch.quantity - batch.generated_count
        if missing <= 0:
            return _batch_mark_ready(batch_id)
        with transaction.atomic():
            moment = now or timezone.now()
            ids = _insert_codes(batch, min(missing, chunk_size))
            events_insert_for_rows(
                action=Action.GENERATED, model=Code, copied=CODE_ENTRY, ids=ids,
                actor=batch.created_by or SYSTEM, occurred_at=moment,
            )
            # The provider is locked because its time zone sets the codes' use-by deadline
            # (`account_update` moves the deadlines of existing codes under the same lock).
            locked = Batch.objects.select_for_update(of=("self", "provider"), no_key=True).select_related("provider").get(
                pk=batch_id
            )
            if locked.generated_count + len(ids) > locked.quantity or locked.provider.time_zone != batch.provider.time_zone:
                transaction.set_rollback(True)
                continue
            locked.generated_count += len(ids)
            locked.progressed_at = moment
            if locked.generated_count >= locked.quantity:
                locked.status = Batch.Status.READY
            locked.save(update_fields=["generated_count", "progressed_at", "status"])


def _batch_mark_ready(batch_id: int) -> Batch:
    with transaction.atomic():
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch_id)
        if batch.status != Batch.Status.READY and batch.generated_count >= batch.quantity:
            batch.status = Batch.Status.READY
            batch.save(update_fields=["status"])
    return batch


def batch_fill_in_worker(batch: Batch) -> None:
    """Send the fill of a large batch to the worker, as a group of KEYLINE_BATCH_FILL_TASKS fills
    (at most one per chunk) that run side by side; one on SQLite, which has one writer."""
    chunks = -(-(batch.quantity - batch.generated_count) // settings.KEYLINE_BATCH_CHUNK)
    fills = max(1, min(settings.KEYLINE_BATCH_FILL_TASKS if connection.vendor == "postgresql" else 1, chunks))
    group(batch_fill_task.s(batch.pk) for _ in range(fills)).delay()


# Acknowledged once done, and put back in the queue when the pool process running it dies (a
# lost worker's message comes back after the broker's visibility timeout): a fill is safe to
# run again, since a chunk is written and counted in one transaction (ADR 39).
@shared_task(name="codes.tasks.batch_fill_task", acks_late=True, reject_on_worker_lost=True)
def batch_fill_task(batch_id: int) -> int:
    """The worker's half of a large `batch_generate`."""
    return batch_fill(batch_id=batch_id).generated_count


def batches_resume_stalled(*, now: datetime | None = None) -> list[int]:
    """Beat's safety net for fills lost with their worker (every minute): send new fills for each
    batch still generating that has not counted a chunk for STALLED_AFTER, and count that as its
    progress, so a fill waiting in a busy queue is not sent again each minute. A fill that was
    not lost after all only wastes its next chunk (ADR 16). Returns the ids of the batches resumed."""
    now = now or timezone.now()
    with transaction.atomic():
        stalled = list(
            Batch.objects.filter(status=Batch.Status.GENERATING, progressed_at__lte=now - STALLED_AFTER)
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
        Batch.objects.filter(pk__in=[batch.pk for batch in stalled]).update(progressed_at=now)
        for batch in stalled:
            logger.warning(
                "batch %s: no progress since %s at %s of %s codes; its fill is sent again",
                batch.pk, batch.progressed_at.isoformat(), batch.generated_count, batch.quantity,
            )
            transaction.on_commit(functools.partial(batch_fill_in_worker, batch))
    return [batch.pk for batch in stalled]


def _insert_codes(batch: Batch, count: int) -> list[int]:
    """Insert `count` new codes of the batch; returns their ids."""
    generate = code_text.generate
    usable_until = use_by_ends_at(batch.use_by, batch.provider.time_zone)
    for _attempt in range(5):
        texts = [generate() for _ in range(count)]
        try:
            with transaction.atomic():
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
