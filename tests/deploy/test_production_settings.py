"""The settings are production's unless told otherwise: DEBUG off, and then no start without a secret
key of the deployment's own. The production variables the README and docs/DEPLOY.md list satisfy
`manage.py check --deploy` and make the pages HTTPS-only behind the proxy. Settings are read once
per process, so each case starts a fresh interpreter with exactly the environment it names."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

#: Every variable that changes what the settings choose; a case starts without any of them.
CONFIGURATION = re.compile(r"^(DJANGO_|KEYLINE_|DATABASE_URL$|REDIS_URL$|SITE_URL$|EMAIL_URL$|AXES_|SESSION_)")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production() -> dict[str, str]:
    """The production variables as the README and docs/DEPLOY.md list them (behind nginx, over HTTPS).
    Redis on a port where nothing listens: nothing here connects to it."""
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "codes.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://codes.example.com",
        "SITE_URL": "https://codes.example.com",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "KEYLINE_TRUSTED_PROXIES": "1",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
        "DJANGO_SESSION_COOKIE_SECURE": "true",
        "DJANGO_CSRF_COOKIE_SECURE": "true",
    }


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not CONFIGURATION.match(k)}
    clean.update(env, DJANGO_SETTINGS_MODULE="cms.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120
    )


def test_given_no_configuration_then_start_up_refuses_the_built_in_secret_key():
    result = run("manage.py", "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr
    assert "DJANGO_DEBUG=true for development" in result.stderr


def test_given_debug_off_and_a_secret_key_then_it_starts_with_debug_off():
    result = run(
        "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_given_the_documented_production_variables_then_check_deploy_reports_nothing():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_given_the_documented_production_variables_then_check_deploy_fails_without_the_https_ones():
    """The check above can fail: take the HTTPS variables away and it does."""
    plain = {k: v for k, v in production().items() if not k.startswith(("DJANGO_SECURE_", "DJANGO_SESSION_", "DJANGO_CSRF_C"))}

    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **plain)

    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout


#: Two requests as gunicorn gets them from nginx: one the client sent over plain HTTP, one over HTTPS.
REQUESTS = """
import json
import django; django.setup()
from django.test import Client
proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1", "HTTP_HOST": "codes.example.com"}
plain = Client().get("/login/", **proxy, HTTP_X_FORWARDED_PROTO="http")
secure = Client().get("/login/", **proxy, HTTP_X_FORWARDED_PROTO="https")
cookie = secure.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "referrer": secure.get("Referrer-Policy"),
    "csrf_cookie_secure": bool(cookie["secure"]),
}))
"""


def test_given_the_production_variables_behind_the_proxy_then_pages_are_https_only(tmp_path):
    no_collectstatic = {"STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    empty_database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}  # the sign-in page reads none
    result = run("-c", REQUESTS, **production(), **no_collectstatic, **empty_database)

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["plain"] == [301, "https://codes.example.com/login/"]
    assert answers["secure"] == 200
    assert answers["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert answers["referrer"] == "same-origin"
    assert answers["csrf_cookie_secure"] is True


def test_given_the_production_variables_then_the_readme_and_the_deployment_guide_list_each_of_them():
    readme = (BASE_DIR / "README.md").read_text()
    guide = (BASE_DIR / "docs" / "DEPLOY.md").read_text()
    for variable in production():
        assert f"`{variable}`" in readme, f"README.md does not list {variable}"
        assert f"`{variable}`" in guide, f"docs/DEPLOY.md does not list {variable}"
