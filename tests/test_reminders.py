"""The reminder sweep (DESIGN 5): schedule points and levels, who is told, what is left
alone, catch-up after missed days, grouped mail, and idempotence (the sweep twice, and
two sweeps at once on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from breaches import reminders
from breaches.choices import (
    ActionStatus,
    DeliveryState,
    EventKind,
    PlanStatus,
    ReminderKind,
    ReminderTargetType,
)
from breaches.models import IncidentEvent, RectificationPlan, Reminder, ReminderMessage
from breaches.reminders import bulk, reader, targets
from breaches.reminders import sweep as sweep_module
from tests.factories import ContactFactory, SupplierFactory, UserFactory
from tests.reminder_helpers import (
    DUE,
    day,
    deliver_pending,
    make_action,
    make_manager,
    make_plan,
    recipients_of,
)


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks run in this process when enqueued (the on-commit sends included)."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def points_of(target) -> list[int]:
    return sorted(target.reminders.values_list("schedule_point", flat=True))


# --- The schedule itself ------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "point"),
    [
        (-10, None),
        (-4, None),
        (-3, -3),
        (-1, -3),
        (0, -3),
        (1, 1),
        (2, 1),
        (3, 3),
        (6, 3),
        (7, 7),
        (13, 7),
        (14, 14),
        (20, 14),
        (21, 21),
        (27, 21),
        (28, 28),
        (100, 98),
    ],
)
def test_latest_point(days, point):
    assert reminders.latest_point(days) == point


@pytest.mark.parametrize(
    ("point", "after"), [(-3, 1), (1, 3), (3, 7), (7, 14), (14, 21), (21, 28), (98, 105)]
)
def test_next_point(point, after):
    assert reminders.next_point(point) == after


def test_the_reminders_and_the_report_snapshot_do_not_import_the_tasks():
    """breaches.tasks imports them; they publish its tasks by name (no import circle)."""
    code = (
        "import sys, django; django.setup(); "
        "import breaches.reminders, breaches.report_snapshot; "
        "print('breaches.tasks' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


# --- Every point and level, one sweep on that day ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "point", "level", "kind"),
    [
        (-3, -3, 1, ReminderKind.DUE_SOON),
        (1, 1, 1, ReminderKind.OVERDUE),
        (3, 3, 1, ReminderKind.OVERDUE),
        (7, 7, 2, ReminderKind.OVERDUE),
        (14, 14, 3, ReminderKind.OVERDUE),
        (21, 21, 3, ReminderKind.OVERDUE),
        (28, 28, 3, ReminderKind.OVERDUE),
        (35, 35, 3, ReminderKind.OVERDUE),
    ],
)
def test_each_schedule_point_and_level(offset, point, level, kind):
    plan = make_plan()
    result = reminders.run_sweep(as_of=day(offset), enqueue=False)

    reminder = Reminder.objects.get()
    seen = (reminder.plan_id, reminder.schedule_point, reminder.level, reminder.kind)
    assert seen == (plan.pk, point, level, kind)
    assert reminder.target_type == ReminderTargetType.PLAN
    assert reminder.action_id is None
    assert reminder.due_on == DUE
    assert reminder.days_overdue == offset
    assert reminder.state == DeliveryState.PENDING
    assert result.created == 1


@pytest.mark.django_db
def test_daily_sweeps_follow_the_schedule(mailoutbox):
    """A sweep every day from two weeks before the due date to five weeks after sends on
    exactly the schedule points, escalating at 7 and 14 days."""
    owner = UserFactory(username="owner", email="owner@buyer.example")
    plan = make_plan(owner=owner)
    make_manager("m1")
    for offset in range(-14, 36):
        reminders.run_sweep(as_of=day(offset), enqueue=False)
        deliver_pending()

    rows = list(plan.reminders.order_by("schedule_point").values_list("schedule_point", "level"))
    assert rows == [(-3, 1), (1, 1), (3, 1), (7, 2), (14, 3), (21, 3), (28, 3), (35, 3)]
    # One mail per point to the contact; the owner from 7 days, the manager from 14.
    contact_mails = [m for m in mailoutbox if m.to == ["lead@supplier.example"]]
    assert len(contact_mails) == 8, [m.subject for m in contact_mails]
    assert len([m for m in mailoutbox if m.to == ["owner@buyer.example"]]) == 5
    assert len([m for m in mailoutbox if m.to == ["m1@example.com"]]) == 4
    assert set(Reminder.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


@pytest.mark.django_db
def test_nothing_before_due_soon():
    make_plan()
    for offset in range(-30, -3):
        result = reminders.run_sweep(as_of=day(offset))
        assert result.created == 0, (offset, result.items)
    assert Reminder.objects.count() == 0
    assert ReminderMessage.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [PlanStatus.SUBMITTED, PlanStatus.APPROVED, PlanStatus.COMPLETED, PlanStatus.VERIFIED],
)
def test_nothing_for_plans_the_supplier_no_longer_owes(status):
    plan = make_plan(status=status)
    # An approved plan whose actions are on time (due well after the sweep day), and a
    # done action past its date, are not overdue either.
    make_action(plan=plan, due_on=day(60))
    done = make_action(plan=plan, due_on=day(-5))
    type(done).objects.filter(pk=done.pk).update(status=ActionStatus.DONE, completed_on=day(-6))
    for offset in (-3, 1, 3, 7, 14, 21):
        reminders.run_sweep(as_of=day(offset))
    assert list(Reminder.objects.values_list("target_type", "schedule_point")) == []


@pytest.mark.django_db
def test_changes_requested_plan_is_chased():
    plan = make_plan(status=PlanStatus.CHANGES_REQUESTED)
    reminders.run_sweep(as_of=day(3))
    assert points_of(plan) == [3]


@pytest.mark.django_db
def test_overdue_action_in_approved_plan():
    plan = make_plan(status=PlanStatus.APPROVED, due_on=day(-40))
    late = make_action(plan=plan, due_on=DUE, description="Encrypt the CAD share")
    make_action(plan=plan, due_on=day(30), description="Train the staff")  # on time

    result = reminders.run_sweep(as_of=day(3))

    reminder = Reminder.objects.get()
    assert (reminder.target_type, reminder.action_id, reminder.plan_id) == (
        ReminderTargetType.ACTION,
        late.pk,
        plan.pk,
    )
    assert (reminder.schedule_point, reminder.level, reminder.days_overdue) == (3, 1, 3)
    assert [item.label for item in result.items] == ["Encrypt the CAD share"]


@pytest.mark.django_db
def test_open_action_of_a_plan_not_yet_approved_is_not_chased_as_an_action():
    plan = make_plan(status=PlanStatus.SUBMITTED, due_on=day(-40))
    make_action(plan=plan, due_on=DUE)
    reminders.run_sweep(as_of=day(7))
    assert Reminder.objects.count() == 0


@pytest.mark.django_db
def test_catch_up_after_missed_days_sends_only_the_latest_point():
    plan = make_plan()
    # The beat was down from before the due-soon point until 10 days overdue.
    result = reminders.run_sweep(as_of=day(10))
    assert [(i.schedule_point, i.level, i.days_overdue) for i in result.items] == [(7, 2, 10)]
    assert points_of(plan) == [7]
    # Nothing more until the next point is reached, then that point only.
    assert reminders.run_sweep(as_of=day(13)).created == 0
    reminders.run_sweep(as_of=day(30))
    assert points_of(plan) == [7, 28]


@pytest.mark.django_db
def test_target_that_stops_being_overdue_gets_nothing_more():
    plan = make_plan(status=PlanStatus.REQUESTED)
    reminders.run_sweep(as_of=day(1))
    RectificationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUBMITTED)
    for offset in range(2, 40):
        reminders.run_sweep(as_of=day(offset))
    assert points_of(plan) == [1]

    approved = make_plan(status=PlanStatus.APPROVED, due_on=day(-40))
    action = make_action(plan=approved, due_on=DUE)
    reminders.run_sweep(as_of=day(1))
    type(action).objects.filter(pk=action.pk).update(status=ActionStatus.DONE, completed_on=DUE)
    for offset in range(2, 20):
        reminders.run_sweep(as_of=day(offset))
    assert list(action.reminders.values_list("schedule_point", flat=True)) == [1]


@pytest.mark.django_db
def test_moving_the_due_date_restarts_the_schedule():
    plan = make_plan()
    reminders.run_sweep(as_of=day(1))
    RectificationPlan.objects.filter(pk=plan.pk).update(due_on=day(20))
    assert reminders.run_sweep(as_of=day(2)).created == 0  # new date 18 days away
    reminders.run_sweep(as_of=day(17))
    assert list(plan.reminders.order_by("id").values_list("due_on", "schedule_point")) == [
        (DUE, 1),
        (day(20), -3),
    ]


# --- Who is told ----------------------------------------------------------------------


@pytest.fixture
def subvendor_world(db):
    parent = SupplierFactory(name="Tier One Molding")
    sub = SupplierFactory(name="Sub Mould Studio", parent=parent)
    ContactFactory(supplier=sub, email="Sub.Lead@Sub.example", receives_reminders=True)
    ContactFactory(supplier=sub, email="sales@sub.example", receives_reminders=False)
    ContactFactory(supplier=parent, email="security@tier1.example", receives_reminders=True)
    ContactFactory(supplier=parent, email="ceo@tier1.example", receives_reminders=False)
    owner = UserFactory(username="owner", email="owner@buyer.example")
    make_manager("m1")
    make_manager("m2", is_active=False)
    plan = make_plan(supplier=sub, owner=owner, contact_email=None)
    return plan


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-3, ["sub.lead@sub.example"]),
        (1, ["sub.lead@sub.example"]),
        (3, ["sub.lead@sub.example"]),
        (7, ["owner@buyer.example", "security@tier1.example", "sub.lead@sub.example"]),
        (
            14,
            [
                "m1@example.com",
                "owner@buyer.example",
                "security@tier1.example",
                "sub.lead@sub.example",
            ],
        ),
        (
            21,
            [
                "m1@example.com",
                "owner@buyer.example",
                "security@tier1.example",
                "sub.lead@sub.example",
            ],
        ),
    ],
)
def test_recipients_per_level(subvendor_world, offset, expected, mailoutbox):
    reminders.run_sweep(as_of=day(offset), enqueue=False)
    reminder = Reminder.objects.get()
    assert reminder.recipients == expected
    deliver_pending()
    assert recipients_of(mailoutbox) == expected


@pytest.mark.django_db
def test_tier1_plan_at_level_2_copies_the_owner_but_no_parent():
    owner = UserFactory(username="owner", email="owner@buyer.example")
    make_plan(owner=owner)
    reminders.run_sweep(as_of=day(7))
    assert Reminder.objects.get().recipients == ["lead@supplier.example", "owner@buyer.example"]


@pytest.mark.django_db
def test_inactive_owner_is_not_copied():
    owner = UserFactory(username="gone", email="gone@buyer.example", is_active=False)
    make_plan(owner=owner)
    reminders.run_sweep(as_of=day(7))
    assert Reminder.objects.get().recipients == ["lead@supplier.example"]


@pytest.mark.django_db
def test_target_without_anyone_to_tell_is_recorded_as_failed(mailoutbox):
    make_plan(contact_email=None)
    result = reminders.run_sweep(as_of=day(1), enqueue=False)
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.recipients) == (DeliveryState.FAILED, [])
    assert "no reminder contacts" in reminder.last_error
    assert result.message_ids == []
    assert ReminderMessage.objects.count() == 0
    assert mailoutbox == []


# --- Grouped mail and the timeline -------------------------------------------------------


@pytest.mark.django_db
def test_two_items_for_one_contact_make_one_email(mailoutbox, settings):
    settings.SITE_URL = "https://breach.example"
    supplier = SupplierFactory(name="Beijing Molding")
    overdue_plan = make_plan(supplier=supplier, due_on=day(-7))
    approved = make_plan(supplier=supplier, status=PlanStatus.APPROVED, due_on=day(-60))
    action = make_action(plan=approved, due_on=DUE, description="Lock the CAD vault")
    other = make_plan(contact_email="someone@else.example")

    result = reminders.run_sweep(as_of=day(3), enqueue=False)
    assert result.messages == {"lead@supplier.example": 2, "someone@else.example": 1}
    assert deliver_pending() == {"sent": 2}

    assert len(mailoutbox) == 2, [(m.to, m.subject) for m in mailoutbox]
    mail = next(m for m in mailoutbox if m.to == ["lead@supplier.example"])
    html = mail.alternatives[0][0]
    assert mail.alternatives[0][1] == "text/html"
    for body in (mail.body, html):
        assert overdue_plan.incident.reference in body
        assert approved.incident.reference in body
        assert "Lock the CAD vault" in body
        assert f"https://breach.example/plans/{overdue_plan.pk}/" in body
        assert f"https://breach.example/plans/{approved.pk}/" in body
        assert f"https://breach.example/incidents/{overdue_plan.incident_id}/" in body
        assert "10 days overdue" in body  # the plan, 7 + 3
        assert "3 days overdue" in body  # the action
        assert "2025-03-03" in body  # the action's due date
    # What happens next: the plan (point 7, level 2) escalates to level 3 at 14 days.
    assert "level 3" in mail.body
    assert "the incident owner" in mail.body  # the action (point 3) escalates at 7 days
    assert "2 overdue" in mail.subject
    assert not action.reminders.filter(state=DeliveryState.PENDING).exists()
    other_mail = next(m for m in mailoutbox if m.to == ["someone@else.example"])
    assert other.incident.reference in other_mail.body
    assert overdue_plan.incident.reference not in other_mail.body


@pytest.mark.django_db
def test_reminder_is_written_on_the_plan_and_incident_timeline():
    plan = make_plan()
    reminders.run_sweep(as_of=day(7))
    event = IncidentEvent.objects.get(kind=EventKind.REMINDER)
    assert (event.incident_id, event.plan_id) == (plan.incident_id, plan.pk)
    assert "Level 2" in event.message
    assert "7 days overdue" in event.message
    assert "lead@supplier.example" in event.message


@pytest.mark.django_db
def test_a_plans_overdue_actions_share_one_timeline_event():
    """One event per plan per sweep: each reminder named, under the highest level."""
    plan = make_plan(status=PlanStatus.APPROVED, due_on=day(-40))
    make_action(plan=plan, due_on=DUE, description="Encrypt the CAD share")  # 14 days
    make_action(plan=plan, due_on=day(10), description="Audit the sub-vendor")  # 4 days
    make_action(plan=plan, due_on=day(30), description="Train the staff")  # on time
    other = make_plan(contact_email="other@supplier.example")  # a plan of its own

    reminders.run_sweep(as_of=day(14))

    assert Reminder.objects.filter(plan=plan).count() == 2
    event = IncidentEvent.objects.get(kind=EventKind.REMINDER, plan=plan)
    assert event.incident_id == plan.incident_id
    assert event.message.startswith("Level 3 reminders (2): ")
    assert "\u201cEncrypt the CAD share\u201d, 14 days overdue (due 2025-03-03)" in event.message
    assert "\u201cAudit the sub-vendor\u201d, 4 days overdue (due 2025-03-13)" in event.message
    assert "Train the staff" not in event.message
    assert "lead@supplier.example" in event.message
    assert event.message.count("lead@supplier.example") == 1
    other_event = IncidentEvent.objects.get(kind=EventKind.REMINDER, plan=other)
    assert other_event.message.startswith("Level 3 reminder for the rectification plan, 14 days")


def test_event_message_lists_at_most_twenty_items():
    from breaches.reminders import SweepItem
    from breaches.reminders.events import EVENT_MAX_ITEMS, event_message

    items = [
        SweepItem(
            target_type=ReminderTargetType.ACTION,
            plan_id=1,
            action_id=n,
            incident_id=1,
            incident_reference="INC-1",
            label=f"step {n}",
            due_on=DUE,
            schedule_point=3,
            days_overdue=3,
            level=1,
            recipients=(),
        )
        for n in range(EVENT_MAX_ITEMS + 5)
    ]
    message = event_message(items)
    assert message.startswith(f"Level 1 reminders ({EVENT_MAX_ITEMS + 5}): ")
    assert f"step {EVENT_MAX_ITEMS - 1}\u201d" in message
    assert f"step {EVENT_MAX_ITEMS}\u201d" not in message
    assert message.endswith("; and 5 more; to nobody: no reminder contacts.")


# --- Idempotence ----------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_twice_the_same_day_records_and_mails_once(
    mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    plan_a = make_plan()
    plan_b = make_plan(contact_email="other@supplier.example")
    approved = make_plan(status=PlanStatus.APPROVED, due_on=day(-30))
    make_action(plan=approved, due_on=DUE)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.run_sweep(as_of=day(7))

    assert Reminder.objects.count() == 3
    assert points_of(plan_a) == [7]
    assert points_of(plan_b) == [7]
    # lead@ has plan A and the action in one mail; other@ has plan B.
    assert recipients_of(mailoutbox) == ["lead@supplier.example", "other@supplier.example"]
    assert set(Reminder.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert ReminderMessage.objects.count() == 2


@pytest.mark.django_db
def test_same_day_rerun_asks_two_ordered_questions_and_reads_no_target():
    """A rerun finds every target reminded with one LIMIT 1 query per kind, each in the
    order of the targets' partial index (QuerySet.exists() would drop the ordering, and
    PostgreSQL would then scan the whole plans table: see _nothing_pending)."""
    make_plan()
    approved = make_plan(status=PlanStatus.APPROVED, due_on=day(-30))
    make_action(plan=approved, due_on=DUE)
    assert reminders.run_sweep(as_of=day(7)).created == 2

    with CaptureQueriesContext(connection) as captured:
        assert reminders.run_sweep(as_of=day(7)).created == 0
    targets = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "breaches_rectificationplan"' in q["sql"]
        or 'FROM "breaches_rectificationaction"' in q["sql"]
    ]
    assert len(targets) == 2, targets
    plans, actions = targets
    assert plans.endswith(
        'ORDER BY "breaches_rectificationplan"."due_on" ASC, '
        '"breaches_rectificationplan"."id" ASC LIMIT 1'
    )
    assert actions.endswith(
        'ORDER BY "breaches_rectificationaction"."plan_id" ASC, '
        '"breaches_rectificationaction"."due_on" ASC, '
        '"breaches_rectificationaction"."id" ASC LIMIT 1'
    )


@pytest.mark.django_db
def test_dry_run_writes_nothing(mailoutbox):
    make_plan()
    result = reminders.run_sweep(as_of=day(7), dry_run=True)
    assert [(i.schedule_point, i.level) for i in result.items] == [(7, 2)]
    assert result.messages == {"lead@supplier.example": 1}
    assert Reminder.objects.count() == 0
    assert IncidentEvent.objects.count() == 0
    assert ReminderMessage.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_many_targets_span_several_chunks(monkeypatch):
    monkeypatch.setattr(targets, "SWEEP_CHUNK", 7)
    monkeypatch.setattr(bulk, "INSERT_BATCH", 3)
    supplier = SupplierFactory()
    plans = [make_plan(supplier=supplier, due_on=DUE - timedelta(days=i % 20)) for i in range(30)]
    first = reminders.run_sweep(as_of=day(1))
    assert first.created == 30
    assert ReminderMessage.objects.get().reminder_ids == sorted(
        Reminder.objects.values_list("pk", flat=True)
    )
    assert reminders.run_sweep(as_of=day(1)).created == 0
    assert Reminder.objects.count() == 30
    assert {p.pk for p in plans} == set(Reminder.objects.values_list("plan_id", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level races need PostgreSQL (CI runs them)"
)
def test_two_concurrent_sweeps_record_and_mail_once(mailoutbox, monkeypatch):
    supplier = SupplierFactory()
    parent = SupplierFactory()
    ContactFactory(supplier=parent, email="parent@tier1.example")
    sub = SupplierFactory(parent=parent)
    for i in range(40):
        make_plan(supplier=supplier if i % 2 else sub, due_on=DUE - timedelta(days=i % 9))
    # Small chunks: many statements per sweep, which the sweeps' turns keep apart.
    monkeypatch.setattr(targets, "SWEEP_CHUNK", 5)
    monkeypatch.setattr(bulk, "INSERT_BATCH", 4)

    barrier = threading.Barrier(3)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=30)
            results.append(reminders.run_sweep(as_of=day(7), enqueue=False))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == 3
    assert sum(r.created for r in results) == 40, [r.created for r in results]
    assert Reminder.objects.count() == 40
    # Each reminder belongs to exactly one message per recipient.
    covered: dict[str, list[int]] = {}
    for message in ReminderMessage.objects.all():
        covered.setdefault(message.recipient, []).extend(message.reminder_ids)
    for recipient, ids in covered.items():
        assert len(ids) == len(set(ids)), recipient
    deliver_pending()
    per_reminder = {}
    for mail in mailoutbox:
        for address in mail.to:
            per_reminder[address] = per_reminder.get(address, 0) + mail.body.count("Open it:")
    assert per_reminder == {"lead@supplier.example": 40, "parent@tier1.example": 20}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks need PostgreSQL (CI runs it)"
)
def test_a_second_sweep_waits_its_turn_then_finds_everything_reminded(monkeypatch):
    """Sweeps take turns: the second waits on the advisory lock before reading any target,
    while the first is still writing, and then creates nothing. Without the lock it would
    read the targets as unreminded and wait on the first's rows in the unique index."""
    for i in range(5):
        make_plan(due_on=DUE - timedelta(days=i))
    written, release = threading.Event(), threading.Event()
    original = sweep_module.insert_events

    def hold_first(items, now, arrays=None):
        original(items, now, arrays)
        if not written.is_set():
            written.set()
            assert release.wait(30), "never released"

    monkeypatch.setattr(sweep_module, "insert_events", hold_first)
    results: dict = {}

    def sweep(name):
        try:
            results[name] = reminders.run_sweep(as_of=day(7), enqueue=False)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=sweep, args=("first",))
    first.start()
    assert written.wait(30), results
    second = threading.Thread(target=sweep, args=("second",))
    second.start()
    try:
        waiting = 0
        for _ in range(1500):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                waiting = cursor.fetchone()[0]
            if waiting:
                break
            time.sleep(0.02)
        assert waiting == 1, "the second sweep never waited for its turn"
    finally:
        release.set()
        first.join(60)
        second.join(60)
    assert results["first"].created == 5, results
    assert results["second"].created == 0, results
    assert Reminder.objects.count() == 5


