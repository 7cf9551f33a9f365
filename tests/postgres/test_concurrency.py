"""Invariant 6 on a real database: concurrent attempts to use one code, and concurrent runs of the
expiry job. Each thread has its own connection and transaction (transactional_db), as separate
web requests and workers would."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from celery import current_app
from django.db import connections
from django.utils import timezone

from audit.models import Action, Event
from cms.errors import DomainError
from codes import tasks
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.services import (
    code_attach,
    code_redeem,
    code_release,
    codes_attach,
    codes_expire_due,
    codes_send_by_email,
)
from tests import factories
from tests.domain.support import DAY, last_event_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(calls):
    """Run every call in its own thread, all released at the same instant. Returns one result per
    call: the value returned or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001  (collected and asserted on below)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def outcomes(results):
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    unexpected = [r for r in losses if not isinstance(r, DomainError)]
    assert not unexpected, f"only clear domain errors are allowed, got {unexpected!r}"
    return wins, losses


def test_twenty_attaches_of_one_code_to_twenty_units_exactly_one_wins(network):
    code = factories.codes(network.provider_admin, quantity=1)[0]
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(THREADS)]

    results = race([lambda u=u: code_attach(code=code.pk, unit=u.pk, actor=network.provider_operator) for u in units])

    wins, losses = outcomes(results)
    assert len(wins) == 1 and len(losses) == THREADS - 1
    assert {e.code for e in losses} == {"code_already_used"}
    assert all(str(e) for e in losses)
    code.refresh_from_db()
    assert code.unit_id == wins[0].unit_id
    assert Event.objects.filter(code=code, action=Action.ATTACHED).count() == 1
    assert Code.objects.filter(unit__isnull=False).count() == 1


def test_twenty_redemptions_of_one_code_exactly_one_wins(network):
    code = factories.codes(network.provider_admin, quantity=1)[0]
    unit = factories.unit(network.harvest, actor=network.provider_admin)

    results = race(
        [
            lambda i=i: code_redeem(code_text=code.display_text, hardware_id=unit.hardware_id,
                                    client_address=f"192.0.2.{i + 1}")
            for i in range(THREADS)
        ]
    )

    wins, losses = outcomes(results)
    assert len(wins) == 1
    assert {e.code for e in losses} == {"code_already_used"}
    assert Event.objects.filter(code=code, action=Action.REDEEMED).count() == 1
    assert Event.objects.filter(code=code, action=Action.REDEEM_REFUSED).count() == THREADS - 1
    assert Event.objects.filter(unit=unit, action=Action.UNIT_ACTIVATED).count() == 1


