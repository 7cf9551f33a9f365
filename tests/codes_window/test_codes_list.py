"""The Codes window's list: who may open it, what each filter keeps, sorting, page size,
time zone, and which bulk buttons a role gets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms.models import Account
from cms.web.views import DEFAULT_PAGE_SIZE
from codes.tables import CodeTable
from tests.domain.support import T0
from tests.ui.helpers import bulk_buttons, data_testids, row_pks

URL = "/codes/"


def shown(client, query="") -> list[int]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return row_pks(response)


# --- access -----------------------------------------------------------------------------------


def test_given_a_provider_operator_when_opening_the_window_then_the_working_codes_are_listed(window, signed_in):
    client = signed_in(window.network.provider_operator)
    response = client.get(URL)
    assert response.status_code == 200
    assert set(row_pks(response)) == window.visible_working()
    content = response.content.decode()
    for header in ("Code", "State", "Unit", "Shared with", "Period", "Activation", "Expires", "Days left", "Batch", "Price"):
        assert f">{header}</a>" in content or f">{header}<" in content, header


def test_given_nobody_signed_in_when_opening_the_window_then_it_redirects_to_sign_in(window, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_given_a_reseller_when_opening_the_window_then_only_codes_of_its_branch_are_listed(window, signed_in):
    client = signed_in(window.network.north_admin)
    # North holds one code; Harvest Co (below North Farms, below North) holds the running and scheduled ones.
    assert set(shown(client)) == {window.available_north.pk, window.running.pk, window.scheduled.pk}


def test_given_another_provider_when_opening_the_window_then_none_of_acmes_codes_show(window, signed_in):
    client = signed_in(window.network.rival_admin)
    assert set(shown(client)) == {window.rival_code.pk}


# --- filters ----------------------------------------------------------------------------------


def test_given_no_state_filter_then_expired_and_revoked_codes_are_hidden_and_the_page_says_so(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(URL)
    pks = set(row_pks(response))
    assert window.expired.pk not in pks and window.revoked.pk not in pks
    assert "filter-note" in data_testids(response)


def test_given_the_state_filter_asks_for_expired_and_revoked_then_exactly_those_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, "state=expired&state=revoked")) == {window.expired.pk, window.revoked.pk}


@pytest.mark.parametrize(
    "state, expected",
    [
        ("available", ["available_provider", "available_north", "available_south", "b90_spare", "y1", "y2"]),
        ("scheduled", ["scheduled"]),
        ("running", ["running"]),
        ("released", ["released"]),
        ("expired", ["expired"]),
        ("revoked", ["revoked"]),
    ],
)
def test_given_one_state_when_filtering_then_only_codes_in_that_state_show(window, signed_in, state, expected):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"state={state}")) == {getattr(window, name).pk for name in expected}


def test_given_several_states_when_filtering_then_codes_in_any_of_them_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, "state=running&state=scheduled&state=released")) == {
        window.running.pk, window.scheduled.pk, window.released.pk,
    }


def test_given_a_holder_when_filtering_then_only_codes_held_by_exactly_that_account_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"holder={window.network.north.pk}")) == {window.available_north.pk}


def test_given_a_holder_and_below_when_filtering_then_codes_held_anywhere_below_it_show_too(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"holder={window.network.north.pk}&holder_below=on")) == {
        window.available_north.pk, window.running.pk, window.scheduled.pk,
    }


@pytest.mark.parametrize(
    "who, expected",
    [
        ("provider_admin", [
            "Acme Telematics", "— North Sales", "— — North Farms Dealer", "— — — Harvest Co",
            "— South Sales", "— — South Rentals",
        ]),
        ("north_admin", ["North Sales", "— North Farms Dealer", "— — Harvest Co"]),
    ],
)
def test_given_the_holder_filter_then_it_lists_the_users_branch_indented_below_its_own_account(
    window, signed_in, who, expected
):
    client = signed_in(getattr(window.network, who))
    response = client.get(f"{URL}?holder={window.network.north.pk}")
    choices = list(response.context["filter"].form["holder"].field.widget.choices)
    assert choices[0] == ("", "Any account")
    assert [label for _pk, label in choices[1:]] == expected
    assert f'<option value="{window.network.north.pk}" selected>' in response.content.decode()


def test_given_an_account_of_another_tree_as_holder_then_the_filter_is_invalid_and_shows_its_error(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?holder={window.network.rival.pk}")
    assert response.status_code == 200
    assert row_pks(response) == []
    assert "filter-invalid" in data_testids(response)
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("term", ["Harvest Tractor", "tractor", "861234500000011"])
def test_given_a_unit_name_or_hardware_id_when_filtering_by_unit_then_only_its_codes_show(window, signed_in, term):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"unit={term}")) == {window.running.pk, window.scheduled.pk}


def test_given_a_period_when_filtering_then_only_codes_of_that_period_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, "period_days=365")) == {window.y1.pk, window.y2.pk}
    assert set(shown(client, "period_days=90")) == {
        window.available_south.pk, window.b90_spare.pk, window.scheduled.pk, window.released.pk,
    }


def test_given_a_period_nobody_sells_then_the_filter_is_invalid(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?period_days=17")
    assert row_pks(response) == [] and "filter-invalid" in data_testids(response)


def test_given_a_batch_when_filtering_then_only_its_codes_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"batch={window.batch365.pk}")) == {window.y1.pk, window.y2.pk}


def test_given_a_batch_of_another_provider_then_the_filter_is_invalid(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?batch={window.rival_code.batch_id}")
    assert row_pks(response) == [] and "filter-invalid" in data_testids(response)


@pytest.mark.parametrize("value", ["abc", "1.5", "99999999", "-1", "1\x00"])
def test_given_a_batch_that_is_no_batch_id_then_the_filter_is_invalid(window, signed_in, value):
    client = signed_in(window.network.provider_admin)
    response = client.get(URL, {"batch": value})
    assert response.status_code == 200
    assert row_pks(response) == [] and "filter-invalid" in data_testids(response)


def test_given_a_batch_chosen_then_its_list_is_read_once_for_both_checking_and_showing_it(window, signed_in):
    # The choice is checked against the rows the list shows, not by a second query.
    client = signed_in(window.network.north_admin)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{URL}?batch={window.batch90.pk}")
    assert row_pks(response) == [window.scheduled.pk]
    batch_reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "codes_batch"."id"')]
    assert len(batch_reads) == 1, batch_reads
    assert f'<option value="{window.batch90.pk}" selected>' in response.content.decode()


def test_given_an_activation_range_when_filtering_then_only_codes_started_within_it_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    # The running code started at T0; the released one 10 days earlier; the scheduled one starts in 30 days.
    assert set(shown(client, "activated_after=2027-03-01&activated_before=2027-03-01")) == {window.running.pk}
    assert set(shown(client, "activated_after=2027-02-15&activated_before=2027-03-01")) == {
        window.running.pk, window.released.pk,
    }
    assert set(shown(client, "activated_after=2027-03-25")) == {window.scheduled.pk}


def test_given_an_expiry_range_when_filtering_then_only_codes_expiring_within_it_show(window, signed_in):
    client = signed_in(window.network.provider_admin)
    # running: T0 + 30 d = 2027-03-31; released: T0 - 10 d + 90 d = 2027-05-20; scheduled: 2027-06-29.
    assert set(shown(client, "expires_after=2027-03-31&expires_before=2027-03-31")) == {window.running.pk}
    assert set(shown(client, "expires_before=2027-05-31")) == {window.running.pk, window.released.pk}


def test_given_a_range_whose_first_day_is_after_the_last_then_the_filter_is_invalid(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?expires_after=2027-04-01&expires_before=2027-03-01")
    assert row_pks(response) == [] and "filter-invalid" in data_testids(response)
    assert "The first day is after the last day." in response.content.decode()


def test_given_a_malformed_date_then_the_filter_is_invalid(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?activated_after=yesterday")
    assert row_pks(response) == [] and "filter-invalid" in data_testids(response)


def test_given_part_of_a_code_typed_loosely_when_searching_then_the_code_is_found(window, signed_in):
    client = signed_in(window.network.provider_admin)
    text = window.y1.text
    typed = (text[:5] + "-" + text[5:8]).lower()  # lower case, with a dash, as people type it
    assert window.y1.pk in shown(client, f"q={typed}")
    assert window.y2.pk not in shown(client, f"q={text}")


@pytest.mark.parametrize("term, names", [
    ("Tractor", ["running", "scheduled"]),
    ("8612345", ["running", "scheduled"]),  # a hardware id's beginning; the released code is on no unit
    ("South Sales", ["available_south"]),
])
def test_given_free_text_when_searching_then_unit_hardware_id_and_account_match(window, signed_in, term, names):
    client = signed_in(window.network.provider_admin)
    assert set(shown(client, f"q={term}")) == {getattr(window, n).pk for n in names}


def test_given_filters_in_force_then_each_shows_as_a_chip_that_removes_it(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?state=running&period_days=30")
    chips = response.context["active_filters"]
    assert [c["name"] for c in chips] == ["state", "period_days"]
    assert "state=" not in chips[0]["remove"] and "period_days=30" in chips[0]["remove"]


# --- sorting and pages ------------------------------------------------------------------------


def test_given_no_sort_then_the_codes_that_run_out_first_come_first(window, signed_in):
    client = signed_in(window.network.provider_admin)
    pks = shown(client)
    assert pks[:3] == [window.running.pk, window.released.pk, window.scheduled.pk]
    assert pks[3:] == sorted(pks[3:])  # then the unstarted ones, oldest first


def test_given_a_sort_by_expiry_then_the_rows_come_in_expiry_order_both_ways(window, signed_in):
    client = signed_in(window.network.provider_admin)
    query = "state=running&state=scheduled&state=released&sort="
    assert shown(client, query + "expires_at") == [window.running.pk, window.released.pk, window.scheduled.pk]
    assert shown(client, query + "-expires_at") == [window.scheduled.pk, window.released.pk, window.running.pk]
    assert shown(client, query + "days_left") == [window.running.pk, window.released.pk, window.scheduled.pk]


def test_given_a_sort_by_expiry_then_codes_that_never_started_come_last_both_ways(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert shown(client, "sort=expires_at")[:3] == [window.running.pk, window.released.pk, window.scheduled.pk]
    assert shown(client, "sort=-expires_at")[:3] == [window.scheduled.pk, window.released.pk, window.running.pk]
    assert shown(client, "sort=-activated_at")[:3] == [window.scheduled.pk, window.running.pk, window.released.pk]


def test_given_a_sort_by_holder_then_the_rows_come_in_holder_name_order(window, signed_in):
    client = signed_in(window.network.provider_admin)
    pks = shown(client, "state=available&sort=holder")
    holders = {c.pk: c.holder.name for c in type(window.y1).objects.filter(pk__in=pks).select_related("holder")}
    names = [holders[pk] for pk in pks]
    assert names == sorted(names)


def test_given_a_sort_by_state_or_price_then_the_page_sorts_without_error(window, signed_in):
    client = signed_in(window.network.provider_admin)
    for key in ("state", "-state", "price", "-price", "unit", "batch", "period_days", "activated_at", "text"):
        assert shown(client, f"sort={key}"), key


def test_given_a_page_size_then_the_page_shows_that_many_rows_and_no_row_count_is_made(window, signed_in):
    client = signed_in(window.network.provider_admin)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{URL}?per_page=25")
    assert response.context["table"].paginator.per_page == 25
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def test_given_an_unknown_page_size_then_the_default_is_used(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?per_page=100000")
    assert response.context["table"].paginator.per_page == DEFAULT_PAGE_SIZE == 25


def test_given_more_rows_than_a_page_then_the_next_page_shows_the_rest(window, signed_in):
    client = signed_in(window.network.provider_admin)
    first = shown(client, "per_page=25")
    # Only nine working codes: a second page of 25 does not exist, so page 1 is everything.
    assert len(first) == 9
    response = client.get(f"{URL}?per_page=25")
    assert not response.context["table"].page.has_next()


def test_given_an_account_in_tokyo_then_times_show_in_tokyo_time(window, signed_in):
    Account.objects.filter(pk=window.network.provider.pk).update(time_zone="Asia/Tokyo")
    client = signed_in(window.network.provider_admin)
    content = client.get(f"{URL}?state=running").content.decode()
    # The running code started at T0 = 09:00 UTC = 18:00 in Tokyo.
    assert T0.strftime("%Y-%m-%d") + " 18:00" in content
    assert T0.strftime("%Y-%m-%d") + " 09:00" not in content
    assert "Times in Asia/Tokyo" in content


# --- bulk buttons by role ---------------------------------------------------------------------


def test_given_a_viewer_then_the_window_shows_no_bulk_buttons(window, signed_in):
    response = signed_in(window.network.provider_viewer).get(URL)
    assert bulk_buttons(response) == {}
    assert 'id="select-all-matching"' not in response.content.decode()


def test_given_an_operator_then_share_recall_release_send_and_cancel_reservation_show_but_not_revoke(window, signed_in):
    buttons = bulk_buttons(signed_in(window.network.provider_operator).get(URL))
    assert buttons == {
        "bulk-codesbulk_share": reverse("codes:bulk_share"),
        "bulk-codesbulk_recall": reverse("codes:bulk_recall"),
        "bulk-codesbulk_release": reverse("codes:bulk_release"),
        "bulk-mailsend": reverse("mail:send"),
        "bulk-codesbulk_cancel_reservation": reverse("codes:bulk_cancel_reservation"),
    }


def test_given_a_provider_admin_then_revoke_shows_too(window, signed_in):
    buttons = bulk_buttons(signed_in(window.network.provider_admin).get(URL))
    assert buttons["bulk-codesbulk_revoke"] == reverse("codes:bulk_revoke")


def test_given_a_reseller_admin_then_revoke_does_not_show(window, signed_in):
    buttons = bulk_buttons(signed_in(window.network.north_admin).get(URL))
    assert "bulk-codesbulk_revoke" not in buttons and "bulk-codesbulk_share" in buttons


def test_given_an_end_customer_then_it_sees_its_codes_and_no_share_or_recall(window, signed_in):
    response = signed_in(window.network.harvest_user).get(URL)
    assert set(row_pks(response)) == {window.running.pk, window.scheduled.pk}
    assert set(bulk_buttons(response)) == {"bulk-codesbulk_release", "bulk-mailsend", "bulk-codesbulk_cancel_reservation"}


def test_given_a_reseller_then_the_batch_and_period_filters_offer_only_what_its_codes_came_from(window, signed_in):
    response = signed_in(window.network.south_admin).get(URL)
    form = response.context["filter"].form
    assert [value for value, _label in form.fields["batch"].choices if value] == [window.batch90.pk]
    assert [value for value, _label in form.fields["period_days"].choices if value] == [90]
    holders = set(form.fields["holder"].queryset.values_list("pk", flat=True))
    assert holders == {window.network.south.pk, window.network.south_rentals.pk}


SORTABLE = [column.name for column in CodeTable([]).columns if column.orderable]


@pytest.mark.parametrize("direction", ["", "-"])
@pytest.mark.parametrize("column", SORTABLE)
def test_given_any_sort_then_the_code_breaks_ties_so_pages_never_repeat_or_skip_a_row(window, signed_in, column, direction):
    """Many codes share a holder, a period or a batch: ordered by that alone, the database may
    list the tied rows in another order for the next page."""
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?sort={direction}{column}")
    assert response.status_code == 200
    order = response.context["table"].data.data.query.order_by
    assert str(order[-1]).lstrip("-") in ("pk", "text"), order  # a code's text is unique too
