"""Exports of the Codes window: the current filter's rows, exactly, as CSV and as XLSX, streamed."""

from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse

from codes.text import display
from tests.ui.helpers import csv_rows, data_testids, row_pks, xlsx_rows

URL = "/codes/"
READERS = {"csv": csv_rows, "xlsx": xlsx_rows}


def exported(client, kind, query=""):
    response = client.get(f"{URL}?{query}{'&' if query else ''}export={kind}")
    assert response.status_code == 200, response.status_code
    return response, READERS[kind](response)


def code_texts(window, *names) -> set[str]:
    return {getattr(window, n).display_text for n in names}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_given_no_filter_when_exporting_then_exactly_the_rows_of_the_window_are_exported(window, signed_in, kind):
    client = signed_in(window.network.provider_admin)
    shown = set(row_pks(client.get(URL)))
    _, rows = exported(client, kind)
    assert {r["Code"] for r in rows} == {display(c.text) for c in type(window.y1).objects.filter(pk__in=shown)}
    assert len(rows) == len(shown) == 9


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "query, names",
    [
        ("state=running&state=scheduled", ["running", "scheduled"]),
        ("state=expired&state=revoked", ["expired", "revoked"]),
        ("period_days=365", ["y1", "y2"]),
        ("unit=861234500000011", ["running", "scheduled"]),
        ("holder={north}&holder_below=on", ["available_north", "running", "scheduled"]),
        ("expires_before=2027-05-31", ["running", "released"]),
    ],
)
def test_given_a_filter_when_exporting_then_exactly_the_filtered_rows_are_exported(window, signed_in, kind, query, names):
    client = signed_in(window.network.provider_admin)
    query = query.format(north=window.network.north.pk)
    _, rows = exported(client, kind, query)
    assert [r["Code"] for r in rows].count(window.running.display_text) <= 1  # no duplicates
    assert {r["Code"] for r in rows} == code_texts(window, *names)
    assert len(rows) == len(names)
    # The same filter on the page shows the same rows.
    assert set(row_pks(client.get(f"{URL}?{query}"))) == {getattr(window, n).pk for n in names}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_given_a_sort_when_exporting_then_the_rows_come_in_the_order_of_the_window(window, signed_in, kind):
    client = signed_in(window.network.provider_admin)
    query = "state=running&state=scheduled&state=released&sort=-expires_at"
    _, rows = exported(client, kind, query)
    assert [r["Code"] for r in rows] == [c.display_text for c in (window.scheduled, window.released, window.running)]
    _, rows = exported(client, kind, query.replace("-expires_at", "expires_at"))
    assert [r["Code"] for r in rows] == [c.display_text for c in (window.running, window.released, window.scheduled)]


def test_given_a_reseller_when_exporting_everything_then_no_code_outside_its_branch_is_in_the_file(window, signed_in):
    client = signed_in(window.network.north_admin)
    _, rows = exported(client, "csv", "state=available&state=running&state=scheduled&state=released&state=expired&state=revoked")
    assert {r["Code"] for r in rows} == code_texts(window, "available_north", "running", "scheduled")


def test_given_the_csv_export_then_it_streams_and_each_column_reads_as_in_the_window(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response, rows = exported(client, "csv", "state=running")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="codes.csv"'
    (row,) = rows
    assert row == {
        "Code": window.running.display_text,
        "State": "Running",
        "Unit": "Harvest Tractor",
        "Hardware id": "861234500000011",
        "Shared with": "Harvest Co",
        "Period (days)": "30",
        "Activation": "2027-03-01 09:00",
        "Expires": "2027-03-31 09:00",
        "Days left": "30",
        "Use by": "",
        "Batch": str(window.batch30.pk),
        "Price": "10.00",
        "Currency": "EUR",
    }


def test_given_the_xlsx_export_then_it_is_a_workbook_with_numbers_as_numbers(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response, rows = exported(client, "xlsx", "state=running")
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    (row,) = rows
    assert row["Code"] == window.running.display_text
    assert row["Period (days)"] == 30 and row["Batch"] == window.batch30.pk
    assert Decimal(str(row["Price"])) == Decimal("10.00")


def test_given_an_account_in_tokyo_when_exporting_then_times_are_in_tokyo_time(window, signed_in):
    window.network.provider.__class__.objects.filter(pk=window.network.provider.pk).update(time_zone="Asia/Tokyo")
    client = signed_in(window.network.provider_admin)
    _, (row,) = exported(client, "csv", "state=running")
    assert row["Activation"] == "2027-03-01 18:00"


def test_given_an_invalid_filter_when_exporting_then_no_file_is_sent_and_the_error_shows(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(f"{URL}?holder={window.network.rival.pk}&export=csv")
    assert response["Content-Type"].startswith("text/html")
    assert "filter-invalid" in data_testids(response)


def test_given_nobody_signed_in_when_exporting_then_it_redirects_to_sign_in(window, client):
    response = client.get(f"{URL}?export=csv")
    assert response.status_code == 302


def test_given_a_french_user_when_exporting_then_headers_and_states_are_in_french(window, signed_in):
    client = signed_in(window.network.provider_admin)
    client.cookies["django_language"] = "fr"
    response = client.get(f"{URL}?state=running&export=csv", HTTP_ACCEPT_LANGUAGE="fr")
    (row,) = csv_rows(response)
    assert row["État"] == "En cours"
