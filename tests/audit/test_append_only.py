"""The audit log is append-only (invariant 5): the ORM refuses to update or delete an event, and on
PostgreSQL the database itself refuses, whatever SQL is sent. Events share the transaction of the
change they describe."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AuditLogIsAppendOnly, Event
from codes.models import CodeState
from codes.rules import code_state
from codes.services import code_attach
from tests import factories
from tests.domain.support import code_for, refresh


@pytest.fixture
def event(network):
    factories.codes(network.provider_admin, quantity=1)
    return Event.objects.filter(action=Action.GENERATED).first()


class TestTheOrmRefuses:
    def test_saving_an_existing_event_again(self, event):
        event.action = Action.REVOKED
        with pytest.raises(AuditLogIsAppendOnly):
            event.save()
        assert refresh(event).action == Action.GENERATED

    def test_deleting_an_event(self, event):
        with pytest.raises(AuditLogIsAppendOnly):
            event.delete()
        assert Event.objects.filter(pk=event.pk).exists()

    def test_a_queryset_update(self, event):
        with pytest.raises(AuditLogIsAppendOnly):
            Event.objects.filter(pk=event.pk).update(action=Action.REVOKED)
        assert refresh(event).action == Action.GENERATED

    def test_a_queryset_delete(self, event):
        with pytest.raises(AuditLogIsAppendOnly):
            Event.objects.all().delete()
        assert Event.objects.filter(pk=event.pk).exists()

    def test_a_bulk_update(self, event):
        event.action = Action.REVOKED
        with pytest.raises(AuditLogIsAppendOnly):
            Event.objects.bulk_update([event], ["action"])
        assert refresh(event).action == Action.GENERATED

    def test_but_new_events_are_written(self, event):
        assert Event.objects.filter(action=Action.GENERATED).count() == 1


@pytest.mark.postgres
class TestPostgresRefusesRawSql:
    def test_a_raw_update_is_refused_by_the_trigger(self, event):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE audit_event SET action = 'revoked' WHERE id = %s", [event.pk])
        assert refresh(event).action == Action.GENERATED

    def test_a_raw_delete_is_refused_by_the_trigger(self, event):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM audit_event")
        assert Event.objects.filter(pk=event.pk).exists()

    def test_a_raw_insert_is_still_allowed(self, event):
        before = Event.objects.count()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_event (occurred_at, action, actor_label, details) VALUES (now(), 'expired', 'x', '{}')"
            )
        assert Event.objects.count() == before + 1


def test_events_share_the_transaction_of_the_change_they_describe(network, clock):
    code = code_for(network)
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    events_before = Event.objects.count()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        code_attach(code=code, unit=unit, actor=network.provider_admin)
        assert Event.objects.count() == events_before + 2  # attached, unit_activated: written already
        raise Abort  # ... and whoever rolls the change back rolls its audit entries back with it

    assert code_state(refresh(code)) == CodeState.AVAILABLE
    assert Event.objects.count() == events_before
