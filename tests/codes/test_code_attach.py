"""code_attach / codes_attach: putting a code on a unit (DOMAIN.md "Lifecycle", invariants 1, 4, 5)."""

import pytest

from audit.models import Action, Event
from cms.errors import DomainError
from codes.cover import unit_cover, unit_is_active
from codes.models import CodeState
from codes.rules import code_state
from codes.services import code_attach, code_release, code_revoke, codes_attach
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, refresh, snapshot


def unit_of(network, owner):
    return factories.unit(owner, actor=network.provider_admin)


class TestHappyPath:
    def test_given_an_available_code_when_attached_to_an_idle_unit_then_it_runs_from_now(self, network, clock):
        code = code_for(network, period_days=30)
        unit = unit_of(network, network.harvest)

        code_attach(code=code, unit=unit, actor=network.provider_operator)

        code, unit = refresh(code), refresh(unit)
        assert code_state(code) == CodeState.RUNNING
        assert code.unit_id == unit.pk
        assert code.activated_at == T0
        assert code.expires_at == T0 + 30 * DAY
        assert unit.is_active is True
        assert unit_is_active(unit)

    def test_given_an_attach_then_the_audit_log_records_who_what_and_when(self, network, clock):
        code = code_for(network, period_days=90)
        unit = unit_of(network, network.harvest)
        before = last_event_id()

        code_attach(code=code, unit=unit, actor=network.provider_operator, client_address="198.51.100.7")

        attached, activated = Event.objects.filter(pk__gt=before).order_by("pk")
        assert attached.action == Action.ATTACHED
        assert (attached.code_id, attached.unit_id) == (code.pk, unit.pk)
        assert attached.actor == network.provider_operator
        assert attached.actor_account == network.provider
        assert attached.account_id == code.holder_id
        assert (attached.activated_at, attached.expires_at, attached.period_days) == (T0, T0 + 90 * DAY, 90)
        assert attached.client_address == "198.51.100.7"
        assert attached.occurred_at == T0
        assert activated.action == Action.UNIT_ACTIVATED
        assert activated.unit_id == unit.pk
        assert activated.account_id == network.harvest.pk

    def test_given_a_covered_unit_when_a_second_code_is_attached_then_it_is_scheduled_at_the_end_of_cover(
        self, network, clock
    ):
        first, second = codes_for(network, quantity=2, period_days=30)
        unit = unit_of(network, network.harvest)
        code_attach(code=first, unit=unit, actor=network.provider_admin)
        clock.shift(10 * DAY)

        code_attach(code=second, unit=unit, actor=network.provider_admin)

        second = refresh(second)
        assert code_state(second) == CodeState.SCHEDULED
        assert second.activated_at == T0 + 30 * DAY  # no gap, no lost day
        assert second.expires_at == T0 + 60 * DAY
        assert Event.objects.filter(code=second, action=Action.SCHEDULED).count() == 1

    def test_given_several_codes_for_one_unit_when_attached_in_bulk_then_they_queue_in_order(self, network, clock):
        codes = codes_for(network, quantity=3, period_days=30)
        unit = unit_of(network, network.harvest)

        codes_attach(pairs=[(c, unit) for c in codes], actor=network.provider_admin)

        cover = unit_cover(unit)
        assert cover.running.pk == codes[0].pk
        assert [c.pk for c in cover.scheduled] == [codes[1].pk, codes[2].pk]
        assert cover.covered_until == T0 + 90 * DAY
        assert [refresh(c).activated_at for c in codes] == [T0, T0 + 30 * DAY, T0 + 60 * DAY]

    def test_given_a_reseller_holding_a_code_when_it_attaches_to_a_unit_below_then_it_runs(self, network, clock):
        code = code_for(network, holder=network.north_farms)
        unit = unit_of(network, network.harvest)

        code_attach(code=code, unit=unit, actor=network.north_farms_operator)

        assert code_state(refresh(code)) == CodeState.RUNNING

    def test_given_a_code_held_below_when_someone_above_the_holder_attaches_it_then_it_runs(self, network, clock):
        code = code_for(network, holder=network.north_farms)
        unit = unit_of(network, network.harvest)

        code_attach(code=code, unit=unit, actor=network.north_admin)

        assert code_state(refresh(code)) == CodeState.RUNNING