def test_sends_by_email_and_attaches_of_one_code_at_once_either_reserve_it_or_attach_it_never_both(network):
    code = factories.codes(network.provider_admin, quantity=1)[0]
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(THREADS // 2)]
    calls = [lambda u=u: code_attach(code=code.pk, unit=u.pk, actor=network.provider_operator) for u in units]
    calls += [
        lambda i=i: codes_send_by_email(codes=[code.pk], actor=network.provider_admin, recipient=f"driver{i}@harvest.example")
        for i in range(THREADS // 2)
    ]

    results = race(calls)

    wins, losses = outcomes(results)
    code.refresh_from_db()
    if code.unit_id is not None:  # the attach came first: no send went out, the code is nobody's to keep
        assert len(wins) == 1 and code.reserved_for == ""
        assert {e.code for e in losses} == {"code_already_used", "invalid_state"}
        assert not Event.objects.filter(code=code, action=Action.RESERVED).exists()
    else:  # a send came first: every attach is refused, every other address too
        assert len(wins) == 1 and code.reserved_for.startswith("driver")
        assert {e.code for e in losses} == {"code_reserved"}
        assert Event.objects.filter(code=code, action=Action.RESERVED).count() == 1
        assert not Event.objects.filter(code=code, action=Action.ATTACHED).exists()


def test_twenty_different_codes_onto_one_unit_all_queue_without_gap_or_overlap(network):
    codes = factories.codes(network.provider_admin, quantity=THREADS, period_days=30)
    unit = factories.unit(network.harvest, actor=network.provider_admin)

    results = race([lambda c=c: code_attach(code=c.pk, unit=unit.pk, actor=network.provider_admin) for c in codes])

    wins, _ = outcomes(results)
    assert len(wins) == THREADS
    chain = list(Code.objects.filter(unit=unit).order_by("activated_at"))
    assert [code_state(c) for c in chain] == [CodeState.RUNNING] + [CodeState.SCHEDULED] * (THREADS - 1)
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.activated_at == before.expires_at


def test_attach_and_release_racing_on_one_unit_never_deadlock_and_leave_a_consistent_chain(network):
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    on_unit = factories.codes(network.provider_admin, quantity=6, period_days=30)
    codes_attach(pairs=[(c, unit) for c in on_unit], actor=network.provider_admin)
    newcomers = factories.codes(network.provider_admin, quantity=6, period_days=30)

    calls = [lambda c=c: code_release(code=c.pk, actor=network.provider_admin) for c in on_unit]
    calls += [lambda c=c: code_attach(code=c.pk, unit=unit.pk, actor=network.provider_admin) for c in newcomers]
    wins, _ = outcomes(race(calls))

    assert len(wins) == 12
    now = timezone.now()
    chain = list(Code.objects.filter(unit=unit, expires_at__gt=now).order_by("activated_at"))
    assert {c.pk for c in chain} == {c.pk for c in newcomers}
    assert chain[0].activated_at <= now
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.activated_at == before.expires_at


def test_two_expiry_jobs_at_once_record_every_change_exactly_once(network):
    due = a_due_scene(network)
    now = timezone.now()
    before = last_event_id()

    runs = race([lambda: codes_expire_due(now=now, chunk_size=7), lambda: codes_expire_due(now=now, chunk_size=7)])

    assert not any(isinstance(r, Exception) for r in runs), runs
    assert_each_change_recorded_once(due, before)
    assert sum(r.expired for r in runs) == 70
    assert sum(r.started for r in runs) == 20
    assert codes_expire_due(now=now + DAY / 24 / 60).expired == 0


def test_the_expiry_job_racing_attaches_and_releases_on_the_same_units_never_deadlocks(network):
    start = timezone.now() - timedelta(days=2)
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(6)]
    ending = factories.codes(network.provider_admin, quantity=6, period_days=1, now=start)
    queued = factories.codes(network.provider_admin, quantity=6, period_days=30, now=start)
    codes_attach(pairs=list(zip(ending, units, strict=True)), actor=network.provider_admin, now=start)
    codes_attach(pairs=list(zip(queued, units, strict=True)), actor=network.provider_admin, now=start)
    newcomers = factories.codes(network.provider_admin, quantity=6, period_days=30)
    before = last_event_id()

    calls = [lambda: codes_expire_due(chunk_size=2) for _ in range(4)]
    calls += [lambda c=c, u=u: code_attach(code=c.pk, unit=u.pk, actor=network.provider_admin)
              for c, u in zip(newcomers, units, strict=True)]
    calls += [lambda c=c: code_release(code=c.pk, actor=network.provider_admin) for c in queued[:3]]
    wins, losses = outcomes(race(calls))

    assert not losses, losses
    codes_expire_due()
    assert Counter(Event.objects.filter(pk__gt=before, action=Action.EXPIRED).values_list("code_id", flat=True)) == {
        c.pk: 1 for c in ending
    }
    for unit in units:
        unit.refresh_from_db()
        running = [c for c in Code.objects.filter(unit=unit) if code_state(c) == CodeState.RUNNING]
        assert len(running) == 1 and unit.is_active


def a_due_scene(network):
    """40 units whose one-day code ran out, 20 of them with a 30-day code queued behind it, and
    30 released codes that ran out while detached (on 3 spare units). Returns what is due."""
    start = timezone.now() - timedelta(days=2)
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(40)]
    short = factories.codes(network.provider_admin, quantity=40, period_days=1, now=start)
    follow = factories.codes(network.provider_admin, quantity=20, period_days=30, now=start)
    codes_attach(pairs=list(zip(short, units, strict=True)), actor=network.provider_admin, now=start)
    codes_attach(pairs=list(zip(follow, units[:20], strict=True)), actor=network.provider_admin, now=start)
    released = factories.codes(network.provider_admin, quantity=30, period_days=1, now=start)
    spare = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(3)]
    for i, code in enumerate(released):
        code_attach(code=code, unit=spare[i % 3], actor=network.provider_admin, now=start)
        code_release(code=code, actor=network.provider_admin, now=start)
    return {"expired": short + released, "started": follow, "covered": units[:20], "deactivated": units[20:]}


