"""How many statements a redemption costs: the API's busiest write (issue 7 asks for 300 a
second), so a regression in its query count fails here, not in production."""

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
def test_a_redemption_onto_a_unit_without_cover_costs_five_statements(network, clock, harvest_unit, who):
    """Lock the unit of the code's provider (finding the code's id on the way); lock the code
    with the unit's chain; write the code; write the unit's new state; write both audit
    entries."""
    actor = network.harvest_user if who == "customer" else network.provider_admin
    code = code_for(network, holder=network.north_farms, period_days=30)

    with CaptureQueriesContext(connection) as queries:
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=actor, client_address="203.0.113.9")

    statements = data_statements(queries)
    assert len(statements) == 5, "\n".join(statements)
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


def test_an_api_redemption_adds_only_the_token_lookup_and_none_once_the_token_is_cached(
    transactional_db, network, harvest_unit, clock, settings
):
    """Through POST /api/v1/redeem/: the token (one query; last_used_at is written at most once a
    minute, here the first time) and the service's five. The next call finds the token in the
    cache (cms.authentication.token_entry): the service's statements only."""
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
    assert len(statements) == 1 + 1 + 5, "\n".join(statements)

    other_unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643817")
    code = code_for(network, holder=network.north_farms, period_days=30)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/redeem/", {"code": code.text, "unit": other_unit.hardware_id}, format="json")

    assert response.status_code == 200, response.content
    statements = data_statements(queries)
    assert len(statements) == 5, "\n".join(statements)


def prepared_statements() -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: text -> (generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {statement: (generic, custom) for statement, generic, custom in cursor.fetchall()}


LOCKS = ("FOR NO KEY UPDATE OF u", "FOR NO KEY UPDATE OF c")  # the unit found through its code; the code and the chain


@pytest.mark.postgres
def test_given_postgres_when_redeeming_then_the_two_locking_statements_are_prepared_and_planned_generically(
    network, clock, harvest_unit
):
    """cms.fixed_sql.prepared_cursor: PostgreSQL plans the redemption's locking SELECTs once per
    connection; the writes and everything of the ORM stay unprepared. (Not while queries are
    captured, as the other tests here do: then they run unprepared, to be logged with values.)"""
    other_unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643817")
    before = prepared_statements()
    for unit in (harvest_unit, other_unit):
        code = code_for(network, holder=network.north_farms, period_days=30)
        code_redeem(code_text=code.text, hardware_id=unit.hardware_id, actor=network.provider_admin)
        assert refresh(code).status == CodeState.RUNNING

    after = prepared_statements()
    used = {text: plans for text, plans in after.items() if plans != before.get(text, (0, 0))}
    assert sorted(lock for lock in LOCKS for text in used if text.endswith(lock)) == sorted(LOCKS), used
    for text, (generic, custom) in used.items():
        assert text.startswith("SELECT") and custom == before.get(text, (0, 0))[1], "generic plans only"
        assert generic - before.get(text, (0, 0))[0] == 2, "the generic plan served both redemptions"


@pytest.mark.postgres
def test_given_prepared_statements_switched_off_when_redeeming_then_nothing_is_prepared(
    network, clock, harvest_unit, settings
):
    settings.KEYLINE_DB_PREPARED_STATEMENTS = False
    before = prepared_statements()
    code = code_for(network, holder=network.north_farms, period_days=30)

    code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=network.provider_admin)

    assert refresh(code).status == CodeState.RUNNING
    assert prepared_statements() == before


@pytest.mark.postgres
def test_on_postgresql_a_redemptions_writes_take_one_round_trip(network, clock, harvest_unit, request):
    """The two locks, then the code's and the unit's UPDATEs with the audit entries' INSERT in
    one query (`fixed_sql.writes_together`): three round trips for five statements."""
    code = code_for(network, holder=network.north_farms, period_days=30)
    sent = request.getfixturevalue("statements_to_server")  # from here on: the redemption's only

    code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=network.harvest_user)

    round_trips = data_statements([{"sql": sql} for sql in sent])
    assert len(round_trips) == 3, "\n".join(round_trips)
    assert [sql.split()[0] for sql in round_trips[-1].split("; ")] == ["UPDATE", "UPDATE", "INSERT"]
    assert refresh(code).status == CodeState.RUNNING and refresh(harvest_unit).is_active
