"""End to end: a real Celery worker process on Redis runs the beat's reminder sweep
against a database it can see, and the grouped mail lands exactly once in the file
email backend, even when the sweep and the sends are delivered twice.

The database: on PostgreSQL the pytest test database (transactional_db, so what the
worker writes is visible and flushed afterwards); on SQLite a temporary database FILE
migrated for the occasion (the in-memory test database is invisible to a subprocess).
Everything the worker needs is set up and checked through short Django subprocesses,
so both paths run the same code. Redis: CELERY_BROKER_URL when it is redis://, else
redis://127.0.0.1:6379/5, on a queue of its own; unreachable Redis fails the test when
REQUIRE_SERVICES=1 (CI) and skips it otherwise."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.e2e

BASE_DIR = Path(settings.BASE_DIR)
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
WAIT_SECONDS = 90
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else DEFAULT_REDIS


@pytest.fixture(params=["redis", "filesystem"])
def broker(request, tmp_path):
    """(broker URL, queue, transport options, extra worker arguments). Redis as in
    production; the embedded filesystem broker with `--beat` as `make run` starts it."""
    queue = f"e2e-reminders-{uuid.uuid4().hex[:12]}"
    if request.param == "filesystem":
        folder = tmp_path / "var" / "broker"
        options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
        for sub in ("queue", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        yield "filesystem://", queue, options, ["--beat", "--concurrency=1"]
        return
    url = _broker_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (REQUIRE_SERVICES=1) but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}: {exc}")
    yield url, queue, {}, ["--pool=solo", "--without-heartbeat"]
    # Leave nothing of this test's queue behind (only our keys, in our DB index).
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def worker_database(tmp_path):
    """A DATABASE_URL that a subprocess can open, migrated. The test is marked
    transactional, so on PostgreSQL this is the test database, committed and flushed."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = quote(s["USER"] or "", safe="")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = s.get("HOST") or "127.0.0.1"
        port = s.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{s['NAME']}"
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    env = _env(url, DEFAULT_REDIS, "unused", tmp_path)
    proc = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return url


def _env(database_url: str, broker_url: str, queue: str, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "EMAIL_", "DATABASE_", "PYTEST_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "EMAIL_URL": "filemail://",
            "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            "SITE_URL": "https://e2e.example",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


def _django(code: str, env: dict[str, str]):
    """Run `code` in a fresh Django process; it prints one JSON line as its answer."""
    script = "import json\nimport django\ndjango.setup()\n" + textwrap.dedent(code)
    # The script is this module's own constant text, not outside input.
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


SEED = """
from datetime import timedelta
from django.utils import timezone
from tests.factories import SupplierFactory, UserFactory
from tests.reminder_helpers import make_plan

today = timezone.localdate()
supplier = SupplierFactory(name="E2E Molding")
owner = UserFactory(username="e2e-owner", email="owner@buyer.example")
week_late = make_plan(supplier=supplier, owner=owner, due_on=today - timedelta(days=7))
day_late = make_plan(supplier=supplier, due_on=today - timedelta(days=1))
not_yet = make_plan(supplier=supplier, due_on=today + timedelta(days=10))
print(json.dumps({
    "week_late": [week_late.pk, week_late.incident.reference],
    "day_late": [day_late.pk, day_late.incident.reference],
    "not_yet": [not_yet.pk, not_yet.incident.reference],
}))
"""

STATE = """
from breaches.models import Reminder, ReminderMessage
print(json.dumps({
    "reminders": sorted(
        [r.plan_id, r.schedule_point, r.level, r.state, r.attempts]
        for r in Reminder.objects.all()
    ),
    "messages": sorted(
        [m.pk, m.recipient, m.state, m.attempts, m.enqueued_at is not None]
        for m in ReminderMessage.objects.all()
    ),
}))
"""


def _delivered(mail_dir: Path) -> list[email.message.Message]:
    messages = []
    if not mail_dir.exists():
        return messages
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(MESSAGE_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(b"\n")))
    return messages


