"""A load balancer asks each machine two questions (docs/DEPLOY.md): is the process up (`/healthz`,
answered without touching the database, the cache or the broker), and can it serve (`/readyz`: the
database, the broker and the cache answer; 503 naming the one that does not). It asks by the
machine's address, over plain HTTP, without a cookie. On CI's second pass these run against
PostgreSQL and Redis."""

import socket

import pytest

from cms.celery import app as celery_app


def closed_port() -> int:
    """A port on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Redis (the broker and every cache) configured on a port where nothing listens."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    # Celery copies the broker's address from the settings once, when its configuration is first
    # read: read it (the real one) first, then point it at the closed port too.
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    settings.CELERY_BROKER_URL = url
    settings.CACHES = {alias: {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url} for alias in settings.CACHES}
    return url


# No database mark: a query would fail the test.
def test_given_a_process_up_then_healthz_answers_200_without_touching_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_given_redis_down_and_a_session_cookie_then_healthz_still_answers_200(client, redis_down, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32

    response = client.get("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_given_the_database_broker_and_cache_reachable_then_readyz_answers_200_naming_each_check(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_given_redis_unreachable_then_readyz_answers_503_naming_the_broker_and_the_cache(client, redis_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unreachable", "cache": "unreachable"}


@pytest.mark.django_db
def test_given_a_balancer_asking_by_the_machines_address_then_both_endpoints_answer(client):
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200


@pytest.mark.django_db
def test_given_a_balancer_asking_many_times_then_neither_endpoint_is_rate_limited(client):
    answers = {client.get(path).status_code for path in ("/healthz", "/readyz") for _ in range(30)}

    assert answers == {200}
