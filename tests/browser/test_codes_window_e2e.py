"""In Chromium, against the live server, a clerk's day: a provider admin signs in,
filters the Codes window, shares a selection with a sub-reseller; the sub-reseller's operator
applies those codes to two units on the Units page (select, pair, confirm), sees the units turn
active, opens a unit's timeline, and switches the language."""

import os
import re

import pytest
from playwright.sync_api import expect

from codes.cover import unit_is_active
from codes.models import Code, CodeState
from codes.rules import code_state
from tests import factories

from .steps import nav_link, sign_in, sign_out

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TRACTOR_A, TRACTOR_B = "356938035643801", "356938035643802"


def unit_row(page, hardware_id):
    return page.locator(f'tr[data-unit="{hardware_id}"]')


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_network_when_codes_are_filtered_shared_and_applied_to_units_then_the_units_turn_active(
    network, live_server, page
):
    admin = network.provider_admin
    month_codes = factories.codes(admin, quantity=4, period_days=30)
    factories.codes(admin, quantity=3, period_days=90)
    tractor_a = factories.unit(network.harvest, actor=admin, name="Tractor A", hardware_id=TRACTOR_A)
    tractor_b = factories.unit(network.harvest, actor=admin, name="Tractor B", hardware_id=TRACTOR_B)
    factories.unit(network.south_rentals, actor=admin, name="Rental Van", hardware_id="356938035643803")

    # Sign in: the dashboard comes first.
    sign_in(page, live_server.url, admin.username)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.get_by_test_id("stat-available")).to_have_text("7")

    # Filter the Codes window on the 30-day period: the four codes of that batch remain.
    nav_link(page, "Codes").click()
    expect(page.locator("tbody input.js-select-row")).to_have_count(7)
    page.select_option("#id_period_days", "30")
    with page.expect_navigation():
        page.locator("#filter-form button[type=submit]").click()
    expect(page.locator("tbody input.js-select-row")).to_have_count(4)
    assert "period_days=30" in page.url

    # Share two of them with North Farms Dealer: confirmation first, then the change.
    chosen = month_codes[:2]
    for code in chosen:
        page.check(f'input.js-select-row[value="{code.pk}"]')
    expect(page.get_by_test_id("selection-count")).to_have_text("2 selected")
    with page.expect_navigation():
        page.get_by_test_id("bulk-codesbulk_share").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text(re.compile(r"This will change 2 rows"))
    page.select_option("#id_account", str(network.north_farms.pk))
    with page.expect_navigation():
        page.get_by_test_id("bulk-confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("2 codes are now shared with North Farms Dealer.")
    assert set(Code.objects.filter(holder=network.north_farms).values_list("pk", flat=True)) == {c.pk for c in chosen}

    # The sub-reseller's operator applies codes to both tractors on the Units page.
    sign_out(page)
    sign_in(page, live_server.url, network.north_farms_operator.username)
    nav_link(page, "Units").click()
    expect(unit_row(page, TRACTOR_A).locator("[data-state=deactivated]")).to_be_visible()
    expect(page.locator("tbody tr[data-unit]")).to_have_count(2)  # Rental Van is in another branch
    for hardware_id in (TRACTOR_A, TRACTOR_B):
        unit_row(page, hardware_id).locator("input.js-select-row").check()
    with page.expect_navigation():
        page.get_by_test_id("bulk-unitsbulk_apply_codes").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 units selected.")
    page.select_option("#id_period_days", "30")
    with page.expect_navigation():
        page.locator("button[name=_pair]").click()

    # The pairing is shown for confirmation: each tractor gets one of the shared codes, now.
    pairing = page.get_by_test_id("pairing")
    expect(pairing.locator("tbody tr")).to_have_count(2)
    shown = set(pairing.locator("td.code-text").all_inner_texts()) - {TRACTOR_A, TRACTOR_B}
    assert shown == {c.display_text for c in chosen}
    expect(pairing.get_by_text("start now")).to_have_count(2)
    with page.expect_navigation():
        page.locator("button[name=_confirm]").click()
    expect(page.locator(".alert-success")).to_contain_text("2 codes applied.")

    # The units are active: on the page, and by the clock.
    for hardware_id in (TRACTOR_A, TRACTOR_B):
        expect(unit_row(page, hardware_id).locator("[data-state=active]")).to_be_visible()
    assert unit_is_active(tractor_a) and unit_is_active(tractor_b)
    assert {code_state(Code.objects.get(pk=c.pk)) for c in chosen} == {CodeState.RUNNING}

    # A unit's timeline: the running code, and its history.
    with page.expect_navigation():
        unit_row(page, TRACTOR_A).get_by_role("link", name="Tractor A").click()
    expect(page.get_by_test_id("unit-state")).to_have_attribute("data-state", "active")
    running = Code.objects.get(unit=tractor_a)
    expect(page.get_by_test_id("timeline")).to_contain_text(running.display_text)
    expect(page.get_by_test_id("unit-history")).to_contain_text("farms-operator")

    # Switch the language: the same page, in French, then the dashboard.
    with page.expect_navigation():
        page.select_option("#language-select", "fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(nav_link(page, "Unités")).to_be_visible()
    expect(page.get_by_test_id("unit-state")).to_have_text("Actif")
    nav_link(page, "Tableau de bord").click()
    expect(page.locator("h1")).to_have_text("Tableau de bord")
    expect(page.get_by_test_id("stat-units-active")).to_have_text("2")
