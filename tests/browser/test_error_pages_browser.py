"""In Chromium, against the live server: a person refused a page sees why on a page of the app's
layout, with the way on, and the server logs that refusal as one line without a traceback."""

import logging
import os

import pytest
from playwright.sync_api import expect

from cms.models import User
from tests import factories

from .steps import nav_link, sign_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def refusals_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", None) == 403]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_superuser_without_an_account_when_signing_in_then_the_app_says_why_and_leads_to_the_admin(
    live_server, page, caplog
):
    User.objects.create_superuser(username="platform", email="platform@example.invalid", password=factories.PASSWORD)

    sign_in(page, live_server.url, "platform")

    error = page.get_by_test_id("error-page")
    expect(error).to_be_visible()
    expect(error.locator("h1")).to_have_text("You cannot open this page")
    expect(page.get_by_test_id("error-reason")).to_contain_text("Your user belongs to no account")
    # The app's layout, without the sections that would each refuse again.
    expect(page.locator("#mainnav")).to_be_visible()
    expect(nav_link(page, "Codes")).to_have_count(0)
    (logged,) = refusals_logged(caplog)
    assert logged.exc_info is None

    with page.expect_navigation():
        page.get_by_test_id("error-admin-link").click()
    expect(page.locator("#site-name")).to_be_visible()  # the Django admin


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_role_that_may_not_open_a_page_then_the_reason_shows_in_the_apps_layout(network, live_server, page, caplog):
    sign_in(page, live_server.url, network.provider_operator.username)

    page.goto(f"{live_server.url}/batches/generate/")

    expect(page.get_by_test_id("error-page")).to_have_attribute("data-status", "403")
    expect(page.get_by_test_id("error-reason")).to_have_text("Only the provider's admins can generate batches.")
    (logged,) = refusals_logged(caplog)
    assert logged.exc_info is None and "Only the provider's admins" in logged.getMessage()
    # The way back is the app's own navigation.
    with page.expect_navigation():
        page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.locator("h1")).to_have_text("Dashboard")
