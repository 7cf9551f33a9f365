"""POST /api/v1/redeem/: an end customer applies a code to its own unit, rate limited like the
public page (per client address and per hardware id, codes.ratelimits)."""

import pytest

from audit.models import Action, Event
from codes import text as code_text
from codes.models import Code
from codes.services import code_attach, codes_send_by_email
from tests import factories
from tests.api.conftest import assert_error


def redeem(api, code_text_, hardware_id, **extra):
    return api.post("/api/v1/redeem/", {"code": code_text_, "unit": hardware_id}, format="json", **extra)


def test_given_a_customer_when_redeeming_onto_its_own_unit_then_the_code_runs(network, api_for, acme_codes, harvest_unit):
    response = redeem(api_for(network.harvest_user), acme_codes[0].display_text.lower(), harvest_unit.hardware_id)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "running" and body["unit"]["hardware_id"] == harvest_unit.hardware_id
    assert "holder" not in body
    assert Event.objects.get(action=Action.REDEEMED).actor == network.harvest_user


def test_given_a_mistyped_code_when_redeeming_then_400_code_mistyped(network, api_for, acme_codes, harvest_unit):
    wrong = acme_codes[0].text[:-1] + ("0" if acme_codes[0].text[-1] != "0" else "1")
    assert_error(redeem(api_for(network.harvest_user), wrong, harvest_unit.hardware_id), 400, "code_mistyped")


@pytest.mark.parametrize("which", ["unknown", "rival", "revoked"])
def test_given_an_unknown_foreign_or_revoked_code_when_redeeming_then_the_same_400_code_not_valid(
    network, api_for, acme_codes, harvest_unit, which
):
    if which == "unknown":
        text = code_text.generate()
    elif which == "rival":
        text = factories.codes(network.rival_admin, quantity=1)[0].text
    else:
        api_for(network.provider_admin).post(f"/api/v1/codes/{acme_codes[0].text}/revoke/", {}, format="json")
        text = acme_codes[0].text
    error = assert_error(redeem(api_for(network.harvest_user), text, harvest_unit.hardware_id), 400, "code_not_valid")
    assert error["message"] == "This code is not valid."
    assert Event.objects.filter(action=Action.REDEEM_REFUSED).count() == 1


def test_given_a_used_code_when_redeeming_then_409_code_already_used(network, api_for, acme_codes, harvest_unit):
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    other = factories.unit(network.harvest, actor=network.provider_admin)
    assert_error(redeem(api_for(network.harvest_user), acme_codes[0].text, other.hardware_id), 409, "code_already_used")


def test_given_a_unit_of_someone_else_when_redeeming_then_400_unit_not_eligible(network, api_for, acme_codes, south_unit):
    response = redeem(api_for(network.harvest_user), acme_codes[0].text, south_unit.hardware_id)
    assert_error(response, 400, "unit_not_eligible")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None


def test_given_a_viewer_when_redeeming_then_403(network, api_for, acme_codes, harvest_unit):
    viewer = factories.user(network.harvest, "viewer")
    assert_error(redeem(api_for(viewer), acme_codes[0].text, harvest_unit.hardware_id), 403, "permission_denied")


def test_given_too_many_attempts_from_one_address_when_redeeming_then_429_with_retry_after(
    network, api_for, harvest_unit, settings
):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "2/h"
    api = api_for(network.harvest_user)
    for _ in range(2):
        assert_error(redeem(api, code_text.generate(), harvest_unit.hardware_id), 400, "code_not_valid")
    response = redeem(api, code_text.generate(), "another-unit")
    assert_error(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 3600
    # Another client address is not held back.
    assert redeem(api, code_text.generate(), "another-unit", REMOTE_ADDR="10.1.2.3").status_code == 400


def test_given_too_many_attempts_on_one_hardware_id_when_redeeming_then_429_from_any_address(
    network, api_for, acme_codes, harvest_unit, settings
):
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "2/h"
    api = api_for(network.harvest_user)
    for n in range(2):
        redeem(api, code_text.generate(), harvest_unit.hardware_id, REMOTE_ADDR=f"10.0.0.{n + 1}")
    response = redeem(api, acme_codes[0].text, harvest_unit.hardware_id.lower(), REMOTE_ADDR="10.0.0.9")
    assert_error(response, 429, "rate_limited")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None  # refused before the service ran


def test_given_a_malformed_body_when_redeeming_then_400_and_nothing_is_counted(network, api_for, settings):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "1/h"
    api = api_for(network.harvest_user)
    for _ in range(3):
        assert_error(api.post("/api/v1/redeem/", {"code": "X"}, format="json"), 400, "validation_error")


def test_given_running_and_scheduled_redemptions_then_each_answer_is_the_code_as_the_serializer_writes_it(
    network, api_for, acme_codes, harvest_unit
):
    """The view writes its answer with one serializer made once (codes.api.views): each answer
    is still that code's own, times in UTC."""
    import datetime
    import json

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from codes.api.serializers import RedemptionSerializer

    api = api_for(network.harvest_user)
    answers = [redeem(api, code.text, harvest_unit.hardware_id).json() for code in acme_codes[:2]]

    with timezone.override(datetime.UTC):
        expected = [
            json.loads(JSONRenderer().render(RedemptionSerializer(Code.objects.get(pk=code.pk)).data))
            for code in acme_codes[:2]
        ]
    assert answers == expected
    assert [a["state"] for a in answers] == ["running", "scheduled"]
    assert answers[0]["expires_at"] == answers[1]["activated_at"] and answers[0]["expires_at"].endswith("Z")


def test_given_a_code_sent_by_email_when_its_recipient_redeems_it_then_it_runs_and_is_no_longer_reserved(
    network, api_for, acme_codes, harvest_unit
):
    codes_send_by_email(codes=[acme_codes[0]], actor=network.provider_admin, recipient="driver@harvest.example")

    response = redeem(api_for(network.harvest_user), acme_codes[0].display_text, harvest_unit.hardware_id)

    assert response.status_code == 200, response.content
    code = Code.objects.get(pk=acme_codes[0].pk)
    assert code.unit_id == harvest_unit.pk and code.reserved_for == "" and code.reserved_at is None
