"""The redemption's fixed SQL (`cms.fixed_sql`, `codes.locking`) reads and writes exactly what the
ORM would: the same instances, the same stored values, on SQLite and on PostgreSQL alike."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Action, Event
from audit.services import event_build, events_write
from cms import fixed_sql
from cms.actors import SYSTEM
from codes.locking import lock_codes_and_chains, lock_unit_for_code
from codes.models import Code, CodeState
from codes.services import code_attach
from tests import factories
from tests.domain.support import DAY, T0, code_for, refresh
from units.models import Unit

CODE_FIELDS = [field.attname for field in Code._meta.concrete_fields]


def as_orm_reads_it(instance):
    return {name: getattr(instance, name) for name in [f.attname for f in type(instance)._meta.concrete_fields]}


def test_a_loaded_code_equals_the_orms_field_for_field_with_aware_datetimes(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    code = code_for(network, holder=network.harvest)
    code_attach(code=code, unit=unit, actor=network.provider_admin)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fixed_sql.columns(Code, 'c')} FROM codes_code c WHERE c.id = %s", [code.pk])
        loaded, end = fixed_sql.load(Code, cursor.fetchone())

    assert end == len(CODE_FIELDS)
    assert as_orm_reads_it(loaded) == as_orm_reads_it(Code.objects.get(pk=code.pk))
    assert timezone.is_aware(loaded.activated_at) and timezone.is_aware(loaded.expires_at)
    assert not loaded._state.adding and loaded._state.db == "default"


def test_an_update_stores_what_the_orm_would_store(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    code = code_for(network, holder=network.harvest)
    start = T0 + DAY

    changed = fixed_sql.update(
        Code, [code.pk], unit_id=unit.pk, activated_at=start, expires_at=start + 30 * DAY, status=CodeState.SCHEDULED
    )

    assert changed == 1
    stored = refresh(code)
    assert (stored.unit_id, stored.activated_at, stored.expires_at, stored.status) == (
        unit.pk, start, start + 30 * DAY, CodeState.SCHEDULED,
    )
    # The ORM finds the row by the stored values, so they were written as the ORM writes them.
    assert Code.objects.filter(pk=code.pk, activated_at=start, expires_at__gt=start).exists()


def test_an_update_of_no_rows_sends_no_statement(db):
    with CaptureQueriesContext(connection) as queries:
        assert fixed_sql.update(Unit, [], is_active=True) == 0
    assert len(queries) == 0


def test_inserted_events_get_their_ids_and_read_back_as_built(network, clock):
    code = code_for(network, holder=network.harvest)
    events = [
        event_build(action=Action.REDEEM_REFUSED, actor=SYSTEM, occurred_at=T0, code=code,
                    client_address="2001:db8::7", details={"reason": "code_expired", "n": [1, 2]}),
        event_build(action=Action.STARTED, actor=network.provider_admin, occurred_at=T0 + DAY, code=code),
    ]

    written = events_write(events)

    assert [e.pk for e in written] == sorted(e.pk for e in written) and None not in [e.pk for e in written]
    for event in written:
        assert not event._state.adding
        assert as_orm_reads_it(Event.objects.get(pk=event.pk)) == as_orm_reads_it(event)


def test_many_events_are_written_in_batches_the_backend_accepts(network, clock):
    code = code_for(network)
    events = [event_build(action=Action.STARTED, actor=SYSTEM, occurred_at=T0, code=code) for _ in range(2500)]

    events_write(events)

    assert Event.objects.filter(code=code, action=Action.STARTED).count() == 2500
    assert len({e.pk for e in events}) == 2500


def test_the_redemption_lock_finds_the_unit_of_the_codes_provider_with_its_owner(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643809")
    # The same hardware id at another provider: not the one a code of ours may go on.
    factories.unit(network.rival_customer, actor=network.rival_admin, hardware_id="356938035643809")
    code = code_for(network, holder=network.harvest)

    with CaptureQueriesContext(connection) as queries:
        locked = lock_unit_for_code(code.text, "356938035643809")
        owner_name = locked.owner.name  # came with the unit: no further query

    assert len([q for q in queries if q["sql"].startswith("SELECT")]) == 1
    assert (locked.pk, locked.code_id, owner_name) == (unit.pk, code.pk, network.harvest.name)
    assert as_orm_reads_it(locked) == as_orm_reads_it(Unit.objects.get(pk=unit.pk))
    assert lock_unit_for_code("NOSUCHCODE", "356938035643809") is None
    assert lock_unit_for_code(code.text, "000000000000000") is None


def test_the_chain_lock_takes_the_named_codes_and_every_live_code_on_the_units(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    running, queued = code_for(network, holder=network.harvest), code_for(network, holder=network.harvest)
    code_attach(code=running, unit=unit, actor=network.provider_admin)
    code_attach(code=queued, unit=unit, actor=network.provider_admin)
    loose = code_for(network, holder=network.north)
    elsewhere = code_for(network)

    with CaptureQueriesContext(connection) as queries:
        locked = lock_codes_and_chains([loose.pk], [unit.pk])
        holders = {pk: code.holder.name for pk, code in locked.items()}  # came with the codes

    assert list(locked) == sorted([running.pk, queued.pk, loose.pk])
    assert elsewhere.pk not in locked
    assert holders[loose.pk] == network.north.name and holders[running.pk] == network.harvest.name
    assert len([q for q in queries if q["sql"].startswith("SELECT")]) == 1
    assert lock_codes_and_chains([], []) == {}


# --- writes_together: a redemption's UPDATEs ride with its INSERT -------------------------------


class StatementsSent:
    """Every `execute` that reaches the database driver: one per round trip (Django's execute
    wrappers see each call, whether or not queries are logged). Installed inside
    `writes_together()`, so that it sees the statements as they are sent."""

    def __init__(self):
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def data(self) -> list[str]:
        skip = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
        return [s for s in self.sql if not s.upper().startswith(skip)]


def test_inside_writes_together_the_next_read_already_sees_the_held_back_update(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)

    with transaction.atomic(), fixed_sql.writes_together():
        fixed_sql.update(Unit, [unit.pk], is_active=True)
        seen_in_block = Unit.objects.get(pk=unit.pk).is_active

    assert seen_in_block is True
    assert refresh(unit).is_active is True


@pytest.mark.postgres
def test_on_postgresql_the_held_back_updates_and_the_next_statement_make_one_round_trip(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    code = code_for(network, holder=network.harvest)
    sent = StatementsSent()

    with transaction.atomic(), fixed_sql.writes_together(), connection.execute_wrapper(sent):
        assert fixed_sql.update(Unit, [unit.pk], is_active=True) is None  # held back: no count yet
        fixed_sql.update(Code, [code.pk], status=CodeState.REVOKED)
        [event] = events_write([event_build(action=Action.REVOKED, actor=SYSTEM, occurred_at=T0, code=code)])

    assert len(sent.data()) == 1, sent.data()
    assert sent.data()[0].startswith("UPDATE") and sent.data()[0].count(";") == 2
    assert event.pk == Event.objects.get(code=code, action=Action.REVOKED).pk  # the INSERT's own result
    assert refresh(unit).is_active and refresh(code).status == CodeState.REVOKED


def test_held_back_updates_with_nothing_after_them_are_sent_when_the_block_ends(network, clock):
    unit = factories.unit(network.harvest, actor=network.provider_admin)

    with transaction.atomic():
        with fixed_sql.writes_together():
            fixed_sql.update(Unit, [unit.pk], is_active=True)
        assert Unit.objects.filter(pk=unit.pk, is_active=True).exists()


def test_a_held_back_update_that_breaks_a_constraint_fails_as_djangos_integrity_error_and_writes_nothing(
    network, clock
):
    """Two units may not share a hardware id at one provider: the held-back UPDATE fails when it
    is sent, with the INSERT it travels with, and the transaction writes neither."""
    first = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643809")
    second = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643810")
    code = code_for(network, holder=network.harvest)
    events_before = Event.objects.count()

    with pytest.raises(IntegrityError):
        with transaction.atomic(), fixed_sql.writes_together():
            fixed_sql.update(Unit, [second.pk], hardware_id=first.hardware_id)
            events_write([event_build(action=Action.REVOKED, actor=SYSTEM, occurred_at=T0, code=code)])

    assert refresh(second).hardware_id == "356938035643810"
    assert Event.objects.count() == events_before


@pytest.mark.postgres
def test_a_prepared_statement_after_held_back_updates_gets_them_sent_first_on_their_own(network, clock):
    """The prepared cursor binds values on the server, one statement a query: the held-back
    writes go ahead of it in a query of their own, and the lock then reads them."""
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643809")
    code = code_for(network, holder=network.harvest)
    sent = StatementsSent()

    with transaction.atomic(), fixed_sql.writes_together(), connection.execute_wrapper(sent):
        fixed_sql.update(Unit, [unit.pk], is_active=True)
        locked = lock_unit_for_code(code.text, unit.hardware_id)

    assert locked.is_active is True
    assert [s.split()[0] for s in sent.data()] == ["UPDATE", "SELECT"]
