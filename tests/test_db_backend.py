"""The database: a postgres:// DATABASE_URL is Django's own PostgreSQL backend with kept
connections checked (CONN_HEALTH_CHECKS) and statements prepared; on PostgreSQL (CI), a
kept connection the server has closed is found unusable and replaced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend (CI runs it)"
)


def test_a_postgres_url_is_djangos_backend_with_its_options():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    env.update(
        DATABASE_URL="postgres://app@db.example.com:5432/breach",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c plan_cache_mode=force_custom_plan",
    }


@on_postgresql
@pytest.mark.django_db
def test_the_connection_is_djangos_with_the_options_in_effect():
    assert connection.settings_dict["ENGINE"] == "django.db.backends.postgresql"
    assert type(connections["default"]).__module__ == "django.db.backends.postgresql.base"
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        pytest.skip("prepared statements turned off (DATABASE_PREPARED_STATEMENTS=0)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
    assert connection.connection.prepare_threshold == 5


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


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced(kept):
    pid = _backend_pid(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while kept.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not kept.is_usable()
    # Django then drops it (CONN_HEALTH_CHECKS) and the next request connects afresh.
    kept.health_check_done = False
    kept.close_if_unusable_or_obsolete()
    assert kept.connection is None
    assert _backend_pid(kept) != pid
