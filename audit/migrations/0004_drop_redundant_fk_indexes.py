"""Drop the single-column foreign-key indexes of audit_event that a composite index leading with the
same column already covers:

- audit_event_account_id_4a8fc5a1 (account_id) covered by event_account_time (account_id, occurred_at)
- audit_event_actor_id_fdb5de2b (actor_id) covered by event_actor_time (actor_id, occurred_at)
- audit_event_code_id_71b1c646 (code_id) covered by event_code_time (code_id, occurred_at)
- audit_event_from_account_id_68c4acf7 (from_account_id) covered by event_from_time (from_account_id, occurred_at)
- audit_event_unit_id_12b72a3d (unit_id) covered by event_unit_time (unit_id, occurred_at)

Every change of a code or unit writes audit entries (the expiry job and batch generation thousands
a second): each of these indexes was one more entry to write per row, for nothing.

Plain SQL with the matching model state (state_operations), not AlterField(db_index=False), which
would also drop and re-create (and re-validate over the whole table) the foreign-key constraints;
see codes/migrations/0004 for why that is not harmless. The names are Django's own, deterministic
for table and column, so they are the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DROPPED = {
    "audit_event_account_id_4a8fc5a1": "account_id",
    "audit_event_actor_id_fdb5de2b": "actor_id",
    "audit_event_code_id_71b1c646": "code_id",
    "audit_event_from_account_id_68c4acf7": "from_account_id",
    "audit_event_unit_id_12b72a3d": "unit_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_append_only_trigger'),
        ('cms', '0001_initial'),
        ('codes', '0004_drop_redundant_fk_indexes'),
        ('units', '0002_performance_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql=[f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
            reverse_sql=[
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "audit_event" ("{column}")' for name, column in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='event',
                    name='account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cms.account', verbose_name='account'),
                ),
                migrations.AlterField(
                    model_name='event',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
                ),
                migrations.AlterField(
                    model_name='event',
                    name='code',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='codes.code', verbose_name='code'),
                ),
                migrations.AlterField(
                    model_name='event',
                    name='from_account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cms.account', verbose_name='from'),
                ),
                migrations.AlterField(
                    model_name='event',
                    name='unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='units.unit', verbose_name='unit'),
                ),
            ],
        ),
    ]
