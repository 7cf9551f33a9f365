"""Invariant 6 through the API, on PostgreSQL: twenty clients attach one code at the same instant
(each its own request, connection and transaction); exactly one gets a 2xx, every other one a
clear 409 in the one error shape, and the code sits on exactly one unit."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from audit.models import Action, Event
from cms.authentication import api_token_create
from codes.models import Code
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_given_twenty_parallel_attaches_of_one_code_through_the_api_then_exactly_one_succeeds(network):
    code = factories.codes(network.provider_admin, quantity=1)[0]
    units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(THREADS)]
    key = api_token_create(user=network.provider_operator, name="race")[1]
    barrier = threading.Barrier(THREADS)
    responses = [None] * THREADS

    def attach(index, unit):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait()
            responses[index] = client.post(
                f"/api/v1/codes/{code.display_text}/attach/", {"unit": unit.hardware_id}, format="json"
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attach, args=(i, unit)) for i, unit in enumerate(units)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung (deadlock?)"

    statuses = sorted(r.status_code for r in responses)
    assert sum(200 <= s < 300 for s in statuses) == 1, statuses
    assert statuses.count(409) == THREADS - 1, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"code_already_used"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    code.refresh_from_db()
    assert code.unit.hardware_id == winner["unit"]["hardware_id"]
    assert Event.objects.filter(code=code, action=Action.ATTACHED).count() == 1
    assert Code.objects.filter(unit__isnull=False).count() == 1
