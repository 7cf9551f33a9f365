"""The one error shape for DRF's own refusals, and Idempotency-Key on POSTs."""

import json

import pytest
from django.core.cache import cache, caches

from audit.models import Event
from codes.models import Batch, Code
from tests.api.conftest import assert_error

# --- DRF's own errors in the one shape ------------------------------------------------------


def test_given_an_unknown_path_under_v1_when_called_then_404_in_the_error_shape(network, api_for):
    assert_error(api_for(network.provider_admin).get("/api/v1/no-such-thing/"), 404, "not_found")


def test_given_a_wrong_method_when_called_then_405(network, api_for, acme_codes):
    api = api_for(network.provider_admin)
    assert_error(api.delete(f"/api/v1/codes/{acme_codes[0].text}/"), 405, "method_not_allowed")
    assert_error(api.get("/api/v1/codes/share/"), 405, "method_not_allowed")
    assert_error(api.get("/api/v1/redeem/"), 405, "method_not_allowed")


def test_given_broken_json_when_posting_then_400_parse_error(network, api_for, acme_codes):
    response = api_for(network.provider_admin).post(
        f"/api/v1/codes/{acme_codes[0].text}/attach/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_given_a_form_body_when_posting_then_415(network, api_for, acme_codes):
    response = api_for(network.provider_admin).post(f"/api/v1/codes/{acme_codes[0].text}/attach/", {"unit": "x"})
    assert_error(response, 415, "unsupported_media_type")


def test_given_a_nested_validation_error_when_posting_then_each_problem_is_one_detail(network, api_for):
    response = api_for(network.provider_admin).post(
        "/api/v1/codes/share/", {"codes": ["A" * 65, "ok"], "account": "north"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert {d["item"] for d in error["details"]} == {"codes.0", "account"}


# --- Idempotency-Key ------------------------------------------------------------------------


def attach(api, code, unit, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(f"/api/v1/codes/{code.text}/attach/", {"unit": unit.hardware_id, **body}, format="json", **headers)


def test_given_the_same_key_and_body_when_posted_again_then_the_first_answer_returns_and_nothing_changes(
    network, api_for, acme_codes, harvest_unit
):
    api = api_for(network.provider_operator)
    first = attach(api, acme_codes[0], harvest_unit, key="attach-1")
    events_after_first = Event.objects.count()

    again = attach(api, acme_codes[0], harvest_unit, key="attach-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == events_after_first


def test_given_the_same_key_with_another_body_when_posted_then_422_and_nothing_changes(
    network, api_for, acme_codes, harvest_unit, south_unit
):
    api = api_for(network.provider_operator)
    attach(api, acme_codes[0], harvest_unit, key="k")
    response = api.post(
        f"/api/v1/codes/{acme_codes[1].text}/attach/", {"unit": south_unit.hardware_id}, format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert_error(response, 422, "idempotency_key_reused")
    assert Code.objects.get(pk=acme_codes[1].pk).unit_id is None


def test_given_a_refusal_when_the_same_request_is_retried_with_its_key_then_the_refusal_is_replayed(
    network, api_for, acme_codes, harvest_unit
):
    api = api_for(network.provider_viewer)
    first = attach(api, acme_codes[0], harvest_unit, key="viewer-try")
    again = attach(api, acme_codes[0], harvest_unit, key="viewer-try")
    assert_error(first, 403, "permission_denied")
    assert again.json() == first.json() and again.status_code == 403


def test_given_a_batch_post_retried_with_its_key_then_one_batch_exists(network, api_for):
    api = api_for(network.provider_admin)
    body = {"quantity": 2, "period_days": 30, "unit_price": "5.00", "currency": "EUR"}
    first = api.post("/api/v1/batches/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-11")
    again = api.post("/api/v1/batches/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-11")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Batch.objects.count() == 1 and Code.objects.count() == 2


def test_given_two_users_with_the_same_key_then_their_answers_are_kept_apart(network, api_for, acme_codes, harvest_unit):
    attach(api_for(network.provider_operator), acme_codes[0], harvest_unit, key="same")
    second = attach(api_for(network.provider_admin), acme_codes[1], harvest_unit, key="same")
    assert second.status_code == 200 and "Idempotent-Replayed" not in second
    assert second.json()["state"] == "scheduled"


def test_given_a_request_with_the_key_still_running_when_another_arrives_then_409_in_progress(
    network, api_for, acme_codes, harvest_unit
):
    from cms.api.idempotency import _cache_key

    class Asking:  # what _cache_key reads from a request
        user = network.provider_operator

    cache.add(_cache_key(Asking, "busy") + ":lock", 1, 60)
    response = attach(api_for(network.provider_operator), acme_codes[0], harvest_unit, key="busy")
    assert_error(response, 409, "idempotency_in_progress")
    assert Code.objects.get(pk=acme_codes[0].pk).unit_id is None


def test_given_an_overlong_key_when_posting_then_400(network, api_for, acme_codes, harvest_unit):
    assert_error(attach(api_for(network.provider_operator), acme_codes[0], harvest_unit, key="k" * 256), 400, "validation_error")


def test_given_a_rate_limited_answer_when_retried_with_the_key_then_it_is_not_replayed(
    network, api_for, acme_codes, harvest_unit, settings
):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "1/h"
    api = api_for(network.harvest_user)
    body = json.dumps({"code": "X" * 21, "unit": harvest_unit.hardware_id})
    api.post("/api/v1/redeem/", body, content_type="application/json")  # uses up the limit
    first = api.post("/api/v1/redeem/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r")
    assert first.status_code == 429
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "100/h"
    again = api.post("/api/v1/redeem/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r")
    assert again.status_code == 400 and "Idempotent-Replayed" not in again


@pytest.mark.redis
def test_given_redis_when_a_key_is_replayed_then_the_answer_came_from_redis(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.provider_operator)
    first = attach(api, acme_codes[0], harvest_unit, key="redis-key")
    again = attach(api, acme_codes[0], harvest_unit, key="redis-key")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    from django_redis.cache import RedisCache

    assert isinstance(caches["default"], RedisCache)
