"""The confirmation is bound to what was shown: a code or unit swapped between the two steps,
a forged or stale token, or a token shown to someone else is refused and changes nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from audit.models import Action, Event
from codes.cover import unit_is_active
from codes.models import CodeState
from codes.redeem_forms import CONFIRM_SALT

from .conftest import ADDRESS, check, confirm_data, state_of

TAMPERED = "The details changed after they were checked. Check the code again."


def refused_reasons():
    return [e.details["reason"] for e in Event.objects.filter(action=Action.REDEEM_REFUSED).order_by("pk")]


def assert_nothing_redeemed(shop):
    assert not Event.objects.filter(action=Action.REDEEMED).exists()
    assert all(state_of(c) == CodeState.AVAILABLE for c in shop.codes)
    assert not unit_is_active(shop.unit) and not unit_is_active(shop.other_unit)


@pytest.fixture
def shown(shop, visitor):
    """The confirmation step as shown for code 0 on Harvest's first unit."""
    response = check(visitor, shop.codes[0].text, shop.unit.hardware_id)
    assert response.context["step"] == "confirm"
    return confirm_data(response)


def test_given_the_confirmation_when_the_unit_is_swapped_then_it_is_refused(shop, visitor, shown):
    response = visitor.post("/redeem/", {**shown, "hardware_id": shop.other_unit.hardware_id})

    assert response.status_code == 400
    assert TAMPERED in response.content.decode()
    assert refused_reasons() == ["confirmation_tampered"]
    event = Event.objects.get(action=Action.REDEEM_REFUSED)
    assert event.client_address == ADDRESS
    # Recorded on the posted code and unit, so it shows in the report of the code's branch.
    assert (event.code_id, event.unit_id, event.account_id) == (shop.codes[0].pk, shop.other_unit.pk, shop.network.north.pk)
    assert_nothing_redeemed(shop)


def test_given_the_confirmation_when_the_code_is_swapped_then_it_is_refused(shop, visitor, shown):
    response = visitor.post("/redeem/", {**shown, "code": shop.codes[1].display_text})

    assert response.status_code == 400 and TAMPERED in response.content.decode()
    assert refused_reasons() == ["confirmation_tampered"]
    assert_nothing_redeemed(shop)


def test_given_the_confirmation_when_the_token_is_forged_then_it_is_refused(shop, visitor, shown):
    payload = {"c": shop.codes[1].text, "h": shop.other_unit.hardware_id, "u": shop.other_unit.pk, "a": None}
    forged = signing.dumps(payload, key="not-the-secret-key", salt=CONFIRM_SALT)

    response = visitor.post(
        "/redeem/",
        {**shown, "code": shop.codes[1].text, "hardware_id": shop.other_unit.hardware_id, "token": forged},
    )

    assert response.status_code == 400
    assert refused_reasons() == ["confirmation_tampered"]
    assert_nothing_redeemed(shop)


def test_given_a_token_signed_for_another_unit_with_the_same_hardware_id_when_confirmed_then_it_is_refused(
    shop, visitor
):
    token = signing.dumps(
        {"c": shop.codes[0].text, "h": shop.unit.hardware_id, "u": shop.other_unit.pk, "a": None}, salt=CONFIRM_SALT
    )

    response = visitor.post(
        "/redeem/", {"step": "confirm", "code": shop.codes[0].text, "hardware_id": shop.unit.hardware_id, "token": token}
    )

    assert response.status_code == 400
    assert refused_reasons() == ["confirmation_tampered"]
    assert_nothing_redeemed(shop)


def test_given_the_confirmation_when_the_token_is_missing_then_it_is_refused(shop, visitor, shown):
    response = visitor.post("/redeem/", {**shown, "token": ""})

    assert response.status_code == 400
    assert refused_reasons() == ["confirmation_tampered"]
    assert_nothing_redeemed(shop)


def test_given_the_confirmation_when_confirmed_too_late_then_it_asks_to_check_again(shop, visitor, shown, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.KEYLINE_REDEEM_CONFIRM_MAX_AGE + 5)):
        response = visitor.post("/redeem/", shown)

    assert response.status_code == 400
    assert "This confirmation is too old. Check the code again." in response.content.decode()
    assert refused_reasons() == ["confirmation_expired"]
    assert_nothing_redeemed(shop)


def test_given_a_confirmation_shown_to_an_anonymous_visitor_when_a_signed_in_user_posts_it_then_it_is_refused(
    shop, shown
):
    customer = Client(REMOTE_ADDR=ADDRESS)
    customer.force_login(shop.customer)

    response = customer.post("/redeem/", shown)

    assert response.status_code == 400
    assert refused_reasons() == ["confirmation_tampered"]
    assert_nothing_redeemed(shop)


def test_given_a_refused_confirmation_when_the_form_comes_back_then_the_visitor_can_check_again(shop, visitor, shown):
    response = visitor.post("/redeem/", {**shown, "hardware_id": shop.other_unit.hardware_id})

    form = response.context["form"]
    assert response.context["step"] == "check"
    assert form["code"].value() == shop.codes[0].display_text
    assert form["hardware_id"].value() == shop.other_unit.hardware_id


@pytest.mark.parametrize("tight", [False, True])
def test_given_a_nul_character_in_a_posted_field_when_confirming_then_it_is_refused_not_a_500(shop, visitor, settings, tight):
    # PostgreSQL refuses NUL in text: the paths that look the posted values up before the form
    # validates them (a tampered confirmation, a tripped rate limit) must not pass it on.
    if tight:
        settings.KEYLINE_REDEEM_RATE_ADDRESS = "0/15m"
    response = visitor.post(
        "/redeem/", {"step": "confirm", "code": shop.codes[0].text, "hardware_id": "3569\x0038", "token": "x"}
    )

    assert response.status_code == (429 if tight else 400)
    assert refused_reasons() == ["rate_limited" if tight else "confirmation_tampered"]
    assert_nothing_redeemed(shop)
