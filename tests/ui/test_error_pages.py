"""A person refused a page, or looking for one that is not there, gets a page of the app's own
layout saying why; the server log holds one line for it, never a traceback."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from cms.models import User
from tests import factories

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def platform_admin(db):
    """A superuser of the platform, who belongs to no account (the demo's `admin`)."""
    return User.objects.create_superuser(username="platform", email="platform@example.invalid", password=factories.PASSWORD)


def template_names(response) -> list[str]:
    return [t.name for t in response.templates]


def refusals_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", None) == 403]


def test_given_a_superuser_without_an_account_when_opening_the_dashboard_then_a_page_of_the_app_says_why(
    client, platform_admin, caplog
):
    client.force_login(platform_admin)
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "403.html" in template_names(response) and "base.html" in template_names(response)
    assert 'data-testid="error-page"' in html and "belongs to no account" in html
    assert reverse("admin:index") in html  # the way on: the Django admin
    (logged,) = refusals_logged(caplog)
    assert logged.exc_info is None and "belongs to no account" in logged.getMessage()


def test_given_a_role_that_may_not_open_a_page_then_the_styled_page_gives_the_reason(client, network, caplog):
    client.force_login(network.provider_operator)
    response = client.get(reverse("batches:generate"))
    html = response.content.decode()
    assert response.status_code == 403 and "403.html" in template_names(response)
    assert "Only the provider&#x27;s admins can generate batches." in html
    assert 'data-testid="whoami"' in html  # the navigation of the app, signed in
    (logged,) = refusals_logged(caplog)
    assert logged.exc_info is None and logged.getMessage() == (
        "Forbidden (Permission denied): /batches/generate/ (Only the provider's admins can generate batches.)"
    )


def test_given_an_object_outside_the_users_branch_then_the_styled_not_found_page(client, network):
    (code,) = factories.codes(network.rival_admin, quantity=1)
    client.force_login(network.provider_admin)
    response = client.get(reverse("codes:detail", args=[code.pk]))
    assert response.status_code == 404 and "404.html" in template_names(response)
    assert 'data-testid="error-page"' in response.content.decode()


def test_given_a_signed_in_user_and_an_address_nothing_routes_then_the_styled_not_found_page(client, network):
    client.force_login(network.north_admin)
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "404.html" in template_names(response)
    assert 'data-testid="whoami"' in response.content.decode()


def test_given_a_server_error_then_the_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert 'data-testid="error-page"' in response.content.decode()


REFUSE = """
import django; django.setup()
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory
try:
    raise PermissionDenied("Only the provider's admins can generate batches.")
except PermissionDenied as refused:
    response = response_for_exception(RequestFactory().get("/batches/generate/"), refused)
assert response.status_code == 403, response.status_code
"""


@pytest.mark.parametrize("debug", ["true", "false"])
def test_given_the_settings_logging_when_a_page_is_refused_then_the_log_holds_one_line(debug):
    """In a fresh interpreter, with the logging exactly as the settings configure it."""
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "cms.settings", "DJANGO_DEBUG": debug, "LOG_LEVEL": "INFO",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",  # no collectstatic here
        "DJANGO_SECRET_KEY": "a-secret-of-this-test-only",  # DEBUG off refuses the built-in key
    }
    result = subprocess.run(
        [sys.executable, "-c", REFUSE], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    about_it = [line for line in result.stderr.splitlines() if "Forbidden" in line or "/batches/generate/" in line]
    assert about_it == [
        "Forbidden (Permission denied): /batches/generate/ (Only the provider's admins can generate batches.)"
    ]
