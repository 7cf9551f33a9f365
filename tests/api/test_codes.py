"""Codes over the API: list and detail (scoped, filtered, text normalised), attach, release,
revoke, and bulk share / recall (all or nothing). Every rule is the service layer's; these tests
check that the API reaches it, answers in the one error shape, and never shows another branch."""

import base64
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import Action, Event
from codes import text as code_text
from codes.models import Code, CodeState
from codes.services import code_attach, code_share, codes_send_by_email
from tests import factories
from tests.api.conftest import assert_error


def page(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def texts(results):
    return {code_text.normalize(r["code"]) for r in results}


# --- list ---------------------------------------------------------------------------------------


def test_given_codes_in_two_branches_when_a_reseller_lists_then_only_its_branch_shows(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    code_share(code=acme_codes[1], to_account=network.south, actor=network.provider_admin)

    assert texts(page(api_for(network.north_admin).get("/api/v1/codes/"))) == {acme_codes[0].text}
    assert texts(page(api_for(network.provider_viewer).get("/api/v1/codes/"))) == {c.text for c in acme_codes}
    assert page(api_for(network.rival_admin).get("/api/v1/codes/")) == []


def test_given_the_window_filters_when_listing_then_the_api_applies_them(network, api_for, acme_codes, harvest_unit):
    code_share(code=acme_codes[0], to_account=network.north_farms, actor=network.provider_admin)
    code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.provider_admin)

    running = page(api.get("/api/v1/codes/", {"state": "running"}))
    assert texts(running) == {acme_codes[1].text}
    assert running[0]["unit"] == {"hardware_id": harvest_unit.hardware_id, "name": harvest_unit.name}

    assert texts(page(api.get("/api/v1/codes/", {"holder": network.north.pk}))) == set()
    below = page(api.get("/api/v1/codes/", {"holder": network.north.pk, "holder_below": "true"}))
    assert texts(below) == {acme_codes[0].text}

    assert texts(page(api.get("/api/v1/codes/", {"unit": harvest_unit.hardware_id}))) == {acme_codes[1].text}
    assert texts(page(api.get("/api/v1/codes/", {"q": acme_codes[2].display_text[:8].lower()}))) == {acme_codes[2].text}
    assert len(page(api.get("/api/v1/codes/", {"state": ["available", "running"]}))) == 5
    ninety = factories.codes(network.provider_admin, quantity=2, period_days=90)
    assert texts(page(api.get("/api/v1/codes/", {"period_days": 90}))) == {c.text for c in ninety}
    assert_error(api.get("/api/v1/codes/", {"period_days": 7}), 400, "validation_error")  # no batch of 7 days


def test_given_an_account_outside_the_callers_tree_when_filtering_by_it_then_400(network, api_for):
    response = api_for(network.north_admin).get("/api/v1/codes/", {"holder": network.south.pk})
    error = assert_error(response, 400, "validation_error")
    assert error["details"][0]["item"] == "holder"


def test_given_more_codes_than_a_page_when_listing_then_cursor_links_walk_them_all(network, api_for, acme_codes):
    api = api_for(network.provider_admin)
    first = api.get("/api/v1/codes/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = texts(first["results"]) | texts(second["results"]) | texts(third["results"])
    assert seen == {c.text for c in acme_codes} and third["next"] is None


def test_given_a_forged_cursor_when_listing_then_400(network, api_for):
    forged = base64.b64encode(b"o=not-a-number").decode()
    assert_error(api_for(network.provider_admin).get("/api/v1/codes/", {"cursor": forged}), 400, "validation_error")


# --- detail -------------------------------------------------------------------------------------


def test_given_a_code_typed_loosely_when_reading_it_then_it_is_found(network, api_for, acme_codes):
    code = acme_codes[0]
    loose = code.display_text.lower().replace("-", " ")
    response = api_for(network.provider_operator).get(f"/api/v1/codes/{loose}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == code.display_text and body["state"] == "available"
    assert body["holder"] == {"id": network.provider.pk, "name": network.provider.name, "kind": "provider"}


def test_given_a_mistyped_code_when_reading_it_then_400_code_mistyped(network, api_for, acme_codes):
    text = acme_codes[0].text
    wrong_check = text[:-1] + ("0" if text[-1] != "0" else "1")
    assert_error(api_for(network.provider_admin).get(f"/api/v1/codes/{wrong_check}/"), 400, "code_mistyped")


def test_given_another_branch_or_provider_when_reading_a_code_then_404_like_an_unknown_one(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    rival_code = factories.codes(network.rival_admin, quantity=1)[0]
    south = api_for(network.south_admin)
    assert_error(south.get(f"/api/v1/codes/{acme_codes[0].text}/"), 404, "not_found")
    assert_error(south.get(f"/api/v1/codes/{rival_code.text}/"), 404, "not_found")
    assert_error(south.get(f"/api/v1/codes/{code_text.generate()}/"), 404, "not_found")


# --- attach -------------------------------------------------------------------------------------


def attach(api, code, hardware_id):
    return api.post(f"/api/v1/codes/{code.text}/attach/", {"unit": hardware_id}, format="json")


def test_given_an_available_code_when_attached_then_it_runs_and_the_unit_is_active(network, api_for, acme_codes, harvest_unit):
    response = attach(api_for(network.provider_operator), acme_codes[0], " " + harvest_unit.hardware_id.lower())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "running" and body["unit"]["hardware_id"] == harvest_unit.hardware_id
    harvest_unit.refresh_from_db()
    assert harvest_unit.is_active
    event = Event.objects.get(action=Action.ATTACHED, code=acme_codes[0])
    assert event.actor == network.provider_operator and event.client_address == "127.0.0.1"


def test_given_a_covered_unit_when_attaching_another_code_then_it_is_scheduled_behind(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.provider_operator)
    first = attach(api, acme_codes[0], harvest_unit.hardware_id).json()
    second = attach(api, acme_codes[1], harvest_unit.hardware_id).json()
    assert second["state"] == "scheduled"
    assert second["activated_at"] == first["expires_at"]


def test_given_a_code_on_a_unit_when_attached_again_then_409_code_already_used(network, api_for, acme_codes, harvest_unit, south_unit):
    api = api_for(network.provider_operator)
    attach(api, acme_codes[0], harvest_unit.hardware_id)
    error = assert_error(attach(api, acme_codes[0], south_unit.hardware_id), 409, "code_already_used")
    assert error["details"] == [
        {"item": acme_codes[0].display_text, "reason": error["message"], "code": "code_already_used"}
    ]


def test_given_a_revoked_code_when_attached_then_409_code_revoked(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.provider_admin)
    api.post(f"/api/v1/codes/{acme_codes[0].text}/revoke/", {}, format="json")
    assert_error(attach(api, acme_codes[0], harvest_unit.hardware_id), 409, "code_revoked")


def test_given_an_expired_code_when_attached_then_409_code_expired(network, api_for, acme_codes, harvest_unit, south_unit):
    api = api_for(network.provider_admin)
    attach(api, acme_codes[0], harvest_unit.hardware_id)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert_error(attach(api, acme_codes[0], south_unit.hardware_id), 409, "code_expired")


def test_given_a_use_by_date_when_reading_the_code_then_it_says_when_that_day_ends_in_the_providers_zone(
    network, api_for
):
    from cms.models import Account

    Account.objects.filter(pk=network.provider.pk).update(time_zone="Pacific/Auckland")
    network.provider_admin.account.refresh_from_db()
    code = factories.codes(network.provider_admin, quantity=1, use_by=date(2027, 3, 1))[0]
    body = api_for(network.provider_operator).get(f"/api/v1/codes/{code.display_text}/").json()
    assert body["use_by"] == "2027-03-01"
    assert body["usable_until"] == "2027-03-01T11:00:00Z"  # midnight in Auckland (UTC+13)
    undated = factories.codes(network.provider_admin, quantity=1)[0]
    assert api_for(network.provider_operator).get(f"/api/v1/codes/{undated.display_text}/").json()["usable_until"] is None


def test_given_a_lapsed_use_by_date_when_attached_then_409_code_use_by_passed(network, api_for, harvest_unit):
    code = factories.codes(network.provider_admin, quantity=1, use_by=timezone.now().date())[0]
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert_error(attach(api_for(network.provider_admin), code, harvest_unit.hardware_id), 409, "code_use_by_passed")


def test_given_a_code_held_in_another_branch_when_attached_to_a_unit_outside_it_then_409_outside_branch(
    network, api_for, acme_codes, south_unit
):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    response = attach(api_for(network.provider_admin), acme_codes[0], south_unit.hardware_id)
    assert_error(response, 409, "outside_branch")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None


def test_given_a_unit_of_another_branch_when_attaching_then_404_and_nothing_changes(network, api_for, acme_codes, south_unit):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    error = assert_error(attach(api_for(network.north_admin), acme_codes[0], south_unit.hardware_id), 404, "not_found")
    assert "unit" in error["message"]
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None


def test_given_a_code_of_another_branch_when_attaching_then_404(network, api_for, acme_codes, harvest_unit):
    assert_error(attach(api_for(network.north_admin), acme_codes[0], harvest_unit.hardware_id), 404, "not_found")


def test_given_a_viewer_when_attaching_then_403(network, api_for, acme_codes, harvest_unit):
    assert_error(attach(api_for(network.provider_viewer), acme_codes[0], harvest_unit.hardware_id), 403, "permission_denied")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None


def test_given_no_unit_in_the_body_when_attaching_then_400_listing_the_field(network, api_for, acme_codes):
    response = api_for(network.provider_admin).post(f"/api/v1/codes/{acme_codes[0].text}/attach/", {}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert [d["item"] for d in error["details"]] == ["unit"]
    assert error["details"][0]["code"] == "required"


# --- codes e-mailed to a customer ----------------------------------------------------------------


@pytest.fixture
def mailed(network, acme_codes):
    """Acme's first code, e-mailed to a driver at 2027-03-01 09:00 UTC."""
    with time_machine.travel("2027-03-01 09:00:00+00:00", tick=False):
        codes_send_by_email(codes=[acme_codes[0]], actor=network.provider_admin, recipient="driver@harvest.example")
    return acme_codes[0]


def test_given_a_code_sent_by_email_when_read_then_it_says_for_whom_it_is_kept_since_when(network, api_for, mailed, acme_codes):
    api = api_for(network.provider_operator)

    body = api.get(f"/api/v1/codes/{mailed.text}/").json()
    listed = {r["code"]: r for r in page(api.get("/api/v1/codes/"))}

    assert (body["reserved_for"], body["reserved_at"]) == ("driver@harvest.example", "2027-03-01T09:00:00Z")
    assert listed[mailed.display_text]["reserved_for"] == "driver@harvest.example"
    assert listed[acme_codes[1].display_text]["reserved_for"] is None
    assert listed[acme_codes[1].display_text]["reserved_at"] is None


def test_given_a_code_sent_by_email_when_attached_then_409_code_reserved_and_nothing_changes(
    network, api_for, mailed, harvest_unit
):
    response = attach(api_for(network.provider_operator), mailed, harvest_unit.hardware_id)

    assert_error(response, 409, "code_reserved")
    assert "cancel the reservation first" in response.json()["error"]["message"]
    assert Code.objects.get(pk=mailed.pk).unit_id is None


def test_given_a_code_sent_by_email_when_its_reservation_is_cancelled_then_it_is_free_and_audited(
    network, api_for, mailed, harvest_unit
):
    api = api_for(network.provider_operator)

    response = api.post(f"/api/v1/codes/{mailed.display_text.lower()}/cancel-reservation/")

    assert response.status_code == 200, response.content
    assert response.json()["reserved_for"] is None and response.json()["reserved_at"] is None
    assert Event.objects.get(action=Action.RESERVATION_CANCELLED).actor == network.provider_operator
    assert attach(api, mailed, harvest_unit.hardware_id).status_code == 200
    assert_error(api.post(f"/api/v1/codes/{mailed.text}/cancel-reservation/"), 409, "invalid_state")


def test_given_another_branch_or_a_viewer_when_cancelling_a_reservation_then_404_or_403(network, api_for, mailed):
    assert_error(api_for(network.south_admin).post(f"/api/v1/codes/{mailed.text}/cancel-reservation/"), 404, "not_found")
    assert_error(
        api_for(network.provider_viewer).post(f"/api/v1/codes/{mailed.text}/cancel-reservation/"), 403,
        "permission_denied",
    )
    assert Code.objects.get(pk=mailed.pk).reserved_for == "driver@harvest.example"


# --- release ------------------------------------------------------------------------------------


def test_given_a_running_code_when_released_then_it_keeps_its_clock(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.provider_operator)
    attached = attach(api, acme_codes[0], harvest_unit.hardware_id).json()
    response = api.post(f"/api/v1/codes/{acme_codes[0].text}/release/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "released" and body["unit"] is None
    assert body["expires_at"] == attached["expires_at"]
    harvest_unit.refresh_from_db()
    assert not harvest_unit.is_active


def test_given_a_code_on_no_unit_when_released_then_409_invalid_state(network, api_for, acme_codes):
    assert_error(api_for(network.provider_operator).post(f"/api/v1/codes/{acme_codes[0].text}/release/"), 409, "invalid_state")


def test_given_another_branch_when_releasing_then_404(network, api_for, acme_codes, harvest_unit):
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    assert_error(api_for(network.south_admin).post(f"/api/v1/codes/{acme_codes[0].text}/release/"), 404, "not_found")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id == harvest_unit.pk


# --- revoke -------------------------------------------------------------------------------------


def test_given_a_provider_admin_when_revoking_an_unused_code_then_it_is_revoked_with_the_reason(network, api_for, acme_codes):
    response = api_for(network.provider_admin).post(
        f"/api/v1/codes/{acme_codes[0].text}/revoke/", {"reason": "sold by mistake"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert Event.objects.get(action=Action.REVOKED).details == {"reason": "sold by mistake"}


@pytest.mark.parametrize("who", ["provider_operator", "north_admin"])
def test_given_someone_other_than_a_provider_admin_when_revoking_then_403(network, api_for, acme_codes, who):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    response = api_for(getattr(network, who)).post(f"/api/v1/codes/{acme_codes[0].text}/revoke/", {}, format="json")
    assert_error(response, 403, "permission_denied")
    assert Code.objects.get(pk=acme_codes[0].pk).revoked_at is None


def test_given_a_started_code_when_revoking_then_409_invalid_state(network, api_for, acme_codes, harvest_unit):
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    response = api_for(network.provider_admin).post(f"/api/v1/codes/{acme_codes[0].text}/revoke/", {}, format="json")
    assert_error(response, 409, "invalid_state")


def test_given_a_rival_code_when_revoking_then_404(network, api_for):
    rival_code = factories.codes(network.rival_admin, quantity=1)[0]
    response = api_for(network.provider_admin).post(f"/api/v1/codes/{rival_code.text}/revoke/", {}, format="json")
    assert_error(response, 404, "not_found")
    assert Code.objects.get(pk=rival_code.pk).revoked_at is None


# --- share and recall ---------------------------------------------------------------------------


def holders(codes):
    return {c.pk: c.holder_id for c in Code.objects.filter(pk__in=[c.pk for c in codes])}


def test_given_codes_when_shared_down_then_the_account_holds_them(network, api_for, acme_codes):
    response = api_for(network.provider_operator).post(
        "/api/v1/codes/share/",
        {"codes": [c.display_text.lower() for c in acme_codes[:3]], "account": network.north.pk},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"count": 3}
    assert set(holders(acme_codes[:3]).values()) == {network.north.pk}
    assert Event.objects.filter(action=Action.SHARED).count() == 3


def test_given_some_refused_codes_when_sharing_then_every_refusal_is_listed_and_nothing_changes(
    network, api_for, acme_codes, harvest_unit
):
    code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    rival_code = factories.codes(network.rival_admin, quantity=1)[0]
    before = holders(acme_codes)
    typed = [acme_codes[0].text, acme_codes[1].text, rival_code.text, "NOT-A-CODE"]

    response = api_for(network.provider_admin).post(
        "/api/v1/codes/share/", {"codes": typed, "account": network.north.pk}, format="json"
    )

    error = assert_error(response, 409, "bulk_refused")
    refused = {(d["item"], d["code"]) for d in error["details"]}
    assert refused == {
        (acme_codes[1].display_text, "invalid_state"),
        (rival_code.text, "not_found"),
        ("NOT-A-CODE", "code_mistyped"),
    }
    assert holders(acme_codes) == before
    assert not Event.objects.filter(action=Action.SHARED).exists()


def test_given_an_account_of_another_branch_when_sharing_then_404(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    response = api_for(network.north_admin).post(
        "/api/v1/codes/share/", {"codes": [acme_codes[0].text], "account": network.south_rentals.pk}, format="json"
    )
    assert_error(response, 404, "not_found")
    assert holders(acme_codes[:1]) == {acme_codes[0].pk: network.north.pk}


def test_given_an_account_above_the_holder_when_sharing_then_409_outside_branch(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.north_farms, actor=network.provider_admin)
    response = api_for(network.provider_admin).post(
        "/api/v1/codes/share/", {"codes": [acme_codes[0].text], "account": network.north.pk}, format="json"
    )
    assert_error(response, 409, "outside_branch")


def test_given_a_viewer_when_sharing_then_403(network, api_for, acme_codes):
    response = api_for(network.provider_viewer).post(
        "/api/v1/codes/share/", {"codes": [acme_codes[0].text], "account": network.north.pk}, format="json"
    )
    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize(
    "body", [{}, {"codes": [], "account": 1}, {"codes": "X", "account": 1}, {"codes": ["X"]}, {"codes": ["X"], "account": "a"}]
)
def test_given_a_malformed_share_request_when_sent_then_400_validation_error(network, api_for, body):
    assert_error(api_for(network.provider_admin).post("/api/v1/codes/share/", body, format="json"), 400, "validation_error")


def test_given_codes_held_below_when_recalled_then_the_caller_holds_them_again(network, api_for, acme_codes):
    for code in acme_codes[:2]:
        code_share(code=code, to_account=network.north_farms, actor=network.provider_admin)
    response = api_for(network.north_admin).post(
        "/api/v1/codes/recall/", {"codes": [c.text for c in acme_codes[:2]]}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"count": 2}
    assert set(holders(acme_codes[:2]).values()) == {network.north.pk}


def test_given_a_code_already_held_or_outside_when_recalling_then_each_refusal_is_listed(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    code_share(code=acme_codes[1], to_account=network.north_farms, actor=network.provider_admin)
    response = api_for(network.north_admin).post(
        "/api/v1/codes/recall/", {"codes": [acme_codes[0].text, acme_codes[1].text, acme_codes[2].text]}, format="json"
    )
    error = assert_error(response, 409, "bulk_refused")
    assert {(d["item"], d["code"]) for d in error["details"]} == {
        (acme_codes[0].display_text, "invalid_state"),
        (acme_codes[2].text, "not_found"),
    }
    assert Code.objects.get(pk=acme_codes[1].pk).holder_id == network.north_farms.pk


def test_state_names_in_the_api_are_the_domain_states():
    assert {s.value for s in CodeState} == {"available", "scheduled", "running", "released", "expired", "revoked"}
