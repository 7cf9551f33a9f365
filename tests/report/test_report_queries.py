"""The Report's query count is pinned (tests/ui/expected_query_counts.json): an N+1 fails."""

import json
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.services import code_attach, code_share
from tests import factories

EXPECTED = json.loads((Path(__file__).parent.parent / "ui" / "expected_query_counts.json").read_text())


def count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
        assert response.status_code == 200
        response.content  # noqa: B018  (render everything)
    return len(context.captured_queries)


def test_given_few_or_many_events_when_listing_the_report_then_the_query_count_is_the_pinned_one(client, network):
    client.force_login(network.north_admin)
    everything = {"occurred_after": "", "occurred_before": "", "per_page": 100}
    codes = factories.codes(network.provider_admin, quantity=1)
    code_share(code=codes[0], to_account=network.north, actor=network.provider_admin)
    few = count_queries(client, reverse("report:list"), everything)

    codes = factories.codes(network.provider_admin, quantity=12)
    for code in codes:
        code_share(code=code, to_account=network.north_farms, actor=network.provider_admin)
        unit = factories.unit(network.harvest, actor=network.provider_admin)
        code_attach(code=code, unit=unit, actor=network.north_admin)
    many = count_queries(client, reverse("report:list"), everything)

    assert few == many == EXPECTED["report"]
