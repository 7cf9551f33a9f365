"""The window's time columns show the account's local time, and a missing time as "—": never
the current time (`timezone.localtime(None)` is now), in any table of the product."""

import re
from datetime import UTC, datetime

import django_tables2 as tables
import pytest
import time_machine
from django.db import models
from django.utils import timezone

from cms.account_tables import UserTable
from cms.web.tables import LocalDateTimeColumn
from codes.batch_tables import BatchTable
from codes.report.tables import EventTable
from codes.tables import CodeTable
from tests import factories
from units.tables import UnitTable

TABLES = [CodeTable, BatchTable, UnitTable, EventTable, UserTable]
NOW = datetime(2027, 6, 15, 14, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "moment", "shown"),
    [
        ("UTC", datetime(2027, 3, 1, 9, 0, tzinfo=UTC), "2027-03-01 09:00"),
        ("Europe/Paris", datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC), "2027-03-28 01:59"),  # before summer time
        ("Europe/Paris", datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "2027-03-28 03:00"),  # after it
        ("Asia/Kathmandu", datetime(2027, 12, 31, 23, 5, tzinfo=UTC), "2028-01-01 04:50"),
        ("America/Santiago", datetime(2027, 1, 2, 3, 4, tzinfo=UTC), "2027-01-02 00:04"),
    ],
)
def test_a_time_cell_shows_the_time_in_the_accounts_zone(zone, moment, shown):
    with timezone.override(zone):
        assert LocalDateTimeColumn().render(moment, bound_column=None) == shown


def test_another_format_is_a_django_date_format():
    with timezone.override("Europe/Paris"):
        assert LocalDateTimeColumn(format="d/m/Y").render(datetime(2027, 3, 1, 9, tzinfo=UTC), None) == "01/03/2027"


def _is_time_column(table_class, name, column) -> bool:
    if isinstance(column, LocalDateTimeColumn | tables.DateTimeColumn | tables.DateColumn):
        return True
    model = table_class._meta.model
    try:
        field = model._meta.get_field(str(column.accessor or name).split("__")[0])
    except Exception:
        return False
    return isinstance(field, models.DateField)  # DateTimeField is a DateField


def _time_columns(table_class) -> list[str]:
    """The table's time columns, and the columns that read one of them (days left)."""
    columns = table_class.base_columns
    times = [name for name, column in columns.items() if _is_time_column(table_class, name, column)]
    return times + [name for name, column in columns.items() if name not in times and str(column.accessor) in times]


TIME_COLUMNS = [(table_class, name) for table_class in TABLES for name in _time_columns(table_class)]


class Empty:
    """A row whose every value is missing."""

    def __getattr__(self, name):
        return None


def test_every_table_has_its_time_columns_listed_here():
    names = {(table_class.__name__, name) for table_class, name in TIME_COLUMNS}
    assert {("CodeTable", "activated_at"), ("CodeTable", "expires_at"), ("CodeTable", "days_left"),
            ("BatchTable", "created_at"), ("BatchTable", "use_by"), ("UnitTable", "covered_until"),
            ("UnitTable", "days_left"), ("EventTable", "occurred_at"), ("EventTable", "activated_at"),
            ("EventTable", "expires_at"), ("UserTable", "last_login")} <= names


@pytest.mark.parametrize(("table_class", "name"), TIME_COLUMNS, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu"])
def test_an_empty_time_shows_a_dash_never_the_current_time(table_class, name, zone):
    with time_machine.travel(NOW, tick=False), timezone.override(zone):
        table = table_class([Empty()], exclude=[n for n in table_class.base_columns if n != name])
        (row,) = table.rows
        cell = str(row.get_cell(name))
        now = timezone.localtime(NOW)
    assert cell in ("—", "")
    for shown in (now.strftime("%Y-%m-%d %H:%M"), now.strftime("%H:%M"), now.strftime("%Y-%m-%d")):
        assert shown not in cell


@pytest.mark.django_db
def test_an_unused_code_shows_no_activation_and_no_expiry_on_the_codes_page(network, client):
    admin = network.provider_admin
    (code,) = factories.codes(admin, quantity=1)
    client.force_login(admin)
    html = client.get("/codes/").content.decode()
    row = re.search(rf'<tr[^>]*>\s*<td[^>]*>\s*<input[^>]* value="{code.pk}".*?</tr>', html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    header = [re.sub(r"<[^>]+>", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]
    shown = dict(zip(header, cells, strict=True))
    assert shown["Activation"] == shown["Expires"] == shown["Days left"] == "—"
    assert timezone.localtime().strftime("%Y-%m-%d") not in row
