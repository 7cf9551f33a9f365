"""Specifications of the account services: create, edit, disable, move a customer."""

import pytest

from audit.models import Action, Event
from cms.errors import DomainError, NotFound, PermissionDenied
from cms.models import Account
from cms.services import (
    account_create,
    account_disable,
    account_enable,
    account_move_candidates,
    account_update,
)
from codes.cover import unit_is_active
from codes.rules import code_state
from codes.selectors import codes_visible_to
from codes.services import account_move_customer, code_attach, code_share
from tests import factories


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def subtree_ok(code):
    """Invariant 4 as it must hold at rest: a code on a unit is held inside the unit's branch."""
    code = fresh(code)
    return code.unit_id is None or code.holder.contains(code.unit.owner)


class TestAccountCreate:
    def test_given_a_reseller_admin_when_creating_a_customer_below_then_it_is_in_its_subtree(self, network):
        customer = account_create(actor=network.north_admin, parent=network.north, name="Fresh Farm", kind="customer")
        assert network.north.contains(fresh(customer))
        assert customer.time_zone == network.north.time_zone

    def test_given_an_operator_when_creating_an_account_then_refused(self, network):
        with pytest.raises(PermissionDenied):
            account_create(actor=network.north_farms_operator, parent=network.north_farms, name="X", kind="customer")

    def test_given_a_parent_in_another_branch_when_creating_then_not_found(self, network):
        with pytest.raises(NotFound):
            account_create(actor=network.north_admin, parent=network.south, name="X", kind="customer")

    def test_given_another_provider_when_creating_then_not_found(self, network):
        with pytest.raises(NotFound):
            account_create(actor=network.rival_admin, parent=network.provider, name="X", kind="reseller")

    def test_given_a_customer_parent_when_creating_then_refused(self, network):
        with pytest.raises(DomainError) as refused:
            account_create(actor=network.provider_admin, parent=network.harvest, name="X", kind="customer")
        assert refused.value.code == "validation_error"

    def test_given_a_blank_name_or_unknown_kind_or_zone_then_refused_and_nothing_created(self, network):
        before = Account.objects.count()
        for kwargs in ({"name": " ", "kind": "customer"}, {"name": "X", "kind": "provider"},
                       {"name": "X", "kind": "customer", "time_zone": "Mars/Olympus"}):
            with pytest.raises(DomainError):
                account_create(actor=network.provider_admin, parent=network.north, **kwargs)
        assert Account.objects.count() == before


class TestAccountUpdate:
    def test_given_an_admin_when_renaming_an_account_below_then_saved(self, network):
        account_update(actor=network.north_admin, account=network.harvest, name="Harvest Ltd", time_zone="Europe/Paris")
        harvest = fresh(network.harvest)
        assert (harvest.name, harvest.time_zone) == ("Harvest Ltd", "Europe/Paris")

    def test_given_an_account_above_when_renaming_then_not_found(self, network):
        with pytest.raises(NotFound):
            account_update(actor=network.north_admin, account=network.provider, name="Mine", time_zone="UTC")
        assert fresh(network.provider).name == "Acme Telematics"

    def test_given_a_bad_time_zone_then_refused(self, network):
        with pytest.raises(DomainError):
            account_update(actor=network.north_admin, account=network.north, name="N", time_zone="Nowhere/Land")
        assert fresh(network.north).name == "North Sales"


class TestAccountDisable:
    def test_given_an_admin_when_disabling_an_account_below_then_nothing_is_deleted(self, network):
        unit = factories.unit(network.harvest)
        account_disable(actor=network.north_admin, account=network.harvest)
        assert fresh(network.harvest).is_active is False
        assert fresh(unit).owner_id == network.harvest.pk
        assert fresh(network.harvest_user).is_active is True  # the user stays; the account keeps it out
        account_enable(actor=network.north_admin, account=network.harvest)
        assert fresh(network.harvest).is_active is True

    def test_given_an_admin_when_disabling_its_own_account_then_not_found(self, network):
        with pytest.raises(NotFound):
            account_disable(actor=network.north_admin, account=network.north)

    def test_given_a_viewer_when_disabling_then_refused(self, network):
        with pytest.raises(PermissionDenied):
            account_disable(actor=network.provider_viewer, account=network.north)
        assert fresh(network.north).is_active

    def test_given_a_disabled_account_then_its_users_see_nothing(self, network):
        factories.unit(network.harvest)
        account_disable(actor=network.provider_admin, account=network.harvest)
        harvest_user = fresh(network.harvest_user)
        assert not codes_visible_to(harvest_user).exists()


