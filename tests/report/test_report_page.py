"""The Report: the audit log as a filterable table, scoped to the user's part of the tree."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from audit.models import Action, Event
from codes.services import code_attach, code_share
from tests import factories

URL = reverse("report:list")
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def history(network, clock):
    """Yesterday: a batch of 3 codes. Today: one shared to North Farms and attached to a Harvest
    unit, one shared to South Sales. And a batch at Rival GPS."""
    clock.move_to(NOW - timedelta(days=1))
    codes = factories.codes(network.provider_admin, quantity=3)
    clock.move_to(NOW - timedelta(hours=2))
    truck = factories.unit(network.harvest, actor=network.provider_admin, name="Harvest Truck", hardware_id="350000000000777")
    code_share(code=codes[0], to_account=network.north_farms, actor=network.provider_admin)
    code_attach(code=codes[0], unit=truck, actor=network.north_farms_operator)
    code_share(code=codes[1], to_account=network.south, actor=network.provider_admin)
    factories.codes(network.rival_admin, quantity=2)
    clock.move_to(NOW)
    return codes, truck


def actions(response):
    return sorted(row.action for row in response.context["table"].data)


def export(client, query=""):
    response = client.get(URL + "?" + query + ("&" if query else "") + "export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


def test_given_an_anonymous_visitor_when_opening_the_report_then_redirected_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_given_a_provider_viewer_when_opening_the_report_then_todays_events_are_listed(client, network, history):
    client.force_login(network.provider_viewer)
    response = client.get(URL)
    assert response.status_code == 200
    # Default time range: today only (the batch of yesterday is not there).
    assert actions(response) == [Action.ATTACHED, Action.SHARED, Action.SHARED, Action.UNIT_ACTIVATED]
    assert "Harvest Truck" in response.content.decode()


def test_given_an_empty_time_range_when_filtering_then_all_time_is_shown(client, network, history):
    client.force_login(network.provider_viewer)
    response = client.get(URL, {"occurred_after": "", "occurred_before": ""})
    assert Action.GENERATED in actions(response)
    assert len([a for a in actions(response) if a == Action.GENERATED]) == 3


def test_given_a_time_range_of_yesterday_when_filtering_then_only_yesterdays_events(client, network, history):
    client.force_login(network.provider_viewer)
    day = (NOW - timedelta(days=1)).date().isoformat()
    response = client.get(URL, {"occurred_after": day, "occurred_before": day})
    assert set(actions(response)) == {Action.GENERATED}


def test_given_filters_on_action_unit_code_and_actor_when_applied_then_rows_narrow(client, network, history):
    codes, truck = history
    client.force_login(network.provider_admin)
    everything = {"occurred_after": "", "occurred_before": ""}

    by_action = client.get(URL, {**everything, "action": [Action.SHARED]})
    assert actions(by_action) == [Action.SHARED, Action.SHARED]

    by_unit = client.get(URL, {**everything, "unit": "350000000000777"})
    assert by_unit.context["table"].data and all(row.unit_id == truck.pk for row in by_unit.context["table"].data)

    by_code = client.get(URL, {**everything, "code": codes[1].display_text.lower()})
    assert {row.code_id for row in by_code.context["table"].data} == {codes[1].pk}
    assert actions(by_code) == [Action.GENERATED, Action.SHARED]

    by_actor = client.get(URL, {**everything, "actor": "farms-op"})
    assert by_actor.context["table"].data
    assert {row.actor_id for row in by_actor.context["table"].data} == {network.north_farms_operator.pk}


def test_given_an_account_filter_when_applied_then_and_below_widens_it(client, network, history):
    client.force_login(network.provider_admin)
    everything = {"occurred_after": "", "occurred_before": ""}
    only_north = client.get(URL, {**everything, "account": network.north.pk})
    assert actions(only_north) == [Action.ACCOUNT_CREATED]  # North Sales itself
    north_and_below = client.get(URL, {**everything, "account": network.north.pk, "account_below": "on"})
    assert actions(north_and_below) == [Action.ACCOUNT_CREATED] * 3 + [Action.ATTACHED, Action.SHARED, Action.UNIT_ACTIVATED]
    assert all(
        network.north.contains(row.account) or (row.from_account and network.north.contains(row.from_account))
        for row in north_and_below.context["table"].data
    )


def test_given_a_filter_when_exporting_csv_then_exactly_the_filtered_rows_are_exported(client, network, history):
    client.force_login(network.provider_admin)
    query = "occurred_after=&occurred_before=&action=shared"
    table_rows = client.get(URL + "?" + query).context["table"].data
    exported = export(client, query)
    header, body = exported[0], exported[1:]
    assert header[0].startswith("Time")
    assert len(body) == len(table_rows) == 2
    assert {row[1] for row in body} == {"shared"}
    assert sorted(row[7] for row in body) == sorted(e.code.display_text for e in table_rows)


def test_given_a_sub_reseller_when_opening_the_report_then_only_its_branch_is_visible(client, network, history):
    client.force_login(network.north_farms_operator)
    response = client.get(URL, {"occurred_after": "", "occurred_before": ""})
    seen = list(response.context["table"].data)
    assert seen, "the share into North Farms and the attach below it are visible"
    for event in seen:
        assert network.north_farms.contains(event.account) or network.north_farms.contains(event.from_account)
    # The provider's other branches (South Sales) and the provider's own batch stay invisible; the
    # creation of North Farms Dealer and of Harvest Co below it are there.
    assert actions(response) == [Action.ACCOUNT_CREATED] * 2 + [Action.ATTACHED, Action.SHARED, Action.UNIT_ACTIVATED]
    assert not any(e.account_id == network.south.pk for e in seen)
    exported = export(client, "occurred_after=&occurred_before=")
    assert len(exported) - 1 == len(seen)


def test_given_the_other_provider_when_opening_the_report_then_it_sees_none_of_acmes_events(client, network, history):
    client.force_login(network.rival_admin)
    response = client.get(URL, {"occurred_after": "", "occurred_before": ""})
    seen = list(response.context["table"].data)
    assert {e.action for e in seen} == {Action.GENERATED, Action.ACCOUNT_CREATED}
    assert all(network.rival.contains(e.account) for e in seen)
    assert Event.objects.exclude(account_id=network.rival.pk).exists()


def test_given_an_invalid_date_when_filtering_then_the_error_is_shown(client, network, history):
    client.force_login(network.provider_admin)
    response = client.get(URL, {"occurred_after": "yesterday-ish", "occurred_before": ""})
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert "The filter is not valid" in response.content.decode()


def page_rows(response):
    return [row.record for row in response.context["table"].page.object_list]


def test_given_a_sort_parameter_when_listing_then_rows_follow_it(client, network, history):
    client.force_login(network.provider_admin)
    everything = {"occurred_after": "", "occurred_before": ""}
    newest_first = [e.occurred_at for e in page_rows(client.get(URL, everything))]
    oldest_first = [e.occurred_at for e in page_rows(client.get(URL, {**everything, "sort": "occurred_at"}))]
    assert len(newest_first) > 3 and newest_first[0] > newest_first[-1]
    assert newest_first == sorted(newest_first, reverse=True)
    assert oldest_first == sorted(newest_first)
    by_action = [e.action for e in page_rows(client.get(URL, {**everything, "sort": "action"}))]
    assert by_action == sorted(by_action) and len(set(by_action)) > 2


def test_given_a_revocation_with_a_reason_when_listing_and_exporting_then_the_reason_is_shown(client, network, clock):
    from codes.services import code_revoke

    (code,) = factories.codes(network.provider_admin, quantity=1)
    code_revoke(code=code, actor=network.provider_admin, reason="printed twice")
    client.force_login(network.provider_admin)
    response = client.get(URL, {"action": "revoked"})
    assert "Reason: printed twice" in response.content.decode()
    header, row = export(client, "action=revoked")
    assert row[header.index("Details")] == "Reason: printed twice"


def test_given_the_quick_time_ranges_when_following_last_7_days_then_yesterday_is_included(client, network, history):
    client.force_login(network.provider_admin)
    response = client.get(URL, {"action": "generated"})
    ranges = {label: query for label, query, _ in response.context["time_ranges"]}
    assert [current for _, _, current in response.context["time_ranges"]] == [True, False, False, False]
    assert actions(response) == []
    week = client.get(URL + "?" + ranges["Last 7 days"])
    assert actions(week) == [Action.GENERATED] * 3  # the action filter is kept
    assert [current for _, _, current in week.context["time_ranges"]] == [False, True, False, False]


class TestTheReportSaysWhenThingsHappened:
    """An expiry noticed two days late is reported at the code's end; the entry's page shows the
    write time beside it."""

    @pytest.fixture
    def late_expiry(self, network, clock):
        from codes.services import codes_expire_due

        clock.move_to(NOW - timedelta(days=33))
        code = factories.codes(network.provider_admin, quantity=1, period_days=30)[0]
        truck = factories.unit(network.harvest, actor=network.provider_admin, name="Late Truck")
        code_attach(code=code, unit=truck, actor=network.provider_admin)
        clock.move_to(NOW)  # the worker was down: three days after the code's end
        codes_expire_due()
        return code, truck, NOW - timedelta(days=3)

    def test_given_a_late_job_then_the_report_of_the_day_of_the_end_lists_the_expiry_and_the_deactivation(
        self, client, network, late_expiry
    ):
        code, truck, ended = late_expiry
        client.force_login(network.provider_admin)
        day = ended.date().isoformat()

        response = client.get(URL, {"occurred_after": day, "occurred_before": day})

        listed = {(row.action, row.code_id or row.unit_id) for row in response.context["table"].data}
        assert {(Action.EXPIRED, code.pk), (Action.UNIT_DEACTIVATED, truck.pk)} <= listed
        today = client.get(URL, {"occurred_after": NOW.date().isoformat(), "occurred_before": NOW.date().isoformat()})
        assert not {row.action for row in today.context["table"].data} & {Action.EXPIRED, Action.UNIT_DEACTIVATED}

    def test_the_entrys_page_shows_when_it_happened_and_when_it_was_written(self, client, network, late_expiry):
        code, _truck, ended = late_expiry
        event = Event.objects.get(action=Action.EXPIRED, code=code)
        client.force_login(network.provider_admin)

        page = client.get(reverse("report:detail", args=[event.pk])).content.decode()

        assert f'data-testid="event-occurred">{ended:%Y-%m-%d %H:%M:%S}<' in page
        assert f'data-testid="event-recorded">{NOW:%Y-%m-%d %H:%M:%S}' in page
        assert reverse("report:detail", args=[event.pk]) in client.get(URL, {"occurred_after": "", "occurred_before": ""}).content.decode()

    def test_an_entry_of_another_branch_or_provider_is_not_found(self, client, network, late_expiry):
        code, _truck, _ended = late_expiry
        event = Event.objects.get(action=Action.EXPIRED, code=code)
        for outsider in (network.south_admin, network.rival_admin):
            client.force_login(outsider)
            assert client.get(reverse("report:detail", args=[event.pk])).status_code == 404
