"""Indexes for the searches that name no provider: hardware id alone (equality and prefix), and a
trigram index for the "contains" searches on unit names (the Codes window's Unit filter and
free-text search, the Units window). Django's `icontains` on PostgreSQL compares
UPPER(name::text) LIKE UPPER('%term%'), so the index is on that expression. PostgreSQL only
(pg_trgm); on SQLite the operation does nothing."""

from django.db import migrations, models

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS unit_name_upper_trgm ON units_unit USING gin ((UPPER("name"::text)) gin_trgm_ops)',
]
DROP = ["DROP INDEX IF EXISTS unit_name_upper_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("units", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="unit",
            index=models.Index(fields=["hardware_id"], name="unit_hardware_id", opclasses=["varchar_pattern_ops"]),
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
