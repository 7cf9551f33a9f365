"""Counts are written with the language's thousands separator (1,234 in English, 1 234 in French
and Spanish): on the dashboard, the Batches pages, the accounts' tree and stock, the window's
pager and the bulk confirmation page. Ids, years and the values of form inputs are not counts:
they stay as they are, so links, check boxes and filters keep working."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from codes.services import batch_generate
from tests.ui.helpers import row_pks

QUANTITY = 1234
GROUPED = {"en": "1,234", "fr": "1\xa0234", "es": "1\xa0234"}
ROWS = {"en": "Rows 1,001–1,234", "fr": "1\xa0001–1\xa0234", "es": "1\xa0001–1\xa0234"}


@pytest.fixture
def stock(network):
    """Acme's 1,234 codes, all available."""
    return batch_generate(actor=network.provider_admin, quantity=QUANTITY, period_days=30, unit_price="1.00",
                          currency="EUR", background=False)


@pytest.fixture(params=sorted(GROUPED))
def language(request, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = request.param
    return request.param


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()).replace("&nbsp;", "\xa0"))


def test_given_more_than_a_thousand_codes_then_every_count_is_grouped(client, network, stock, language):
    client.force_login(network.provider_admin)
    grouped = GROUPED[language]
    pages = {
        "dashboard": reverse("dashboard"),
        "batches window": reverse("batches:list"),
        "batch page": reverse("batches:detail", args=[stock.pk]),
        "accounts' tree": reverse("accounts:list"),
        "stock per account": reverse("accounts:stock"),
    }
    for name, url in pages.items():
        assert grouped in text(client.get(url)), name
        assert str(QUANTITY) not in text(client.get(url)), name

    pager = client.get(reverse("codes:list"), {"per_page": 250, "page": 5})
    assert ROWS[language] in text(pager)
    assert max(row_pks(pager)) >= 1000  # the check boxes' values stay plain ids

    confirm = text(client.post(reverse("codes:bulk_share"), {"_all": "1", "_query": ""}))
    assert f"{grouped} " in confirm and f": {grouped}" in confirm  # "This will change 1,234 rows", "Available: 1,234"


def test_given_grouped_counts_then_ids_years_and_form_values_are_not_grouped(client, network, stock):
    client.force_login(network.provider_admin)
    html = client.get(reverse("codes:list"), {"per_page": 250, "page": 5, "period_days": 30}).content.decode()
    assert 'value="250"' in html and '<option value="30" selected>' in html
    assert not re.search(r"\b2,0[0-9]{2}-", html)  # a year in a time is not a count
    for pk in row_pks(client.get(reverse("codes:list"), {"per_page": 250, "page": 5})):
        assert reverse("codes:detail", args=[pk]) in html
    batch_page = client.get(reverse("batches:detail", args=[stock.pk])).content.decode()
    assert f"?batch={stock.pk}&" in batch_page.replace("&amp;", "&")
