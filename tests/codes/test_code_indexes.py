"""The indexes and constraints of codes_code after every migration (0004 dropped the single-column
foreign-key indexes that composite indexes cover): the database still enforces invariant 1's
backstops, and every foreign-key column still leads some index."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from codes.models import Code, CodeState
from tests import factories

pytestmark = pytest.mark.django_db

DROPPED = {"codes_code_batch_id_b456da93", "codes_code_holder_id_e215016c", "codes_code_unit_id_1d032641"}


def constraints() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Code._meta.db_table)


def test_the_redundant_foreign_key_indexes_are_gone():
    assert DROPPED.isdisjoint(constraints())


def test_the_period_index_no_plan_used_is_gone():
    assert "code_period" not in constraints()


def test_the_unique_and_check_constraints_are_kept():
    found = constraints()
    running = found["code_one_running_per_unit"]
    assert running["unique"] and running["columns"] == ["unit_id"]
    position = found["code_one_position_per_unit"]
    assert position["unique"] and position["columns"] == ["unit_id", "activated_at"]
    for name in ("code_expiry_follows_activation", "code_revoked_never_started", "code_on_unit_has_position"):
        assert found[name]["check"], name
    assert any(c["unique"] and c["columns"] == ["text"] for c in found.values())


def test_every_foreign_key_column_still_leads_an_index():
    found = constraints()
    foreign_keys = {c["columns"][0] for c in found.values() if c["foreign_key"]}
    assert foreign_keys == {"batch_id", "holder_id", "provider_id", "unit_id"}
    leading = {c["columns"][0] for c in found.values() if c["index"] and c["columns"] and not c.get("foreign_key")}
    assert foreign_keys <= leading


def test_the_database_refuses_a_second_running_code_on_one_unit(provider_admin_codes):
    codes, unit = provider_admin_codes
    now = timezone.now()
    first, second = codes[:2]
    Code.objects.filter(pk=first.pk).update(
        unit=unit, activated_at=now, expires_at=now + timedelta(days=30), status=CodeState.RUNNING
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.filter(pk=second.pk).update(
            unit=unit, activated_at=now + timedelta(days=30), expires_at=now + timedelta(days=60),
            status=CodeState.RUNNING,
        )


def test_the_database_refuses_two_codes_at_one_position_of_a_chain(provider_admin_codes):
    codes, unit = provider_admin_codes
    start = timezone.now() + timedelta(days=5)
    first, second = codes[:2]
    Code.objects.filter(pk=first.pk).update(
        unit=unit, activated_at=start, expires_at=start + timedelta(days=30), status=CodeState.SCHEDULED
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.filter(pk=second.pk).update(
            unit=unit, activated_at=start, expires_at=start + timedelta(days=30), status=CodeState.SCHEDULED
        )


@pytest.fixture
def provider_admin_codes():
    provider = factories.provider()
    admin = factories.user(provider)
    customer = factories.customer(provider)
    return factories.codes(admin, quantity=2), factories.unit(customer, actor=admin)


def indexes_of(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


@pytest.mark.parametrize(
    ("table", "dropped", "references", "constrained"),
    [
        # The audit log's references carry no database constraint (audit/models.py says why);
        # each is still the first column of an index, for the report's filters and the history.
        (
            "audit_event",
            {"audit_event_account_id_4a8fc5a1", "audit_event_actor_id_fdb5de2b", "audit_event_code_id_71b1c646",
             "audit_event_from_account_id_68c4acf7", "audit_event_unit_id_12b72a3d"},
            {"actor_id", "actor_account_id", "account_id", "from_account_id", "to_account_id", "code_id", "unit_id",
             "batch_id"},
            False,
        ),
        ("units_unit", {"units_unit_owner_id_420d8bc4", "units_unit_provider_id_8b56be78"}, {"owner_id", "provider_id"},
         True),
    ],
)
def test_audit_and_unit_tables_keep_an_index_leading_with_each_reference(table, dropped, references, constrained):
    found = indexes_of(table)
    assert dropped.isdisjoint(found)
    foreign_keys = {c["columns"][0] for c in found.values() if c["foreign_key"]}
    assert foreign_keys == (references if constrained else set())
    leading = {c["columns"][0] for c in found.values() if c["index"] and c["columns"] and not c.get("foreign_key")}
    assert references <= leading


def test_a_unit_hardware_id_stays_unique_within_its_provider():
    provider = factories.provider()
    admin = factories.user(provider)
    customer = factories.customer(provider)
    unit = factories.unit(customer, actor=admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(unit).objects.create(
            provider=provider, owner=customer, name="twin", hardware_id=unit.hardware_id, device_type=unit.device_type
        )