def _text_of(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def _wait_for(predicate, what: str, worker, log: Path, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(f"The worker exited ({worker.returncode}):\n{log.read_text()[-4000:]}")
        time.sleep(0.25)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}:\n{log.read_text()[-4000:]}")


def _count(log: Path, needle: str) -> int:
    return log.read_text(errors="replace").count(needle) if log.exists() else 0


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_beat_sweep_and_mails_exactly_once(
    broker, worker_database, tmp_path, monkeypatch
):
    broker_url, queue, transport_options, worker_args = broker
    # Celery lets the CELERY_BROKER_URL environment variable win over the app's own
    # broker; the producer below must publish where this worker listens.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    env = _env(worker_database, broker_url, queue, tmp_path)
    seeded = _django(SEED, env)
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"

    from celery import Celery

    # Not made the current app: later tests in this process publish through config.celery.
    producer = Celery("e2e-producer", broker=broker_url, set_as_current=False)
    producer.conf.task_default_queue = queue
    producer.conf.broker_transport_options = transport_options
    sweep = settings.CELERY_BEAT_SCHEDULE["reminder-sweep"]

    with log.open("wb") as log_file:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                *worker_args,
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: _count(log, " ready.") > 0, "the worker to start", worker, log)

        # The beat's task, as the beat sends it (same name and options).
        producer.send_task(sweep["task"], queue=queue, **sweep["options"])
        _wait_for(
            lambda: (
                # one send task for both messages: received + succeeded
                _count(log, "send_reminder_messages") >= 2 and len(_delivered(mail_dir)) >= 2
            ),
            "two grouped messages",
            worker,
            log,
        )
        delivered = _delivered(mail_dir)
        assert sorted(m["To"] for m in delivered) == [
            "lead@supplier.example",
            "owner@buyer.example",
        ]
        contact_mail = next(m for m in delivered if m["To"] == "lead@supplier.example")
        text = _text_of(contact_mail)
        assert seeded["week_late"][1] in text  # both overdue plans in one mail
        assert seeded["day_late"][1] in text
        assert seeded["not_yet"][1] not in text
        assert f"https://e2e.example/plans/{seeded['week_late'][0]}/" in text
        owner_text = _text_of(next(m for m in delivered if m["To"] == "owner@buyer.example"))
        assert seeded["week_late"][1] in owner_text
        assert seeded["day_late"][1] not in owner_text  # level 1: contacts only

        state = _django(STATE, env)
        assert state["reminders"] == sorted(
            [
                [seeded["week_late"][0], 7, 2, "sent", 1],
                [seeded["day_late"][0], 1, 1, "sent", 1],
            ]
        ), state
        message_ids = [m[0] for m in state["messages"]]
        assert [m[1:] for m in state["messages"]] == [
            ["lead@supplier.example", "sent", 1, True],
            ["owner@buyer.example", "sent", 1, True],
        ], state

        # The beat fires again (a second beat, or a redelivery), and both sends are
        # redelivered: nothing new is recorded and nobody is mailed twice.
        producer.send_task(sweep["task"], queue=queue, **sweep["options"])
        for message_id in message_ids:
            producer.send_task(
                "breaches.tasks.send_reminder_message", args=[message_id], queue=queue
            )
        _wait_for(
            lambda: (
                _count(log, "run_reminder_sweep") >= 4  # 2 received + 2 succeeded
                and _count(log, "'not_claimed'") >= 2
            ),
            "the repeated sweep and sends",
            worker,
            log,
        )
        assert _count(log, "{'as_of'") == 2
        assert "'reminders': 0, 'messages': 0, 'requeued': 0" in log.read_text()
        assert len(_delivered(mail_dir)) == 2
        assert _django(STATE, env) == state
        assert "ERROR" not in log.read_text(), log.read_text()[-4000:]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        producer.close()
