"""On PostgreSQL the Codes window's CSV export is written by the database (`COPY ... TO STDOUT`,
cms.exports.copy_csv_response). It must be the very file the Python writer makes: the same bytes,
in every state, time zone and language, with names that need quoting."""

from datetime import date

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client

import cms.exports
from cms.exports import copies_in_sql, copy_csv_response
from cms.services import account_update
from codes.models import Code
from codes.selectors import with_state
from codes.services import code_attach
from codes.views import CodeListView
from tests import factories
from tests.domain.support import DAY, T0
from tests.ui.helpers import streamed

pytestmark = pytest.mark.postgres

URL = "/codes/?state=available&state=running&state=scheduled&state=released&state=expired&state=revoked"
# Every sort of the window is total (ties broken by the code), so both files list rows alike.
SORTS = ["", "&sort=-pk", "&sort=state", "&sort=-holder", "&sort=period_days", "&sort=-batch"]
AWKWARD_NAMES = ['Tractor, the "big" one', "Two\nlines", "Ünïcødé – 東京", "=1+2", "semi;colon", "tab\there"]


@pytest.fixture
def awkward(window, clock):
    """Units whose names need quoting or are not ASCII, each with a code running on it; a batch
    with a use-by date."""
    admin = window.network.provider_admin
    clock.move_to(T0 + DAY)
    codes = factories.codes(admin, quantity=len(AWKWARD_NAMES), period_days=90, use_by=date(2027, 12, 31))
    for index, (code, name) in enumerate(zip(codes, AWKWARD_NAMES, strict=True)):
        unit = factories.unit(window.network.south_rentals, actor=admin, name=name, hardware_id=f"86999{index:010d}")
        code_attach(code=code, unit=unit, actor=admin)
    return window


def both_files(client: Client, monkeypatch, query: str, **headers) -> tuple[bytes, bytes]:
    """The export as PostgreSQL writes it, then as Python writes it (the path every other database
    takes), for the same request."""
    by_database = streamed(client.get(f"{query}&export=csv", **headers))
    with monkeypatch.context() as patched:
        patched.setattr(cms.exports, "copies_in_sql", lambda queryset, columns: False)
        by_python = streamed(client.get(f"{query}&export=csv", **headers))
    return by_database, by_python


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"])
def test_the_database_writes_the_same_file_in_every_zone(awkward, signed_in, monkeypatch, zone, sort):
    account_update(actor=awkward.network.provider_admin, account=awkward.network.provider,
                   name=awkward.network.provider.name, time_zone=zone)
    client = signed_in(awkward.network.provider_admin)
    by_database, by_python = both_files(client, monkeypatch, URL + sort)
    assert by_database == by_python
    assert by_database.count(b"\r\n") == Code.objects.filter(provider=awkward.network.provider).count() + 1


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_database_writes_the_same_file_in_every_language(awkward, signed_in, monkeypatch, language):
    client = signed_in(awkward.network.provider_admin)
    by_database, by_python = both_files(client, monkeypatch, URL, HTTP_ACCEPT_LANGUAGE=language)
    assert by_database == by_python
    assert b"Available" not in by_database  # the state labels are translated, in both


def test_the_database_writes_the_same_file_for_a_reseller_and_a_filter(awkward, signed_in, monkeypatch):
    client = signed_in(awkward.network.north_admin)
    for query in (URL, "/codes/?state=running&state=scheduled", f"/codes/?holder={awkward.network.harvest.pk}"):
        by_database, by_python = both_files(client, monkeypatch, query)
        assert by_database == by_python


def test_awkward_names_are_quoted_and_a_line_break_stays_inside_its_cell(awkward, signed_in):
    from tests.ui.helpers import csv_rows

    client = signed_in(awkward.network.provider_admin)
    rows = csv_rows(client.get(f"{URL}&export=csv"))
    assert set(AWKWARD_NAMES) <= {row["Unit"] for row in rows}
    assert {row["Use by"] for row in rows if row["Unit"] in AWKWARD_NAMES} == {"2027-12-31"}


def test_on_postgresql_the_codes_export_is_written_by_the_database():
    assert copies_in_sql(Code.objects.all(), CodeListView.export_columns)


def test_a_query_nothing_can_match_gives_the_header_alone(db):
    response = copy_csv_response(with_state(Code.objects.filter(pk__in=[])), CodeListView.export_columns, "codes")
    assert streamed(response) == b"Code,State,Unit,Hardware id,Shared with,Period (days),Activation,Expires,Days left,Use by,Batch,Price,Currency\r\n"


@pytest.mark.django_db(transaction=True)  # the file streams outside any transaction, as in production
def test_a_download_cut_short_leaves_the_connection_usable(window, signed_in):
    """The client goes away mid-file (a file of several pieces, cut after the first rows): the
    COPY is cancelled, and the connection takes the next query."""
    factories.codes(window.network.provider_admin, quantity=2000)
    client = signed_in(window.network.provider_admin)
    response = client.get("/codes/?state=available&export=csv")
    pieces = iter(response.streaming_content)
    assert next(pieces).startswith(b"Code,State")
    assert len(next(pieces)) >= cms.exports.PIECE  # rows have started and more are to come
    # As a server closes a response, but without the request's end closing this test's connection
    # (the test client does the same when a streamed response ends).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert Code.objects.filter(provider=window.network.provider).count() > 2000
