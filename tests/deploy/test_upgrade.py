"""Upgrading (docs/DEPLOY.md): an older Keyline's database, with its rows, is migrated forward by the
owner role while the runtime role keeps its grants. The deployment of tests/deploy/conftest.py
starts at the earlier state (conftest.EARLIER) and is upgraded as the docs say."""

from datetime import UTC, datetime

import pytest
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.postgres


@pytest.fixture
def upgraded(deployment):
    with deployment.cluster.connect(deployment.database, role=deployment.owner) as conn:
        yield conn


def test_given_an_earlier_keyline_then_the_upgrade_applies_every_migration(upgraded):
    applied = set(upgraded.execute("SELECT app, name FROM django_migrations").fetchall())

    assert applied == set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def test_given_rows_written_before_the_upgrade_then_the_migrations_carried_them_forward(upgraded):
    # a use-by date ends at midnight in the provider's zone (Europe/Paris, summer time on 31 March)
    usable_until = upgraded.execute("SELECT DISTINCT usable_until FROM codes_code c JOIN cms_account p "
                                    "ON p.id = c.provider_id WHERE p.name = 'Old Provider'").fetchall()
    assert usable_until == [(datetime(2027, 3, 31, 22, tzinfo=UTC),)]
    # a disabled reseller's branch is disabled with it
    customer = upgraded.execute("SELECT c.is_active, r.name FROM cms_account c JOIN cms_account r "
                                "ON r.id = c.disabled_by_id WHERE c.name = 'Old Customer'").fetchone()
    assert customer == (False, "Old Reseller")
    # the older entry keeps no write time: the append-only log is not backfilled
    entry = upgraded.execute("SELECT action, recorded_at FROM audit_event WHERE actor_label = 'system' "
                             "AND occurred_at = '2026-01-05T00:00:00Z'").fetchone()
    assert entry == ("generated", None)


def test_given_the_upgrade_then_the_audit_trigger_still_guards_the_log(upgraded):
    enabled = upgraded.execute(
        "SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND tgname = 'audit_event_append_only'"
    ).fetchall()

    assert enabled == [("O",)]  # fires on every session's changes
