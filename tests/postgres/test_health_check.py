"""A reused connection's health check (`cms.postgres_backend`): no query while the server keeps
the connection open, a new connection when the server has closed it."""

import select

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def reused_connection():
    """A second connection to the test database with health checks on, as a web worker's
    persistent connection is between two requests."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict["CONN_HEALTH_CHECKS"] = True
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def next_request(wrapper):
    """What Django does between two requests: the next one checks the connection again."""
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()


def arrives(wrapper) -> bool:
    """Wait until the server has sent the connection something (a guard against waiting forever,
    not a measure of time)."""
    readable, _w, _x = select.select([wrapper.connection.fileno()], [], [], 30)
    return bool(readable)


def test_a_connection_the_server_keeps_open_is_reused_without_a_query(reused_connection, statements_to_server):
    before = reused_connection.connection

    next_request(reused_connection)

    assert reused_connection.connection is before
    assert statements_to_server == []


def test_a_connection_the_server_has_ended_is_replaced_before_the_request_uses_it(reused_connection):
    ended_pid = reused_connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [ended_pid])
    assert arrives(reused_connection), "the server's goodbye never reached the socket"

    next_request(reused_connection)
    with reused_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]

    assert new_pid != ended_pid


def test_a_connection_with_a_harmless_message_waiting_is_checked_by_the_server_and_kept(reused_connection):
    """Something to read is not always an ending: Django's own check (SELECT 1) decides."""
    reused_connection.connection.execute("LISTEN keyline_health_check_test")
    notifier = connections.create_connection("default")  # outside the test's transaction: sent at once
    try:
        with notifier.cursor() as cursor:
            cursor.execute("NOTIFY keyline_health_check_test")
    finally:
        notifier.close()
    before = reused_connection.connection
    assert arrives(reused_connection), "the notification never reached the socket"

    next_request(reused_connection)

    assert reused_connection.connection is before
