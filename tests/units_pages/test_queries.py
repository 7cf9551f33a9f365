"""Query counts of the Units pages are pinned (tests/ui/expected_query_counts.json): an N+1 fails."""

import json
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.services import code_attach
from tests import factories

EXPECTED_FILE = Path(__file__).parent.parent / "ui" / "expected_query_counts.json"


def expected(name: str) -> int:
    return json.loads(EXPECTED_FILE.read_text())[name]


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
        assert response.status_code == 200
        response.content  # noqa: B018  (render everything)
    return len(context.captured_queries)


def add_covered_units(network, how_many: int):
    admin = network.provider_admin
    codes = factories.codes(admin, quantity=2 * how_many, period_days=30)
    units = []
    for i in range(how_many):
        unit = factories.unit(network.harvest if i % 2 else network.south_rentals, admin)
        code_attach(code=codes[2 * i], unit=unit, actor=admin)
        code_attach(code=codes[2 * i + 1], unit=unit, actor=admin)
        units.append(unit)
    return units


def test_given_few_or_many_units_when_listing_then_the_query_count_is_the_pinned_one(client, network):
    client.force_login(network.provider_operator)
    params = {"per_page": 100}
    add_covered_units(network, 2)
    few = count_queries(client, reverse("units:list"), params)
    add_covered_units(network, 15)
    many = count_queries(client, reverse("units:list"), params)
    filtered = count_queries(client, reverse("units:list"), params | {"state": "active", "owner": network.provider.pk,
                                                                      "owner_below": "on", "q": "Truck"})
    assert few == many == expected("units")
    assert filtered == expected("units_filtered")  # + the owner the filter names


def test_given_a_long_history_when_opening_a_unit_then_the_query_count_is_the_pinned_one(client, network):
    admin = network.provider_admin
    client.force_login(admin)
    (unit,) = add_covered_units(network, 1)
    few = count_queries(client, reverse("units:detail", args=[unit.pk]))
    for code in factories.codes(admin, quantity=8, period_days=30):
        code_attach(code=code, unit=unit, actor=admin)
    many = count_queries(client, reverse("units:detail", args=[unit.pk]))
    assert few == many == expected("unit_detail")
    # Below the provider, one more query tells which codes are the user's to see, and one reads
    # the ids of the user's branch (cms.selectors.branch_ids: literal ids give the planner its
    # statistics).
    client.force_login(network.north_admin if unit.owner_id == network.harvest.pk else network.south_admin)
    assert count_queries(client, reverse("units:detail", args=[unit.pk])) == expected("unit_detail") + 2