class TestRefusals:
    def refused(self, *, code, unit, actor, reason):
        before = snapshot()
        with pytest.raises(DomainError) as error:
            code_attach(code=code, unit=unit, actor=actor)
        assert error.value.code == reason, error.value.message
        assert str(error.value)
        assert snapshot() == before, "a refused attach must change nothing, audit log included"
        return error.value

    def test_given_a_code_of_another_provider_then_not_found(self, network, clock):
        code = code_for(network)
        rival_unit = factories.unit(network.rival_customer, actor=network.rival_admin)
        self.refused(code=code, unit=rival_unit, actor=network.rival_admin, reason="not_found")

    def test_given_a_unit_of_another_provider_then_not_found(self, network, clock):
        code = code_for(network)
        rival_unit = factories.unit(network.rival_customer, actor=network.rival_admin)
        self.refused(code=code, unit=rival_unit, actor=network.provider_admin, reason="not_found")

    def test_given_a_code_held_in_a_sibling_branch_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        unit = unit_of(network, network.south_rentals)
        self.refused(code=code, unit=unit, actor=network.south_admin, reason="not_found")

    def test_given_a_code_held_above_the_actor_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        unit = unit_of(network, network.harvest)
        self.refused(code=code, unit=unit, actor=network.north_farms_operator, reason="not_found")

    def test_given_a_unit_outside_the_holders_branch_then_refused(self, network, clock):
        code = code_for(network, holder=network.north)
        unit = unit_of(network, network.south_rentals)
        error = self.refused(code=code, unit=unit, actor=network.provider_admin, reason="outside_branch")
        assert unit.hardware_id in error.message

    def test_given_a_revoked_code_then_refused(self, network, clock):
        code = code_for(network)
        code_revoke(code=code, actor=network.provider_admin)
        self.refused(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin,
                     reason="code_revoked")

    def test_given_an_expired_code_then_refused(self, network, clock):
        code = code_for(network, period_days=30)
        first_unit = unit_of(network, network.harvest)
        code_attach(code=code, unit=first_unit, actor=network.provider_admin)
        code_release(code=code, actor=network.provider_admin)
        clock.shift(31 * DAY)
        self.refused(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin,
                     reason="code_expired")

    def test_given_a_use_by_date_passed_then_refused(self, network, clock):
        code = code_for(network, use_by=(T0 + 5 * DAY).date())
        clock.shift(6 * DAY)
        error = self.refused(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin,
                             reason="code_use_by_passed")
        assert "used by" in error.message

    def test_given_the_use_by_day_itself_then_the_code_still_attaches(self, network, clock):
        code = code_for(network, use_by=T0.date())
        clock.shift(DAY / 2)
        code_attach(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin)
        assert code_state(refresh(code)) == CodeState.RUNNING

    def test_given_a_running_code_then_attaching_it_again_is_refused(self, network, clock):
        code = code_for(network)
        code_attach(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin)
        self.refused(code=code, unit=unit_of(network, network.harvest), actor=network.provider_admin,
                     reason="code_already_used")

    def test_given_a_scheduled_code_then_attaching_it_elsewhere_is_refused(self, network, clock):
        first, second = codes_for(network, quantity=2)
        unit = unit_of(network, network.harvest)
        codes_attach(pairs=[(first, unit), (second, unit)], actor=network.provider_admin)
        self.refused(code=second, unit=unit_of(network, network.harvest), actor=network.provider_admin,
                     reason="code_already_used")

    def test_given_a_viewer_then_refused(self, network, clock):
        code = code_for(network)
        self.refused(code=code, unit=unit_of(network, network.harvest), actor=network.provider_viewer,
                     reason="permission_denied")

    def test_given_a_released_code_and_a_covered_unit_then_refused(self, network, clock):
        released, cover = codes_for(network, quantity=2)
        code_attach(code=released, unit=unit_of(network, network.harvest), actor=network.provider_admin)
        code_release(code=released, actor=network.provider_admin)
        covered = unit_of(network, network.harvest)
        code_attach(code=cover, unit=covered, actor=network.provider_admin)
        self.refused(code=released, unit=covered, actor=network.provider_admin, reason="unit_covered")


class TestBulk:
    def test_given_one_refused_row_then_nothing_changes_and_every_refusal_is_listed(self, network, clock):
        good, revoked = codes_for(network, quantity=2)
        code_revoke(code=revoked, actor=network.provider_admin)
        rival_code = factories.codes(network.rival_admin, quantity=1)[0]
        units = [unit_of(network, network.harvest) for _ in range(3)]
        before = snapshot()

        with pytest.raises(DomainError) as error:
            codes_attach(
                pairs=[(good, units[0]), (revoked, units[1]), (rival_code, units[2])], actor=network.provider_admin
            )

        assert error.value.code == "bulk_refused"
        assert [r.code for r in error.value.refusals] == ["code_revoked", "not_found"]
        assert error.value.refusals[0].item == revoked.display_text
        assert "2 of 3" in error.value.message
        assert snapshot() == before
        assert refresh(good).unit_id is None  # the one row that alone was allowed is not applied either

    def test_given_the_same_code_twice_then_refused_as_duplicate(self, network, clock):
        code = code_for(network)
        units = [unit_of(network, network.harvest) for _ in range(2)]
        before = snapshot()
        with pytest.raises(DomainError) as error:
            codes_attach(pairs=[(code, units[0]), (code, units[1])], actor=network.provider_admin)
        assert [r.code for r in error.value.refusals] == ["duplicate"]
        assert snapshot() == before

    def test_given_all_rows_valid_then_events_are_written_for_each(self, network, clock):
        codes = codes_for(network, quantity=3)
        units = [unit_of(network, network.harvest) for _ in range(3)]
        before = last_event_id()

        codes_attach(pairs=list(zip(codes, units, strict=True)), actor=network.provider_admin)

        events = Event.objects.filter(pk__gt=before)
        assert events.filter(action=Action.ATTACHED).count() == 3
        assert events.filter(action=Action.UNIT_ACTIVATED).count() == 3

    def test_given_ids_instead_of_objects_then_it_works_the_same(self, network, clock):
        code = code_for(network)
        unit = unit_of(network, network.harvest)
        attached = code_attach(code=code.pk, unit=unit.pk, actor=network.provider_admin)
        assert attached.pk == code.pk
        assert code_state(refresh(code)) == CodeState.RUNNING
