"""Backup and restore (docs/DEPLOY.md): `pg_dump -Fc` of a Keyline database with the app's data,
restored with `pg_restore` by the owner role into a new database, gives back every row, the audit
trigger and the runtime role's grants. No superuser is needed on either side."""

import pytest
from psycopg import errors

from .cluster import table_digests

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def restored(deployment, runtime_work, tmp_path_factory):
    """The deployment's database, dumped and restored as DEPLOY.md says; the original beside it."""
    cluster, owner = deployment.cluster, deployment.owner
    dump = tmp_path_factory.mktemp("backup") / "keyline.dump"
    cluster.client_program("pg_dump", "-Fc", "-f", str(dump), deployment.database, role=owner)
    with cluster.database("keyline_restored", owner=owner) as database:
        cluster.client_program("pg_restore", "--exit-on-error", "--no-owner", "-d", database, str(dump), role=owner)
        yield database


def test_given_a_restored_backup_then_every_table_holds_the_same_rows(deployment, restored):
    with deployment.cluster.connect(deployment.database, role=deployment.owner) as original:
        before = table_digests(original)
    with deployment.cluster.connect(restored, role=deployment.owner) as copy:
        after = table_digests(copy)

    assert after == before
    assert before["audit_event"][0] > 0 and before["codes_code"][0] > 0 and before["django_session"][0] > 0


def test_given_a_restored_backup_then_the_audit_trigger_refuses_rewriting_an_entry(deployment, restored):
    with deployment.cluster.connect(restored, role=deployment.owner) as copy:
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            copy.execute("DELETE FROM audit_event")


def test_given_a_restored_backup_then_the_runtime_role_keeps_only_its_grants(deployment, restored):
    with deployment.cluster.connect(restored, role=deployment.runtime) as copy:
        copy.execute("INSERT INTO audit_event (occurred_at, action, actor_label, details) "
                     "VALUES (now(), 'expired', 'after restore', '{}')")
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            copy.execute("UPDATE audit_event SET action = 'x'")
        with pytest.raises(errors.InsufficientPrivilege, match="must be owner"):
            copy.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
