"""The sweep leaves out, in SQL, the targets already reminded for their latest schedule
point: a same-day rerun reads nothing, and over a run of days it records exactly the
reminders the Python-side check alone records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from breaches import reminders
from breaches.models import IncidentEvent, Reminder, ReminderMessage

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 2)
DAYS = [0, 1, 2, 5, 6, 9, 13, 14, 20, 21, 40]


def _sweep_days() -> set[tuple]:
    for offset in DAYS:
        reminders.run_sweep(as_of=AS_OF + timedelta(days=offset), enqueue=False)
    return set(Reminder.objects.values_list("plan_id", "action_id", "due_on", "schedule_point"))


def _forget_reminders() -> None:
    ReminderMessage.objects.all().delete()
    IncidentEvent.objects.filter(kind="reminder").delete()
    Reminder.objects.all().delete()


def test_sql_skip_records_what_the_python_check_records(monkeypatch):
    call_command("seed_scale", incidents=250, suppliers=15, seed=11, as_of=AS_OF, verbosity=0)
    with_skip = _sweep_days()
    assert len(with_skip) > 50, len(with_skip)
    points = {point for *_, point in with_skip}
    assert {-3, 1, 3, 7, 14} <= points, points

    rerun = reminders.run_sweep(as_of=AS_OF + timedelta(days=DAYS[-1]), enqueue=False)
    assert rerun.created == 0
    assert rerun.targets_seen == 0, "a same-day rerun reads no target"

    _forget_reminders()
    monkeypatch.setattr(reminders, "_without_current_reminder", lambda qs, as_of, rem: qs)
    without_skip = _sweep_days()
    assert without_skip == with_skip


def test_the_daily_task_counts_reminders_without_keeping_them(monkeypatch):
    """The task sweeps with keep_items=False: same reminders, same count, no item list."""
    from breaches import tasks

    call_command("seed_scale", incidents=120, suppliers=10, seed=2, as_of=AS_OF, verbosity=0)
    kept = []
    real = reminders.run_sweep

    def spy(**kwargs):
        result = real(**kwargs)
        kept.append((kwargs.get("keep_items", True), len(result.items), result.created))
        return result

    monkeypatch.setattr(reminders, "run_sweep", spy)
    summary = tasks.run_reminder_sweep.run(as_of=AS_OF.isoformat())
    assert kept == [(False, 0, summary["reminders"])]
    assert summary["reminders"] == Reminder.objects.count() > 0

    _forget_reminders()
    monkeypatch.setattr(reminders, "run_sweep", real)
    again = reminders.run_sweep(as_of=AS_OF, enqueue=False)
    assert again.created == len(again.items) == summary["reminders"]
