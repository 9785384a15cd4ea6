"""config.postgresql: a kept connection is checked without a round trip, a connection
the server has closed is found unusable, and one with a harmless message waiting (a
notification) is checked with SELECT 1 and kept."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the PostgreSQL backend (CI runs it)"
    ),
]


@pytest.fixture
def kept():
    """A second connection, as a worker keeps one between requests."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def _backend_pid(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _last_query(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def test_backend_is_ours():
    assert connection.settings_dict["ENGINE"] == "config.postgresql"
    assert type(connections["default"]).__module__ == "config.postgresql.base"


def test_idle_connection_is_usable_without_a_query(kept):
    pid = _backend_pid(kept)
    assert kept.is_usable()
    assert kept.is_usable()
    assert _last_query(pid) == "SELECT pg_backend_pid()"


def test_connection_the_server_closed_is_not_usable(kept):
    pid = _backend_pid(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while kept.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not kept.is_usable()
    # Django then drops it and the next request connects afresh.
    kept.health_check_done = False
    kept.close_if_unusable_or_obsolete()
    assert kept.connection is None
    assert _backend_pid(kept) != pid


def test_connection_with_a_message_waiting_is_checked_and_kept(kept):
    pid = _backend_pid(kept)
    with kept.cursor() as cursor:
        cursor.execute("LISTEN breach_backend_test")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY breach_backend_test")
    time.sleep(0.2)  # the notification reaches the idle connection's socket
    assert kept.is_usable()
    assert _last_query(pid) == "SELECT 1"
    assert _backend_pid(kept) == pid
