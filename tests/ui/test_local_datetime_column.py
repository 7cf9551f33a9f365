"""The window's time columns show the account's local time, and a missing time as "—" or
nothing: never the current time (`timezone.localtime(None)` is now), in any table of the product.
The tables and their time columns are found, not listed: a new table or time column is checked
the day it is written."""

import importlib
import pkgutil
import re
from datetime import UTC, date, datetime

import django_tables2 as tables
import pytest
import time_machine
from django.db import models
from django.test import RequestFactory
from django.utils import timezone

from cms.web.tables import LocalDateColumn, LocalDateTimeColumn, day, minute
from codes.services import code_revoke
from tests import factories

APPS = ("cms", "codes", "units", "audit")
NOW = datetime(2027, 6, 15, 14, 37, tzinfo=UTC)


def _project_tables() -> list[type[tables.Table]]:
    """Every django-tables2 table the apps define (their modules imported, then the subclasses
    of Table walked)."""
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if not any(part in module.name for part in (".migrations", ".management", ".tests")):
                importlib.import_module(module.name)
    found, todo = [], [tables.Table]
    while todo:
        for subclass in todo.pop().__subclasses__():
            todo.append(subclass)
            if subclass.__module__.split(".")[0] in APPS and subclass._meta.model is not None:
                found.append(subclass)
    return sorted(found, key=lambda t: t.__name__)


TABLES = _project_tables()


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
        assert minute(moment) == shown  # the Jinja2 filter of the Codes window's rows


def test_a_day_is_the_days_digits_and_a_times_day_is_the_accounts():
    with timezone.override("Asia/Kathmandu"):
        assert day(date(2027, 6, 30)) == "2027-06-30"
        assert day(datetime(2027, 12, 31, 23, 5, tzinfo=UTC)) == "2028-01-01"
        assert day(None) == ""


def _is_time_column(table_class, name, column) -> bool:
    if isinstance(column, LocalDateTimeColumn | LocalDateColumn | tables.DateTimeColumn | tables.DateColumn):
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


def test_the_tables_and_their_time_columns_are_found():
    """The search reaches every table of the product and the time columns known today."""
    assert {t.__name__ for t in TABLES} >= {"CodeTable", "BatchTable", "UnitTable", "EventTable", "UserTable"}
    names = {(table_class.__name__, name) for table_class, name in TIME_COLUMNS}
    assert {("CodeTable", "activated_at"), ("CodeTable", "expires_at"), ("CodeTable", "days_left"),
            ("BatchTable", "created_at"), ("BatchTable", "use_by"), ("UnitTable", "covered_until"),
            ("UnitTable", "days_left"), ("EventTable", "occurred_at"), ("EventTable", "activated_at"),
            ("EventTable", "expires_at"), ("UserTable", "last_login")} <= names


def _body_cells(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]


@pytest.mark.parametrize(("table_class", "name"), TIME_COLUMNS, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu"])
def test_an_empty_time_shows_a_dash_never_the_current_time(table_class, name, zone):
    """Each time column alone, rendered as the page renders it: the table's own template (the
    Codes window writes its cells in its row template), for a row whose every value is missing."""
    request = RequestFactory().get("/")
    with time_machine.travel(NOW, tick=False), timezone.override(zone):
        table = table_class([Empty()], exclude=[n for n in table_class.base_columns if n != name])
        (cell,) = _body_cells(table.as_html(request))
        now = timezone.localtime(NOW)
    assert cell in ("—", "")
    for shown in (now.strftime("%Y-%m-%d %H:%M"), now.strftime("%H:%M"), now.strftime("%Y-%m-%d")):
        assert shown not in cell


def test_the_minute_filter_writes_nothing_for_a_missing_time():
    with time_machine.travel(NOW, tick=False):
        assert minute(None) == ""


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


@pytest.mark.django_db
def test_unused_and_revoked_codes_show_no_activation_and_no_expiry_on_the_confirmation_page(network, client):
    admin = network.provider_admin
    available, revoked = factories.codes(admin, quantity=2)
    code_revoke(code=revoked, actor=admin)
    with time_machine.travel(NOW, tick=False):
        client.force_login(admin)
        response = client.post("/codes/share/", {"pk": [available.pk, revoked.pk]})
        html = response.content.decode()
    assert response.status_code == 200
    preview = html.split('data-testid="bulk-confirm"', 1)[1]
    header = [re.sub(r"<[^>]+>", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", preview, re.S)]
    for code in (available, revoked):
        row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{code.display_text}.*?</tr>", preview, re.S).group(0)
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        shown = dict(zip(header, cells, strict=True))
        assert shown["Activation"] == shown["Expires"] == shown["Days left"] == "—", code
        assert timezone.localtime(NOW).strftime("%Y-%m-%d") not in row
