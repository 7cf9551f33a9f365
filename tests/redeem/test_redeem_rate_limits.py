"""Rate limits of the redemption page: per client address and per hardware id, in the real
cache (Redis on the Redis pass), with a clear "try again in N minutes"; they reset when their
window ends, and every refused attempt is recorded."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from audit.models import Action, Event
from codes import ratelimits
from codes.models import CodeState

from .conftest import ADDRESS, check, redeem, state_of


@pytest.fixture
def tight_limits(settings):
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "3/15m"
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "2/15m"


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
    assert event.client_address == ADDRESS and event.details["limit"] == "address"
    assert (event.code_id, event.unit_id) == (shop.codes[0].pk, shop.unit.pk), "in the report of the code's branch"
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
def test_given_redis_when_an_attempt_is_counted_then_both_limits_take_one_round_trip(shop, tight_limits, monkeypatch):
    """Both counters in one command (codes.ratelimits: a Lua script), where django-ratelimit's
    core takes an ADD and an INCR per limit."""
    from redis import Redis

    request = check(Client(REMOTE_ADDR=ADDRESS), "AAAAA", shop.unit.hardware_id).wsgi_request  # loads the script
    commands = []
    real = Redis.execute_command

    def spy(self, *args, **kwargs):
        commands.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", spy)
    assert ratelimits.redeem_attempt(request, hardware_id=shop.unit.hardware_id) is None  # the 2nd of 2 and of 3
    assert commands == ["EVALSHA"]
    limited = ratelimits.redeem_attempt(request, hardware_id=shop.unit.hardware_id)
    assert limited is not None and limited.scope == ratelimits.HARDWARE_ID


@pytest.mark.redis
def test_given_redis_when_counting_then_the_windows_are_django_ratelimits_and_the_counters_expire_with_them(
    shop, visitor, tight_limits
):
    from django_ratelimit.core import EXPIRATION_FUDGE, _get_window

    start = timezone.now()
    for value in ("203.0.113.7", "198.51.100.20", "356938035643809", "a"):
        for step in range(50):  # across more than two windows
            moment = start + timedelta(seconds=37 * step)
            with time_machine.travel(moment, tick=False):
                assert ratelimits._window_end(value, 900, int(moment.timestamp())) == _get_window(value, 900)

    response = check(visitor, "AAAAA", "1")
    redis = caches[django_settings.RATELIMIT_USE_CACHE].client.get_client()
    keys = list(redis.scan_iter(match=f"*{django_settings.RATELIMIT_CACHE_PREFIX}*"))
    assert len(keys) == 2, "one counter per limit"
    wait = ratelimits.redeem_attempt(response.wsgi_request, increment=False)
    assert wait is None, "looking does not count"
    for key in keys:
        assert int(redis.get(key)) == 1
        assert 0 < redis.ttl(key) <= 15 * 60 + EXPIRATION_FUDGE
