"""In Chromium, against the live server: a code that never started has no activation and no
expiry, in the Codes window and on the confirmation page of a bulk action: its cells show a dash,
never the moment the page was drawn."""

import os
from datetime import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from codes.services import code_attach, code_revoke
from tests import factories

from .steps import sign_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

#: The text of each cell of the row showing `text`, by its column's header, read in the page.
CELLS_BY_HEADER = """([table, text]) => {
  const headers = [...table.querySelectorAll("thead th")].map((th) => th.innerText.trim());
  const row = [...table.querySelectorAll("tbody tr")].find((tr) => tr.innerText.includes(text));
  if (!row) return null;
  return Object.fromEntries([...row.querySelectorAll("td")].map((td, i) => [headers[i], td.innerText.trim()]));
}"""


def cells(page, table, text) -> dict[str, str]:
    return page.evaluate(CELLS_BY_HEADER, [table.element_handle(), text])


def today_and_now(zone) -> tuple[str, str]:
    now = timezone.localtime(datetime.now(tz=zone), zone)
    return now.strftime("%Y-%m-%d"), now.strftime("%H:%M")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_an_available_and_a_revoked_code_then_the_window_and_the_confirmation_page_show_no_dates(
    network, live_server, page
):
    admin = network.provider_admin
    available, revoked = factories.codes(admin, quantity=2)
    code_revoke(code=revoked, actor=admin)
    (running,) = factories.codes(admin, quantity=1)
    code_attach(code=running, unit=factories.unit(network.harvest, admin), actor=admin)

    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/codes/?state=available&state=revoked&state=running")
    window = page.locator("table.window-table")
    expect(window.locator("tbody tr")).to_have_count(3)
    today, now = today_and_now(network.provider.zone)
    for code in (available, revoked):
        shown = cells(page, window, code.display_text)
        assert shown["Activation"] == shown["Expires"] == shown["Days left"] == "—", shown
    started = cells(page, window, running.display_text)
    assert started["Activation"].startswith(today)  # the one code that did start shows its time

    # Share the two: the confirmation page's table shows the same empty cells.
    for code in (available, revoked):
        page.check(f'input.js-select-row[value="{code.pk}"]')
    with page.expect_navigation():
        page.get_by_test_id("bulk-codesbulk_share").click()
    expect(page.get_by_test_id("bulk-count")).to_contain_text("2")
    preview = page.locator("table.window-table")
    for code in (available, revoked):
        shown = cells(page, preview, code.display_text)
        assert shown["Activation"] == shown["Expires"] == shown["Days left"] == "—", shown
        assert today not in " ".join(shown.values()) and now not in " ".join(shown.values())
