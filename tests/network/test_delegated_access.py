"""Delegated window access: resellers and sub-resellers use the same Codes, Units, Report and
Dashboard pages as the provider, limited to their part of the tree (the Batches pages are the
provider's own); customers see their own units, the codes on them and their cover, and the
redemption form."""

import pytest
from django.urls import reverse
from django.utils import timezone

from codes.cover import masked_code
from codes.models import Code
from codes.services import code_attach, code_share
from tests import factories

WINDOW = ["dashboard", "codes:list", "units:list", "report:list"]


@pytest.fixture
def chain(network):
    """Acme shares to North, North to its farms dealer, who puts a code on Harvest's tractor;
    South gets codes of its own and a unit at its customer."""
    north_codes = factories.codes(network.provider_admin, quantity=3, period_days=30)
    south_codes = factories.codes(network.provider_admin, quantity=2, period_days=90)
    for code in north_codes:
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    for code in south_codes:
        code_share(code=code, to_account=network.south, actor=network.provider_admin)
    code_share(code=north_codes[0], to_account=network.north_farms, actor=network.north_admin)
    tractor = factories.unit(network.harvest, name="Harvest Tractor", hardware_id="356000000000111")
    code_attach(code=north_codes[0], unit=tractor, actor=network.north_farms_operator)
    rental = factories.unit(network.south_rentals, name="Rental Van", hardware_id="356000000000222")
    code_attach(code=south_codes[0], unit=rental, actor=network.south_admin)
    network.north_codes, network.south_codes, network.tractor, network.rental = north_codes, south_codes, tractor, rental
    return network


def page(client, name, **query):
    response = client.get(reverse(name), query)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("name", WINDOW)
def test_given_a_reseller_then_every_window_page_opens_and_shows_only_its_branch(chain, client, name):
    client.force_login(chain.north_admin)
    body = page(client, name)
    assert "Rental Van" not in body and "356000000000222" not in body
    for code in chain.south_codes:
        assert code.display_text not in body


def test_given_a_reseller_then_the_codes_list_holds_its_branch_codes(chain, client):
    client.force_login(chain.north_admin)
    body = page(client, "codes:list", state=["available", "running"])
    for code in chain.north_codes:
        assert code.display_text in body


def test_given_a_sub_reseller_then_it_sees_its_customer_unit_but_not_its_parents_stock(chain, client):
    client.force_login(chain.north_farms_operator)
    units = page(client, "units:list")
    assert "Harvest Tractor" in units
    codes = page(client, "codes:list", state=["available", "running"])
    assert chain.north_codes[0].display_text in codes
    assert chain.north_codes[1].display_text not in codes  # still held by North, above it


def test_given_a_reseller_then_the_batches_pages_are_refused(chain, client):
    client.force_login(chain.north_admin)
    batch = chain.north_codes[0].batch
    for url in (reverse("batches:list"), reverse("batches:generate"), reverse("batches:detail", args=[batch.pk])):
        assert client.get(url).status_code == 403


def test_given_a_reseller_then_the_report_shows_its_branch_events_only(chain, client):
    client.force_login(chain.north_admin)
    body = page(client, "report:list")
    assert "Harvest Tractor" in body or "356000000000111" in body
    assert "Rental Van" not in body and "356000000000222" not in body


class TestCustomer:
    def test_given_a_customer_then_it_sees_its_unit_the_code_on_it_and_its_cover(self, chain, client):
        client.force_login(chain.harvest_user)
        assert "Harvest Tractor" in page(client, "units:list")
        detail = client.get(reverse("units:detail", args=[chain.tractor.pk]))
        assert detail.status_code == 200
        body = detail.content.decode()
        code = Code.objects.get(pk=chain.north_codes[0].pk)
        # The code is held by the dealer above the customer: shown masked, never in full.
        assert masked_code(code.display_text) in body and code.display_text not in body
        local_end = timezone.localtime(code.expires_at, chain.harvest.zone)
        assert local_end.strftime("%Y-%m-%d %H:%M") in body

    def test_given_a_customer_then_the_navigation_has_no_batches_or_accounts_but_the_redemption_form(
        self, chain, client
    ):
        client.force_login(chain.harvest_user)
        nav = page(client, "units:list").split("</nav>")[0]
        assert reverse("batches:list") not in nav and reverse("accounts:list") + '"' not in nav
        assert reverse("redeem:redeem") in nav
        assert client.get(reverse("redeem:redeem")).status_code == 200

    def test_given_a_customer_then_it_sees_nothing_of_its_resellers(self, chain, client):
        client.force_login(chain.harvest_user)
        for name in WINDOW:
            body = client.get(reverse(name)).content.decode()
            assert chain.north_codes[1].display_text not in body
            assert "Rental Van" not in body

    def test_given_a_reseller_then_its_navigation_has_accounts_but_no_batches(self, chain, client):
        client.force_login(chain.north_admin)
        nav = page(client, "dashboard").split("</nav>")[0]
        assert reverse("accounts:list") in nav and reverse("batches:list") not in nav
