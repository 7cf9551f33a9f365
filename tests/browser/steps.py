"""Steps shared by the browser tests: signing in and out, and the main navigation."""

from playwright.sync_api import expect

from tests import factories


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.get_by_test_id("whoami")).to_contain_text(username)


def sign_out(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def nav_link(page, name):
    return page.locator("#mainnav").get_by_role("link", name=name, exact=True)
