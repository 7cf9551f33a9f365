"""Disabling an account disables its whole branch: a reseller that stops trading takes its
sub-resellers and customers with it. Enabling it again enables what its disabling disabled,
not the accounts below that were disabled on their own; nothing is enabled under a disabled one.

The network: Acme Telematics > North Sales > North Farms Dealer > Harvest Co, and
Acme Telematics > South Sales > South Rentals."""

import pytest
from django.urls import reverse

from cms.errors import DomainError
from cms.models import Account, User
from cms.services import account_disable, account_enable
from codes.selectors import codes_visible_to
from tests import factories


def active(*accounts) -> list[bool]:
    return [Account.objects.get(pk=a.pk).is_active for a in accounts]


def test_given_a_reseller_when_disabled_then_every_account_below_it_is_disabled_and_others_are_not(network):
    account_disable(actor=network.provider_admin, account=network.north)
    assert active(network.north, network.north_farms, network.harvest) == [False, False, False]
    assert active(network.provider, network.south, network.south_rentals) == [True, True, True]
    assert {a.disabled_by_id for a in Account.objects.filter(is_active=False)} == {network.north.pk}


def test_given_a_disabled_reseller_then_the_users_below_it_can_neither_sign_in_nor_see_codes(network, client):
    codes = factories.codes(network.provider_admin, quantity=1, period_days=30)
    from codes.services import code_share

    code_share(code=codes[0], to_account=network.harvest, actor=network.provider_admin)
    account_disable(actor=network.provider_admin, account=network.north)
    harvest_user = User.objects.get(pk=network.harvest_user.pk)
    assert not codes_visible_to(harvest_user).exists()
    client.force_login(harvest_user)
    response = client.get(reverse("codes:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_given_the_reseller_enabled_again_then_the_accounts_it_disabled_come_back(network):
    account_disable(actor=network.provider_admin, account=network.north)
    account_enable(actor=network.provider_admin, account=network.north)
    assert active(network.north, network.north_farms, network.harvest) == [True, True, True]
    assert not Account.objects.exclude(disabled_by=None).exists()


def test_given_a_customer_disabled_on_its_own_then_enabling_the_reseller_above_leaves_it_disabled(network):
    account_disable(actor=network.north_admin, account=network.harvest)
    account_disable(actor=network.provider_admin, account=network.north)
    account_enable(actor=network.provider_admin, account=network.north)
    assert active(network.north, network.north_farms, network.harvest) == [True, True, False]


def test_given_an_account_disabled_with_its_branch_then_it_cannot_be_enabled_before_the_one_above(network):
    account_disable(actor=network.provider_admin, account=network.north)
    with pytest.raises(DomainError) as refused:
        account_enable(actor=network.provider_admin, account=network.harvest)
    assert refused.value.message == "North Sales is disabled: enable it first."
    assert active(network.harvest) == [False]


def test_given_a_branch_disabled_from_above_when_an_account_in_it_is_disabled_on_its_own_then_it_stays_disabled(
    network,
):
    # North Farms is disabled with North; then its admin above disables it on its own. Enabling
    # North later must not bring North Farms (nor Harvest Co, below it) back.
    account_disable(actor=network.provider_admin, account=network.north)
    account_disable(actor=network.provider_admin, account=network.north_farms)
    account_enable(actor=network.provider_admin, account=network.north)
    assert active(network.north, network.north_farms, network.harvest) == [True, False, False]
    account_enable(actor=network.provider_admin, account=network.north_farms)
    assert active(network.north_farms, network.harvest) == [True, True]


def test_given_the_enable_page_of_an_account_under_a_disabled_one_then_the_refusal_shows(network, client):
    account_disable(actor=network.provider_admin, account=network.north)
    client.force_login(network.provider_admin)
    url = reverse("accounts:enable", args=[network.harvest.pk])
    response = client.post(url)
    assert response.status_code == 400
    assert "North Sales is disabled: enable it first." in response.content.decode()
    assert active(network.harvest) == [False]


def test_given_accounts_disabled_before_the_rule_then_the_migration_disables_their_branches(network):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cms.migrations.0002_account_disabled_by")
    Account.objects.filter(pk__in=[network.north.pk, network.harvest.pk]).update(is_active=False, disabled_by=None)
    migration.disable_branches(apps, None)
    rows = {a.pk: (a.is_active, a.disabled_by_id) for a in Account.objects.all()}
    assert rows[network.north.pk] == (False, network.north.pk)
    assert rows[network.north_farms.pk] == (False, network.north.pk)
    assert rows[network.harvest.pk] == (False, network.harvest.pk)  # disabled on its own before
    assert rows[network.south.pk] == (True, None)
