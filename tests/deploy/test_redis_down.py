"""With Redis unreachable, people still sign in and work: sessions come from the database (their
cache misses instead of failing), the sign-in lock-outs keep counting in the database, and the
pages answer. The redemption page fails closed: it cannot count attempts, so it refuses them
cleanly (429, "try again in 1 minute") and applies nothing.

The settings choose their caches once, from REDIS_URL, so the app runs in a fresh interpreter
with REDIS_URL naming a port where nothing listens, on a test database of its own (the test run's
engine: SQLite, or PostgreSQL on CI's second pass)."""

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

#: A customer's user signs in (after one wrong password), opens the dashboard and the Codes window,
#: and signs out; a visitor tries to redeem one of the customer's codes onto its unit.
DAY_WITHOUT_REDIS = """
import json
import django; django.setup()
from django.db import connection
from django.test.utils import setup_test_environment
setup_test_environment()
connection.creation.create_test_db(verbosity=0)
try:
    from django.test import Client
    from codes.models import Code
    from codes.rules import code_state
    from codes.services import code_share
    from tests import factories

    provider = factories.provider("Offline Telematics")
    customer = factories.customer(provider, "Offline Customer")
    admin = factories.user(provider, "admin", "offline-admin")
    factories.user(customer, "operator", "offline-operator")
    (code,) = factories.codes(admin, quantity=1)
    code_share(code=code, to_account=customer, actor=admin)
    unit = factories.unit(customer, actor=admin)

    person = Client()
    answers = {"sign_in_page": person.get("/login/").status_code}
    answers["wrong_password"] = person.post("/login/", {"username": "offline-operator", "password": "wrong"}).status_code
    answers["sign_in"] = person.post("/login/", {"username": "offline-operator", "password": factories.PASSWORD}).status_code
    dashboard = person.get("/")
    answers["dashboard"] = [dashboard.status_code, "offline-operator" in dashboard.content.decode()]
    window = person.get("/codes/")
    answers["codes_window"] = [window.status_code, code.display_text in window.content.decode()]
    answers["sign_out"] = person.post("/logout/").status_code
    answers["after_sign_out"] = person.get("/").status_code

    refused = Client().post("/redeem/", {"step": "check", "code": code.text, "hardware_id": unit.hardware_id})
    answers["redeem"] = [refused.status_code, refused.get("Retry-After"),
                         "Too many attempts. Try again in 1 minute." in refused.content.decode()]
    answers["code_state"] = str(code_state(Code.objects.get(pk=code.pk)))
finally:
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
print(json.dumps(answers))
"""


def closed_port() -> int:
    """A port on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """The test run's engine, under a name of this test's own (its test database is derived from it)."""
    if not settings.USING_POSTGRES:
        return f"sqlite:///{tmp_path / 'keyline.sqlite3'}"
    db = settings.DATABASES["default"]
    secret = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    name = f"keyline_redis_down_{secrets.token_hex(4)}"
    return f"postgres://{db['USER']}{secret}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


@pytest.fixture(scope="module")
def day_without_redis(tmp_path_factory) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "DATABASE_URL": database_url(tmp_path_factory.mktemp("redis-down")),
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    result = subprocess.run(
        [sys.executable, "-c", DAY_WITHOUT_REDIS], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_given_redis_down_when_signing_in_then_the_sign_in_works(day_without_redis):
    assert day_without_redis["sign_in_page"] == 200
    assert day_without_redis["wrong_password"] == 200, "the form says so; the lock-out counter is in the database"
    assert day_without_redis["sign_in"] == 302


def test_given_redis_down_when_signed_in_then_the_dashboard_and_the_codes_window_answer(day_without_redis):
    assert day_without_redis["dashboard"] == [200, True]
    assert day_without_redis["codes_window"] == [200, True]


def test_given_redis_down_when_signing_out_then_the_session_ends(day_without_redis):
    assert day_without_redis["sign_out"] == 302
    assert day_without_redis["after_sign_out"] == 302, "back to the sign-in page"


def test_given_redis_down_when_a_visitor_redeems_then_it_is_refused_cleanly_and_nothing_is_applied(day_without_redis):
    assert day_without_redis["redeem"] == [429, "60", True]
    assert day_without_redis["code_state"] == "available"
