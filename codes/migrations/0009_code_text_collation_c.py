"""On PostgreSQL, a code's text compares byte by byte (collation "C"), so its one unique index
also answers the window's prefix search (`text LIKE 'ABC%'`) and its sort by code; the second
index Django adds to a varchar for LIKE (`..._like`, varchar_pattern_ops, 50 MB at a million
codes) goes. That is one index less to write for every code generated, applied, released or
expired, and one less to keep in memory (issue 7; docs/BENCHMARKS-notes.md, twelfth round).

A code's text is canonical (capitals and digits, `codes.text`): it sorts the same in either
collation. SQLite compares text byte by byte already, and has no such second index: nothing to
do there. Django's model state does not record a column's collation per database vendor, hence
plain SQL here; `Code.text` says so beside the field.
"""

from django.db import migrations

from codes.text import LENGTH


def _pattern_indexes(cursor) -> list[str]:
    """The indexes on codes_code.text with the varchar_pattern_ops operator class."""
    cursor.execute(
        """
        SELECT index_class.relname
        FROM pg_index i
        JOIN pg_class index_class ON index_class.oid = i.indexrelid
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        JOIN pg_opclass o ON o.oid = i.indclass[0]
        WHERE i.indrelid = 'codes_code'::regclass AND i.indnatts = 1 AND a.attname = 'text'
          AND o.opcname = 'varchar_pattern_ops'
        """
    )
    return [name for (name,) in cursor.fetchall()]


def text_in_collation_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # Rebuilds the unique index in the new collation.
        cursor.execute(f'ALTER TABLE codes_code ALTER COLUMN text TYPE varchar({LENGTH}) COLLATE "C"')
        for name in _pattern_indexes(cursor):
            cursor.execute(f'DROP INDEX "{name}"')


def text_in_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    code = apps.get_model("codes", "Code")
    like_index = schema_editor._create_index_name(code._meta.db_table, ["text"], suffix="_like")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE codes_code ALTER COLUMN text TYPE varchar({LENGTH}) COLLATE "default"')
        cursor.execute(f'CREATE INDEX "{like_index}" ON codes_code (text varchar_pattern_ops)')


class Migration(migrations.Migration):

    dependencies = [
        ("codes", "0008_holder_on_unit_expiry_index"),
    ]

    operations = [
        migrations.RunPython(text_in_collation_c, text_in_default_collation, elidable=False),
    ]
