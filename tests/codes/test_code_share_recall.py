"""code_share / code_recall and their bulk variants (invariant 3: only a code on no unit moves,
available or released; sharing goes down below the holder, recalling brings a code up to the
caller's account)."""

import pytest

from audit.models import Action
from cms.errors import DomainError
from codes.selectors import codes_visible_to
from codes.services import code_attach, code_recall, code_release, code_revoke, code_share, codes_recall, codes_share
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, new_events, refresh, snapshot


def refused(call, reasons, **kwargs):
    before = snapshot()
    with pytest.raises(DomainError) as error:
        call(**kwargs)
    got = [r.code for r in error.value.refusals] or [error.value.code]
    assert got == reasons, error.value
    assert snapshot() == before, "a refusal must change nothing, audit log included"
    return error.value


class TestShare:
    def test_given_a_provider_code_when_shared_to_a_reseller_then_the_reseller_holds_it(self, network, clock):
        code = code_for(network)
        before = last_event_id()

        assert code_share(code=code, to_account=network.north, actor=network.provider_operator) == 1

        assert refresh(code).holder_id == network.north.pk
        (event,) = new_events(before)
        assert event.action == Action.SHARED
        assert (event.from_account_id, event.to_account_id, event.account_id) == (
            network.provider.pk, network.north.pk, network.north.pk,
        )
        assert event.actor == network.provider_operator

    def test_when_shared_down_then_it_is_visible_to_the_holder_and_above_and_nobody_beside(self, network, clock):
        code = code_for(network)
        code_share(code=code, to_account=network.north_farms, actor=network.provider_admin)

        assert codes_visible_to(network.north_farms_operator).filter(pk=code.pk).exists()
        assert codes_visible_to(network.north_admin).filter(pk=code.pk).exists()
        assert codes_visible_to(network.provider_admin).filter(pk=code.pk).exists()
        assert not codes_visible_to(network.south_admin).filter(pk=code.pk).exists()
        assert not codes_visible_to(network.harvest_user).filter(pk=code.pk).exists()
        assert not codes_visible_to(network.rival_admin).filter(pk=code.pk).exists()

    def test_a_reseller_shares_further_down_its_own_branch(self, network, clock):
        code = code_for(network, holder=network.north)
        code_share(code=code, to_account=network.harvest, actor=network.north_admin)
        assert refresh(code).holder_id == network.harvest.pk

    def test_bulk_share_moves_every_code_and_writes_one_event_each(self, network, clock):
        codes = codes_for(network, quantity=4)
        before = last_event_id()
        assert codes_share(codes=codes, to_account=network.south, actor=network.provider_admin) == 4
        assert {refresh(c).holder_id for c in codes} == {network.south.pk}
        assert new_events(before, action=Action.SHARED).count() == 4

    def test_given_a_sibling_branch_then_the_target_is_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_share, ["not_found"], codes=[code], to_account=network.south, actor=network.north_admin)

    def test_given_an_account_above_the_actor_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north_farms)
        refused(codes_share, ["not_found"], codes=[code], to_account=network.north, actor=network.north_farms_operator)

    def test_given_another_providers_account_then_not_found(self, network, clock):
        code = code_for(network)
        refused(codes_share, ["not_found"], codes=[code], to_account=network.rival_customer,
                actor=network.provider_admin)

    def test_given_a_target_outside_the_holders_branch_then_refused(self, network, clock):
        code = code_for(network, holder=network.north)
        error = refused(codes_share, ["outside_branch"], codes=[code], to_account=network.south_rentals,
                        actor=network.provider_admin)
        assert "South Rentals" in error.message

    def test_given_the_holder_itself_then_refused(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_share, ["outside_branch"], codes=[code], to_account=network.north, actor=network.provider_admin)

    def test_given_a_code_of_another_tenant_then_not_found(self, network, clock):
        rival_code = factories.codes(network.rival_admin, quantity=1)[0]
        refused(codes_share, ["not_found"], codes=[rival_code], to_account=network.north, actor=network.provider_admin)

    def test_given_a_code_held_above_the_actor_then_not_found(self, network, clock):
        code = code_for(network)  # held by the provider
        refused(codes_share, ["not_found"], codes=[code], to_account=network.north_farms, actor=network.north_admin)

    def test_given_a_running_code_then_refused(self, network, clock):
        code = code_for(network)
        code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                    actor=network.provider_admin)
        refused(codes_share, ["invalid_state"], codes=[code], to_account=network.north, actor=network.provider_admin)

    def test_given_a_revoked_code_then_refused(self, network, clock):
        code = code_for(network)
        code_revoke(code=code, actor=network.provider_admin)
        refused(codes_share, ["invalid_state"], codes=[code], to_account=network.north, actor=network.provider_admin)

    def test_given_a_use_by_date_passed_then_refused(self, network, clock):
        code = code_for(network, use_by=T0.date())
        clock.shift(2 * DAY)
        refused(codes_share, ["invalid_state"], codes=[code], to_account=network.north, actor=network.provider_admin)

    def test_given_a_viewer_then_refused(self, network, clock):
        code = code_for(network)
        refused(codes_share, ["permission_denied"], codes=[code], to_account=network.north,
                actor=network.provider_viewer)

    def test_given_one_refused_code_in_a_bulk_then_nothing_moves_and_each_refusal_is_listed(self, network, clock):
        good, revoked, running, good_too = codes_for(network, quantity=4)
        code_revoke(code=revoked, actor=network.provider_admin)
        code_attach(code=running, unit=factories.unit(network.harvest, actor=network.provider_admin),
                    actor=network.provider_admin)
        error = refused(codes_share, ["invalid_state", "invalid_state"],
                        codes=[good, revoked, running, good_too], to_account=network.north,
                        actor=network.provider_admin)
        assert error.code == "bulk_refused"
        assert [r.item for r in error.refusals] == [revoked.display_text, running.display_text]


