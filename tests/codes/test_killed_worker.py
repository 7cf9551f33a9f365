"""A worker killed with SIGKILL (the OOM killer, a lost host) loses no work: the next minute's
expiry run records what is due. Real PostgreSQL, Redis and `celery -A cms worker` processes. The
test holds a row lock the job needs, so the kill lands inside the job's open transaction."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action, Event
from codes import tasks
from codes.models import CodeState
from codes.services import code_attach
from tests import factories
from tests.celery_worker import Worker, wait_for, worker_queue  # noqa: F401  (a fixture)
from tests.domain.support import refresh
from units.models import Unit

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def backends_waiting_on_this_connection() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is read once per transaction otherwise
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        return cursor.fetchone()[0]


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
