"""In Chromium: a provider operator picks units, applies codes, sees them turn active, and opens a
unit's timeline; a provider admin generates a batch and watches it get ready."""

import os

import pytest
from django.urls import reverse

from codes.cover import unit_is_active
from codes.models import Batch
from codes.services import batch_fill
from tests import factories
from tests.factories import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}{reverse('login')}")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_deactivated_units_when_codes_are_applied_in_the_browser_then_they_turn_active(network, live_server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    admin = network.provider_admin
    trailer = factories.unit(network.harvest, admin, name="Grain trailer", hardware_id="358000000000001")
    tractor = factories.unit(network.harvest, admin, name="Grain tractor", hardware_id="358000000000002")
    factories.codes(admin, quantity=3, period_days=90)
    sign_in(page, live_server, network.provider_operator)

    page.goto(f"{live_server.url}{reverse('units:list')}?q=Grain&state=deactivated")
    assert page.locator("tr[data-unit]").count() == 2
    page.locator("th input.js-select-all").check()
    page.get_by_role("button", name="Apply codes").click()
    page.select_option("select[name=period_days]", "90")
    page.get_by_role("button", name="Pair codes").click()
    assert page.locator("[data-testid=pairing] tbody tr").count() == 2
    assert not unit_is_active(trailer)  # nothing yet: the pairing is shown first
    page.get_by_role("button", name="Apply these codes").click()
    page.wait_for_load_state("networkidle")

    assert "2 codes applied" in page.locator(".alert-success").inner_text()
    assert unit_is_active(trailer) and unit_is_active(tractor)
    page.goto(f"{live_server.url}{reverse('units:list')}?q=Grain&state=active")
    assert page.locator("tr[data-unit] [data-state=active]").count() == 2

    page.get_by_role("link", name="Grain trailer").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=unit-state]").get_attribute("data-state") == "active"
    assert page.locator(".timeline-seg.seg-running").count() == 1
    assert page.locator("[data-testid=unit-history] tr[data-action=attached]").count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_background_batch_when_it_is_filled_then_the_page_polls_and_shows_it_ready(
    network, live_server, page, settings
):
    settings.KEYLINE_SYNC_BATCH_LIMIT = 5
    sign_in(page, live_server, network.provider_admin)
    page.goto(f"{live_server.url}{reverse('batches:generate')}")
    page.fill("input[name=quantity]", "20")
    page.fill("input[name=period_days]", "30")
    page.fill("input[name=unit_price]", "9.90")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector("[data-testid=batch-progress]")
    assert "0 / 20" in page.locator("[data-testid=batch-progress-count]").inner_text()
    # No worker runs here (the task was sent to the broker): fill the batch as the worker would.
    batch_fill(batch_id=Batch.objects.get().pk)
    # The page polls and reloads by itself once the batch is ready.
    page.wait_for_selector("[data-testid=batch-download]", timeout=10_000)
    assert page.locator("[data-testid=batch-total]").inner_text() == "20"
