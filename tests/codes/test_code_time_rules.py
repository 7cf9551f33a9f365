"""The rules of time of DOMAIN.md, with the clock under the test's control."""

import pytest

from audit.models import Action, Event
from cms.errors import DomainError
from codes.cover import unit_cover, unit_is_active, with_cover
from codes.models import CodeState
from codes.rules import code_state
from codes.selectors import with_state
from codes.services import code_attach, code_release, codes_attach, codes_expire_due
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, refresh
from units.models import Unit


def unit_of(network):
    return factories.unit(network.harvest, actor=network.provider_admin)


def test_a_code_starts_on_its_first_attach_and_runs_for_its_period(network, clock):
    code = code_for(network, period_days=90)
    clock.shift(7 * DAY)  # sitting unused costs nothing
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    code = refresh(code)
    assert (code.activated_at, code.expires_at) == (T0 + 7 * DAY, T0 + 97 * DAY)


def test_releasing_refunds_nothing_the_clock_keeps_running(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    clock.shift(10 * DAY)
    code_release(code=code, actor=network.provider_admin)
    clock.shift(25 * DAY)  # 35 days after it started, detached all along
    assert code_state(refresh(code)) == CodeState.EXPIRED


def test_a_released_code_runs_on_its_own_clock_on_another_unit(network, clock):
    code = code_for(network, period_days=30)
    code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
    clock.shift(10 * DAY)
    code_release(code=code, actor=network.provider_admin)
    clock.shift(5 * DAY)
    other = unit_of(network)

    code_attach(code=code, unit=other, actor=network.provider_admin)

    code = refresh(code)
    assert code_state(code) == CodeState.RUNNING
    assert (code.activated_at, code.expires_at) == (T0, T0 + 30 * DAY)  # set once, never changed
    assert unit_is_active(other)
    clock.move_to(T0 + 30 * DAY)
    assert code_state(refresh(code)) == CodeState.EXPIRED
    assert not unit_is_active(other)


def test_a_released_code_cannot_go_onto_a_covered_unit(network, clock):
    released, cover = codes_for(network, quantity=2)
    code_attach(code=released, unit=unit_of(network), actor=network.provider_admin)
    code_release(code=released, actor=network.provider_admin)
    covered = unit_of(network)
    code_attach(code=cover, unit=covered, actor=network.provider_admin)
    with pytest.raises(DomainError) as error:
        code_attach(code=released, unit=covered, actor=network.provider_admin)
    assert error.value.code == "unit_covered"
    assert code_state(refresh(released)) == CodeState.RELEASED


def test_renewing_ahead_of_time_schedules_behind_the_cover_with_no_gap_and_no_lost_day(network, clock):
    first, renewal = codes_for(network, quantity=2, period_days=30)
    unit = unit_of(network)
    code_attach(code=first, unit=unit, actor=network.provider_admin)
    clock.shift(20 * DAY)

    code_attach(code=renewal, unit=unit, actor=network.provider_admin)

    renewal = refresh(renewal)
    assert renewal.activated_at == refresh(first).expires_at == T0 + 30 * DAY
    assert renewal.expires_at == T0 + 60 * DAY
    # At the very moment the first ends, the renewal runs: the unit never has a hole.
    clock.move_to(T0 + 30 * DAY)
    assert code_state(refresh(first)) == CodeState.EXPIRED
    assert code_state(refresh(renewal)) == CodeState.RUNNING
    assert unit_is_active(unit)


def test_detaching_the_running_code_moves_the_scheduled_ones_forward(network, clock):
    running, scheduled = codes_for(network, quantity=2, period_days=30)
    unit = unit_of(network)
    codes_attach(pairs=[(running, unit), (scheduled, unit)], actor=network.provider_admin)
    clock.shift(12 * DAY)

    code_release(code=running, actor=network.provider_admin)

    scheduled = refresh(scheduled)
    assert code_state(scheduled) == CodeState.RUNNING
    assert (scheduled.activated_at, scheduled.expires_at) == (T0 + 12 * DAY, T0 + 42 * DAY)


def test_detaching_a_scheduled_code_moves_later_ones_back_and_returns_it_to_available(network, clock):
    a, b, c = codes_for(network, quantity=3, period_days=30)
    unit = unit_of(network)
    codes_attach(pairs=[(a, unit), (b, unit), (c, unit)], actor=network.provider_admin)

    code_release(code=b, actor=network.provider_admin)

    assert code_state(refresh(b)) == CodeState.AVAILABLE
    c = refresh(c)
    assert (c.activated_at, c.expires_at) == (T0 + 30 * DAY, T0 + 60 * DAY)
    assert unit_cover(unit).covered_until == T0 + 60 * DAY


def test_expiry_deactivates_the_unit_even_before_the_job_runs_and_the_job_records_it(network, clock):
    code = code_for(network, period_days=30)
    unit = unit_of(network)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + 30 * DAY)

    # Invariant 2: reading the state never waits for the job.
    assert code_state(refresh(code)) == CodeState.EXPIRED
    assert with_state(type(code).objects.filter(pk=code.pk)).get().state == CodeState.EXPIRED
    assert not unit_is_active(unit)
    assert with_cover(Unit.objects.filter(pk=unit.pk)).get().active_now is False

    codes_expire_due()

    assert refresh(unit).is_active is False
    assert refresh(code).status == CodeState.EXPIRED
    assert Event.objects.filter(code=code, action=Action.EXPIRED).count() == 1
    assert Event.objects.filter(unit=unit, action=Action.UNIT_DEACTIVATED).count() == 1


def test_one_second_before_its_end_a_code_still_runs(network, clock):
    code = code_for(network, period_days=1)
    unit = unit_of(network)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    clock.move_to(T0 + DAY - DAY / 86400)
    assert code_state(refresh(code)) == CodeState.RUNNING
    assert unit_is_active(unit)
