"""Every number card of the dashboard opens the list of exactly what it counts: its link is the
window filtered to those rows."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from codes.services import code_attach, code_revoke, code_share
from tests import factories
from tests.ui.helpers import row_pks

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
CARD = re.compile(r'<a class="[^"]*stat-card[^"]*" href="([^"]+)">.*?data-testid="(stat-[^"]+)">([^<]+)<', re.S)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def network_at_work(network, clock):
    """Two units covered (one for 5 days, one, at South Rentals, for 30), one never covered; codes
    available (one of them at South Sales), running and revoked; and the rival's, which no card of
    Acme may count."""
    admin = network.provider_admin
    (short,) = factories.codes(admin, quantity=1, period_days=5)
    month = factories.codes(admin, quantity=4, period_days=30)
    code_attach(code=short, unit=factories.unit(network.harvest, admin), actor=admin)
    code_share(code=month[0], to_account=network.south, actor=admin)
    code_attach(code=month[0], unit=factories.unit(network.south_rentals, admin), actor=network.south_admin)
    code_share(code=month[2], to_account=network.south, actor=admin)
    factories.unit(network.harvest, admin)  # never covered
    factories.unit(network.south_rentals, admin)  # never covered
    code_revoke(code=month[1], actor=admin)
    factories.codes(network.rival_admin, quantity=2)
    factories.unit(network.rival_customer, network.rival_admin)
    return network


def cards(client) -> list[tuple[str, str, int]]:
    """(what the card counts, its link, its number) for every card of the dashboard."""
    html = client.get(reverse("dashboard")).content.decode()
    found = [(testid, href.replace("&amp;", "&"), int(number.strip())) for href, testid, number in CARD.findall(html)]
    assert len(found) == 6, found
    return found


@pytest.mark.parametrize("who", ["provider_admin", "south_admin"])
def test_given_the_dashboard_then_each_card_links_to_the_list_of_exactly_what_it_counts(client, network_at_work, who):
    client.force_login(getattr(network_at_work, who))
    for testid, href, number in cards(client):
        separator = "&" if "?" in href else "?"
        listed = row_pks(client.get(f"{href}{separator}per_page=250"))
        assert len(listed) == number, (testid, href, number, len(listed))
        assert number or testid.startswith("stat-expiring")  # the data set gives each count something
