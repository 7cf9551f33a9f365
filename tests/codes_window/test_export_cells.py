"""What each cell of the Codes window's export holds: times in the account's zone (also zones a
half or a quarter hour off UTC), days left as the window shows them, names that need quoting; a
filter nothing matches gives the header alone; a download cut short leaves the connection usable."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.utils import timezone

import cms.web.exports
from cms.services import account_update
from codes.models import Code
from codes.rules import code_state
from codes.services import code_attach
from codes.templatetags.codes_window import days_left_shown
from tests import factories
from tests.domain.support import DAY, T0
from tests.ui.helpers import csv_rows, row_pks, streamed
from units.models import Unit

EVERY_STATE = "&".join(f"state={s}" for s in ("available", "scheduled", "running", "released", "expired", "revoked"))
URL = f"/codes/?{EVERY_STATE}"
AWKWARD_NAMES = ['Tractor, the "big" one', "Two\nlines", "Ünïcødé – 東京", "=1+2", "semi;colon", "tab\there"]
#: How the export writes each: a text a spreadsheet would read as a formula after a quote.
EXPORTED_NAMES = [f"'{name}" if name.startswith("=") else name for name in AWKWARD_NAMES]
HEADER = b"Code,State,Unit,Hardware id,Shared with,Period (days),Activation,Expires,Days left,Use by,Batch,Price,Currency\r\n"


@pytest.fixture
def awkward(window, clock):
    """Units whose names need quoting or are not ASCII, each with a code running on it; a batch
    with a use-by date. A line break and a tab are written to the rows, as names held them before
    names were checked."""
    admin = window.network.provider_admin
    clock.move_to(T0 + DAY)
    codes = factories.codes(admin, quantity=len(AWKWARD_NAMES), period_days=90, use_by=date(2027, 12, 31))
    for index, (code, name) in enumerate(zip(codes, AWKWARD_NAMES, strict=True)):
        unit = factories.unit(window.network.south_rentals, actor=admin, hardware_id=f"86999{index:010d}")
        Unit.objects.filter(pk=unit.pk).update(name=name)
        code_attach(code=code, unit=unit, actor=admin)
    return window


def minute(moment, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else ""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"])
def test_every_time_is_written_in_the_accounts_zone(awkward, signed_in, zone):
    network = awkward.network
    account_update(actor=network.provider_admin, account=network.provider, name=network.provider.name, time_zone=zone)
    rows = csv_rows(signed_in(network.provider_admin).get(f"{URL}&export=csv"))
    codes = {code.display_text: code for code in Code.objects.filter(provider=network.provider)}
    assert len(rows) == len(codes)
    for row in rows:
        code = codes[row["Code"]]
        assert (row["Activation"], row["Expires"]) == (minute(code.activated_at, zone), minute(code.expires_at, zone))


def test_days_left_are_those_the_window_shows(awkward, signed_in):
    client = signed_in(awkward.network.provider_admin)
    rows = csv_rows(client.get(f"{URL}&export=csv"))
    codes = {code.display_text: code for code in Code.objects.filter(provider=awkward.network.provider)}
    for row in rows:
        code = codes[row["Code"]]
        remaining = None if code.expires_at is None else code.expires_at - timezone.now()
        expected = days_left_shown(code_state(code), remaining)
        assert row["Days left"] == ("" if expected is None else str(expected))
    assert {row["Days left"] for row in rows if row["Unit"] in EXPORTED_NAMES} == {"90"}  # started now, on a stopped clock
    assert {row["Days left"] for row in rows if row["State"] in ("Expired", "Revoked")} == {""}


def test_awkward_names_are_quoted_and_a_line_break_stays_inside_its_cell(awkward, signed_in):
    client = signed_in(awkward.network.provider_admin)
    rows = csv_rows(client.get(f"{URL}&export=csv"))
    assert set(EXPORTED_NAMES) <= {row["Unit"] for row in rows}
    assert {row["Use by"] for row in rows if row["Unit"] in EXPORTED_NAMES} == {"2027-12-31"}


def test_a_filter_nothing_matches_gives_the_header_alone(window, signed_in):
    client = signed_in(window.network.provider_admin)
    assert row_pks(client.get("/codes/?q=NO-SUCH-CODE-ANYWHERE")) == []
    assert streamed(client.get("/codes/?q=NO-SUCH-CODE-ANYWHERE&export=csv")) == HEADER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the file streams outside any transaction, as in production
def test_a_download_cut_short_leaves_the_connection_usable(window, signed_in):
    """The client goes away mid-file (a file of several pieces, cut after the first rows): the
    server-side cursor is closed, and the connection takes the next query."""
    factories.codes(window.network.provider_admin, quantity=3 * cms.web.exports.CHUNK)
    client = signed_in(window.network.provider_admin)
    response = client.get("/codes/?state=available&export=csv")
    pieces = iter(response.streaming_content)
    assert next(pieces).startswith(b"Code,State")
    # As a server closes a response, but without the request's end closing this test's connection
    # (the test client does the same when a streamed response ends).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert Code.objects.filter(provider=window.network.provider).count() > 3 * cms.web.exports.CHUNK