class TestRecall:
    def test_given_a_code_held_below_when_recalled_then_the_caller_holds_it(self, network, clock):
        code = code_for(network, holder=network.harvest)
        before = last_event_id()

        assert code_recall(code=code, actor=network.north_admin) == 1

        assert refresh(code).holder_id == network.north.pk
        (event,) = new_events(before)
        assert event.action == Action.RECALLED
        assert (event.from_account_id, event.to_account_id) == (network.harvest.pk, network.north.pk)

    def test_the_provider_recalls_from_any_depth(self, network, clock):
        codes = codes_for(network, quantity=2, holder=network.north_farms)
        assert codes_recall(codes=codes, actor=network.provider_admin) == 2
        assert {refresh(c).holder_id for c in codes} == {network.provider.pk}

    def test_given_someone_below_the_holder_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_recall, ["not_found"], codes=[code], actor=network.north_farms_operator)

    def test_given_a_sibling_branch_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_recall, ["not_found"], codes=[code], actor=network.south_admin)

    def test_given_another_tenant_then_not_found(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_recall, ["not_found"], codes=[code], actor=network.rival_admin)

    def test_given_the_callers_own_code_then_refused(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_recall, ["invalid_state"], codes=[code], actor=network.north_admin)

    def test_given_a_started_code_then_refused(self, network, clock):
        code = code_for(network, holder=network.harvest)
        code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                    actor=network.harvest_user)
        refused(codes_recall, ["invalid_state"], codes=[code], actor=network.provider_admin)

    def test_given_a_viewer_then_refused(self, network, clock):
        code = code_for(network, holder=network.north)
        refused(codes_recall, ["permission_denied"], codes=[code], actor=network.provider_viewer)

    def test_given_one_refused_code_in_a_bulk_then_nothing_moves(self, network, clock):
        below = code_for(network, holder=network.north)
        own = code_for(network)
        rival_code = factories.codes(network.rival_admin, quantity=1)[0]
        error = refused(codes_recall, ["invalid_state", "not_found"], codes=[below, own, rival_code],
                        actor=network.provider_admin)
        assert "2 of 3" in error.message


class TestReleasedCodesMoveLikeAvailableOnes:
    """A released code keeps its clock wherever it goes: a provider takes back the remaining time
    of a departing dealer's released codes, and hands it to another."""

    def released_code(self, network, holder):
        code = code_for(network, holder=holder)
        unit = factories.unit(network.harvest, actor=network.provider_admin)
        code_attach(code=code, unit=unit, actor=network.provider_admin)
        clock_started = refresh(code).activated_at
        code_release(code=code, actor=network.provider_admin)
        return refresh(code), clock_started

    def test_given_a_released_code_held_below_when_recalled_then_the_caller_holds_it_and_its_clock_runs_on(
        self, network, clock
    ):
        code, started = self.released_code(network, network.north_farms)
        clock.shift(5 * DAY)
        before = last_event_id()

        assert code_recall(code=code, actor=network.provider_admin) == 1

        code = refresh(code)
        assert code.holder_id == network.provider.pk
        assert (code.activated_at, code.expires_at) == (started, started + 30 * DAY)
        (event,) = new_events(before)
        assert (event.action, event.from_account_id, event.to_account_id) == (
            Action.RECALLED, network.north_farms.pk, network.provider.pk,
        )

    def test_given_a_released_code_when_shared_to_another_branch_then_it_goes_with_its_clock(self, network, clock):
        code, started = self.released_code(network, network.provider)

        assert code_share(code=code, to_account=network.south, actor=network.provider_admin) == 1

        code = refresh(code)
        assert code.holder_id == network.south.pk and code.activated_at == started

    def test_given_a_released_code_then_revoking_is_still_refused(self, network, clock):
        code, _started = self.released_code(network, network.provider)
        error = refused(code_revoke, ["invalid_state"], code=code, actor=network.provider_admin)
        assert "never started" in str(error.refusals[0].reason)

    def test_given_an_expired_released_code_then_sharing_is_refused(self, network, clock):
        code, _started = self.released_code(network, network.provider)
        clock.shift(31 * DAY)
        error = refused(code_share, ["invalid_state"], code=code, to_account=network.south, actor=network.provider_admin)
        assert "expired" in str(error.refusals[0].reason)
