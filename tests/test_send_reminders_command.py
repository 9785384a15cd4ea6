"""`manage.py send_reminders [--as-of] [--dry-run] [--send-now]`: the same sweep by hand."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from breaches.choices import DeliveryState
from breaches.models import IncidentEvent, Reminder, ReminderMessage
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
