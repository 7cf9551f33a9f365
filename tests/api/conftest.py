"""Fixtures of the API tests: a token client per user of the `network`, and an empty cache per test
(rate limits and idempotency keys must not leak between tests)."""

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from cms.authentication import api_token_create
from tests import factories


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with the caches of this run emptied: the real Redis of the run on the
    second CI pass (a database of its own), the file cache on the first."""
    for alias in settings.CACHES:
        caches[alias].clear()
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
