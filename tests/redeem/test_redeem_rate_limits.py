"""Rate limits of the redemption page: per client address and per hardware id, in the real
cache (Redis on the Redis pass), with a clear "try again in N minutes"; they reset when their
window ends, the first refused attempt of a window is recorded (test_redeem_rate_limit_audit.py
says how little), and the API's redemption counts against the same budget."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import Action, Event
from cms.authentication import api_token_create
from codes import ratelimits
from codes import text as code_text
from codes.models import CodeState

from .conftest import ADDRESS, check, redeem, state_of


@pytest.fixture
def tight_limits(settings):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "3/15m"
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "2/15m"


def api_client(user, **defaults) -> APIClient:
    _token, key = api_token_create(user=user, name="tests")
    client = APIClient(**defaults)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def api_redeem(client: APIClient, code: str, hardware_id: str, **extra):
    return client.post("/api/v1/redeem/", {"code": code, "unit": hardware_id}, format="json", **extra)


def rate_limited_events():
    return list(Event.objects.filter(action=Action.REDEEM_REFUSED, details__reason="rate_limited").order_by("pk"))


def test_given_many_attempts_from_one_address_when_over_the_limit_then_it_says_try_again_in_n_minutes(
    shop, visitor, tight_limits
):
    for n in range(3):
        response = check(visitor, "AAAAA-AAAAA", f"1000000000000{n:02d}")
        assert response.status_code == 200

    response = check(visitor, shop.codes[0].text, shop.unit.hardware_id)

    assert response.status_code == 429
    minutes = ratelimits.redeem_attempt(response.wsgi_request, increment=False).minutes
    assert 1 <= minutes <= 15
    expected = f"Too many attempts. Try again in {minutes} minutes." if minutes != 1 else "Try again in 1 minute."
    assert expected in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert response.context["step"] == "check", "the valid code was not even looked at"
    [event] = rate_limited_events()
    assert event.client_address == ADDRESS and event.details == {"reason": "rate_limited", "limit": "address", "rate": "3/15m"}
    assert (event.code_id, event.unit_id) == (None, None), "a refused attempt looks nothing up"
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_one_address_limited_when_another_address_tries_then_it_is_not_limited(shop, visitor, tight_limits):
    for _ in range(4):
        check(visitor, "AAAAA", "123")

    other = Client(REMOTE_ADDR="198.51.100.20")
    response = redeem(other, shop.codes[0].text, shop.unit.hardware_id)

    assert response.status_code == 302


def test_given_one_hardware_id_tried_from_many_addresses_when_over_its_limit_then_it_is_refused(
    shop, tight_limits
):
    for n in range(2):
        check(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), "AAAAA", shop.unit.hardware_id)

    response = check(Client(REMOTE_ADDR="198.51.100.9"), shop.codes[0].text, f" {shop.unit.hardware_id.lower()} ")

    assert response.status_code == 429
    assert "Too many attempts." in response.content.decode()
    [event] = rate_limited_events()
    assert event.details["limit"] == "hardware_id" and event.client_address == "198.51.100.9"
    # Another unit is not affected.
    assert check(Client(REMOTE_ADDR="198.51.100.9"), shop.codes[0].text, shop.other_unit.hardware_id).status_code == 200


def test_given_the_limit_reached_when_confirming_then_the_confirmation_is_refused_too(shop, visitor, tight_limits):
    first = check(visitor, shop.codes[0].text, shop.unit.hardware_id)
    check(visitor, "AAAAA", "1")
    check(visitor, "AAAAA", "1")
    from .conftest import confirm_data

    response = visitor.post("/redeem/", confirm_data(first))

    assert response.status_code == 429
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_a_tripped_limit_when_its_window_ends_then_the_visitor_can_redeem_again(shop, visitor, tight_limits):
    for n in range(4):  # a new hardware id each time: only the address limit is in play
        check(visitor, "AAAAA", f"10{n}")
    limited = check(visitor, "AAAAA", "200")
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])

    with time_machine.travel(timezone.now() + timedelta(seconds=wait - 2)):
        assert check(visitor, "AAAAA", "201").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=wait + 1)):
        response = redeem(visitor, shop.codes[0].text, shop.unit.hardware_id)

        assert response.status_code == 302
        assert state_of(shop.codes[0]) == CodeState.RUNNING


def test_given_rate_limiting_switched_off_when_many_attempts_then_none_is_limited(shop, visitor, settings, tight_limits):
    settings.RATELIMIT_ENABLE = False
    for _ in range(6):
        assert check(visitor, "AAAAA", "1").status_code == 200


@pytest.mark.redis
def test_given_redis_when_the_limit_trips_then_the_counts_live_in_redis(shop, visitor, tight_limits):
    alias = django_settings.RATELIMIT_USE_CACHE
    assert django_settings.CACHES[alias]["BACKEND"] == "django_redis.cache.RedisCache"
    for _ in range(4):
        check(visitor, "AAAAA", "1")

    redis = caches[alias].client.get_client()
    prefix = django_settings.RATELIMIT_CACHE_PREFIX
    keys = list(redis.scan_iter(match=f"*{prefix}*"))

    assert keys, "the counters are Redis keys"
    assert check(visitor, "AAAAA", "1").status_code == 429


@pytest.mark.redis
def test_given_redis_when_an_attempt_is_counted_then_each_limit_has_one_hashed_counter_expiring_with_its_window(
    shop, visitor, tight_limits
):
    from django_ratelimit.core import EXPIRATION_FUDGE

    response = check(visitor, "AAAAA", shop.unit.hardware_id)

    redis = caches[django_settings.RATELIMIT_USE_CACHE].client.get_client()
    keys = [key.decode() for key in redis.scan_iter(match=f"*{django_settings.RATELIMIT_CACHE_PREFIX}*")]
    assert len(keys) == 2, "one counter per limit"
    assert not any(ADDRESS in key or shop.unit.hardware_id in key for key in keys), "nothing stored in clear"
    looked = ratelimits.redeem_attempt(response.wsgi_request, hardware_id=shop.unit.hardware_id, increment=False)
    assert looked is None
    for key in keys:
        assert int(redis.get(key)) == 1, "looking does not count"
        assert 0 < redis.ttl(key) <= 15 * 60 + EXPIRATION_FUDGE


@pytest.mark.redis
def test_given_the_counters_unreachable_when_attempting_then_the_page_and_the_api_refuse_for_a_minute(
    shop, visitor, settings
):
    """Fails closed: the rate-limit cache as configured, pointed at a port where no Redis listens."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": "redis://127.0.0.1:1/0"},
    }

    page = check(visitor, shop.codes[0].text, shop.unit.hardware_id)
    api = api_redeem(api_client(shop.customer, REMOTE_ADDR="198.51.100.30"), shop.codes[0].text, shop.unit.hardware_id)

    assert page.status_code == 429 and page["Retry-After"] == "60"
    assert "Too many attempts. Try again in 1 minute." in page.content.decode()
    assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited" and api["Retry-After"] == "60"
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE
    assert rate_limited_events() == [], "uncounted, no attempt is the first of a window: the log stays bounded"


def test_given_attempts_on_the_page_when_the_api_redeems_from_that_address_then_they_share_one_budget(
    shop, visitor, tight_limits
):
    for n in range(3):  # the address's whole budget, each on another hardware id
        assert check(visitor, "AAAAA", f"10{n}").status_code == 200

    response = api_redeem(api_client(shop.customer, REMOTE_ADDR=ADDRESS), shop.codes[0].text, shop.unit.hardware_id)

    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_api_attempts_on_a_hardware_id_when_the_page_tries_it_then_they_share_one_budget(shop, tight_limits):
    api = api_client(shop.customer)
    for n in range(2):  # the hardware id's whole budget, from two addresses
        response = api_redeem(api, code_text.generate(), shop.unit.hardware_id, REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert response.status_code == 400

    response = check(Client(REMOTE_ADDR="198.51.100.9"), shop.codes[0].text, shop.unit.hardware_id)

    assert response.status_code == 429
    [event] = rate_limited_events()
    assert event.details["limit"] == "hardware_id"
