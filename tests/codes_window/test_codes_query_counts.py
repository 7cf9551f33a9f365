"""The Codes window's query counts are pinned (tests/ui/expected_query_counts.json) and do not
grow with the number of rows: a column that forgets its `select_related` fails here."""

from itertools import cycle

import pytest
from django.urls import reverse

from codes.services import codes_attach, codes_share
from tests import factories
from tests.ui.helpers import csv_rows, row_pks, xlsx_rows
from tests.ui.query_counts import assert_page_queries, assert_queries_do_not_grow

LIST = "/codes/?per_page=50"


def add_codes_on_units(window, count: int, period_days: int = 30) -> None:
    """`count` more running codes, each from a new batch's codes, held by different accounts and
    on its own new unit: every relation the table shows is a different row."""
    network = window.network
    admin = network.provider_admin
    owners = cycle([network.harvest, network.south_rentals])
    batch = factories.batch(admin, quantity=count, period_days=period_days)
    codes = list(batch.codes.order_by("pk"))
    units = [factories.unit(next(owners), actor=admin) for _ in codes]
    for owner in (network.harvest, network.south_rentals):
        mine = [c.pk for c, u in zip(codes, units, strict=True) if u.owner_id == owner.pk]
        codes_share(codes=mine, to_account=owner, actor=admin)
    codes_attach(pairs=list(zip(codes, units, strict=True)), actor=admin)


@pytest.fixture
def full_page(window):
    """More than a page of rows: 9 from the window fixture, 60 running codes on 60 units."""
    add_codes_on_units(window, 30)
    add_codes_on_units(window, 30, period_days=90)
    return window


def test_given_a_full_page_of_codes_then_the_list_makes_the_pinned_number_of_queries(full_page, signed_in):
    client = signed_in(full_page.network.provider_admin)
    response = assert_page_queries("codes:list", client, LIST)
    assert len(row_pks(response)) == 50


def test_given_more_codes_on_more_units_then_the_list_makes_no_more_queries(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert_queries_do_not_grow(client, LIST, add_rows=lambda: add_codes_on_units(window, 45))
    assert len(row_pks(client.get(LIST))) == 50


def test_given_a_filtered_sorted_list_then_only_the_chosen_holder_and_its_branch_cost_more_queries(full_page, signed_in):
    client = signed_in(full_page.network.provider_admin)
    query = f"{LIST}&state=running&state=scheduled&holder={full_page.network.north.pk}&holder_below=on&sort=-expires_at"
    response = assert_page_queries("codes:list_filtered", client, query)
    assert len(row_pks(response)) == 32  # Harvest Co's 30 new running codes, its running and scheduled ones


def test_given_a_code_with_history_then_its_page_makes_the_pinned_number_of_queries(full_page, signed_in):
    client = signed_in(full_page.network.provider_admin)
    assert_page_queries("codes:detail", client, reverse("codes:detail", args=[full_page.released.pk]))


def test_given_a_full_filter_then_the_csv_export_makes_the_pinned_number_of_queries(full_page, signed_in):
    client = signed_in(full_page.network.provider_admin)
    response = assert_page_queries("codes:export_csv", client, f"{LIST}&export=csv")
    assert len(csv_rows(response)) == 69


def test_given_a_full_filter_then_the_xlsx_export_makes_the_pinned_number_of_queries(full_page, signed_in):
    client = signed_in(full_page.network.provider_admin)
    response = assert_page_queries("codes:export_xlsx", client, f"{LIST}&export=xlsx")
    assert len(xlsx_rows(response)) == 69


def test_given_more_codes_then_the_export_makes_no_more_queries(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert_queries_do_not_grow(client, "/codes/?export=csv", add_rows=lambda: add_codes_on_units(window, 40))


def test_given_a_page_of_codes_posted_to_a_bulk_action_then_the_confirmation_makes_the_pinned_number_of_queries(
    full_page, signed_in
):
    client = signed_in(full_page.network.provider_admin)
    assert_page_queries(
        "codes:bulk_confirm", client, reverse("codes:bulk_release"), method="post",
        data={"_all": "1", "_query": "state=running", "_return": "/codes/"},
    )
