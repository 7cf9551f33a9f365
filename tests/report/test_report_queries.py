"""The Report's and the dashboard's query counts are pinned (tests/ui/expected_query_counts.json):
an N+1 fails."""

from django.urls import reverse

from codes.services import code_attach, code_share, notice_create
from tests import factories
from tests.ui.query_counts import assert_page_queries, assert_queries_do_not_grow

REPORT = reverse("report:list") + "?occurred_after=&occurred_before=&per_page=100"


def test_given_few_or_many_events_when_listing_the_report_then_the_query_count_is_the_pinned_one(client, network):
    client.force_login(network.north_admin)
    codes = factories.codes(network.provider_admin, quantity=1)
    code_share(code=codes[0], to_account=network.north, actor=network.provider_admin)

    def add_rows():
        # Events with every relation the table shows: accounts moved between, code, unit, actor.
        for code in factories.codes(network.provider_admin, quantity=12):
            code_share(code=code, to_account=network.north_farms, actor=network.provider_admin)
            code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                        actor=network.north_admin)

    assert_queries_do_not_grow(client, REPORT, add_rows=add_rows)
    response = assert_page_queries("report", client, REPORT)
    assert len(response.context["table"].page.object_list) > 30


def test_given_more_codes_units_and_notices_when_opening_the_dashboard_then_the_query_count_is_the_pinned_one(
    client, network
):
    admin = network.provider_admin
    client.force_login(admin)
    notice_create(actor=admin, name="Week", text="Renew", days_before=7)
    for code in factories.codes(admin, quantity=2):
        code_attach(code=code, unit=factories.unit(network.harvest, actor=admin), actor=admin)

    def add_rows():
        for days in (3, 30):
            notice_create(actor=admin, name=f"In {days}", text="Renew", days_before=days)
        for period in (90, 180):
            for code in factories.codes(admin, quantity=3, period_days=period):
                code_attach(code=code, unit=factories.unit(network.south_rentals, actor=admin), actor=admin)

    assert_queries_do_not_grow(client, reverse("dashboard"), add_rows=add_rows)
    response = assert_page_queries("dashboard", client, reverse("dashboard"))
    assert [d.notice.name for d in response.context["notices_due"]] == ["In 30"]
