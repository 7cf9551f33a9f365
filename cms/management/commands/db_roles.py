"""manage.py db_roles --runtime ROLE [--owner ROLE] [--apply]: the grants of the role web and worker
processes connect as (docs/DEPLOY.md, ADR 41).

The owner role owns the tables and runs `migrate`; the runtime role reads and writes rows and
nothing else, and may only add to and read the audit log: without UPDATE, DELETE and TRUNCATE on
it, and not its owner, it cannot rewrite history nor switch off the trigger that guards it.
Prints the SQL, or runs it with --apply, in the database DATABASE_URL names, as the owner (or a
superuser). Run it after `migrate`: it changes nothing when nothing changed.

Raw SQL: the ORM has no words for roles and privileges.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from audit.models import Event

SCHEMA = "public"

#: Tables the runtime role may only add to and read.
APPEND_ONLY = (Event._meta.db_table,)


def grants(*, database: str, owner: str, runtime: str) -> list[sql.Composed]:
    """Every statement, in order: the whole schema first, then the append-only tables narrowed."""
    rt, schema = sql.Identifier(runtime), sql.Identifier(SCHEMA)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), rt),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, rt),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, rt),
        # Identity columns (every table Django creates) need no grant on their sequence; a serial
        # column does. USAGE is nextval and currval: setting a sequence needs UPDATE on it.
        sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, rt),
    ]
    for table in APPEND_ONLY:
        name = sql.Identifier(SCHEMA, table)
        statements += [
            sql.SQL("REVOKE ALL ON {} FROM {}").format(name, rt),
            sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(name, rt),
        ]
    # Tables and sequences later migrations create get the same grants as soon as they exist.
    for privileges, kind in (("SELECT, INSERT, UPDATE, DELETE", "TABLES"), ("USAGE", "SEQUENCES")):
        statements.append(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}").format(
                sql.Identifier(owner), schema, sql.SQL(privileges), sql.SQL(kind), rt
            )
        )
    return statements


class Command(BaseCommand):
    help = (
        "Print (or run, with --apply) the grants of the runtime role: rows of every table, and only "
        "INSERT and SELECT on the audit log. Run as the owner role, after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runtime", required=True, help="The role web and worker processes connect as.")
        parser.add_argument(
            "--owner", help="The role that owns the tables and runs migrate (default: the role DATABASE_URL names)."
        )
        parser.add_argument("--apply", action="store_true", help="Run the statements instead of printing them.")

    def handle(self, *args, runtime, owner, apply, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are PostgreSQL's: DATABASE_URL does not name a PostgreSQL database.")
        missing = [table for table in APPEND_ONLY if table not in connection.introspection.table_names()]
        if missing:
            # Default privileges granted before the audit log exists would give it full grants.
            raise CommandError(f"{', '.join(missing)} does not exist yet: run migrate first, as the owner role.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            owner = owner or cursor.fetchone()[0]
            if runtime == owner:
                raise CommandError(f"{runtime!r} is the owner role: the runtime role must be another one.")
            if apply:
                self._refuse_a_runtime_role_above_its_grants(cursor, runtime=runtime, owner=owner)
        database = connection.settings_dict["NAME"]
        statements = [s.as_string(connection.connection) for s in grants(database=database, owner=owner, runtime=runtime)]
        if not apply:
            self.stdout.write(f"-- In database {database}, as {owner} (or a superuser):")
            for statement in statements:
                self.stdout.write(f"{statement};")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"{runtime} may read and write rows in {database}, and only add to and read {', '.join(APPEND_ONLY)}.")

    def _refuse_a_runtime_role_above_its_grants(self, cursor, *, runtime: str, owner: str) -> None:
        cursor.execute(
            "SELECT rolsuper, pg_has_role(rolname, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s", [owner, runtime]
        )
        found = cursor.fetchone()
        if found is None:
            raise CommandError(f"There is no role {runtime!r}: create it first (docs/DEPLOY.md).")
        superuser, member_of_owner = found
        if superuser:
            raise CommandError(f"{runtime!r} is a superuser: no privilege binds it.")
        if member_of_owner:
            raise CommandError(f"{runtime!r} is a member of {owner!r}: it can act as the tables' owner.")
