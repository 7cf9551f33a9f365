"""Sharing as DOMAIN.md says, through the Codes window: only unstarted codes, only to an account
below the current holder, recall only up to one's own account; thousands of codes in one action,
in a bounded number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import Action, Event
from codes.models import Code
from codes.selectors import codes_visible_to
from codes.services import code_attach
from tests import factories

MANY = 2500


@pytest.fixture
def stock(network):
    codes = factories.codes(network.provider_admin, quantity=MANY, period_days=30)
    return network, codes


def share_all(client, account, query="period_days=30"):
    return client.post(reverse("codes:bulk_share"),
                       {"_all": "1", "_query": query, "_confirm": "1", "account": account.pk, "_return": "/codes/"})


def test_given_thousands_of_codes_when_shared_in_one_action_then_all_move_in_few_queries(stock, client):
    network, codes = stock
    client.force_login(network.provider_admin)
    with CaptureQueriesContext(connection) as queries:
        response = share_all(client, network.north)
    assert response.status_code == 302
    assert Code.objects.filter(holder=network.north).count() == MANY
    assert Event.objects.filter(action=Action.SHARED, to_account=network.north).count() == MANY
    assert len(queries) < 60, f"{len(queries)} queries for {MANY} codes"


def test_given_shared_codes_then_the_holder_and_the_accounts_above_see_them_and_nobody_else(stock, client):
    network, codes = stock
    client.force_login(network.provider_admin)
    share_all(client, network.north_farms)
    for user in (network.provider_admin, network.north_admin, network.north_farms_operator):
        assert codes_visible_to(user).count() == MANY
    for user in (network.south_admin, network.rival_admin, network.harvest_user):
        assert not codes_visible_to(user).exists()


def test_given_a_reseller_then_it_shares_only_below_itself(stock, client):
    network, codes = stock
    client.force_login(network.provider_admin)
    share_all(client, network.north)
    client.force_login(network.north_admin)
    for target in (network.south, network.provider, network.north):
        response = share_all(client, target)
        assert response.status_code != 302
    assert Code.objects.filter(holder=network.north).count() == MANY
    assert share_all(client, network.north_farms).status_code == 302
    assert Code.objects.filter(holder=network.north_farms).count() == MANY


def test_given_one_started_code_among_thousands_then_the_whole_share_is_refused(stock, client):
    network, codes = stock
    client.force_login(network.provider_admin)
    unit = factories.unit(network.harvest)
    code_attach(code=codes[17], unit=unit, actor=network.provider_admin)
    response = client.post(reverse("codes:bulk_share"), {
        "pk": [c.pk for c in codes[:500]], "_confirm": "1", "account": network.north.pk,
    })
    assert response.status_code == 409
    assert not Code.objects.filter(holder=network.north).exists()


def test_given_codes_below_when_recalled_then_they_come_back_to_the_caller_only(stock, client):
    network, codes = stock
    client.force_login(network.provider_admin)
    share_all(client, network.north_farms)
    client.force_login(network.north_admin)
    response = client.post(reverse("codes:bulk_recall"),
                           {"_all": "1", "_query": "period_days=30", "_confirm": "1", "_return": "/codes/"})
    assert response.status_code == 302
    assert Code.objects.filter(holder=network.north).count() == MANY
    client.force_login(network.north_farms_operator)  # nothing left below it to recall; the codes are above it
    response = client.post(reverse("codes:bulk_recall"), {"pk": [codes[0].pk], "_confirm": "1"})
    assert response.status_code == 404
    assert Code.objects.filter(holder=network.north).count() == MANY
