"""Every page and table writes a time one way: in the account's time zone, as "YYYY-MM-DD HH:MM"
(24-hour, the same in English, French and Spanish), a day as "YYYY-MM-DD": the unit, batch and
code pages, and the Units, Batches and Codes windows."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from codes.services import batch_generate, code_attach
from tests import factories

MADE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 14:45 in Kathmandu (UTC+05:45)
LOCAL_START, LOCAL_END, USE_BY = "2027-03-01 14:45", "2027-03-31 14:45", "2027-06-30"
#: How the same moments read in a language's own short formats, 12-hour or day-first.
OTHER_WAYS = ("03/01/2027", "01/03/2027", "03/31/2027", "31/03/2027", "a.m.", "p.m.", " AM", " PM", "2:45", "06/30/2027",
              "30/06/2027")


@pytest.fixture
def kathmandu(db):
    """A provider in Kathmandu: a batch made, and a code started on a unit, at MADE."""
    with time_machine.travel(MADE, tick=False):
        provider = factories.provider("Himal Trackers", time_zone="Asia/Kathmandu")
        admin = factories.user(provider, "admin")
        batch = batch_generate(actor=admin, quantity=1, period_days=30, unit_price="5.00", currency="NPR",
                               use_by=date(2027, 6, 30), background=False)
        customer = factories.customer(provider, "Valley Transport")
        unit = factories.unit(customer, admin, name="Yak truck", hardware_id="356938035649999")
        code = batch.codes.get()
        code_attach(code=code, unit=unit, actor=admin)
    return {"admin": admin, "batch": batch, "unit": unit, "code": code}


PAGES = {
    "unit page": (lambda w: reverse("units:detail", args=[w["unit"].pk]), (LOCAL_END, LOCAL_START, "2027-03-01")),
    "units window": (lambda w: reverse("units:list"), (LOCAL_END,)),
    "batch page": (lambda w: reverse("batches:detail", args=[w["batch"].pk]), (LOCAL_START, USE_BY)),
    "batches window": (lambda w: reverse("batches:list"), (LOCAL_START, USE_BY)),
    "code page": (lambda w: reverse("codes:detail", args=[w["code"].pk]), (LOCAL_START, LOCAL_END, USE_BY)),
    "codes window": (lambda w: reverse("codes:list"), (LOCAL_START, LOCAL_END)),
}


@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize("where", sorted(PAGES))
def test_given_any_language_then_times_are_written_in_the_accounts_zone_one_way(client, kathmandu, language, where):
    url, expected = PAGES[where]
    with time_machine.travel(MADE + timedelta(hours=1), tick=False):
        client.force_login(kathmandu["admin"])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(url(kathmandu))
    assert response.status_code == 200
    body = response.content.decode()
    for shown in expected:
        assert shown in body, shown
    assert not [other for other in OTHER_WAYS if other in body]
