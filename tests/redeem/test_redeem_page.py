"""The redemption page, as an end customer uses it: every answer it can give."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import Action, Event
from codes import text as code_text
from codes.cover import unit_cover, unit_is_active
from codes.models import CodeState
from codes.rules import code_state
from codes.services import code_attach, code_release, code_revoke
from tests import factories

from .conftest import ADDRESS, check, confirm_data, redeem, state_of

MISTYPED = "This code looks mistyped: check it and try again."
NOT_VALID = "This code is not valid."
ALREADY_USED = "This code has already been used."
EXPIRED = "This code has expired."
NOT_ELIGIBLE = "No unit with this hardware id can take this code."


def refusals():
    return list(Event.objects.filter(action=Action.REDEEM_REFUSED).order_by("pk"))


def field_error(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


# --- the page --------------------------------------------------------------------------------


def test_given_a_link_from_an_email_when_opened_then_the_public_form_has_the_code_filled_in(db, visitor):
    response = visitor.get("/redeem/", {"code": "7KQ2M-9XH4T-0PZ8R-WD3NC-Q"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="7KQ2M-9XH4T-0PZ8R-WD3NC-Q"' in html
    assert '<label for="id_code"' in html and '<label for="id_hardware_id"' in html
    assert 'aria-describedby="id_code-help"' in html
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_given_a_signed_in_customer_when_opening_the_page_then_it_offers_only_their_own_units(shop):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(shop.customer)

    response = client.get("/redeem/")

    form = response.context["form"]
    assert form.picks_unit and "hardware_id" not in form.fields
    assert set(form.fields["unit"].queryset) == {shop.unit, shop.other_unit}
    assert "Van 3" not in response.content.decode()


def test_given_every_post_when_sent_without_a_csrf_token_then_it_is_refused(shop):
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=ADDRESS)
    code = shop.codes[0]

    response = browser.post("/redeem/", {"step": "check", "code": code.text, "hardware_id": shop.unit.hardware_id})
    assert response.status_code == 403
    response = browser.post("/redeem/", {"step": "confirm", "code": code.text, "hardware_id": shop.unit.hardware_id, "token": "x"})
    assert response.status_code == 403
    assert state_of(code) == CodeState.AVAILABLE


# --- success ---------------------------------------------------------------------------------


def test_given_a_valid_code_when_an_anonymous_visitor_checks_then_the_confirmation_masks_the_unit_name(shop, visitor):
    code = shop.codes[0]
    before = timezone.now()

    response = check(visitor, code.display_text.lower(), " 356938 035643809 ")

    assert response.status_code == 200 and response.context["step"] == "confirm"
    html = response.content.decode()
    assert "Combine Harvester 7" not in html
    assert response.context["unit_label"] == "Com•••• Har•••••• 7"
    preview = response.context["preview"]
    assert preview.unit == shop.unit and preview.period_days == 30 and not preview.scheduled
    assert before + timedelta(days=30) <= preview.ends_at <= timezone.now() + timedelta(days=30)
    assert state_of(code) == CodeState.AVAILABLE, "checking changes nothing"
    assert not unit_is_active(shop.unit)


def test_given_the_confirmation_when_confirmed_then_the_unit_is_active_and_the_audit_has_the_address(shop, visitor):
    code = shop.codes[0]

    response = redeem(visitor, code.display_text, shop.unit.hardware_id)

    assert response.status_code == 302 and response["Location"] == "/redeem/done/"
    done = visitor.get(response["Location"])
    assert done.status_code == 200 and "is active now." in done.content.decode()
    assert "Combine Harvester 7" not in done.content.decode()
    code.refresh_from_db()
    assert code_state(code) == CodeState.RUNNING and code.unit == shop.unit
    assert unit_is_active(shop.unit)
    event = Event.objects.get(action=Action.REDEEMED, code=code)
    assert event.client_address == ADDRESS and event.unit == shop.unit and event.actor is None
    assert refusals() == []


def test_given_a_covered_unit_when_checking_then_the_cover_end_is_after_the_current_cover(shop, visitor):
    running = shop.codes[0]
    code_attach(code=running, unit=shop.unit, actor=shop.network.north_admin)
    current_end = unit_cover(shop.unit).covered_until

    response = check(visitor, shop.codes[1].text, shop.unit.hardware_id)

    preview = response.context["preview"]
    assert preview.scheduled and preview.starts_at == current_end
    assert preview.ends_at == current_end + timedelta(days=30)
    assert "starts when its current cover ends" in response.content.decode()

    response = visitor.post("/redeem/", confirm_data(response))
    assert response.status_code == 302
    code = shop.codes[1]
    code.refresh_from_db()
    assert code_state(code) == CodeState.SCHEDULED and code.expires_at == preview.ends_at


def test_given_a_signed_in_customer_when_redeeming_onto_their_unit_then_the_full_name_is_shown(shop):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(shop.customer)
    code = shop.codes[0]

    first = check(client, code.text, unit=shop.other_unit)
    assert first.context["unit_label"] == "Tractor Blue"
    response = client.post("/redeem/", confirm_data(first))

    assert response.status_code == 302
    code.refresh_from_db()
    assert code.unit == shop.other_unit
    assert Event.objects.get(action=Action.REDEEMED, code=code).actor == shop.customer


def test_given_a_signed_in_customer_when_posting_a_unit_of_another_customer_then_the_form_refuses_it(shop):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(shop.customer)

    response = check(client, shop.codes[0].text, unit=shop.south_unit)

    assert response.context["step"] == "check" and field_error(response, "unit")
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


# --- the answers -----------------------------------------------------------------------------


def test_given_a_code_with_one_wrong_character_when_checked_then_it_looks_mistyped(shop, visitor):
    text = shop.codes[0].text
    typo = text[:3] + ("X" if text[3] != "X" else "Y") + text[4:]

    response = check(visitor, typo, shop.unit.hardware_id)

    assert response.context["step"] == "check"
    assert field_error(response, "code") == MISTYPED
    html = response.content.decode()
    assert 'aria-describedby="id_code-help id_code-error"' in html and 'aria-invalid="true"' in html
    assert [e.details["reason"] for e in refusals()] == ["code_mistyped"]
    assert refusals()[0].client_address == ADDRESS


@pytest.mark.parametrize("case", ["unknown", "revoked", "use_by_passed"])
def test_given_a_code_that_cannot_be_used_when_checked_then_it_is_not_valid_in_the_same_words(shop, visitor, case):
    if case == "unknown":
        text = code_text.generate()
    elif case == "revoked":
        [fresh] = factories.codes(shop.network.provider_admin, quantity=1)
        code_revoke(code=fresh, actor=shop.network.provider_admin)
        text = fresh.text
    else:
        use_by = timezone.now().date() - timedelta(days=2)
        with time_machine.travel(timezone.now() - timedelta(days=10)):
            [old] = factories.codes(shop.network.provider_admin, quantity=1, use_by=use_by)
        text = old.text

    response = check(visitor, text, shop.unit.hardware_id)

    assert field_error(response, "code") == NOT_VALID
    assert [e.details["reason"] for e in refusals()] == ["code_not_valid"]


def test_given_a_code_already_on_a_unit_when_checked_then_it_is_already_used(shop, visitor):
    code = shop.codes[0]
    code_attach(code=code, unit=shop.other_unit, actor=shop.network.north_admin)

    response = check(visitor, code.text, shop.unit.hardware_id)

    assert field_error(response, "code") == ALREADY_USED
    assert refusals()[0].details["reason"] == "code_already_used" and refusals()[0].code == code


def test_given_a_code_whose_period_is_over_when_checked_then_it_has_expired(shop, visitor):
    code = shop.codes[0]
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        code_attach(code=code, unit=shop.other_unit, actor=shop.network.north_admin)
        code_release(code=code, actor=shop.network.north_admin)

    response = check(visitor, code.text, shop.unit.hardware_id)

    assert field_error(response, "code") == EXPIRED
    assert refusals()[0].details["reason"] == "code_expired"


@pytest.mark.parametrize("where", ["unknown", "outside_branch"])
def test_given_a_hardware_id_that_cannot_take_the_code_when_checked_then_the_unit_is_not_eligible(shop, visitor, where):
    hardware_id = {"unknown": "999999999999999", "outside_branch": shop.south_unit.hardware_id}[where]

    response = check(visitor, shop.codes[0].text, hardware_id)

    assert field_error(response, "hardware_id") == NOT_ELIGIBLE
    assert 'aria-describedby="id_hardware_id-help id_hardware_id-error"' in response.content.decode()
    assert refusals()[0].details["reason"] == "unit_not_eligible"
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_a_code_used_between_check_and_confirm_when_confirmed_then_the_service_answers_already_used(shop, visitor):
    code = shop.codes[0]
    first = check(visitor, code.text, shop.unit.hardware_id)
    code_attach(code=code, unit=shop.other_unit, actor=shop.network.north_admin)

    response = visitor.post("/redeem/", confirm_data(first))

    assert response.status_code == 409
    assert field_error(response, "code") == ALREADY_USED
    assert [e.details["reason"] for e in refusals()] == ["code_already_used"]
    code.refresh_from_db()
    assert code.unit == shop.other_unit


def test_given_empty_fields_when_checked_then_each_field_says_what_is_missing(shop, visitor):
    response = visitor.post("/redeem/", {"step": "check", "code": " - ", "hardware_id": ""})

    assert response.status_code == 200
    assert field_error(response, "code") and field_error(response, "hardware_id")
    assert refusals()[0].details["reason"] == "invalid_input"


def test_given_a_viewer_when_redeeming_then_the_page_says_they_are_not_allowed(shop):
    viewer = factories.user(shop.network.harvest, "viewer")
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(viewer)

    response = check(client, shop.codes[0].text, unit=shop.unit)

    assert "You are not allowed to do this." in response.content.decode()
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_a_provider_holding_the_code_when_a_south_customer_redeems_then_it_works_anywhere_in_the_tree(network, visitor):
    [code] = factories.codes(network.provider_admin, quantity=1, period_days=90)
    van = factories.unit(network.south_rentals, actor=network.provider_admin, hardware_id="A1B2C3D4")

    response = redeem(visitor, code.text, "a1b2 c3d4")

    assert response.status_code == 302
    assert unit_is_active(van)


# --- nothing leaks ---------------------------------------------------------------------------


def test_given_any_attempt_when_handled_then_neither_code_nor_hardware_id_is_logged(shop, visitor, caplog):
    caplog.set_level(logging.DEBUG)
    code = shop.codes[0]

    check(visitor, code.text[:-1] + "0" if code.text[-1] != "0" else code.text[:-1] + "1", shop.unit.hardware_id)
    visitor.post("/redeem/", {"step": "confirm", "code": code.text, "hardware_id": shop.unit.hardware_id, "token": "forged"})
    redeem(visitor, code.text, shop.unit.hardware_id)

    logged = caplog.text.upper()
    assert code.text not in logged and shop.unit.hardware_id not in logged


def test_given_an_error_page_when_rendered_then_the_posted_code_and_hardware_id_are_hidden(shop, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from codes.redeem_views import RedeemView

    code = shop.codes[0]
    request = rf.post("/redeem/", {"step": "check", "code": code.text, "hardware_id": shop.unit.hardware_id})
    request.user, request.session, request._dont_enforce_csrf_checks = AnonymousUser(), SessionStore(), True
    RedeemView.as_view()(request)  # the view marks its request's sensitive parameters
    html = _error_page(request)

    assert "boom" in html
    assert code.text not in html and shop.unit.hardware_id not in html


def _error_page(request) -> str:
    """Django's technical 500 page for a failure while handling this request."""
    from django.views.debug import ExceptionReporter

    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        return ExceptionReporter(request, type(error), error, error.__traceback__).get_traceback_html()
