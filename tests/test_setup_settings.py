"""The settings choose the embedded default (SQLite, filesystem broker, file cache) when nothing
is configured, and PostgreSQL and Redis when DATABASE_URL and REDIS_URL say so.

Settings are read once per process, so each case loads them in a fresh interpreter with its own
environment (nothing connects: only the chosen configuration is compared). Unless a case says
otherwise that environment has DJANGO_DEBUG=true, as every process `make` starts has (the settings'
own default is production's: tests/deploy/test_production_settings.py)."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

PROBE = """
import json
from django.conf import settings
from cms.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""), "options": db.get("OPTIONS", {}),
    "cache": settings.CACHES["default"]["BACKEND"], "cache_location": settings.CACHES["default"]["LOCATION"],
    "broker": app.conf.broker_url, "broker_options": app.conf.broker_transport_options,
    "using_postgres": settings.USING_POSTGRES, "debug": settings.DEBUG, "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS, "site_url": settings.SITE_URL, "email_backend": settings.EMAIL_BACKEND,
    "conn_max_age": db.get("CONN_MAX_AGE"), "health_checks": db.get("CONN_HEALTH_CHECKS"),
    "lookups": settings.CACHES["lookups"],
    "caches": {alias: (cache["BACKEND"], cache.get("LOCATION")) for alias, cache in settings.CACHES.items()},
}))
"""

CONFIG_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "EMAIL_BACKEND", "DJANGO_SECRET_KEY", "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS", "SITE_URL", "DB_PARALLEL_WORKERS_PER_GATHER", "DB_POOL", "DB_HEALTH_CHECKS",
    "KEYLINE_RUN_URL", "HOST", "PORT",
)


def load_settings(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean.update({"DJANGO_DEBUG": make_exports()["DJANGO_DEBUG"], **env}, DJANGO_SETTINGS_MODULE="cms.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def embedded():
    return load_settings()


def test_given_no_configuration_then_the_database_is_sqlite_under_var_in_wal_mode(embedded):
    assert embedded["engine"] == "django.db.backends.sqlite3"
    assert Path(embedded["name"]) == BASE_DIR / "var" / "keyline.sqlite3"
    # the web process and the worker write side by side: WAL, and writers queue instead of failing
    assert embedded["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in embedded["options"]["init_command"]
    assert embedded["options"]["timeout"] >= 10
    assert embedded["using_postgres"] is False


def test_given_no_configuration_then_celery_uses_a_filesystem_broker_and_a_shared_file_cache(embedded):
    assert embedded["broker"] == "filesystem://"
    queue = Path(embedded["broker_options"]["data_folder_in"])
    assert queue == Path(embedded["broker_options"]["data_folder_out"])  # producer and worker meet in one folder
    assert queue.is_dir() and queue.is_relative_to(BASE_DIR / "var")
    assert embedded["cache"] == "django.core.cache.backends.filebased.FileBasedCache"


def test_given_no_configuration_then_it_is_a_local_development_set_up(embedded):
    assert embedded["debug"] is True
    assert embedded["allowed_hosts"] == ["127.0.0.1", "localhost", "testserver"]
    assert embedded["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"


def test_given_database_and_redis_urls_then_postgres_and_redis_are_used():
    loaded = load_settings(
        DATABASE_URL="postgres://keyline:secret@db.example.invalid:5433/keyline_prod",
        REDIS_URL="redis://cache.example.invalid:6379/3",
    )
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert (loaded["name"], loaded["host"]) == ("keyline_prod", "db.example.invalid")
    assert loaded["using_postgres"] is True
    assert loaded["broker"] == "redis://cache.example.invalid:6379/3"
    assert loaded["cache"] == "django_redis.cache.RedisCache"
    assert loaded["cache_location"] == "redis://cache.example.invalid:6379/3"
    # Lookups the database can answer miss, rather than fail, when Redis is unreachable.
    assert loaded["lookups"]["LOCATION"] == "redis://cache.example.invalid:6379/3"
    assert loaded["lookups"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True


def test_given_postgres_then_its_connections_run_no_parallel_query_unless_configured():
    url = "postgres://keyline@db.example.invalid/keyline_prod"
    assert load_settings(DATABASE_URL=url)["options"]["options"] == "-c max_parallel_workers_per_gather=0"
    assert (load_settings(DATABASE_URL=url, DB_PARALLEL_WORKERS_PER_GATHER="2")["options"]["options"]
            == "-c max_parallel_workers_per_gather=2")
    # Options already in the URL are kept.
    loaded = load_settings(DATABASE_URL=url + "?options=-c%20statement_timeout%3D5000")
    assert loaded["options"]["options"] == "-c statement_timeout=5000 -c max_parallel_workers_per_gather=0"


def test_given_postgres_then_connections_come_from_djangos_pool_with_health_checks_unless_switched_off():
    url = "postgres://keyline@db.example.invalid/keyline_prod"
    pooled = load_settings(DATABASE_URL=url)
    assert pooled["options"]["pool"] == {"min_size": 1, "max_size": 20, "timeout": 10}
    assert pooled["conn_max_age"] == 0 and pooled["health_checks"] is True

    persistent = load_settings(DATABASE_URL=url, DB_POOL="false")
    assert "pool" not in persistent["options"]
    assert persistent["conn_max_age"] == 60 and persistent["health_checks"] is True
    assert load_settings(DATABASE_URL=url, DB_HEALTH_CHECKS="false")["health_checks"] is False


@pytest.mark.postgres
@pytest.mark.django_db
def test_given_postgres_then_a_connection_really_has_parallel_query_off():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"


def test_given_production_variables_then_they_are_honoured():
    loaded = load_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-real-secret",
        DJANGO_ALLOWED_HOSTS="codes.example.com,www.example.com",
        SITE_URL="https://codes.example.com",
        EMAIL_URL="smtp://mailer:pw@smtp.example.com:587",
    )
    assert loaded["debug"] is False
    assert loaded["secret_key"] == "a-real-secret"
    assert loaded["allowed_hosts"] == ["codes.example.com", "www.example.com"]
    assert loaded["site_url"] == "https://codes.example.com"
    assert loaded["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"


@functools.cache
def make_exports() -> dict[str, str]:
    """The variables `make` exports to every command it runs, read with an extra rule that prints them."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    rule = "print-exports: ; @echo DJANGO_DEBUG=$$DJANGO_DEBUG"
    result = subprocess.run(
        ["make", "-s", "--eval", rule, "print-exports"], cwd=BASE_DIR, env=clean, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def make_run_environment(*arguments: str) -> dict[str, str]:
    """The variables `make run` (with `arguments`) sets on the honcho line, read without running it."""
    result = subprocess.run(["make", "-n", "run", *arguments], cwd=BASE_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "honcho start" in line]
    assignments = line.split("honcho start")[0].split()[:-1]  # the words before the honcho command
    return dict(word.split("=", 1) for word in assignments)


@pytest.mark.parametrize("process_port", ["8101", "8201", "8301"])  # honcho's web, worker, beat
def test_given_make_run_on_another_port_then_every_process_mails_links_to_that_port(process_port):
    environment = make_run_environment("PORT=8101")
    assert environment["PORT"] == "8101"
    loaded = load_settings(**{**environment, "PORT": process_port})
    assert loaded["site_url"] == "http://127.0.0.1:8101"


def test_given_make_run_by_default_then_links_point_at_port_8000_and_site_url_still_wins():
    assert load_settings(**make_run_environment())["site_url"] == "http://127.0.0.1:8000"
    chosen = load_settings(**make_run_environment("PORT=8101"), SITE_URL="https://codes.example.com")
    assert chosen["site_url"] == "https://codes.example.com"


#: How the README names each cache backend the embedded default may choose.
README_NAMES = {
    "django.core.cache.backends.filebased.FileBasedCache": "Django's file cache in `var/cache/`",
    "django.core.cache.backends.locmem.LocMemCache": "in the web process's memory",
}


def test_given_no_configuration_then_the_readme_says_where_each_cache_lives(embedded):
    readme = " ".join((BASE_DIR / "README.md").read_text().split())
    for alias, (backend, location) in embedded["caches"].items():
        assert backend in README_NAMES, f"the README does not say where the {alias!r} cache ({backend}) lives"
        assert README_NAMES[backend] in readme, (alias, README_NAMES[backend])
        if backend.endswith("FileBasedCache"):
            assert Path(location) == BASE_DIR / "var" / "cache"
