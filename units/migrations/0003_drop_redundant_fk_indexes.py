"""Drop the single-column foreign-key indexes of units_unit that a composite index leading with the
same column already covers:

- units_unit_owner_id_420d8bc4 (owner_id) covered by unit_owner_name (owner_id, name)
- units_unit_provider_id_8b56be78 (provider_id) covered by unit_provider_active
  (provider_id, is_active) and the unique unit_hardware_id_unique_per_provider
  (provider_id, hardware_id)

Each change of a unit's active flag (the expiry job makes tens of thousands at once) writes an
entry into every index of the table: these two bought nothing for it.

Plain SQL with the matching model state (state_operations), not AlterField(db_index=False), which
would also drop and re-create (and re-validate over the whole table) the foreign-key constraints;
see codes/migrations/0004 for why that is not harmless. The names are Django's own, deterministic
for table and column, so they are the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models


DROPPED = {
    "units_unit_owner_id_420d8bc4": "owner_id",
    "units_unit_provider_id_8b56be78": "provider_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('cms', '0001_initial'),
        ('units', '0002_performance_indexes'),
    ]

    operations = [
        migrations.RunSQL(
            sql=[f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
            reverse_sql=[
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "units_unit" ("{column}")' for name, column in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='unit',
                    name='owner',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='units', to='cms.account', verbose_name='owner'),
                ),
                migrations.AlterField(
                    model_name='unit',
                    name='provider',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cms.account', verbose_name='provider'),
                ),
            ],
        ),
    ]
