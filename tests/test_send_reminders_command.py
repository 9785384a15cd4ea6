"""`manage.py send_reminders [--as-of] [--dry-run] [--send-now]`: the same sweep by hand."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from kombu.exceptions import OperationalError as BrokerUnreachable

from breaches.choices import DeliveryState
from breaches.models import IncidentEvent, Reminder, ReminderMessage
from breaches.reminders import enqueue
from config.celery import app as celery_app
from tests.reminder_helpers import day, make_plan


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_dry_run_prints_what_would_be_sent_and_writes_nothing(mailoutbox):
    plan = make_plan()
    output = run("--as-of", day(7).isoformat(), "--dry-run")

    assert "dry run" in output
    assert plan.incident.reference in output
    assert "7 days overdue" in output
    assert "level 2" in output
    assert "lead@supplier.example" in output
    assert "Would record 1 reminder; 1 message" in output
    assert Reminder.objects.count() == 0
    assert ReminderMessage.objects.count() == 0
    assert IncidentEvent.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_send_now_records_sends_and_prints(mailoutbox):
    plan = make_plan()
    output = run("--as-of", day(3).isoformat(), "--send-now")

    assert plan.incident.reference in output
    assert "Recorded 1 reminder; 1 message" in output
    assert "Sent now: 1 sent." in output
    assert [m.to for m in mailoutbox] == [["lead@supplier.example"]]
    assert Reminder.objects.get().state == DeliveryState.SENT

    again = run("--as-of", day(3).isoformat(), "--send-now")
    assert "Recorded 0 reminders; 0 messages" in again
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_default_run_queues_for_the_worker(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    make_plan()
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--as-of", day(1).isoformat())
    assert "Queued 1 message(s) for the worker." in output
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_broker_down_queues_nothing_and_says_the_messages_stay_pending(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    make_plan()

    def broker_down(message_ids):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(enqueue, "enqueue_batch", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--as-of", day(1).isoformat())
    assert "Queued 1 message" not in output
    assert "Queued 0 of 1 message(s) for the worker" in output
    assert "stay pending in the database for the next sweep" in output
    message = ReminderMessage.objects.get()
    assert (message.state, message.enqueued_at) == (DeliveryState.PENDING, None)
    assert mailoutbox == []


@pytest.mark.django_db
def test_broker_failing_midway_counts_what_went(monkeypatch, django_capture_on_commit_callbacks):
    for name in ("a", "b", "c"):
        make_plan(contact_email=f"{name}@supplier.example")
    handed = []

    def flaky(message_ids):
        if handed:
            raise BrokerUnreachable("connection lost")
        handed.extend(message_ids)

    monkeypatch.setattr(enqueue, "SEND_BATCH", 1)  # a task a message: the broker fails midway
    monkeypatch.setattr(enqueue, "enqueue_batch", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--as-of", day(1).isoformat())
    assert "Queued 1 of 3 message(s) for the worker: the broker did not take the other 2." in (
        output
    )
    assert ReminderMessage.objects.filter(enqueued_at__isnull=True).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent sweeps need PostgreSQL (CI runs it)"
)
def test_four_commands_at_once_hand_each_message_to_the_broker_once(monkeypatch):
    """Each sweep that waited for its turn re-queued every message of the first, still
    being handed to the broker (4x the sends in the broker)."""
    for name in ("a", "b", "c"):
        make_plan(contact_email=f"{name}@supplier.example")
    handed, lock = [], threading.Lock()

    def slow_broker(message_ids):
        time.sleep(0.2)  # the sweeps that waited run meanwhile
        with lock:
            handed.extend(message_ids)

    monkeypatch.setattr(enqueue, "SEND_BATCH", 1)
    monkeypatch.setattr(enqueue, "enqueue_batch", slow_broker)
    barrier = threading.Barrier(4)
    outputs, errors = [], []

    def command():
        try:
            barrier.wait(timeout=30)
            outputs.append(run("--as-of", day(1).isoformat()))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=command) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    messages = sorted(ReminderMessage.objects.values_list("pk", flat=True))
    assert len(messages) == 3
    assert sorted(handed) == messages
    queued = sorted(line for out in outputs for line in out.splitlines() if "Queued" in line)
    assert queued == ["Queued 0 message(s) for the worker."] * 3 + [
        "Queued 3 message(s) for the worker."
    ]


@pytest.mark.django_db
def test_bad_date_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--as-of", "03/03/2025")
    assert Reminder.objects.count() == 0


@pytest.mark.django_db
def test_without_as_of_it_counts_from_today(time_machine):
    time_machine.move_to("2025-03-10 08:00:00+00:00", tick=False)
    make_plan()  # due 2025-03-03: 7 days overdue today
    output = run("--dry-run")
    assert "as of 2025-03-10" in output
    assert "7 days overdue" in output


@pytest.mark.django_db
def test_the_command_lists_a_bounded_number_of_reminders_and_keeps_none(monkeypatch):
    """A full-scale sweep records 550,000 reminders: the command kept every one to print
    it (345 MB). It now shows each batch as it is written, the first ITEMS_SHOWN at the
    default verbosity and every one with -v 2, and keeps none in the result."""
    from breaches.management.commands import send_reminders

    monkeypatch.setattr(send_reminders, "ITEMS_SHOWN", 2)
    plans = [make_plan(contact_email=f"lead{n}@supplier.example") for n in range(3)]
    kept = []
    real = send_reminders.reminders.run_sweep

    def spy(**kwargs):
        result = real(**kwargs)
        kept.append(len(result.items))
        return result

    monkeypatch.setattr(send_reminders.reminders, "run_sweep", spy)
    dry = run("--as-of", day(7).isoformat(), "--dry-run")
    listed = [p for p in plans if p.incident.reference in dry]
    assert len(listed) == 2
    assert "... and 1 more (-v 2 lists every one)" in dry
    assert "... and 1 more messages (-v 2 lists them)" in dry
    assert "Would record 3 reminders; 3 messages" in dry
    everything = run("--as-of", day(7).isoformat(), "--dry-run", "-v", "2")
    assert all(p.incident.reference in everything for p in plans)
    assert "more" not in everything
    assert kept == [0, 0], "no reminder kept in the result"
