"""Drop the three single-column foreign-key indexes of codes_code that a composite index already
covers (it leads with the same column):

- codes_code_batch_id_b456da93  (batch_id)   covered by code_batch_status  (batch_id, status)
- codes_code_holder_id_e215016c (holder_id)  covered by code_holder_status (holder_id, status)
                                              and code_holder_batch  (holder_id, batch_id)
- codes_code_unit_id_1d032641   (unit_id)    covered by code_unit_position (unit_id, activated_at)

Every status change of a code (the expiry job changes thousands a second) writes an entry into
every index of the table: these three bought nothing for it.

Plain SQL, not AlterField(db_index=False): Django's AlterField drops every single-column index
it finds on the column, which on `unit` includes the partial unique index
`code_one_running_per_unit` (invariant 1's backstop), and it also drops and re-creates the
foreign-key constraints, re-validating them over the whole table. `sqlmigrate` of the AlterField
version shows both. Here the database gets exactly three DROP INDEX statements, and the model
state gets the matching `db_index=False` (state_operations). The names are Django's own,
deterministic for table and column, so they are the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "codes_code_batch_id_b456da93": "batch_id",
    "codes_code_holder_id_e215016c": "holder_id",
    "codes_code_unit_id_1d032641": "unit_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_initial"),
        ("codes", "0003_performance_indexes"),
        ("units", "0002_performance_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
            reverse_sql=[f'CREATE INDEX IF NOT EXISTS "{name}" ON "codes_code" ("{column}")' for name, column in DROPPED.items()],
            state_operations=[
                migrations.AlterField(
                    model_name="code",
                    name="batch",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="codes", to="codes.batch"
                    ),
                ),
                migrations.AlterField(
                    model_name="code",
                    name="holder",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="held_codes",
                        to="cms.account",
                        verbose_name="holder",
                    ),
                ),
                migrations.AlterField(
                    model_name="code",
                    name="unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="codes",
                        to="units.unit",
                        verbose_name="unit",
                    ),
                ),
            ],
        ),
    ]
