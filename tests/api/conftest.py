"""Fixtures of the API tests: a token client per user of the `network`, and a private cache per
test (rate limits and idempotency keys must not leak between tests or between parallel runs)."""

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cms.authentication import api_token_create
from tests import factories


@pytest.fixture(autouse=True)
def private_cache(request, settings):
    if request.node.get_closest_marker("redis") and settings.REDIS_URL:
        cache.clear()  # the real Redis of this run (a database of its own)
        yield
        cache.clear()
        return
    settings.CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"api-{alias}-{uuid.uuid4()}"}
        for alias in settings.CACHES
    }
    yield


@pytest.fixture
def api_for(db):
    """api_for(user) -> an APIClient that sends the user's personal token."""

    def make(user):
        _token, key = api_token_create(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def acme_codes(network):
    """Five fresh 30-day codes held by Acme."""
    return factories.codes(network.provider_admin, quantity=5, period_days=30)


@pytest.fixture
def harvest_unit(network):
    return factories.unit(network.harvest, actor=network.provider_admin, name="Harvest tractor", hardware_id="350000000000001")


@pytest.fixture
def south_unit(network):
    return factories.unit(network.south_rentals, actor=network.provider_admin, name="South van", hardware_id="350000000000002")


def assert_error(response, status: int, code: str):
    """The one error shape, with the expected status and machine code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    for item in body["error"]["details"]:
        assert set(item) == {"item", "reason", "code"}
    return body["error"]


def ready_local_tier(settings):
    """This process's local tier of the hot cache (`cms.hotcache`), on and subscribed to the
    changes channel (needs Redis)."""
    import time

    from cms import hotcache

    settings.KEYLINE_STATUS_LOCAL_TIER = True
    hotcache.local_tier()
    for _ in range(100):
        if hotcache.LOCAL.ready:
            return hotcache.LOCAL
        time.sleep(0.05)
    raise AssertionError("the changes channel was not subscribed")


def published(scope: list[str] | None, until) -> None:
    """Send a change message on the hot cache's channel, as another process does after its commit
    (`scope`: the hardware ids it changed, or None: an account or a login, "everything"), and wait
    up to a second for this process's listener: until `until()` holds."""
    import json
    import time

    from django.core.cache import cache

    from cms import hotcache

    cache.client.get_client(write=True).publish(hotcache._channel(), "*" if scope is None else json.dumps(scope))
    for _ in range(100):
        if until():
            return
        time.sleep(0.01)
