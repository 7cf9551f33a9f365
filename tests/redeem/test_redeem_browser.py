"""In Chromium: an end customer opens the link of the e-mail a reseller sent, confirms with the
keyboard only, and sees success; the provider then sees the unit active and `redeemed` in the
report. Also takes the documentation screenshot of the page at mobile width."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from audit.models import Action, Event
from codes.cover import unit_is_active
from tests import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The documentation's screenshots are refreshed on request (KEYLINE_SCREENSHOTS=1), so ordinary
# runs do not rewrite tracked files.
DOCS_SCREENSHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"
MOBILE = {"width": 390, "height": 844}


@pytest.fixture
def eager_celery():
    from cms.celery import app

    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = previous


def sign_in(page, live_server, user) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r".*/$"))


def tab_to(page, selector: str, limit: int = 15) -> None:
    """Move the keyboard focus to the element, pressing Tab only."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
    raise AssertionError(f"{selector} cannot be reached with the keyboard")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_sent_email_when_the_customer_opens_its_link_and_confirms_then_the_unit_is_active(
    network, live_server, page, mailoutbox, settings, eager_celery, tmp_path
):
    SCREENSHOTS = DOCS_SCREENSHOTS if os.environ.get("KEYLINE_SCREENSHOTS") == "1" else tmp_path  # noqa: N806
    settings.SITE_URL = live_server.url
    unit = factories.unit(network.harvest, actor=network.provider_admin, name="Combine Harvester 7",
                          hardware_id="356938035643809")
    [code] = factories.codes(network.provider_admin, quantity=1, period_days=90)

    # The provider ticks the code in the codes window and sends it by e-mail.
    sign_in(page, live_server, network.provider_admin)
    page.goto(f"{live_server.url}/codes/")
    page.check(f"input[name=pk][value='{code.pk}']")
    page.click("[data-testid=bulk-mailsend]")
    page.wait_for_selector("#id_recipient")
    assert code.display_text in page.text_content("[data-testid=selected-codes]")
    page.fill("#id_recipient", "driver@harvest.example")
    page.fill("#id_message", "Your renewal for the harvest season.")
    page.select_option("#id_language", "en")
    page.screenshot(path=str(SCREENSHOTS / "send-by-email.png"), full_page=True)
    page.click("button[name=_send]")
    page.wait_for_url(re.compile(r".*/codes/"))
    [message] = mailoutbox
    assert message.to == ["driver@harvest.example"]
    link = re.search(r"http://\S+/redeem/\?code=\S+", message.body).group(0)
    assert Event.objects.get(action=Action.RESERVED, code=code).details["recipient"] == "driver@harvest.example"
    page.context.clear_cookies()  # the customer is somebody else, not signed in

    # The customer opens the link on a phone: the code is filled in.
    page.set_viewport_size(MOBILE)
    page.goto(link)
    assert page.input_value("#id_code") == code.display_text
    assert page.get_attribute("#id_hardware_id", "aria-describedby") == "id_hardware_id-help"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "redeem.png"), full_page=True)

    # Keyboard only: a wrong hardware id first; the error is tied to the field.
    tab_to(page, "#id_hardware_id")
    page.keyboard.type("356938035643801")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=error-hardware_id]")
    assert page.get_attribute("#id_hardware_id", "aria-invalid") == "true"
    assert page.get_attribute("#id_hardware_id", "aria-describedby") == "id_hardware_id-help id_hardware_id-error"
    assert page.text_content("#id_hardware_id-error") == "No unit with this hardware id can take this code."
    page.screenshot(path=str(SCREENSHOTS / "redeem-error.png"), full_page=True)
    # Then the right one: check, confirm.
    tab_to(page, "#id_hardware_id")
    page.keyboard.press("Control+A")
    page.keyboard.type("356938035643809")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=preview]")
    assert page.text_content("[data-testid=unit]") == "Com•••• Har•••••• 7"
    assert page.text_content("[data-testid=period]").strip() == "90 days"
    page.screenshot(path=str(SCREENSHOTS / "redeem-confirm.png"), full_page=True)
    tab_to(page, "form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=success]")
    assert "is active now." in page.text_content("[data-testid=success]")
    page.screenshot(path=str(SCREENSHOTS / "redeem-done.png"), full_page=True)

    assert unit_is_active(unit)
    event = Event.objects.get(action=Action.REDEEMED, code=code)
    assert event.unit == unit and event.client_address == "127.0.0.1"

    # The provider's window: the unit is active, and the report shows `redeemed`.
    sign_in(page, live_server, network.provider_admin)
    page.goto(f"{live_server.url}/units/?q=356938035643809")
    row = page.locator("tr", has_text="Combine Harvester 7")
    assert row.locator("[data-state=active]").count() == 1
    page.goto(f"{live_server.url}/report/?action=redeemed")
    assert page.locator("[data-action=redeemed]").count() == 1