def assert_each_change_recorded_once(due, since):
    expired = Counter(Event.objects.filter(pk__gt=since, action=Action.EXPIRED).values_list("code_id", flat=True))
    assert expired == {c.pk: 1 for c in due["expired"]}
    started = Counter(Event.objects.filter(pk__gt=since, action=Action.STARTED).values_list("code_id", flat=True))
    assert started == {c.pk: 1 for c in due["started"]}
    deactivated = Counter(
        Event.objects.filter(pk__gt=since, action=Action.UNIT_DEACTIVATED).values_list("unit_id", flat=True)
    )
    assert deactivated == {u.pk: 1 for u in due["deactivated"]}
    running = Counter(Code.objects.filter(status=CodeState.RUNNING).values_list("unit_id", flat=True))
    assert running == {u.pk: 1 for u in due["covered"]}  # no unit holds two running codes
    assert [c for c in Code.objects.all() if code_state(c) != c.status] == []  # all recorded


def test_partitions_run_side_by_side_record_every_change_once(network):
    due = a_due_scene(network)
    now = timezone.now()
    before = last_event_id()

    runs = race([lambda k=k: codes_expire_due(now=now, chunk_size=7, partition=(k, 2)) for k in range(2)])

    assert not any(isinstance(r, Exception) for r in runs), runs
    assert all(r.expired > 0 for r in runs), "a partition got nothing to do"
    assert (sum(r.expired for r in runs), sum(r.started for r in runs), sum(r.units_changed for r in runs)) == (70, 20, 20)
    assert_each_change_recorded_once(due, before)
    assert codes_expire_due(now=now + DAY / 24 / 60).expired == 0


def test_every_partition_run_twice_at_once_records_every_change_exactly_once(network):
    due = a_due_scene(network)
    now = timezone.now()
    before = last_event_id()

    runs = race([lambda k=k: codes_expire_due(now=now, chunk_size=7, partition=(k % 2, 2)) for k in range(4)])

    assert not any(isinstance(r, Exception) for r in runs), runs
    assert sum(r.expired for r in runs) == 70 and sum(r.started for r in runs) == 20
    assert_each_change_recorded_once(due, before)


def test_the_minute_task_runs_the_configured_partitions_as_a_group(network, settings):
    due = a_due_scene(network)
    before = last_event_id()
    settings.KEYLINE_EXPIRY_PARTITIONS = 3
    current_app.conf.task_always_eager = True
    try:
        answer = tasks.codes_expire_due_task.apply().get()
    finally:
        current_app.conf.task_always_eager = False

    assert answer == {"partitions": 3}
    assert_each_change_recorded_once(due, before)


def test_given_four_fills_of_one_batch_at_once_then_it_holds_exactly_its_quantity_each_audited_once(network):
    from codes.models import Batch
    from codes.services import batch_fill

    batch = Batch.objects.create(provider=network.provider, created_by=network.provider_admin, quantity=230,
                                 period_days=30, unit_price=1, currency="EUR", status=Batch.Status.GENERATING)

    results = race([lambda: batch_fill(batch_id=batch.pk, chunk_size=40) for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)], results
    batch = Batch.objects.get(pk=batch.pk)
    assert (batch.generated_count, batch.status) == (230, Batch.Status.READY)
    codes = Code.objects.filter(batch=batch)
    assert codes.count() == 230
    generated = Event.objects.filter(action=Action.GENERATED, code__batch=batch)
    assert generated.count() == 230 and generated.values("code").distinct().count() == 230
