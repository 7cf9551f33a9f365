"""What a rate-limited redemption attempt leaves behind: one `redeem_refused` entry for the attempt
that first goes over a limit in its window, nothing for the ones after it, and no lookup of codes,
units or the log for any of them. On the public page and the API alike, whoever gets there first
(ADR 49)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Action, Event
from codes.models import CodeState

from .conftest import ADDRESS, check, confirm_data, state_of
from .test_redeem_rate_limits import api_client, api_redeem

#: Tables a refused attempt must not touch; sessions, users, accounts and tokens are the request's own.
DOMAIN_TABLES = re.compile(r"\b(codes|units|audit)_\w+", re.IGNORECASE)


@pytest.fixture
def tight_limits(settings):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "3/15m"
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "2/15m"


def rate_limited_events() -> list[Event]:
    return list(Event.objects.filter(action=Action.REDEEM_REFUSED, details__reason="rate_limited").order_by("pk"))


def domain_queries(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries if DOMAIN_TABLES.search(query["sql"])]


def test_given_a_visitor_hammering_the_page_when_far_past_the_limit_then_one_entry_says_the_limit_was_reached(
    shop, visitor, tight_limits
):
    statuses = [check(visitor, shop.codes[0].text, f"10000000000{n:04d}").status_code for n in range(30)]

    assert statuses == [200] * 3 + [429] * 27
    [event] = rate_limited_events()
    assert event.details == {"reason": "rate_limited", "limit": "address", "rate": "3/15m"}
    assert event.client_address == ADDRESS and event.actor_label == "anonymous"
    assert Event.objects.filter(action=Action.REDEEM_REFUSED).count() == 3 + 1, "the three answered, then one"
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_the_limit_reached_when_the_visitor_checks_and_confirms_again_then_no_table_of_the_domain_is_queried(
    shop, visitor, tight_limits, settings
):
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "10/15m"  # only the address's limit in play
    first = check(visitor, shop.codes[0].text, shop.unit.hardware_id)
    for n in range(3):
        check(visitor, "AAAAA", f"2000{n}")
    entries = Event.objects.count()

    with CaptureQueriesContext(connection) as checking:
        checked = check(visitor, shop.codes[0].text, shop.unit.hardware_id)
    with CaptureQueriesContext(connection) as confirming:
        confirmed = visitor.post("/redeem/", confirm_data(first))

    assert (checked.status_code, confirmed.status_code) == (429, 429)
    assert domain_queries(checking) == [] and domain_queries(confirming) == []
    assert Event.objects.count() == entries
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_the_attempt_that_reaches_the_limit_then_it_only_writes_its_entry(shop, visitor, tight_limits):
    for n in range(3):
        check(visitor, shop.codes[0].text, f"3000{n}")

    with CaptureQueriesContext(connection) as reaching:
        response = check(visitor, shop.codes[0].text, shop.unit.hardware_id)

    assert response.status_code == 429
    touched = domain_queries(reaching)
    assert len(touched) == 1 and touched[0].lstrip().upper().startswith("INSERT INTO") and "audit_event" in touched[0]


def test_given_a_hardware_id_hammered_from_many_addresses_then_one_entry_says_its_limit_was_reached(
    shop, tight_limits
):
    for n in range(20):
        check(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), "AAAAA", shop.unit.hardware_id)

    [event] = rate_limited_events()
    assert event.details["limit"] == "hardware_id" and event.client_address == "198.51.100.3"
    assert (event.code_id, event.unit_id) == (None, None)


def test_given_one_entry_in_a_window_when_the_next_window_is_hammered_then_it_gets_one_entry_too(
    shop, visitor, tight_limits
):
    for n in range(6):
        check(visitor, "AAAAA", f"400{n}")
    limited = check(visitor, "AAAAA", "4010")
    assert limited.status_code == 429 and len(rate_limited_events()) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=int(limited["Retry-After"]) + 1)):
        statuses = [check(visitor, "AAAAA", f"500{n}").status_code for n in range(8)]

    assert statuses == [200] * 3 + [429] * 5
    assert [event.details["limit"] for event in rate_limited_events()] == ["address", "address"]


def test_given_a_customer_hammering_the_api_then_one_entry_on_its_account_and_no_query_of_the_domain(
    shop, tight_limits
):
    api = api_client(shop.customer, REMOTE_ADDR="198.51.100.40")
    statuses = [api_redeem(api, shop.codes[0].text, f"6000{n}").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]

    with CaptureQueriesContext(connection) as hammering:
        again = [api_redeem(api, shop.codes[0].text, f"6100{n}") for n in range(10)]

    assert {response.status_code for response in again} == {429}
    assert {response.json()["error"]["code"] for response in again} == {"rate_limited"}
    assert domain_queries(hammering) == []
    [event] = rate_limited_events()
    assert event.details["limit"] == "address" and event.client_address == "198.51.100.40"
    assert (event.actor, event.account) == (shop.customer, shop.network.harvest), "in the customer's own report"
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_the_api_reached_the_limit_when_the_page_is_hammered_from_that_address_then_no_second_entry(
    shop, visitor, tight_limits
):
    api = api_client(shop.customer, REMOTE_ADDR=ADDRESS)
    statuses = [api_redeem(api, "AAAAA-AAAAA", f"7000{n}").status_code for n in range(4)]
    assert statuses[-1] == 429 and len(rate_limited_events()) == 1

    pages = [check(visitor, shop.codes[0].text, f"8000{n}").status_code for n in range(10)]

    assert set(pages) == {429}
    assert len(rate_limited_events()) == 1, "one budget, one entry"
