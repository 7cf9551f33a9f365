"""Viewers never see a write action; operators never see account or user management.

A small crawler signs in as the user, starts from every page of the URL map that needs no
argument, follows every link of the app it finds (two levels deep), and on every page checks
that there is no form that would change something and no link to a page the user is refused.
New pages are covered automatically."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse

from codes.services import code_attach, code_share
from tests import factories
from tests.isolation.walker import SKIPPED, url_patterns

#: Forms anybody signed in may use: signing out, the language, the public redemption page, and
#: the user's own profile (API tokens, password).
PERSONAL = {
    "logout", "set_language", "redeem:redeem", "redeem:done", "profile:detail", "profile:password",
    "profile:token_delete",
}
MAX_PAGES = 250


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.formactions: list[str] = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                          "id": attrs.get("id", ""), "submits": 0}
            self.forms.append(self._form)
        if "formaction" in attrs:
            self.formactions.append(attrs["formaction"])
        is_submit = (tag == "button" and attrs.get("type", "submit") == "submit") or (
            tag == "input" and attrs.get("type") == "submit"
        )
        if is_submit and self._form is not None:
            self._form["submits"] += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def start_pages() -> list[str]:
    urls = []
    for pattern in url_patterns():
        if pattern.arguments or pattern.name in SKIPPED or pattern.name.startswith("api:"):
            continue
        try:
            urls.append(reverse(pattern.name))
        except Exception:
            continue
    return urls


def crawl(client, user) -> list[str]:
    client.force_login(user)
    problems, seen, status_of = [], set(), {}
    queue = [(url, 0) for url in start_pages()]
    while queue and len(seen) < MAX_PAGES:
        url, depth = queue.pop(0)
        path = urlsplit(url).path
        if path in seen or path.startswith(("/static/", "/admin/", "/i18n/", "/api/")) or "export=" in url:
            continue
        seen.add(path)
        if url_name(path) in ("logout",):
            continue
        response = client.get(url)
        status_of[path] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = Page()
        page.feed(response.content.decode())
        for form in page.forms:
            target = form["action"] or path
            if form["method"] == "post" and form["submits"] and url_name(urlsplit(target).path) not in PERSONAL:
                problems.append(f"{url}: a form posting to {target}")
        for action in page.formactions:
            problems.append(f"{url}: a button posting to {action}")
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not (parts.path or "").startswith("/"):
                continue
            if parts.path not in status_of and url_name(parts.path) not in (None, "logout"):
                status_of[parts.path] = client.get(parts.path).status_code
            if status_of.get(parts.path) == 403:
                problems.append(f"{url}: a link to {href}, which the user is refused")
            if depth < 2:
                queue.append((href, depth + 1))
    assert len(seen) > 10
    return sorted(set(problems))


@pytest.fixture
def busy_network(network):
    codes = factories.codes(network.provider_admin, quantity=3)
    for code in codes:
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    unit = factories.unit(network.harvest, name="Harvest Tractor")
    code_attach(code=codes[0], unit=unit, actor=network.north_admin)
    network.north_viewer = factories.user(network.north, "viewer", "north-viewer")
    network.harvest_viewer = factories.user(network.harvest, "viewer", "harvest-viewer")
    return network


@pytest.mark.parametrize("who", ["provider_viewer", "north_viewer", "harvest_viewer"])
def test_given_a_viewer_then_no_page_offers_a_write_action(busy_network, client, who):
    problems = crawl(client, getattr(busy_network, who))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("who", ["provider_operator", "north_farms_operator"])
def test_given_an_operator_then_no_page_offers_account_or_user_management(busy_network, client, who):
    problems = crawl(client, getattr(busy_network, who))
    management = [p for p in problems if "/accounts/" in p]
    assert not management, "\n".join(management)
