"""The windows' filter lists (batches, owners, accounts) offer what the user's part of the tree
holds, labelled as the tree reads, and nothing of another provider."""

import pytest
from django.urls import reverse

from cms.models import Account
from cms.web.labels import INDENT
from codes.models import Batch
from tests import factories

ACCOUNT_LISTS = [("units:list", "owner"), ("report:list", "account"), ("accounts:users", "account"),
                 ("codes:list", "holder")]


def offered(response, list_name) -> list:
    return [value for value, _label in response.context["filter"].form.fields[list_name].choices if value]


@pytest.mark.parametrize(("url_name", "list_name"), ACCOUNT_LISTS)
def test_an_account_list_offers_the_users_branch_as_a_tree(network, client, url_name, list_name):
    client.force_login(network.north_admin)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    north = Account.objects.filter(path__startswith=network.north.path).order_by("path")
    assert [getattr(value, "value", value) for value in offered(response, list_name)] == [a.pk for a in north]
    labels = {getattr(value, "value", value): label
              for value, label in response.context["filter"].form.fields[list_name].choices if value}
    assert labels[network.harvest.pk].endswith(network.harvest.name)
    assert labels[network.harvest.pk].count(INDENT) == labels[network.north.pk].count(INDENT) + 2
    html = response.content.decode()
    assert f'<option value="{network.harvest.pk}">' in html
    assert network.rival.name not in html


def test_the_codes_window_offers_the_providers_batches_newest_first(network, client):
    older = factories.batch(network.provider_admin, quantity=2, period_days=90)
    newer = factories.batch(network.provider_admin, quantity=1, period_days=30)
    factories.batch(network.rival_admin, quantity=1)
    client.force_login(network.provider_admin)
    response = client.get(reverse("codes:list"))
    assert offered(response, "batch") == [newer.pk, older.pk]
    assert offered(response, "period_days") == [30, 90]
    assert f'<option value="{newer.pk}">{Batch.objects.get(pk=newer.pk)}</option>' in response.content.decode()