# --- The sweep in a transaction of its own: targets read on a thread -------------------


def postgres_own_transaction(test):
    """A test whose sweep runs in a transaction of its own (committed data, so that the
    reader thread's second connection sees it)."""
    for mark in (
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="the reader thread needs a second PostgreSQL connection (CI runs it)",
        ),
        pytest.mark.django_db(transaction=True),
        pytest.mark.postgres,
    ):
        test = mark(test)
    return test


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "reminder-sweep-reader"]


def _tricky_targets():
    """Plans and actions whose texts need quoting in SQL array literals."""
    supplier = SupplierFactory()
    plans = [make_plan(supplier=supplier, due_on=DUE - timedelta(days=i)) for i in range(5)]
    approved = make_plan(supplier=supplier, status=PlanStatus.APPROVED)
    labels = ['Quote " and \\ backslash', "{braces, commas}", "NULL", "", "Ünïcødé ✓"]
    for label in labels:
        make_action(plan=approved, description=label or " ")
    return plans, approved, labels


@postgres_own_transaction
@pytest.mark.parametrize("chunk", [2, 2000])
def test_own_transaction_sweep_reads_on_a_thread_and_writes_every_reminder(monkeypatch, chunk):
    plans, approved, labels = _tricky_targets()
    monkeypatch.setattr(targets, "SWEEP_CHUNK", chunk)
    used = []
    real = sweep_module.reader_batches
    monkeypatch.setattr(
        sweep_module, "reader_batches", lambda *a, **k: (used.append(1), real(*a, **k))[1]
    )
    try:
        result = reminders.run_sweep(as_of=day(7), enqueue=False)
    finally:
        connections.close_all()
    assert used, "the sweep did not read on a thread"
    assert not _reader_threads()
    assert result.created == Reminder.objects.count() == len(plans) + len(labels)
    assert set(Reminder.objects.filter(action__isnull=True).values_list("plan_id", flat=True)) == {
        p.pk for p in plans
    }
    # One timeline event per plan per chunk, naming the action labels as written.
    events = IncidentEvent.objects.filter(kind=EventKind.REMINDER)
    for plan in plans:
        assert events.filter(plan=plan, incident=plan.incident).count() == 1
    approved_events = list(events.filter(plan=approved).values_list("message", flat=True))
    assert len(approved_events) == -(-len(labels) // chunk)
    for label in labels:
        named = f"\u201c{label or ' '}\u201d"
        assert sum(message.count(named) for message in approved_events) == 1, label
    message = ReminderMessage.objects.get(recipient="lead@supplier.example")
    assert sorted(message.reminder_ids) == sorted(Reminder.objects.values_list("id", flat=True))
    # A second run the same day reads nothing new and writes nothing.
    try:
        assert reminders.run_sweep(as_of=day(7), enqueue=False).created == 0
    finally:
        connections.close_all()
    assert Reminder.objects.count() == result.created


@postgres_own_transaction
@pytest.mark.parametrize(
    ("module", "step"),
    [(reader, "candidates"), (sweep_module, "insert_events")],  # the reader's, the writer's
    ids=["reader fails", "writer fails"],
)
def test_own_transaction_sweep_fails_whole(monkeypatch, module, step):
    _tricky_targets()
    monkeypatch.setattr(targets, "SWEEP_CHUNK", 1)  # more batches than the queue holds
    real = getattr(module, step)
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:  # after some batches were written
            raise RuntimeError(f"{step} failed")
        return real(*args)

    monkeypatch.setattr(module, step, failing)
    try:
        with pytest.raises(RuntimeError, match=f"{step} failed"):
            reminders.run_sweep(as_of=day(7), enqueue=False)
        assert not _reader_threads()  # stopped and joined, though it had more to hand
    finally:
        connections.close_all()
    assert not Reminder.objects.exists()
    assert not IncidentEvent.objects.filter(kind=EventKind.REMINDER).exists()
    assert not ReminderMessage.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        ['a"b', "c\\d", "{x,y}", "NULL", "", None, " lead ", "é✓", '["a@b.example"]'],
        [None, None],
        [],
    ],
)
@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL arrays (CI runs it)")
def test_array_literal_round_trips_through_postgresql(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [bulk.pg_array_literal(values, "text")])
        assert cursor.fetchone()[0] == values
        numbers = [1, None, 2**40, -3]
        cursor.execute("SELECT %s::bigint[]", [bulk.pg_array_literal(numbers, "bigint")])
        assert cursor.fetchone()[0] == numbers
        days = [DUE, None]
        cursor.execute("SELECT %s::date[]", [bulk.pg_array_literal(days, "date")])
        assert cursor.fetchone()[0] == days
