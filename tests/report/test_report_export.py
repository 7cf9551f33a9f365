"""The Report's export: times to the second in the account's zone, which the header names; the
accounts, code and unit of each event by name."""

from zoneinfo import ZoneInfo

import pytest

from audit.models import Action, Event
from cms.services import account_update
from tests.report.test_report_page import clock, export, history  # noqa: F401  (the page's fixtures)


@pytest.mark.usefixtures("history")
def test_times_are_written_to_the_second_in_the_accounts_zone_which_the_header_names(client, network):
    account_update(actor=network.provider_admin, account=network.provider, name=network.provider.name,
                   time_zone="Asia/Kathmandu")
    client.force_login(network.provider_admin)
    header, *rows = export(client, "occurred_after=&occurred_before=&action=attached")
    assert header[0] == "Time (Asia/Kathmandu)"
    (row,) = rows
    cells = dict(zip(header, row, strict=True))
    event = Event.objects.get(action=Action.ATTACHED)
    zone = ZoneInfo("Asia/Kathmandu")
    assert cells["Time (Asia/Kathmandu)"] == event.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    assert cells["Activation"] == event.activated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    assert cells["Expires"] == event.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    assert (cells["Unit"], cells["Hardware id"]) == ("Harvest Truck", "350000000000777")
    assert cells["Code"] == event.code.display_text
    assert cells["Account"] == event.account.name
    assert cells["Details"] == ""
