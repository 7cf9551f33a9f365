"""How many statements a redemption costs: the API's busiest write, so a regression in its
query count fails here, not in production."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, Event
from codes.models import CodeState
from codes.services import code_attach, code_redeem
from tests import factories
from tests.domain.support import code_for, refresh


def data_statements(queries) -> list[str]:
    """The statements that read or write rows (not BEGIN/COMMIT/SAVEPOINT, which differ with the
    database and with the test's own transaction)."""
    skip = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(skip)]


@pytest.fixture
def harvest_unit(network):
    return factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643809")


@pytest.mark.parametrize("who", ["customer", "provider"])
def test_a_redemption_onto_a_unit_without_cover_costs_six_statements(network, clock, harvest_unit, who):
    """Lock the unit of the code's provider (finding the code's id on the way); lock the code
    with the unit's chain; write the code and its audit entry; write the unit's new state and
    its entry (the chain decides it: no query)."""
    actor = network.harvest_user if who == "customer" else network.provider_admin
    code = code_for(network, holder=network.north_farms, period_days=30)

    with CaptureQueriesContext(connection) as queries:
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=actor, client_address="203.0.113.9")

    statements = data_statements(queries)
    assert len(statements) == 6, "\n".join(statements)
    assert refresh(code).status == CodeState.RUNNING and refresh(harvest_unit).is_active
    assert [e.action for e in Event.objects.filter(unit=harvest_unit).order_by("pk")] == [
        Action.REDEEMED, Action.UNIT_ACTIVATED,
    ]


def test_a_redemption_behind_running_cover_costs_four_statements(network, clock, harvest_unit):
    """The unit is already active: its state needs no write (the chain decides it, no query);
    the code is scheduled behind the running one, with its audit entry."""
    running = code_for(network, holder=network.north_farms, period_days=30)
    code_attach(code=running, unit=harvest_unit, actor=network.provider_admin)
    code = code_for(network, holder=network.north_farms, period_days=30)

    with CaptureQueriesContext(connection) as queries:
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=network.harvest_user)

    statements = data_statements(queries)
    assert len(statements) == 4, "\n".join(statements)
    assert refresh(code).status == CodeState.SCHEDULED


def test_an_api_redemption_adds_only_the_token_lookup(transactional_db, network, harvest_unit, clock, settings):
    """Through POST /api/v1/redeem/: the token (one query; last_used_at is written at most once a
    minute, here the first time) and the service's six."""
    from rest_framework.test import APIClient

    from cms.models import ApiToken

    settings.RATELIMIT_ENABLE = False
    _token, key = ApiToken.issue(user=network.harvest_user, name="tracker")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    code = code_for(network, holder=network.north_farms, period_days=30)

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/redeem/", {"code": code.text, "unit": harvest_unit.hardware_id}, format="json")

    assert response.status_code == 200, response.content
    statements = data_statements(queries)
    assert len(statements) == 1 + 1 + 6, "\n".join(statements)

    other_unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643817")
    code = code_for(network, holder=network.north_farms, period_days=30)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/redeem/", {"code": code.text, "unit": other_unit.hardware_id}, format="json")

    assert response.status_code == 200, response.content
    statements = data_statements(queries)
    assert len(statements) == 6, "\n".join(statements)
