"""In Chromium, against the live server: a code e-mailed to a customer (through a real SMTP server)
is shown as sent on the Codes window and its page, the Units page's "apply codes" does not take it,
and the customer redeems it from the mail's link. Releasing a unit's only code: the confirmation
names the unit it deactivates, and so does the result. Also takes the screenshots of the code's
page and of the release confirmation (docs/screenshots with KEYLINE_SCREENSHOTS=1)."""

import os
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from codes.cover import unit_is_active
from codes.models import Code
from codes.services import code_attach
from tests import factories
from tests.mail_server import smtp_server  # noqa: F401  (a fixture: a real SMTP server)

from .steps import nav_link, sign_in, sign_out

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DOCS_SCREENSHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"
RECIPIENT = "driver@harvest.example"
COMBINE, TRAILER = "356938035643809", "356938035643817"


@pytest.fixture
def screenshots(tmp_path) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("KEYLINE_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def mail_through_smtp(smtp_server, settings):  # noqa: F811
    """Mails go through a real SMTP server on 127.0.0.1; the worker's task runs in-process."""
    from cms.celery import app

    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield inbox
    app.conf.task_always_eager = previous


def code_row(page, code):
    return page.locator("tbody tr").filter(has=page.locator(f'input.js-select-row[value="{code.pk}"]'))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_code_sent_by_email_then_the_window_shows_it_kept_for_the_customer_who_then_redeems_it(
    network, live_server, page, settings, mail_through_smtp, screenshots
):
    settings.SITE_URL = live_server.url
    admin = network.provider_admin
    [mailed] = factories.codes(admin, quantity=1, period_days=90)
    [spare] = factories.codes(admin, quantity=1, period_days=30)
    combine = factories.unit(network.harvest, actor=admin, name="Combine Harvester 7", hardware_id=COMBINE)
    factories.unit(network.harvest, actor=admin, name="Trailer", hardware_id=TRAILER)

    # The provider ticks the 90-day code in the Codes window and e-mails it to the driver.
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, admin.username)
    nav_link(page, "Codes").click()
    code_row(page, mailed).locator("input.js-select-row").check()
    with page.expect_navigation():
        page.get_by_test_id("bulk-mailsend").click()
    page.fill("#id_recipient", RECIPIENT)
    page.select_option("#id_language", "en")
    with page.expect_navigation():
        page.click("button[name=_send]")
    expect(page.locator(".alert-success")).to_contain_text(f"1 code is being sent to {RECIPIENT}.")

    # The window says to whom and when, in the code's state cell; the other code shows nothing.
    expect(code_row(page, mailed).get_by_test_id("reservation")).to_contain_text(f"sent to {RECIPIENT} on ")
    expect(code_row(page, spare).get_by_test_id("reservation")).to_have_count(0)
    page.screenshot(path=str(screenshots / "codes-reserved.png"))

    # The code's page too, with the action to cancel the reservation.
    with page.expect_navigation():
        code_row(page, mailed).get_by_role("link", name=mailed.display_text).click()
    expect(page.get_by_test_id("code-reservation")).to_contain_text(f"sent to {RECIPIENT} on ")
    expect(page.get_by_test_id("code-actions").get_by_role("button", name="Cancel reservation")).to_be_visible()
    expect(page.get_by_test_id("code-history").locator("tr[data-action=reserved]")).to_contain_text(RECIPIENT)
    page.screenshot(path=str(screenshots / "code-detail-reserved.png"), full_page=True)

    # The Units page's "apply codes" offers only the 30-day period: the mailed code is kept.
    nav_link(page, "Units").click()
    page.locator(f'tr[data-unit="{TRAILER}"] input.js-select-row').check()
    with page.expect_navigation():
        page.get_by_test_id("bulk-unitsbulk_apply_codes").click()
    offered = page.locator("#id_period_days option").evaluate_all("options => options.map(o => o.value)")
    assert "90" not in offered and "30" in offered
    sign_out(page)

    # The driver opens the link of the mail that reached the SMTP server, and redeems the code.
    [envelope] = mail_through_smtp.envelopes
    assert envelope.rcpt_tos == [RECIPIENT]
    body = message_from_bytes(envelope.original_content, policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/redeem/\?code=\S+", body).group(0)
    page.goto(link)
    expect(page.locator("#id_code")).to_have_value(mailed.display_text)
    page.fill("#id_hardware_id", COMBINE)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("preview")).to_be_visible()
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("success")).to_contain_text("is active now.")

    code = Code.objects.get(pk=mailed.pk)
    assert code.unit_id == combine.pk and (code.reserved_for, code.reserved_at) == ("", None)
    assert unit_is_active(combine)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_units_only_code_when_released_in_the_browser_then_the_confirmation_names_the_unit_it_deactivates(
    network, live_server, page, screenshots
):
    admin = network.provider_admin
    combine = factories.unit(network.harvest, actor=admin, name="Combine Harvester 7", hardware_id=COMBINE)
    trailer = factories.unit(network.harvest, actor=admin, name="Trailer", hardware_id=TRAILER)
    only, first, second = factories.codes(admin, quantity=3, period_days=30)
    code_attach(code=only, unit=combine, actor=admin)
    code_attach(code=first, unit=trailer, actor=admin)
    code_attach(code=second, unit=trailer, actor=admin)  # queued: the trailer stays covered

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, admin.username)
    nav_link(page, "Codes").click()
    for code in (only, first):
        code_row(page, code).locator("input.js-select-row").check()
    with page.expect_navigation():
        page.get_by_test_id("bulk-codesbulk_release").click()

    warning = page.get_by_test_id("release-deactivates")
    expect(warning).to_contain_text("1 unit will be deactivated now:")
    expect(warning.locator("li")).to_have_count(1)
    expect(warning.locator(f'li[data-unit="{COMBINE}"]')).to_contain_text("Combine Harvester 7")
    page.screenshot(path=str(screenshots / "release-confirm.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_test_id("bulk-confirm").click()

    expect(page.locator(".alert-success")).to_contain_text("Unit Combine Harvester 7 is now deactivated.")
    assert not unit_is_active(combine) and unit_is_active(trailer)