class TestAccountMoveCustomer:
    def test_given_a_customer_with_its_own_codes_when_moved_then_units_and_codes_follow_and_keep_running(self, network):
        unit = factories.unit(network.harvest)
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.harvest, actor=network.provider_admin)
        code_attach(code=code, unit=unit, actor=network.provider_admin)

        moved = account_move_customer(actor=network.north_admin, customer=network.harvest, new_parent=network.north)

        assert fresh(network.north).strictly_contains(moved)
        assert not fresh(network.north_farms).contains(moved)
        assert fresh(unit).owner_id == moved.pk
        assert fresh(code).holder_id == moved.pk
        assert code_state(fresh(code)) == "running" and unit_is_active(unit)
        assert subtree_ok(code)

    def test_given_codes_of_the_old_reseller_on_its_units_when_moved_then_they_pass_to_the_customer_and_are_audited(
        self, network
    ):
        unit = factories.unit(network.harvest)
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.north_farms, actor=network.provider_admin)
        code_attach(code=code, unit=unit, actor=network.north_farms_operator)

        moved = account_move_customer(actor=network.north_admin, customer=network.harvest, new_parent=network.north)

        code = fresh(code)
        assert code.holder_id == moved.pk
        assert subtree_ok(code)
        assert code_state(code) == "running"
        event = Event.objects.get(code=code, action=Action.SHARED, details__reason="customer_moved")
        assert (event.from_account_id, event.to_account_id, event.actor_id) == (
            network.north_farms.pk, moved.pk, network.north_admin.pk,
        )
        # The old reseller lost sight of the customer and of the code used there.
        assert not codes_visible_to(network.north_farms_operator).filter(pk=code.pk).exists()
        assert codes_visible_to(network.north_admin).filter(pk=code.pk).exists()

    def test_given_codes_held_above_both_parents_when_moved_then_their_holder_stays(self, network):
        unit = factories.unit(network.harvest)
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
        code_attach(code=code, unit=unit, actor=network.north_admin)

        account_move_customer(actor=network.north_admin, customer=network.harvest, new_parent=network.north)

        assert fresh(code).holder_id == network.north.pk
        assert subtree_ok(code)
        assert not Event.objects.filter(code=code, details__reason="customer_moved").exists()

    def test_given_a_target_in_another_branch_of_the_actor_then_not_found_and_nothing_moves(self, network):
        path = network.harvest.path
        with pytest.raises(NotFound):
            account_move_customer(actor=network.north_admin, customer=network.harvest, new_parent=network.south)
        assert fresh(network.harvest).path == path

    def test_given_the_provider_admin_when_moving_across_resellers_then_allowed(self, network):
        moved = account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.south)
        assert fresh(network.south).contains(moved)

    def test_given_a_reseller_without_accounts_below_when_moved_there_then_it_is_its_first_child(self, network):
        empty = account_create(actor=network.provider_admin, parent=network.south, name="Empty Dealer", kind="reseller")
        unit = factories.unit(network.harvest)
        moved = account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=empty)
        assert fresh(empty).strictly_contains(moved) and fresh(empty).get_children_count() == 1
        assert fresh(unit).owner_id == moved.pk
        assert fresh(network.north_farms).get_children_count() == 0

    def test_given_another_provider_then_not_found(self, network):
        with pytest.raises(NotFound):
            account_move_customer(actor=network.rival_admin, customer=network.harvest, new_parent=network.rival)
        with pytest.raises(NotFound):
            account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.rival)

    def test_given_a_reseller_or_a_customer_target_or_the_same_parent_then_refused(self, network):
        with pytest.raises(DomainError):
            account_move_customer(actor=network.provider_admin, customer=network.north_farms, new_parent=network.south)
        with pytest.raises(DomainError):
            account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.south_rentals)
        with pytest.raises(DomainError):
            account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.north_farms)

    def test_given_an_operator_then_refused(self, network):
        with pytest.raises(PermissionDenied):
            account_move_customer(actor=network.north_farms_operator, customer=network.harvest, new_parent=network.north)

    def test_candidates_are_the_resellers_of_the_actor_subtree_except_the_current_parent(self, network):
        names = {a.name for a in account_move_candidates(actor=network.north_admin, customer=network.harvest)}
        assert names == {"North Sales"}
        names = {a.name for a in account_move_candidates(actor=network.provider_admin, customer=network.harvest)}
        assert names == {"Acme Telematics", "North Sales", "South Sales"}
