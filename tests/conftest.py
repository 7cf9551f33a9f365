"""Shared fixtures: a small network with two providers, read like the glossary of DOMAIN.md.

    provider "Acme Telematics"                     provider "Rival GPS" (never visible to Acme)
      reseller "North Sales"                         customer "Rival Customer"
        sub-reseller "North Farms Dealer"
          customer "Harvest Co"
      reseller "South Sales"
        customer "South Rentals"
"""

import os
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from cms.models import Account, User

from . import factories

requires_postgres = pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
requires_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# CI installs Chromium and sets this, so a missing browser fails there instead of skipping.
BROWSER_REQUIRED = os.environ.get("KEYLINE_REQUIRE_BROWSER") == "1"


# Property tests run the same examples on every run (a failure reproduces), and more of them on
# PostgreSQL, CI's second pass.
hypothesis_settings.register_profile("keyline", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.load_profile("keyline")


def examples(count: int) -> int:
    """How many examples a property test runs: `count`, three times as many on PostgreSQL."""
    return count * 3 if settings.USING_POSTGRES else count


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM) and not BROWSER_REQUIRED:
            item.add_marker(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"))
        if item.get_closest_marker("postgres") and not settings.USING_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if item.get_closest_marker("redis") and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL)"))


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts from zero in the real rate-limit cache (the Redis db of REDIS_URL, or the
    embedded default's memory cache), under its own key prefix: the counters outlive the test, and
    its redemptions and sent mails must neither see other tests' counts nor be seen by them."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every network builds eight users; the production hasher would cost seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def empty_file_caches() -> None:
    """Clear every cache of the file backend (the embedded default's). `django.core.cache.cache` is
    a proxy, never an instance of a backend class: the backends are asked through `caches`."""
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache

    for alias in caches:
        if isinstance(caches[alias], FileBasedCache):
            caches[alias].clear()


@pytest.fixture(autouse=True)
def _empty_file_cache():
    """Each test starts with an empty file cache (the embedded default's): the cache outlives the
    test's database rows, whose ids repeat, and Django's file cache deletes a random third of its
    entries whenever it holds MAX_ENTRIES, so entries left by earlier tests could crowd out a
    test's own."""
    empty_file_caches()


@pytest.fixture
def clock():
    """A controlled clock: time stands still at tests.domain.support.T0 until the test moves it
    (`clock.shift(timedelta)`, `clock.move_to(datetime)`)."""
    import time_machine

    from .domain.support import T0

    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@dataclass
class Network:
    provider: Account
    north: Account
    north_farms: Account
    harvest: Account
    south: Account
    south_rentals: Account
    rival: Account
    rival_customer: Account
    provider_admin: User
    provider_operator: User
    provider_viewer: User
    north_admin: User
    north_farms_operator: User
    harvest_user: User
    south_admin: User
    rival_admin: User


@pytest.fixture
def network(db) -> Network:
    provider = factories.provider("Acme Telematics")
    north = factories.reseller(provider, "North Sales")
    north_farms = factories.reseller(north, "North Farms Dealer")
    harvest = factories.customer(north_farms, "Harvest Co")
    south = factories.reseller(provider, "South Sales")
    south_rentals = factories.customer(south, "South Rentals")
    rival = factories.provider("Rival GPS")
    rival_customer = factories.customer(rival, "Rival Customer")
    refresh = lambda a: Account.objects.get(pk=a.pk)  # noqa: E731  (treebeard updates paths in the database)
    accounts = [refresh(a) for a in (provider, north, north_farms, harvest, south, south_rentals, rival, rival_customer)]
    provider, north, north_farms, harvest, south, south_rentals, rival, rival_customer = accounts
    return Network(
        provider=provider,
        north=north,
        north_farms=north_farms,
        harvest=harvest,
        south=south,
        south_rentals=south_rentals,
        rival=rival,
        rival_customer=rival_customer,
        provider_admin=factories.user(provider, "admin", "acme-admin"),
        provider_operator=factories.user(provider, "operator", "acme-operator"),
        provider_viewer=factories.user(provider, "viewer", "acme-viewer"),
        north_admin=factories.user(north, "admin", "north-admin"),
        north_farms_operator=factories.user(north_farms, "operator", "farms-operator"),
        harvest_user=factories.user(harvest, "operator", "harvest-user"),
        south_admin=factories.user(south, "admin", "south-admin"),
        rival_admin=factories.user(rival, "admin", "rival-admin"),
    )


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Playwright drives Debian's Chromium: its own browser download cannot work here."""
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }
