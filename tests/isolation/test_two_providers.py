"""Two providers: nothing of one is ever visible to the other -- not its rows, not its names, and
not even its numbers. Every page and API list of Rival GPS (exports and counts included) reads
exactly the same before and after Acme Telematics does a lot of work."""

import re

import time_machine
from django.urls import reverse
from django.utils import timezone

from codes.services import code_attach, code_share
from tests import factories

from .walker import SKIPPED, body_of, url_patterns

TOKEN = re.compile(r"[A-Za-z0-9]{32,}")  # CSRF tokens change on every page


def no_argument_pages():
    urls = []
    for pattern in url_patterns():
        if pattern.arguments or pattern.name in SKIPPED or pattern.name in ("logout", "login"):
            continue
        try:
            urls.append(reverse(pattern.name))
        except Exception:
            continue
    return urls


def render_all(client, urls) -> dict[str, tuple[int, str]]:
    pages = {}
    for url in urls:
        for suffix in ("", "?export=csv"):
            response = client.get(url + suffix)
            pages[url + suffix] = (response.status_code, TOKEN.sub("<token>", body_of(response)))
    return pages


def acme_does_a_lot_of_work(network):
    codes = factories.codes(network.provider_admin, quantity=12, period_days=90)
    for code in codes[:8]:
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    units = [factories.unit(network.harvest, name=f"Acme Truck {i}") for i in range(3)]
    for code, unit in zip(codes[:3], units, strict=True):
        code_attach(code=code, unit=unit, actor=network.north_admin)
    factories.reseller(network.provider, "Acme West")


def test_given_rival_then_none_of_acme_work_changes_any_of_its_pages(network, client):
    urls = no_argument_pages()
    assert len(urls) > 10
    client.force_login(network.rival_admin)
    with time_machine.travel(timezone.now(), tick=False):
        before = render_all(client, urls)
        acme_does_a_lot_of_work(network)
        client.force_login(network.rival_admin)
        after = render_all(client, urls)
    changed = [url for url in urls if before[url] != after[url]]
    assert not changed, f"Rival's pages change when Acme works: {changed}"
    assert any(status == 200 for status, _body in after.values())
    for _status, body in after.values():
        assert "Acme" not in body and "North Sales" not in body and "acme-admin" not in body


def test_given_acme_then_the_same_holds_the_other_way_round(network, client):
    factories.unit(network.rival_customer, name="Rival Van")
    rival_codes = factories.codes(network.rival_admin, quantity=3)
    client.force_login(network.provider_admin)
    for url in no_argument_pages():
        for suffix in ("", "?export=csv", "?q=Rival"):
            body = body_of(client.get(url + suffix))
            assert "Rival Van" not in body and "Rival Customer" not in body and "rival-admin" not in body
            for code in rival_codes:
                assert code.text not in body and code.display_text not in body
