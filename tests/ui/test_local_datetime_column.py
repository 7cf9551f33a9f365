"""The window's time columns write the account's local time in the compact format; the
all-digit format is written directly (issue 7) and must match Django's `date` formatting."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from cms.tables import DATETIME_FORMAT, LocalDateTimeColumn

MOMENTS = [
    datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC),  # the night Paris changes to summer time
    datetime(2027, 12, 31, 23, 5, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Santiago", "Asia/Kathmandu"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_time_cell_shows_what_djangos_date_format_shows_in_the_accounts_zone(zone, moment):
    with timezone.override(zone):
        assert LocalDateTimeColumn().render(moment) == date_format(timezone.localtime(moment), DATETIME_FORMAT)


def test_another_format_still_goes_through_date_format():
    with timezone.override("Europe/Paris"):
        assert LocalDateTimeColumn(format="d/m/Y").render(MOMENTS[0]) == "01/03/2027"
