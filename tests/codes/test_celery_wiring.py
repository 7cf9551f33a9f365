"""The Celery wiring: beat's schedule names real tasks, tasks are thin idempotent wrappers, and a
real worker process expires a due code in the test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.models import Action, Event
from cms.celery import app
from codes import tasks
from codes.models import CodeState
from codes.services import code_attach
from tests import factories
from tests.celery_worker import database_url_of_the_test_database
from tests.domain.support import DAY, T0, code_for, refresh

BASE_DIR = Path(settings.BASE_DIR)


def test_the_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule, "beat has nothing to run"
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name} names an unknown task {entry['task']}"


def test_expiry_and_the_resume_of_stalled_batches_run_every_minute_and_the_archive_daily():
    by_task = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert by_task[tasks.codes_expire_due_task.name] == 60.0
    assert by_task[tasks.batches_resume_stalled_task.name] == 60.0
    daily = by_task[tasks.codes_archive_expired_task.name]
    assert isinstance(daily, crontab) and daily.hour == {3} and daily.minute == {15}


def test_a_batch_fill_is_acknowledged_once_done_and_put_back_in_the_queue_when_its_worker_is_lost():
    assert tasks.batch_fill_task.acks_late and tasks.batch_fill_task.reject_on_worker_lost


def test_the_expiry_task_records_a_due_code_and_a_second_run_records_nothing(network, clock):
    code = code_for(network, period_days=30)
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 31 * DAY)

    first = tasks.codes_expire_due_task.apply().get()
    second = tasks.codes_expire_due_task.apply().get()

    assert first == {"expired": 1, "started": 0, "units_changed": 1}
    assert second == {"expired": 0, "started": 0, "units_changed": 0}
    assert Event.objects.filter(code=code, action=Action.EXPIRED).count() == 1
    assert refresh(unit).is_active is False


def test_the_archive_task_archives_expired_codes_once(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                actor=network.provider_admin)
    clock.move_to(T0 + 31 * DAY)

    assert tasks.codes_archive_expired_task.apply().get() == {"archived": 1}
    assert tasks.codes_archive_expired_task.apply().get() == {"archived": 0}
    assert refresh(code).archived_at == T0 + 31 * DAY


def test_the_batch_fill_task_fills_a_batch(network, django_capture_on_commit_callbacks):
    from codes.services import batch_generate

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = batch_generate(actor=network.provider_admin, quantity=3, period_days=30, unit_price="1",
                               currency="EUR", background=True)
    assert len(callbacks) == 1  # sent only once the batch row is committed
    assert tasks.batch_fill_task.apply(args=[batch.pk]).get() == 3


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_a_due_code_in_the_test_database(network):
    assert connection.settings_dict["NAME"].startswith("test_"), "never point a worker at the dev database"
    start = timezone.now() - timedelta(days=31)
    code = factories.codes(network.provider_admin, quantity=1, period_days=30, now=start)[0]
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    code_attach(code=code, unit=unit, actor=network.provider_admin, now=start)
    assert refresh(code).status == CodeState.RUNNING
    queue = f"keyline-test-{uuid.uuid4().hex[:8]}"  # this worker takes only what this test sends
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_the_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DB_CONN_MAX_AGE": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cms", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        tasks.codes_expire_due_task.apply_async(queue=queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and refresh(code).status != CodeState.EXPIRED:
            assert worker.poll() is None, "the worker died:\n" + worker.stdout.read()
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()

    assert refresh(code).status == CodeState.EXPIRED, output
    assert refresh(unit).is_active is False
    expired = Event.objects.get(code=code, action=Action.EXPIRED)
    assert expired.actor_label == "system"
    assert "codes.tasks.codes_expire_due_task" in output and "succeeded" in output
    assert Event.objects.filter(unit=unit, action=Action.UNIT_DEACTIVATED, actor_label="system").count() == 1
