"""The sweep leaves out, in SQL, the targets already reminded for their latest schedule
point: a same-day rerun reads nothing, and over a run of days it records, day after
day, exactly the reminders that reading every target and checking each against the
reminders recorded (the dry run's check, in Python) finds due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from breaches import reminders
from breaches.models import IncidentEvent, Reminder, ReminderMessage
from breaches.reminders import targets

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 2)
DAYS = [0, 1, 2, 5, 6, 9, 13, 14, 20, 21, 40]


def _key(item) -> tuple:
    return (item.plan_id, item.action_id, item.due_on, item.schedule_point)


def _forget_reminders() -> None:
    ReminderMessage.objects.all().delete()
    IncidentEvent.objects.filter(kind="reminder").delete()
    Reminder.objects.all().delete()


def test_sql_skip_records_what_the_python_check_finds_due(monkeypatch):
    call_command("seed_scale", incidents=250, suppliers=15, seed=11, as_of=AS_OF, verbosity=0)
    recorded: set[tuple] = set()
    for offset in DAYS:
        as_of = AS_OF + timedelta(days=offset)
        with monkeypatch.context() as every_target:
            every_target.setattr(targets, "without_current_reminder", lambda qs, day, rem: qs)
            due = reminders.run_sweep(as_of=as_of, dry_run=True)
        swept = reminders.run_sweep(as_of=as_of, enqueue=False)
        assert {_key(i) for i in swept.items} == {_key(i) for i in due.items}, as_of
        assert swept.targets_seen <= due.targets_seen
        recorded |= {_key(i) for i in swept.items}
    assert len(recorded) > 50, len(recorded)
    assert {point for *_, point in recorded} >= {-3, 1, 3, 7, 14}
    assert recorded == set(
        Reminder.objects.values_list("plan_id", "action_id", "due_on", "schedule_point")
    )

    rerun = reminders.run_sweep(as_of=AS_OF + timedelta(days=DAYS[-1]), enqueue=False)
    assert rerun.created == 0
    assert rerun.targets_seen == 0, "a same-day rerun reads no target"


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
