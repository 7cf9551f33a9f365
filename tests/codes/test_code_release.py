"""code_release / codes_release: detaching codes from units (DOMAIN.md "Rules of time")."""

import pytest

from audit.models import Action
from cms.errors import DomainError
from codes.cover import unit_cover, units_a_release_deactivates
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.services import code_attach, code_release, code_revoke, codes_attach, codes_release
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, new_events, refresh, snapshot


def unit_of(network, owner=None):
    return factories.unit(owner or network.harvest, actor=network.provider_admin)


def chain(network, unit, count, period_days=30):
    codes = codes_for(network, quantity=count, period_days=period_days)
    codes_attach(pairs=[(c, unit) for c in codes], actor=network.provider_admin)
    return [refresh(c) for c in codes]


class TestReleasingTheRunningCode:
    def test_when_released_then_it_keeps_its_clock_and_nothing_is_refunded(self, network, clock):
        unit = unit_of(network)
        (code,) = chain(network, unit, 1)
        clock.shift(10 * DAY)

        code_release(code=code, actor=network.provider_operator)

        code = refresh(code)
        assert code_state(code) == CodeState.RELEASED
        assert code.unit_id is None
        assert (code.activated_at, code.expires_at) == (T0, T0 + 30 * DAY)

    def test_when_the_only_code_is_released_then_the_unit_is_deactivated_with_an_audit_entry(self, network, clock):
        unit = unit_of(network)
        (code,) = chain(network, unit, 1)
        before = last_event_id()

        code_release(code=code, actor=network.provider_operator)

        assert refresh(unit).is_active is False
        assert [e.action for e in new_events(before)] == [Action.RELEASED, Action.UNIT_DEACTIVATED]
        released = new_events(before).first()
        assert (released.code_id, released.unit_id, released.actor) == (code.pk, unit.pk, network.provider_operator)

    def test_given_scheduled_codes_when_the_running_one_is_released_then_they_move_forward_without_a_hole(
        self, network, clock
    ):
        unit = unit_of(network)
        running, second, third = chain(network, unit, 3)
        clock.shift(10 * DAY)
        now = T0 + 10 * DAY
        before = last_event_id()

        code_release(code=running, actor=network.provider_admin)

        second, third = refresh(second), refresh(third)
        assert (second.activated_at, second.expires_at) == (now, now + 30 * DAY)
        assert (third.activated_at, third.expires_at) == (now + 30 * DAY, now + 60 * DAY)
        assert code_state(second) == CodeState.RUNNING and code_state(third) == CodeState.SCHEDULED
        assert refresh(unit).is_active is True
        assert [(e.action, e.code_id) for e in new_events(before)] == [
            (Action.RELEASED, running.pk),
            (Action.STARTED, second.pk),
            (Action.SCHEDULED, third.pk),  # its place in the queue moved: recorded too
        ]


class TestReleasingAScheduledCode:
    def test_when_released_then_it_is_available_again_and_unstarted(self, network, clock):
        unit = unit_of(network)
        _running, scheduled = chain(network, unit, 2)

        code_release(code=scheduled, actor=network.provider_admin)

        scheduled = refresh(scheduled)
        assert code_state(scheduled) == CodeState.AVAILABLE
        assert (scheduled.unit_id, scheduled.activated_at, scheduled.expires_at) == (None, None, None)

    def test_when_a_middle_code_is_released_then_the_later_ones_move_back_with_no_gap(self, network, clock):
        unit = unit_of(network)
        running, middle, last = chain(network, unit, 3)
        clock.shift(5 * DAY)

        code_release(code=middle, actor=network.provider_admin)

        last = refresh(last)
        assert last.activated_at == refresh(running).expires_at == T0 + 30 * DAY
        assert last.expires_at == T0 + 60 * DAY
        cover = unit_cover(unit)
        assert [c.pk for c in cover.scheduled] == [last.pk]
        assert cover.covered_until == T0 + 60 * DAY

    def test_given_a_released_scheduled_code_then_it_can_be_attached_elsewhere_and_starts_fresh(
        self, network, clock
    ):
        unit = unit_of(network)
        _running, scheduled = chain(network, unit, 2)
        code_release(code=scheduled, actor=network.provider_admin)
        clock.shift(3 * DAY)

        code_attach(code=scheduled, unit=unit_of(network), actor=network.provider_admin)

        scheduled = refresh(scheduled)
        assert (scheduled.activated_at, scheduled.expires_at) == (T0 + 3 * DAY, T0 + 33 * DAY)


