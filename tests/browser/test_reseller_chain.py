"""In Chromium, against the live server, the reseller chain: a reseller signs in and
sees only its own codes, shares some with its sub-reseller; the sub-reseller signs in and puts
one on its customer's unit from the Units page; the provider sees the whole chain in the report."""

import os
import re

import pytest
from playwright.sync_api import expect

from codes.models import Code, CodeState
from codes.rules import code_state
from codes.services import code_share
from tests import factories

from .steps import nav_link, sign_in, sign_out

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

COMBINE = "356938035649001"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_a_reseller_chain_when_codes_go_down_it_onto_a_unit_then_the_provider_sees_every_step(
    network, live_server, page
):
    provider = network.provider_admin
    north_codes = factories.codes(provider, quantity=4, period_days=30)
    south_codes = factories.codes(provider, quantity=2, period_days=30)
    kept_by_provider = factories.codes(provider, quantity=1, period_days=30)
    for code in north_codes:
        code_share(code=code, to_account=network.north, actor=provider)
    for code in south_codes:
        code_share(code=code, to_account=network.south, actor=provider)
    combine = factories.unit(network.harvest, actor=provider, name="Combine 9", hardware_id=COMBINE)
    factories.unit(network.south_rentals, actor=provider, name="Rental Van", hardware_id="356938035649002")

    # The reseller sees its own four codes and nothing of South's or the provider's.
    sign_in(page, live_server.url, network.north_admin.username)
    nav_link(page, "Codes").click()
    rows = page.locator("tbody input.js-select-row")
    expect(rows).to_have_count(4)
    table = page.locator("main table").first
    for code in north_codes:
        expect(table).to_contain_text(code.display_text)
    for code in south_codes + kept_by_provider:
        expect(table).not_to_contain_text(code.display_text)

    # It shares two with its sub-reseller (confirmation first).
    chosen = north_codes[:2]
    for code in chosen:
        page.check(f'input.js-select-row[value="{code.pk}"]')
    with page.expect_navigation():
        page.get_by_test_id("bulk-codesbulk_share").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text(re.compile(r"This will change 2 rows"))
    options = page.locator("#id_account option").all_inner_texts()
    assert not any("South" in o or "Acme" in o for o in options), options
    page.select_option("#id_account", str(network.north_farms.pk))
    with page.expect_navigation():
        page.get_by_test_id("bulk-confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("2 codes are now shared with North Farms Dealer.")
    sign_out(page)

    # The sub-reseller sees exactly those two, and applies one to its customer's combine.
    sign_in(page, live_server.url, network.north_farms_operator.username)
    nav_link(page, "Codes").click()
    expect(page.locator("tbody input.js-select-row")).to_have_count(2)
    nav_link(page, "Units").click()
    expect(page.locator("tbody tr[data-unit]")).to_have_count(1)  # the Rental Van is in South's branch
    page.locator(f'tr[data-unit="{COMBINE}"] input.js-select-row').check()
    with page.expect_navigation():
        page.get_by_test_id("bulk-unitsbulk_apply_codes").click()
    page.select_option("#id_period_days", "30")
    with page.expect_navigation():
        page.locator("button[name=_pair]").click()
    expect(page.get_by_test_id("pairing").locator("tbody tr")).to_have_count(1)
    with page.expect_navigation():
        page.locator("button[name=_confirm]").click()
    expect(page.locator(".alert-success")).to_contain_text("1 code applied.")
    used = Code.objects.get(unit=combine)
    assert used.pk in {c.pk for c in chosen}
    assert code_state(used) == CodeState.RUNNING
    sign_out(page)

    # The provider's report shows the whole chain of that code.
    sign_in(page, live_server.url, provider.username)
    nav_link(page, "Report").click()
    report = page.get_by_test_id("report-table")
    chain = report.locator("tbody tr").filter(has_text=used.display_text)
    actions = [a for a in chain.locator("[data-action]").evaluate_all("els => els.map(e => e.dataset.action)")]
    assert {"generated", "shared", "attached"} <= set(actions), actions
    assert actions.count("shared") == 2  # Acme -> North Sales, North Sales -> North Farms Dealer
    expect(chain.filter(has_text="North Farms Dealer").filter(has=page.locator("[data-action=shared]"))
           ).to_contain_text(network.north_admin.username)
    expect(chain.filter(has=page.locator("[data-action=attached]"))).to_contain_text("Combine 9")
    expect(chain.filter(has=page.locator("[data-action=attached]"))).to_contain_text(
        network.north_farms_operator.username
    )
