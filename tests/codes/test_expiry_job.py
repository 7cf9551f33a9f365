"""The clock's jobs: codes_expire_due (every minute) and codes_archive_expired (daily), and the
management commands that run them by hand."""

from io import StringIO

from django.core.management import call_command

from audit.models import Action, Event
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.services import code_attach, code_release, codes_archive_expired, codes_attach, codes_expire_due
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, new_events, refresh


def unit_of(network):
    return factories.unit(network.harvest, actor=network.provider_admin)


def test_given_a_running_code_past_its_end_then_the_job_records_the_expiry_and_deactivates_the_unit(network, clock):
    code = code_for(network, period_days=30)
    unit = unit_of(network)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY + DAY / 24)
    before = last_event_id()

    run = codes_expire_due()

    assert (run.expired, run.started, run.units_changed) == (1, 0, 1)
    assert refresh(code).status == CodeState.EXPIRED
    assert refresh(unit).is_active is False
    expired, deactivated = new_events(before)
    assert (expired.action, expired.actor, expired.actor_label) == (Action.EXPIRED, None, "system")
    assert (expired.code_id, expired.unit_id) == (code.pk, unit.pk)
    assert deactivated.action == Action.UNIT_DEACTIVATED and deactivated.unit_id == unit.pk


def test_running_the_job_twice_records_nothing_the_second_time(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    clock.move_to(T0 + 31 * DAY)
    codes_expire_due()
    before = last_event_id()

    run = codes_expire_due()

    assert (run.expired, run.started, run.units_changed) == (0, 0, 0)
    assert last_event_id() == before


def test_given_a_scheduled_code_whose_time_came_then_it_is_recorded_started_and_the_unit_stays_active(
    network, clock
):
    first, second = codes_for(network, quantity=2, period_days=30)
    unit = unit_of(network)
    codes_attach(pairs=[(first, unit), (second, unit)], actor=network.provider_admin)
    clock.move_to(T0 + 45 * DAY)
    before = last_event_id()

    run = codes_expire_due()

    assert (run.expired, run.started, run.units_changed) == (1, 1, 0)
    assert (refresh(first).status, refresh(second).status) == (CodeState.EXPIRED, CodeState.RUNNING)
    assert refresh(unit).is_active is True
    assert sorted(e.action for e in new_events(before)) == [Action.EXPIRED, Action.STARTED]


def test_given_a_whole_chain_that_ran_out_between_two_runs_then_every_step_is_recorded_once(network, clock):
    codes = codes_for(network, quantity=3, period_days=10)
    unit = unit_of(network)
    codes_attach(pairs=[(c, unit) for c in codes], actor=network.provider_admin)
    clock.move_to(T0 + 31 * DAY)

    run = codes_expire_due()

    assert (run.expired, run.started, run.units_changed) == (3, 2, 1)
    assert {refresh(c).status for c in codes} == {CodeState.EXPIRED}
    assert Event.objects.filter(action=Action.STARTED).count() == 2


def test_given_chunks_that_split_a_units_chain_then_no_unit_ever_holds_two_running_codes(network, clock):
    # The scheduled code has the lower primary key: a job that walked codes by id alone would
    # record it running while the code before it is still recorded running (the database's
    # one-running-code-per-unit constraint refuses that).
    units = [unit_of(network) for _ in range(3)]
    for unit in units:
        scheduled, running = codes_for(network, quantity=2, period_days=30)
        code_attach(code=running, unit=unit, actor=network.provider_admin)
        code_attach(code=scheduled, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 40 * DAY)

    run = codes_expire_due(chunk_size=1)

    assert (run.expired, run.started) == (3, 3)
    for unit in units:
        assert Code.objects.filter(unit=unit, status=CodeState.RUNNING).count() == 1
        assert refresh(unit).is_active


def test_given_a_lapsed_use_by_date_then_the_unused_code_is_recorded_expired(network, clock):
    code = code_for(network, use_by=T0.date())
    clock.move_to(T0 + 2 * DAY)
    assert code_state(refresh(code)) == CodeState.EXPIRED  # derived before any job

    run = codes_expire_due()

    assert run.expired == 1
    event = Event.objects.get(code=code, action=Action.EXPIRED)
    assert event.details == {"use_by_passed": True}


def test_given_a_released_code_past_its_end_then_it_is_recorded_expired(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    code_release(code=code, actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY)
    assert codes_expire_due().expired == 1
    assert refresh(code).status == CodeState.EXPIRED


def test_the_archive_job_detaches_expired_codes_marks_them_archived_and_keeps_them(network, clock):
    expired, running = codes_for(network, quantity=2, period_days=30)
    unit, other = unit_of(network), unit_of(network)
    code_attach(code=expired, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY)
    code_attach(code=running, unit=other, actor=network.provider_admin)
    total = Code.objects.count()

    archived = codes_archive_expired()

    assert archived == 1
    expired, running = refresh(expired), refresh(running)
    assert (expired.unit_id, expired.archived_at, expired.status) == (None, T0 + 30 * DAY, CodeState.EXPIRED)
    assert (expired.activated_at, expired.expires_at) == (T0, T0 + 30 * DAY)  # history kept
    assert (running.unit_id, running.archived_at) == (other.pk, None)
    assert Code.objects.count() == total  # invariant 7: nothing is lost
    assert Event.objects.filter(code=expired, action=Action.ARCHIVED, unit=unit).count() == 1
    assert codes_archive_expired() == 0  # idempotent


def test_the_archive_job_first_records_expirations_the_minute_job_has_not_seen_yet(network, clock):
    code = code_for(network, period_days=30)
    unit = unit_of(network)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 60 * DAY)

    assert codes_archive_expired() == 1

    assert refresh(unit).is_active is False
    assert Event.objects.filter(code=code, action=Action.EXPIRED).count() == 1


def test_the_expire_codes_command_runs_the_minute_job(network, clock):
    code = code_for(network, period_days=30)
    unit = unit_of(network)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY)
    out = StringIO()

    call_command("expire_codes", stdout=out)

    assert "expired 1, started 0, units changed 1" in out.getvalue()
    assert refresh(unit).is_active is False


