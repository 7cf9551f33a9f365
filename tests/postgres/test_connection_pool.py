"""Connections come from Django's pool (psycopg-pool): a request borrows one and gives it back; one
the server has ended (a restart, an idle timeout) is replaced before a request gets it."""

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def end_backend(pid: int) -> None:
    """The server ends one session, as a restart would, from a connection of its own."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_database_is_reached_through_the_pool():
    assert connection.pool is not None


def test_a_request_after_the_server_ended_the_pooled_connection_gets_a_working_one():
    first = backend_pid()
    connection.close()  # the end of a request: the connection goes back to the pool
    end_backend(first)

    assert backend_pid() != first
