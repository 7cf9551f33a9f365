"""batches_resume_stalled: beat's safety net for a large batch whose fill died with its worker.
Each minute it sends new fills for the batches still generating that have not counted a chunk
for STALLED_AFTER; the fill finishes them with no code twice. (A real worker killed mid-batch:
tests/codes/test_killed_worker.py.)"""

from datetime import timedelta

import pytest

from audit.models import Action, Event
from cms.celery import app
from codes.models import Batch, Code
from codes.services import batch_fill, batch_generate, batches_resume_stalled
from codes.services.batches import STALLED_AFTER
from codes.tasks import batches_resume_stalled_task
from tests import factories
from tests.domain.support import T0, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_run_here():
    """The fills beat sends run in the test's process, as soon as they are sent."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def lost_batch(network, quantity=7) -> Batch:
    """A large batch whose fill never ran: the test's transaction never commits, so the fill
    `batch_generate` sends after its commit is never sent, as when its worker was killed."""
    return batch_generate(actor=network.provider_admin, quantity=quantity, period_days=30, unit_price="4.00",
                          currency="EUR", background=True)


def test_given_a_batch_whose_fill_was_lost_when_beat_runs_after_the_stall_time_then_it_is_filled_once(
    network, clock, tasks_run_here, django_capture_on_commit_callbacks
):
    batch = lost_batch(network)
    clock.shift(STALLED_AFTER)

    with django_capture_on_commit_callbacks(execute=True):
        assert batches_resume_stalled() == [batch.pk]

    batch = refresh(batch)
    assert (batch.status, batch.generated_count) == (Batch.Status.READY, 7)
    assert Code.objects.filter(batch=batch).count() == 7
    assert Event.objects.filter(action=Action.GENERATED, batch=batch).values("code").distinct().count() == 7
    assert Event.objects.filter(action=Action.GENERATED, batch=batch).count() == 7


def test_given_a_batch_that_moved_within_the_stall_time_then_beat_leaves_it_alone(
    network, clock, django_capture_on_commit_callbacks
):
    batch = lost_batch(network)
    clock.shift(STALLED_AFTER - timedelta(seconds=1))

    with django_capture_on_commit_callbacks() as sent:
        assert batches_resume_stalled() == []

    assert sent == []
    assert refresh(batch).progressed_at == T0


def test_given_a_resumed_batch_then_beat_waits_the_stall_time_again_before_sending_it_again(
    network, clock, django_capture_on_commit_callbacks
):
    batch = lost_batch(network)
    clock.shift(STALLED_AFTER)
    with django_capture_on_commit_callbacks() as sent:
        assert batches_resume_stalled() == [batch.pk]
    assert len(sent) == 1 and refresh(batch).progressed_at == T0 + STALLED_AFTER

    clock.shift(timedelta(minutes=1))  # the fill sent waits in a busy queue
    assert batches_resume_stalled() == []
    clock.shift(STALLED_AFTER)
    assert batches_resume_stalled() == [batch.pk]


def test_given_ready_batches_then_beat_never_resumes_them(network, clock):
    factories.batch(network.provider_admin, quantity=3)
    clock.shift(timedelta(days=1))

    assert batches_resume_stalled_task.apply().get() == {"resumed": []}


def test_each_chunk_a_fill_counts_is_the_batchs_progress(network, clock):
    batch = lost_batch(network, quantity=4)
    clock.shift(timedelta(minutes=5))

    batch_fill(batch_id=batch.pk, chunk_size=3)

    assert refresh(batch).progressed_at == T0 + timedelta(minutes=5)
