"""The PostgreSQL server of the test run, used as docs/DEPLOY.md uses one: roles with passwords,
databases of their own, `manage.py` and the PostgreSQL client programs run as another process
against them. Everything made here has a unique name and is dropped by whoever made it."""

import os
import secrets
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Role:
    name: str
    password: str

    @classmethod
    def new(cls, prefix: str) -> "Role":
        return cls(f"{prefix}_{secrets.token_hex(4)}", secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Cluster:
    """Where the test run's database lives, and the role the test run connects as (a superuser)."""

    host: str
    port: str
    user: str
    password: str

    @classmethod
    def of_the_test_run(cls) -> "Cluster":
        db = settings.DATABASES["default"]
        return cls(str(db.get("HOST") or "127.0.0.1"), str(db.get("PORT") or 5432), db["USER"], db.get("PASSWORD") or "")

    def connect(self, database: str = "postgres", role: Role | None = None) -> psycopg.Connection:
        user, password = (role.name, role.password) if role else (self.user, self.password)
        return psycopg.connect(
            host=self.host, port=self.port, user=user, password=password or None, dbname=database, autocommit=True
        )

    def url(self, database: str, role: Role | None = None) -> str:
        user, password = (role.name, role.password) if role else (self.user, self.password)
        secret = f":{quote(password, safe='')}" if password else ""
        return f"postgres://{quote(user, safe='')}{secret}@{self.host}:{self.port}/{database}"

    def create_role(self, role: Role) -> None:
        with self.connect() as admin:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role.name), role.password))

    def drop_role(self, role: Role) -> None:
        with self.connect() as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role.name)))

    @contextmanager
    def database(self, prefix: str, owner: Role | None = None):
        """A new, empty database (owned by `owner`), dropped afterwards."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        owner_name = sql.Identifier(owner.name if owner else self.user)
        with self.connect() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), owner_name))
        try:
            yield name
        finally:
            with self.connect() as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def manage(self, database: str, *args: str, role: Role | None = None, check: bool = True):
        """`manage.py ARGS` in another process, with DATABASE_URL naming `database` as `role`."""
        return self.python(database, "manage.py", *args, role=role, check=check)

    def script(self, database: str, code: str, role: Role | None = None) -> str:
        """Python code run after django.setup() in another process; what it prints."""
        return self.python(database, "-c", "import django\ndjango.setup()\n" + code, role=role).stdout

    def python(self, database: str, *args: str, role: Role | None, check: bool = True):
        env = {**os.environ, "DATABASE_URL": self.url(database, role), "DJANGO_SETTINGS_MODULE": "cms.settings"}
        result = subprocess.run(
            [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        if check:
            assert result.returncode == 0, f"{' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def client_program(self, program: str, *args: str, role: Role | None = None) -> None:
        """A PostgreSQL client program (pg_dump, pg_restore) run as `role`."""
        path = shutil.which(program)
        assert path, f"{program} is missing: apt-get install postgresql-client (.ci/run installs it)"
        user, password = (role.name, role.password) if role else (self.user, self.password)
        env = {**os.environ, "PGPASSWORD": password} if password else dict(os.environ)
        result = subprocess.run(
            [path, "-h", self.host, "-p", self.port, "-U", user, *args],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"{program} failed:\n{result.stderr}"


def table_digests(connection: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Every table of the public schema: its row count and a digest of its rows, in any order."""
    tables = [name for (name,) in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    digests = {}
    for table in tables:
        query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t")
        digests[table] = tuple(connection.execute(query.format(sql.Identifier(table))).fetchone())
    return digests
