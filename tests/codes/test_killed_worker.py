"""A worker killed with SIGKILL (the OOM killer, a lost host) loses no work: a batch it was filling
is finished, by the same worker or by beat's resume on the next one, with no code twice; and the
next minute's expiry run records what is due. Real PostgreSQL, Redis and `celery -A cms worker`
processes. The test holds a row lock the job needs, so the kill lands inside the job's open
transaction, with a chunk written and not yet counted: the hardest place to die."""

import os
import signal
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action, Event
from codes import tasks
from codes.models import Batch, Code, CodeState
from codes.services import batch_generate, batches_resume_stalled, code_attach
from codes.services.batches import STALLED_AFTER
from tests import factories
from tests.celery_worker import Worker, wait_for, worker_queue  # noqa: F401  (a fixture)
from tests.domain.support import refresh
from units.models import Unit

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

#: A small chunk, so a batch of a few chunks is filled in well under a second.
CHUNK = 200
QUANTITY = 6 * CHUNK


def backends_waiting_on_this_connection() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is read once per transaction otherwise
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        return cursor.fetchone()[0]


@contextmanager
def fill_stopped_mid_chunk(batch, worker):
    """Once the worker has counted a chunk, hold the batch's row lock until a fill waits on it
    with its next chunk written: the kill then lands in that fill's open transaction. Yields the
    progress the batch shows meanwhile."""
    wait_for(lambda: refresh(batch).generated_count >= CHUNK, worker=worker, what="the first chunk")
    with transaction.atomic():
        progress = Batch.objects.select_for_update().get(pk=batch.pk).generated_count
        assert progress < batch.quantity, "the fill finished before the test could stop it"
        wait_for(lambda: backends_waiting_on_this_connection() > 0, worker=worker, what="a fill waiting on the lock")
        yield progress


def large_batch(network) -> Batch:
    return batch_generate(actor=network.provider_admin, quantity=QUANTITY, period_days=30, unit_price="4.00",
                          currency="EUR", background=True)


def assert_filled_once(batch) -> None:
    batch = refresh(batch)
    assert (batch.status, batch.generated_count) == (Batch.Status.READY, batch.quantity)
    codes = Code.objects.filter(batch=batch)
    assert codes.count() == batch.quantity
    assert codes.values("text").distinct().count() == batch.quantity
    generated = Event.objects.filter(action=Action.GENERATED)
    assert generated.count() == batch.quantity, "a generated entry without its code, or twice"
    assert sorted(generated.values_list("code_id", flat=True)) == sorted(codes.values_list("pk", flat=True))
    assert set(generated.values_list("batch_id", flat=True)) == {batch.pk}


def test_given_the_pool_process_filling_a_batch_is_killed_then_the_worker_fills_it_again_to_exactly_its_quantity(
    network, worker_queue, settings, tmp_path  # noqa: F811
):
    settings.KEYLINE_BATCH_CHUNK = CHUNK
    settings.KEYLINE_BATCH_FILL_TASKS = 1
    with Worker(worker_queue, tmp_path / "worker.log", env={"KEYLINE_BATCH_CHUNK": str(CHUNK)}) as worker:
        batch = large_batch(network)
        with fill_stopped_mid_chunk(batch, worker) as progress:
            (pool_process,) = worker.pool_pids()
            os.kill(pool_process, signal.SIGKILL)

        wait_for(lambda: refresh(batch).status == Batch.Status.READY, worker=worker, timeout=30, what="the batch ready")

    assert 0 < progress < QUANTITY
    assert_filled_once(batch)


def test_given_the_worker_filling_a_batch_is_killed_when_beat_resumes_stalled_batches_then_the_next_worker_completes_it(
    network, worker_queue, settings, tmp_path  # noqa: F811
):
    settings.KEYLINE_BATCH_CHUNK = CHUNK
    env = {"KEYLINE_BATCH_CHUNK": str(CHUNK)}
    with Worker(worker_queue, tmp_path / "first.log", concurrency=2, env=env) as first:
        batch = large_batch(network)  # two fills side by side, as the Procfile's worker runs them
        with fill_stopped_mid_chunk(batch, first) as progress:
            first.kill()
    assert refresh(batch).generated_count == progress and refresh(batch).status == Batch.Status.GENERATING

    with Worker(worker_queue, tmp_path / "second.log", concurrency=2, env=env) as second:
        assert batches_resume_stalled(now=timezone.now()) == [], "a batch that moved just now is not resumed"
        assert batches_resume_stalled(now=timezone.now() + STALLED_AFTER) == [batch.pk]
        wait_for(lambda: refresh(batch).status == Batch.Status.READY, worker=second, timeout=30, what="the batch ready")

    assert 0 < progress < QUANTITY
    assert_filled_once(batch)


def test_given_a_worker_killed_in_the_middle_of_the_expiry_job_then_the_next_minutes_run_records_what_is_due(
    network, worker_queue, tmp_path  # noqa: F811
):
    started = timezone.now() - timedelta(days=31)
    codes = factories.codes(network.provider_admin, quantity=3, period_days=30, now=started)
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in codes]
    for code, unit in zip(codes, units, strict=True):
        code_attach(code=code, unit=unit, actor=network.provider_admin, now=started)

    with Worker(worker_queue, tmp_path / "worker.log") as worker:
        with transaction.atomic():
            Unit.objects.select_for_update().get(pk=units[0].pk)  # the run waits here, mid-transaction
            tasks.codes_expire_due_task.apply_async()
            wait_for(lambda: backends_waiting_on_this_connection() > 0, worker=worker, what="the run waiting")
            worker.kill()

    assert tasks.codes_expire_due_task.apply().get() == {"expired": 3, "started": 0, "units_changed": 3}

    assert [refresh(code).status for code in codes] == [CodeState.EXPIRED] * 3
    assert Event.objects.filter(action=Action.EXPIRED).count() == 3
    assert Event.objects.filter(action=Action.UNIT_DEACTIVATED).count() == 3
    assert not any(refresh(unit).is_active for unit in units)
