"""Behind the proxy docs/DEPLOY.md puts in front (nginx: `X-Forwarded-For $proxy_add_x_forwarded_for`),
every request comes from the proxy's address. With `KEYLINE_TRUSTED_PROXIES` proxies the client is
the address the outermost one saw, the n-th from the right of X-Forwarded-For: the redemption
page's and the API's rate limits, the sign-in lock-outs and the audit log all count that one. With
none, REMOTE_ADDR, and a forged header changes nothing. In the real caches (Redis on CI's second
pass) and the real database."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import Action
from cms.authentication import api_token_create
from tests.domain.support import last_event_id, new_events
from tests.factories import PASSWORD

PROXY = "127.0.0.1"  # nginx on the web machine
FIRST, SECOND = "198.51.100.1", "198.51.100.2"


@pytest.fixture(autouse=True)
def tight_limits(settings):
    """Three redemption attempts per address, counted from zero under this test's own prefix."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.RATELIMIT_ENABLE = True
    settings.KEYLINE_REDEEM_RATE_ADDRESS = "3/15m"


@pytest.fixture(autouse=True)
def _fresh_axes(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


@pytest.fixture
def trusted_proxies(settings):
    """KEYLINE_TRUSTED_PROXIES as cms/settings.py applies it: DRF's NUM_PROXIES, which the one
    client-address helper reads."""

    def trust(count: int) -> None:
        settings.KEYLINE_TRUSTED_PROXIES = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return trust


def through_proxy(forwarded_for: str) -> dict:
    """What gunicorn sees of a request nginx passed on: nginx's address, and the header it wrote."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}


def try_redeem(client: Client, **extra):
    return client.post("/redeem/", {"step": "check", "code": "AAAAA", "hardware_id": "123"}, **extra)


def api_try_redeem(client: APIClient, **extra):
    return client.post("/api/v1/redeem/", {"code": "AAAAA-AAAAA-AAAAA-AAAAA-A", "unit": "123"}, format="json", **extra)


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def api_client(user) -> APIClient:
    _token, key = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- no proxy: the header is the client's own say --------------------------------------------


def test_given_no_trusted_proxy_when_a_client_forges_x_forwarded_for_then_its_own_address_is_still_limited(db):
    client = Client(REMOTE_ADDR=FIRST)
    for n in range(3):
        assert try_redeem(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 200
    since = last_event_id()

    response = try_redeem(client, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429
    (entry,) = new_events(since, action=Action.REDEEM_REFUSED)
    assert entry.client_address == FIRST


def test_given_no_trusted_proxy_when_the_api_is_called_with_a_forged_header_then_the_caller_is_still_limited(network):
    api = api_client(network.harvest_user)
    for n in range(3):
        response = api_try_redeem(api, REMOTE_ADDR=FIRST, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code != 429

    response = api_try_redeem(api, REMOTE_ADDR=FIRST, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_given_no_trusted_proxy_when_a_locked_out_client_forges_x_forwarded_for_then_it_stays_locked(network, settings):
    client = Client(REMOTE_ADDR=FIRST)
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "harvest-user", "wrong-password", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = sign_in(client, "harvest-user", HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


# --- one proxy: the client is the rightmost address ------------------------------------------


def test_given_one_trusted_proxy_when_two_clients_behind_it_redeem_then_each_has_its_own_limit(db, trusted_proxies):
    trusted_proxies(1)
    first, second = Client(**through_proxy(FIRST)), Client(**through_proxy(SECOND))
    for _ in range(3):
        assert try_redeem(first).status_code == 200
    assert try_redeem(first).status_code == 429
    since = last_event_id()

    response = try_redeem(second)

    assert response.status_code == 200
    (entry,) = new_events(since, action=Action.REDEEM_REFUSED)
    assert entry.client_address == SECOND, "the audit log records the client, not the proxy"


def test_given_one_trusted_proxy_when_a_limited_client_forges_a_leftmost_address_then_it_is_still_limited(
    db, trusted_proxies
):
    trusted_proxies(1)
    for _ in range(3):
        try_redeem(Client(**through_proxy(FIRST)))

    # The client sent "X-Forwarded-For: 203.0.113.50"; nginx appended the address it saw.
    response = try_redeem(Client(**through_proxy(f"203.0.113.50, {FIRST}")))

    assert response.status_code == 429


def test_given_one_trusted_proxy_when_the_api_is_called_then_each_client_and_not_the_proxy_is_limited(
    network, trusted_proxies
):
    trusted_proxies(1)
    api = api_client(network.harvest_user)
    for _ in range(3):
        assert api_try_redeem(api, **through_proxy(FIRST)).status_code != 429

    forged = api_try_redeem(api, **through_proxy(f"203.0.113.50, {FIRST}"))
    other = api_try_redeem(api, **through_proxy(SECOND))

    assert forged.status_code == 429
    assert other.status_code != 429


def test_given_one_trusted_proxy_when_a_client_fails_to_sign_in_then_only_that_client_is_locked_out(
    network, settings, trusted_proxies
):
    trusted_proxies(1)
    since = last_event_id()
    attacker = Client(**through_proxy(FIRST))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "harvest-user", "wrong-password")

    still_locked = sign_in(Client(**through_proxy(f"203.0.113.50, {FIRST}")), "harvest-user")
    owner = sign_in(Client(**through_proxy(SECOND)), "harvest-user")

    assert still_locked.status_code == 429
    assert owner.status_code == 302, "the user signs in from elsewhere"
    entries = {entry.action: entry.client_address for entry in new_events(since)}
    assert entries == {Action.LOCKED_OUT: FIRST, Action.SIGNED_IN: SECOND}


def test_given_two_trusted_proxies_then_the_client_is_the_address_the_outer_one_saw(db, trusted_proxies):
    """A load balancer, then nginx: nginx appends the balancer's address after the client's."""
    trusted_proxies(2)
    balancer = "10.0.0.5"
    for _ in range(3):
        try_redeem(Client(**through_proxy(f"{FIRST}, {balancer}")))
    since = last_event_id()

    forged = try_redeem(Client(**through_proxy(f"{SECOND}, {FIRST}, {balancer}")))
    other = try_redeem(Client(**through_proxy(f"{SECOND}, {balancer}")))

    assert forged.status_code == 429
    assert other.status_code == 200
    assert [entry.client_address for entry in new_events(since, action=Action.REDEEM_REFUSED)] == [FIRST, SECOND]


def test_given_a_trusted_proxy_when_the_header_carries_no_address_then_the_request_is_limited_not_failed(
    db, trusted_proxies
):
    trusted_proxies(1)
    for _ in range(3):
        assert try_redeem(Client(**through_proxy("unknown"))).status_code == 200

    response = try_redeem(Client(**through_proxy("not-an-address")))

    assert response.status_code == 429, "requests without a readable address share one counter"