class TestRefusals:
    def refused(self, codes, actor, reasons):
        before = snapshot()
        with pytest.raises(DomainError) as error:
            codes_release(codes=codes, actor=actor)
        assert [r.code for r in error.value.refusals] == reasons, error.value.refusals
        assert snapshot() == before
        return error.value

    def test_given_an_available_code_then_refused(self, network, clock):
        self.refused([code_for(network)], network.provider_admin, ["invalid_state"])

    def test_given_a_released_code_then_refused(self, network, clock):
        (code,) = chain(network, unit_of(network), 1)
        code_release(code=code, actor=network.provider_admin)
        self.refused([code], network.provider_admin, ["invalid_state"])

    def test_given_a_queued_code_past_its_use_by_date_then_refused_because_it_would_be_voided(self, network, clock):
        unit = unit_of(network)
        chain(network, unit, 1)
        queued = code_for(network, use_by=(T0 + 2 * DAY).date())
        code_attach(code=queued, unit=unit, actor=network.provider_admin)
        clock.shift(5 * DAY)

        error = self.refused([queued], network.provider_admin, ["code_use_by_passed"])

        assert "would void it" in error.refusals[0].reason
        assert code_state(refresh(queued)) == CodeState.SCHEDULED

    def test_given_a_queued_code_before_its_use_by_date_then_released_and_usable_again(self, network, clock):
        unit = unit_of(network)
        chain(network, unit, 1)
        queued = code_for(network, use_by=(T0 + 2 * DAY).date())
        code_attach(code=queued, unit=unit, actor=network.provider_admin)

        code_release(code=queued, actor=network.provider_admin)

        assert code_state(refresh(queued)) == CodeState.AVAILABLE

    def test_given_an_expired_code_then_refused(self, network, clock):
        (code,) = chain(network, unit_of(network), 1)
        clock.shift(30 * DAY)
        self.refused([code], network.provider_admin, ["invalid_state"])

    def test_given_a_revoked_code_then_refused(self, network, clock):
        code = code_for(network)
        code_revoke(code=code, actor=network.provider_admin)
        self.refused([code], network.provider_admin, ["invalid_state"])

    def test_given_another_tenant_then_not_found(self, network, clock):
        (code,) = chain(network, unit_of(network), 1)
        self.refused([code], network.rival_admin, ["not_found"])

    def test_given_a_code_held_in_another_branch_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        code_attach(code=code, unit=unit_of(network), actor=network.north_admin)
        self.refused([code], network.south_admin, ["not_found"])

    def test_given_a_viewer_then_refused(self, network, clock):
        (code,) = chain(network, unit_of(network), 1)
        before = snapshot()
        with pytest.raises(DomainError) as error:
            code_release(code=code, actor=network.provider_viewer)
        assert error.value.code == "permission_denied"
        assert snapshot() == before

    def test_given_one_refused_code_in_a_bulk_then_nothing_is_released(self, network, clock):
        unit = unit_of(network)
        running, scheduled = chain(network, unit, 2)
        idle, also_idle = codes_for(network, quantity=2)
        error = self.refused([running, idle, scheduled, also_idle], network.provider_admin,
                             ["invalid_state", "invalid_state"])
        assert error.code == "bulk_refused"
        assert [r.item for r in error.refusals] == [idle.display_text, also_idle.display_text]


class TestBulk:
    def test_when_a_whole_chain_is_released_then_the_unit_is_deactivated_and_every_code_recorded(
        self, network, clock
    ):
        unit = unit_of(network)
        codes = chain(network, unit, 3)
        other_unit = unit_of(network)
        (other,) = chain(network, other_unit, 1)
        before = last_event_id()

        released = codes_release(codes=[*codes, other], actor=network.provider_admin)

        assert len(released.codes) == 4
        assert released.deactivated == sorted([unit, other_unit], key=lambda u: (u.name, u.pk))
        assert [code_state(refresh(c)) for c in codes] == [
            CodeState.RELEASED, CodeState.AVAILABLE, CodeState.AVAILABLE,
        ]
        assert refresh(unit).is_active is False and refresh(other_unit).is_active is False
        events = new_events(before)
        assert events.filter(action=Action.RELEASED).count() == 4
        assert events.filter(action=Action.UNIT_DEACTIVATED).count() == 2


class TestWhatAReleaseDeactivates:
    def test_given_three_units_then_the_release_and_its_preview_name_only_the_unit_left_without_cover(
        self, network, clock
    ):
        alone, renewed, queued = (factories.unit(network.harvest, actor=network.provider_admin, name=name)
                                  for name in ("Alone", "Renewed", "Queued"))
        (only,) = chain(network, alone, 1)
        head, _behind = chain(network, renewed, 2)
        _running, tail = chain(network, queued, 2)
        chosen = [only, head, tail]
        before = last_event_id()

        previewed = units_a_release_deactivates(Code.objects.filter(pk__in=[c.pk for c in chosen]))
        released = codes_release(codes=chosen, actor=network.provider_admin)

        assert previewed == released.deactivated == [alone]
        deactivated = new_events(before, action=Action.UNIT_DEACTIVATED).values_list("unit_id", flat=True)
        assert list(deactivated) == [alone.pk]
        assert unit_cover(renewed).is_active and unit_cover(queued).is_active

    def test_given_a_unit_the_clock_already_left_without_cover_then_the_release_names_nothing(self, network, clock):
        unit = unit_of(network)
        (code,) = chain(network, unit, 1)
        clock.shift(31 * DAY)  # it ran out; no job has recorded it

        assert units_a_release_deactivates(Code.objects.filter(pk=code.pk)) == []