def test_the_archive_codes_command_runs_the_daily_job(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY)
    out = StringIO()

    call_command("archive_codes", stdout=out)

    assert "archived 1" in out.getvalue()
    assert refresh(code).archived_at is not None


class TestEntriesAreDatedByTheClockNotByTheJob:
    """With the worker down for two days, the report still says when each thing happened; the
    entry's write time says when the job noticed."""

    def test_given_the_worker_down_for_two_days_then_expiry_and_deactivation_are_dated_at_the_codes_end(
        self, network, clock
    ):
        code, queued = codes_for(network, quantity=2, period_days=30)
        unit = unit_of(network)
        codes_attach(pairs=[(code, unit), (queued, unit)], actor=network.provider_admin)
        first_end, second_end = T0 + 30 * DAY, T0 + 60 * DAY
        clock.move_to(second_end + 2 * DAY)
        before = last_event_id()

        codes_expire_due()

        events = {(e.action, e.code_id): e for e in new_events(before)}
        assert events[(Action.STARTED, queued.pk)].occurred_at == first_end
        assert events[(Action.EXPIRED, code.pk)].occurred_at == first_end
        assert events[(Action.EXPIRED, queued.pk)].occurred_at == second_end
        deactivated = events[(Action.UNIT_DEACTIVATED, None)]
        assert (deactivated.unit_id, deactivated.occurred_at) == (unit.pk, second_end)
        assert {e.recorded_at for e in events.values()} == {second_end + 2 * DAY}

    def test_given_a_use_by_date_passed_unnoticed_then_the_lapse_is_dated_at_the_deadline(self, network, clock):
        code = code_for(network, use_by=(T0 + 3 * DAY).date())
        clock.move_to(T0 + 10 * DAY)
        before = last_event_id()

        codes_expire_due()

        (lapsed,) = new_events(before)
        assert (lapsed.action, lapsed.details) == (Action.EXPIRED, {"use_by_passed": True})
        assert lapsed.occurred_at == refresh(code).usable_until < lapsed.recorded_at

    def test_given_a_cover_that_ended_unnoticed_when_a_user_applies_a_code_then_the_gap_is_in_the_log(
        self, network, clock
    ):
        unit = unit_of(network)
        code_attach(code=code_for(network, period_days=30), unit=unit, actor=network.provider_admin)
        clock.move_to(T0 + 32 * DAY)
        before = last_event_id()

        code_attach(code=code_for(network), unit=unit, actor=network.provider_operator)

        by_action = {e.action: e for e in new_events(before) if e.unit_id == unit.pk}
        deactivated, activated = by_action[Action.UNIT_DEACTIVATED], by_action[Action.UNIT_ACTIVATED]
        assert (deactivated.occurred_at, deactivated.actor_label) == (T0 + 30 * DAY, "system")
        assert (activated.occurred_at, activated.actor) == (T0 + 32 * DAY, network.provider_operator)
