"""The Units page: the user's units with their state derived from codes and the clock."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from codes.services import code_attach
from tests import factories
from units.models import Unit

URL = reverse("units:list")


def rows(response) -> list[str]:
    """Hardware ids of the table's rows, in order."""
    return [row.record.hardware_id for row in response.context["table"].paginated_rows]


def export_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_given_a_provider_user_when_opening_units_then_all_its_units_show_and_no_other_providers(client, network, fleet):
    client.force_login(network.provider_viewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert sorted(rows(response)) == sorted(
        u.hardware_id for u in (fleet.harvest_truck, fleet.harvest_trailer, fleet.south_van, fleet.north_box)
    )


def test_given_a_reseller_when_opening_units_then_only_its_branch_shows(client, network, fleet):
    client.force_login(network.north_admin)
    response = client.get(URL)
    assert sorted(rows(response)) == sorted(
        u.hardware_id for u in (fleet.harvest_truck, fleet.harvest_trailer, fleet.north_box)
    )


def test_given_an_anonymous_visitor_when_opening_units_then_they_are_sent_to_sign_in(client, fleet):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_given_covered_units_when_listing_then_state_current_code_cover_and_schedule_show(client, network, fleet):
    client.force_login(network.provider_admin)
    response = client.get(URL)
    by_id = {row.record.hardware_id: row.record for row in response.context["table"].paginated_rows}
    truck = by_id[fleet.harvest_truck.hardware_id]
    assert truck.active_now is True
    assert truck.scheduled_count == 1
    assert truck.covered_until > timezone.now() + timedelta(days=59)
    assert truck.current_code_text
    trailer = by_id[fleet.harvest_trailer.hardware_id]
    assert trailer.active_now is False and trailer.covered_until is None and trailer.current_code_text is None
    html = response.content.decode()
    assert 'data-state="active"' in html and 'data-state="deactivated"' in html


def test_given_a_code_whose_time_ran_out_when_the_job_has_not_run_then_the_unit_already_shows_deactivated(
    client, network
):
    # Given a unit whose only code expired a day ago, and no background job has recorded it
    unit = factories.unit(network.harvest, network.provider_admin, hardware_id="350000000000099")
    (code,) = factories.codes(network.provider_admin, quantity=1, period_days=30)
    code_attach(code=code, unit=unit, actor=network.provider_admin, now=timezone.now() - timedelta(days=31))
    assert Unit.objects.get(pk=unit.pk).is_active is True  # the cached column still says active
    client.force_login(network.provider_admin)
    # When the list is filtered on deactivated units
    response = client.get(URL, {"state": "deactivated"})
    # Then the unit is there: the state is derived from the clock, not the cached column
    assert unit.hardware_id in rows(response)
    assert unit.hardware_id not in rows(client.get(URL, {"state": "active"}))


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"state": "active"}, ["harvest_truck", "south_van"]),
        ({"state": "deactivated"}, ["harvest_trailer", "north_box"]),
        ({"no_code": "on"}, ["harvest_trailer", "north_box"]),
        ({"expires_within": "45"}, []),  # the truck's cover runs 60 days, the van's 90
        ({"expires_within": "75"}, ["harvest_truck"]),
        ({"expires_within": "100"}, ["harvest_truck", "south_van"]),
        ({"q": "trailer"}, ["harvest_trailer"]),
        ({"q": "350000000000003"}, ["south_van"]),
    ],
)
def test_given_filters_when_applied_then_rows_narrow(client, network, fleet, query, expected):
    client.force_login(network.provider_admin)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert sorted(rows(response)) == sorted(getattr(fleet, name).hardware_id for name in expected)


def test_given_the_owner_filter_when_below_is_ticked_then_the_whole_branch_shows(client, network, fleet):
    client.force_login(network.provider_admin)
    only_north = rows(client.get(URL, {"owner": network.north.pk}))
    assert only_north == [fleet.north_box.hardware_id]
    branch = rows(client.get(URL, {"owner": network.north.pk, "owner_below": "on"}))
    assert sorted(branch) == sorted(u.hardware_id for u in (fleet.harvest_truck, fleet.harvest_trailer, fleet.north_box))


def test_given_an_owner_of_another_provider_when_filtering_then_the_filter_is_refused(client, network, fleet):
    client.force_login(network.provider_admin)
    response = client.get(URL, {"owner": network.rival_customer.pk})
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert fleet.rival_unit.hardware_id not in response.content.decode()


def test_given_a_sort_when_applied_then_rows_follow_it(client, network, fleet):
    client.force_login(network.provider_admin)
    by_name_desc = rows(client.get(URL, {"sort": "-name"}))
    assert by_name_desc == [u.hardware_id for u in (fleet.south_van, fleet.north_box, fleet.harvest_truck, fleet.harvest_trailer)]
    by_cover = rows(client.get(URL, {"sort": "-days_left"}))
    assert by_cover[:2] == [fleet.south_van.hardware_id, fleet.harvest_truck.hardware_id]
    # Going up, units without cover (no days left) come first, on every database.
    by_cover_up = rows(client.get(URL, {"sort": "days_left"}))
    assert set(by_cover_up[:2]) == {fleet.harvest_trailer.hardware_id, fleet.north_box.hardware_id}
    assert by_cover_up[2:] == [fleet.harvest_truck.hardware_id, fleet.south_van.hardware_id]
    by_state = rows(client.get(URL, {"sort": "state"}))
    assert set(by_state[:2]) == {fleet.south_van.hardware_id, fleet.harvest_truck.hardware_id}


def test_given_a_filter_when_exporting_csv_then_exactly_the_filtered_rows_come_out(client, network, fleet):
    client.force_login(network.provider_admin)
    response = client.get(URL, {"state": "active", "export": "csv"})
    assert response.status_code == 200
    exported = export_rows(response)
    assert sorted(r["Hardware id"] for r in exported) == sorted([fleet.harvest_truck.hardware_id, fleet.south_van.hardware_id])
    truck = next(r for r in exported if r["Hardware id"] == fleet.harvest_truck.hardware_id)
    assert truck["State"] == "Active" and truck["Scheduled codes"] == "1" and truck["Owner"] == "Harvest Co"
    assert truck["Current code"].count("-") == 4


def test_given_a_filter_when_exporting_xlsx_then_exactly_the_filtered_rows_come_out(client, network, fleet):
    client.force_login(network.provider_admin)
    response = client.get(URL, {"no_code": "on", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    hardware_ids = sorted(row[1] for row in values[1:])
    assert hardware_ids == sorted([fleet.harvest_trailer.hardware_id, fleet.north_box.hardware_id])


def test_given_a_writer_when_listing_then_apply_codes_and_csv_attach_are_offered_but_not_to_a_viewer(
    client, network, fleet
):
    client.force_login(network.provider_operator)
    html = client.get(URL).content.decode()
    assert reverse("units:bulk_apply_codes") in html and reverse("units:attach_csv") in html
    client.force_login(network.provider_viewer)
    html = client.get(URL).content.decode()
    assert reverse("units:bulk_apply_codes") not in html and reverse("units:attach_csv") not in html
