"""Delivery of the grouped reminder mail: retries with backoff and the recorded state,
one failing recipient not blocking the others, a redelivered send not mailing twice,
the broker being down (nothing lost, nothing doubled), items resolved before the mail
went out, and the weekly digest to the compliance managers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from breaches import reminders, tasks
from breaches.choices import DeliveryState, MessageKind, PlanStatus
from breaches.models import RectificationPlan, Reminder, ReminderMessage
from breaches.reminders import enqueue
from breaches.reminders import mail as reminder_mail
from config.celery import app as celery_app
from tests.factories import SupplierFactory
from tests.reminder_helpers import (
    day,
    deliver_pending,
    make_action,
    make_manager,
    make_plan,
    recipients_of,
)


class FlakyBackend(BaseEmailBackend):
    """Fails for the recipients in `failures` (that many times; -1: always), otherwise
    delivers to django.core.mail.outbox like the test backend."""

    failures: dict[str, int] = {}
    calls = 0

    def send_messages(self, messages):
        for message in messages:
            FlakyBackend.calls += 1
            for address in message.to:
                left = self.failures.get(address, 0)
                if left:
                    if left > 0:
                        self.failures[address] = left - 1
                    raise ConnectionRefusedError(f"SMTP server refused {address}")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_mail(settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.test_reminders_delivery.FlakyBackend"
    FlakyBackend.failures = {}
    FlakyBackend.calls = 0
    yield FlakyBackend
    FlakyBackend.failures = {}


@pytest.fixture
def eager_celery(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def test_send_task_is_configured_to_retry_with_backoff():
    task = tasks.send_reminder_message
    assert task.max_retries == tasks.SEND_MAX_RETRIES >= 3
    assert task.retry_backoff
    assert reminders.ReminderDeliveryError in task.autoretry_for
    assert task.acks_late
    # The whole backoff ends below the broker's visibility timeout (one hour).
    assert task.retry_backoff_max * task.max_retries < 3600


@pytest.mark.django_db
def test_send_that_keeps_failing_is_retried_then_recorded_failed(flaky_mail, mailoutbox):
    make_plan(contact_email="broken@supplier.example")
    make_plan(contact_email="fine@supplier.example")
    reminders.run_sweep(as_of=day(3), enqueue=False)
    flaky_mail.failures = {"broken@supplier.example": -1}
    broken = ReminderMessage.objects.get(recipient="broken@supplier.example")
    fine = ReminderMessage.objects.get(recipient="fine@supplier.example")

    outcome = tasks.send_reminder_message.apply(args=[broken.pk]).get()
    other = tasks.send_reminder_message.apply(args=[fine.pk]).get()

    assert (outcome, other) == ("failed", "sent")
    broken.refresh_from_db()
    assert broken.state == DeliveryState.FAILED
    assert broken.attempts == tasks.SEND_MAX_RETRIES + 1
    assert "SMTP server refused broken@supplier.example" in broken.last_error
    assert broken.claimed_at is None
    failed = Reminder.objects.get(recipients=["broken@supplier.example"])
    assert failed.state == DeliveryState.FAILED
    assert failed.attempts == tasks.SEND_MAX_RETRIES + 1
    assert "broken@supplier.example: ConnectionRefusedError" in failed.last_error
    assert failed.sent_at is None
    # The other reminder went out regardless.
    sent = Reminder.objects.get(recipients=["fine@supplier.example"])
    assert (sent.state, sent.attempts) == (DeliveryState.SENT, 1)
    assert sent.sent_at is not None
    assert recipients_of(mailoutbox) == ["fine@supplier.example"]
    # A failed message is not picked up again by a later sweep or a late redelivery.
    assert tasks.send_reminder_message.apply(args=[broken.pk]).get() == "not_claimed"
    assert broken.pk not in reminders.undelivered_message_ids()


@pytest.mark.django_db
def test_transient_failure_is_retried_and_then_sent_once(flaky_mail, mailoutbox):
    make_plan(contact_email="flaky@supplier.example")
    reminders.run_sweep(as_of=day(1), enqueue=False)
    flaky_mail.failures = {"flaky@supplier.example": 2}
    message = ReminderMessage.objects.get()

    assert tasks.send_reminder_message.apply(args=[message.pk]).get() == "sent"

    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (DeliveryState.SENT, 3, "")
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.attempts) == (DeliveryState.SENT, 3)
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_one_recipient_failing_marks_the_shared_reminder_failed_but_others_get_it(
    flaky_mail, mailoutbox
):
    parent = SupplierFactory()
    make_plan(supplier=parent, contact_email="parent@tier1.example")
    sub = SupplierFactory(parent=parent)
    make_plan(supplier=sub, contact_email="sub@sub.example")  # level 2 copies the parent
    reminders.run_sweep(as_of=day(7), enqueue=False)
    flaky_mail.failures = {"sub@sub.example": -1}

    for message in ReminderMessage.objects.order_by("recipient"):
        tasks.send_reminder_message.apply(args=[message.pk])

    assert recipients_of(mailoutbox) == ["parent@tier1.example"]
    assert "2 overdue" in mailoutbox[0].subject  # both plans, in one mail to the parent
    shared = Reminder.objects.get(plan__supplier=sub)
    assert shared.recipients == ["parent@tier1.example", "sub@sub.example"]
    assert shared.state == DeliveryState.FAILED
    assert shared.last_error.startswith("sub@sub.example: ")
    own = Reminder.objects.get(plan__supplier=parent)
    assert own.state == DeliveryState.SENT


@pytest.mark.django_db
def test_reminder_is_pending_until_every_recipient_has_it(mailoutbox):
    parent = SupplierFactory()
    sub = SupplierFactory(parent=parent)
    make_plan(supplier=parent, contact_email="parent@tier1.example")
    make_plan(supplier=sub, contact_email="sub@sub.example")
    reminders.run_sweep(as_of=day(7), enqueue=False)
    shared = Reminder.objects.get(plan__supplier=sub)

    first = ReminderMessage.objects.get(recipient="parent@tier1.example")
    assert reminders.deliver_message(message_id=first.pk) == "sent"
    shared.refresh_from_db()
    assert shared.state == DeliveryState.PENDING
    second = ReminderMessage.objects.get(recipient="sub@sub.example")
    assert reminders.deliver_message(message_id=second.pk) == "sent"
    shared.refresh_from_db()
    assert shared.state == DeliveryState.SENT


@pytest.mark.django_db
def test_a_redelivered_send_does_not_mail_twice(mailoutbox):
    make_plan()
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()

    assert tasks.send_reminder_message.apply(args=[message.pk]).get() == "sent"
    assert tasks.send_reminder_message.apply(args=[message.pk]).get() == "not_claimed"
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.django_db
def test_a_send_in_flight_elsewhere_is_not_taken_over(mailoutbox):
    """While another worker holds the claim, a duplicate delivery leaves it alone; once
    the claim is older than the lease (the worker died) it may take over."""
    make_plan()
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()
    ReminderMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now())

    assert reminders.deliver_message(message_id=message.pk) == "not_claimed"
    assert mailoutbox == []
    assert message.pk not in reminders.undelivered_message_ids()

    stale = timezone.now() - reminders.CLAIM_LEASE - timedelta(minutes=1)
    ReminderMessage.objects.filter(pk=message.pk).update(claimed_at=stale)
    assert reminders.deliver_message(message_id=message.pk) == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_broker_unreachable_then_back_nothing_lost_nothing_doubled(
    mailoutbox, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    make_plan(contact_email="a@supplier.example")
    make_plan(contact_email="b@supplier.example")

    def broker_down(message_ids):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(enqueue, "enqueue_batch", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            first = reminders.run_sweep(as_of=day(3))

    # The sweep itself succeeded and recorded what is due, undelivered.
    assert first.created == 2
    assert mailoutbox == []
    assert set(Reminder.objects.values_list("state", flat=True)) == {DeliveryState.PENDING}
    assert list(ReminderMessage.objects.values_list("enqueued_at", flat=True)) == [None, None]
    assert len(reminders.undelivered_message_ids()) == 2

    # The broker is back: the next sweep (same day, or the next) re-queues and delivers.
    with django_capture_on_commit_callbacks(execute=True):
        second = reminders.run_sweep(as_of=day(4))
    assert second.created == 0
    assert sorted(second.requeued_message_ids) == sorted(first.message_ids)
    assert recipients_of(mailoutbox) == ["a@supplier.example", "b@supplier.example"]
    assert set(Reminder.objects.values_list("state", flat=True)) == {DeliveryState.SENT}

    # And a third sweep has nothing to add or resend.
    with django_capture_on_commit_callbacks(execute=True):
        third = reminders.run_sweep(as_of=day(4))
    assert (third.created, third.requeued_message_ids) == (0, [])
    assert len(mailoutbox) == 2
    assert Reminder.objects.count() == 2


@pytest.mark.django_db
def test_broker_failing_midway_queues_the_rest_later(
    mailoutbox, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    for name in ("a", "b", "c"):
        make_plan(contact_email=f"{name}@supplier.example")
    real = enqueue.enqueue_batch
    calls = []

    def flaky_enqueue(message_ids):
        calls.append(message_ids)
        if len(calls) > 1:
            raise BrokerUnreachable("connection lost")
        real(message_ids)

    with monkeypatch.context() as patch:
        patch.setattr(enqueue, "SEND_BATCH", 1)  # a task a message: the broker fails midway
        patch.setattr(enqueue, "enqueue_batch", flaky_enqueue)
        with django_capture_on_commit_callbacks(execute=True):
            reminders.run_sweep(as_of=day(1))
    assert len(mailoutbox) == 1
    assert ReminderMessage.objects.filter(enqueued_at__isnull=False).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        reminders.run_sweep(as_of=day(1))
    assert recipients_of(mailoutbox) == [
        "a@supplier.example",
        "b@supplier.example",
        "c@supplier.example",
    ]


@pytest.mark.django_db
def test_a_sweep_does_not_requeue_what_the_sweep_before_it_is_still_enqueueing(
    django_capture_on_commit_callbacks, monkeypatch
):
    """Four `send_reminders` at once: each sweep that waited its turn re-queued every
    message of the first, which was still handing them to the broker (4x the sends in
    the broker; the claim alone kept the mail single). The second sweep here runs while
    the first has handed over one message of two: it re-queues none."""
    make_plan(contact_email="a@supplier.example")
    make_plan(contact_email="b@supplier.example")
    handed, later = [], []

    def enqueue_batch(message_ids):
        handed.extend(message_ids)
        if len(handed) == 1:  # the first sweep is mid-enqueue: the next one runs now
            later.append(reminders.run_sweep(as_of=day(1)))

    monkeypatch.setattr(enqueue, "SEND_BATCH", 1)
    monkeypatch.setattr(enqueue, "enqueue_batch", enqueue_batch)
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.run_sweep(as_of=day(1))
    (second,) = later
    assert (second.created, second.requeued_message_ids) == (0, [])
    assert sorted(handed) == sorted(first.message_ids), "each send handed over once"
    assert first.queued == 2
    assert ReminderMessage.objects.filter(enqueued_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_sweep_does_not_requeue_what_the_sweep_before_it_has_yet_to_enqueue(
    django_capture_on_commit_callbacks, monkeypatch
):
    """The first sweep committed; its hand-over (after commit) has not started yet."""
    make_plan(contact_email="a@supplier.example")
    handed = []
    monkeypatch.setattr(enqueue, "enqueue_batch", handed.extend)
    with django_capture_on_commit_callbacks(execute=False) as first_hand_over:
        first = reminders.run_sweep(as_of=day(1))
    with django_capture_on_commit_callbacks(execute=True):
        second = reminders.run_sweep(as_of=day(1))
    assert second.requeued_message_ids == []
    assert handed == []
    for callback in first_hand_over:
        callback()
    assert handed == first.message_ids


@pytest.mark.django_db
def test_a_sweep_does_not_requeue_the_digest_being_enqueued(
    django_capture_on_commit_callbacks, monkeypatch
):
    make_manager("m1")
    make_plan(due_on=day(-10))
    handed = []
    monkeypatch.setattr(enqueue, "enqueue_batch", handed.extend)
    with django_capture_on_commit_callbacks(execute=False) as digest_hand_over:
        (digest,) = reminders.create_weekly_digest(as_of=day(0))
    with django_capture_on_commit_callbacks(execute=True):
        sweep = reminders.run_sweep(as_of=day(0))
    assert digest not in sweep.requeued_message_ids
    assert digest not in handed
    for callback in digest_hand_over:
        callback()
    assert handed.count(digest) == 1


@pytest.mark.django_db
def test_sends_the_broker_did_not_take_are_released_for_the_next_sweep(
    django_capture_on_commit_callbacks, monkeypatch
):
    make_plan(contact_email="a@supplier.example")
    make_plan(contact_email="b@supplier.example")

    def broker_down(message_ids):
        raise BrokerUnreachable("connection lost")

    monkeypatch.setattr(enqueue, "enqueue_batch", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.run_sweep(as_of=day(1))
    assert first.queued == 0
    assert sorted(reminders.undelivered_message_ids()) == sorted(first.message_ids)


def test_sends_are_published_by_task_name_where_the_task_is_not_registered(monkeypatch):
    """The web process or a management command has not loaded breaches.tasks: the send
    goes to the broker by name, as the worker knows it."""
    assert tasks.send_reminder_message.name == enqueue.SEND_TASK
    assert tasks.send_reminder_messages.name == enqueue.SEND_BATCH_TASK
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.delitem(celery_app.tasks, enqueue.SEND_BATCH_TASK)
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, **kw: sent.append((name, kw)))
    reminders.enqueue_batch([41, 42])
    assert sent == [
        ("breaches.tasks.send_reminder_messages", {"args": [[41, 42]], "ignore_result": True})
    ]


@pytest.mark.django_db
def test_message_lost_in_the_broker_is_requeued_after_a_while():
    make_plan()
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()
    ReminderMessage.objects.filter(pk=message.pk).update(enqueued_at=timezone.now())
    assert reminders.undelivered_message_ids() == []
    long_ago = timezone.now() - reminders.REQUEUE_AFTER - timedelta(minutes=1)
    ReminderMessage.objects.filter(pk=message.pk).update(enqueued_at=long_ago)
    assert reminders.undelivered_message_ids() == [message.pk]


@pytest.mark.django_db
def test_items_resolved_before_the_mail_went_out_are_left_out(mailoutbox):
    kept = make_plan()
    resolved = make_plan(supplier=kept.supplier)
    reminders.run_sweep(as_of=day(1), enqueue=False)
    RectificationPlan.objects.filter(pk=resolved.pk).update(status=PlanStatus.SUBMITTED)

    assert deliver_pending() == {"sent": 1}
    body = mailoutbox[0].body
    assert kept.incident.reference in body
    assert resolved.incident.reference not in body
    assert resolved.reminders.get().state == DeliveryState.SKIPPED
    assert kept.reminders.get().state == DeliveryState.SENT


@pytest.mark.django_db
def test_message_with_nothing_left_to_say_is_not_sent(mailoutbox):
    plan = make_plan(status=PlanStatus.APPROVED, due_on=day(-30))
    action = make_action(plan=plan)
    reminders.run_sweep(as_of=day(1), enqueue=False)
    type(action).objects.filter(pk=action.pk).update(status="done", completed_on=day(1))

    assert deliver_pending() == {"skipped": 1}
    assert mailoutbox == []
    assert ReminderMessage.objects.get().state == DeliveryState.SKIPPED
    assert action.reminders.get().state == DeliveryState.SKIPPED


# --- Weekly digest --------------------------------------------------------------------


@pytest.mark.django_db
def test_weekly_digest_lists_everything_overdue_by_supplier_once(
    mailoutbox, eager_celery, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://breach.example"
    make_manager("m1")
    make_manager("m2")
    make_manager("m3", is_active=False)
    molding = SupplierFactory(name="Beijing Molding")
    glass = SupplierFactory(name="Glass Works")
    late_plan = make_plan(supplier=molding, due_on=day(-10))
    approved = make_plan(supplier=glass, status=PlanStatus.APPROVED, due_on=day(-60))
    make_action(plan=approved, due_on=day(-2), description="Rotate the SFTP keys")
    on_time = make_plan(supplier=glass, due_on=day(20))
    submitted = make_plan(supplier=molding, status=PlanStatus.SUBMITTED, due_on=day(-5))

    for _ in range(2):  # two beats, or a retry: one digest per manager and day
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_weekly_digest.apply(kwargs={"as_of": DUE_ISO})

    assert recipients_of(mailoutbox) == ["m1@example.com", "m2@example.com"]
    digest = mailoutbox[0]
    assert "2 overdue items at 2 suppliers" in digest.subject
    for body in (digest.body, digest.alternatives[0][0]):
        assert "Beijing Molding" in body
        assert "Glass Works" in body
        assert late_plan.incident.reference in body
        assert "Rotate the SFTP keys" in body
        assert f"https://breach.example/plans/{late_plan.pk}/" in body
        assert on_time.incident.reference not in body
        assert submitted.incident.reference not in body
    assert "10 days overdue" in digest.body
    assert ReminderMessage.objects.filter(kind=MessageKind.DIGEST).count() == 2


DUE_ISO = day(0).isoformat()


@pytest.mark.django_db
def test_a_very_long_list_is_capped_most_overdue_first(mailoutbox, monkeypatch):
    monkeypatch.setattr(reminder_mail, "MAX_ITEMS_PER_MESSAGE", 2)
    supplier = SupplierFactory()
    oldest = make_plan(supplier=supplier, due_on=day(-20))
    older = make_plan(supplier=supplier, due_on=day(-10))
    newest = make_plan(supplier=supplier, due_on=day(0))
    reminders.run_sweep(as_of=day(1), enqueue=False)

    assert deliver_pending() == {"sent": 1}
    body = mailoutbox[0].body
    assert oldest.incident.reference in body
    assert older.incident.reference in body
    assert newest.incident.reference not in body
    assert "and 1 more item, less overdue" in body
    assert "3 overdue" in mailoutbox[0].subject
    assert set(Reminder.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


class WorkerKilled(BaseException):
    """The worker process ending where it stands: nothing after it runs, as after a kill
    (not an Exception, so no handler of the send task sees it)."""


def _lapse_the_claim(message) -> None:
    stale = timezone.now() - reminders.CLAIM_LEASE - timedelta(minutes=1)
    ReminderMessage.objects.filter(pk=message.pk).update(claimed_at=stale)


@pytest.mark.django_db
def test_a_worker_killed_after_the_mail_server_took_the_mail_never_sends_it_again(
    mailoutbox, monkeypatch
):
    """The mail server accepted the mail, then the worker died before recording it: the
    next task (the broker redelivering it, or a sweep re-queueing it) must not mail it
    again, and says the outcome is unknown."""
    from django.core.mail import EmailMessage

    make_plan()
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()
    accepted = EmailMessage.send

    def accepted_then_killed(self, *args, **kwargs):
        accepted(self, *args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(EmailMessage, "send", accepted_then_killed)
    with pytest.raises(WorkerKilled):
        reminders.deliver_message(message_id=message.pk)
    monkeypatch.undo()
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert (message.state, message.send_started_at is not None) == ("pending", True)

    # The redelivery within the claim's lease leaves it; after it, settles it unknown.
    assert reminders.deliver_message(message_id=message.pk) == "not_claimed"
    _lapse_the_claim(message)
    assert tasks.send_reminder_message.apply(args=[message.pk]).get() == "unknown"
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert message.state == DeliveryState.UNKNOWN
    assert "Not sent again" in message.last_error
    assert Reminder.objects.get().state == DeliveryState.UNKNOWN
    # Nothing re-queues it either.
    assert message.pk not in reminders.undelivered_message_ids(
        now=timezone.now() + timedelta(days=1)
    )
    assert reminders.deliver_message(message_id=message.pk) == "not_claimed"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_worker_killed_before_the_hand_over_is_sent_once_by_the_next(mailoutbox, monkeypatch):
    make_plan()
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()

    def killed_while_writing(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(reminder_mail, "build_email", killed_while_writing)
    with pytest.raises(WorkerKilled):
        reminders.deliver_message(message_id=message.pk)
    monkeypatch.undo()
    assert mailoutbox == []
    _lapse_the_claim(message)
    assert reminders.deliver_message(message_id=message.pk) == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_every_attempt_at_a_message_carries_the_same_message_id(flaky_mail, mailoutbox):
    make_plan(contact_email="lead@supplier.example")
    reminders.run_sweep(as_of=day(1), enqueue=False)
    message = ReminderMessage.objects.get()
    FlakyBackend.failures = {"lead@supplier.example": 1}
    with pytest.raises(reminders.ReminderDeliveryError):
        reminders.deliver_message(message_id=message.pk, final_attempt=False)
    assert reminders.deliver_message(message_id=message.pk) == "sent"
    (sent,) = mailoutbox
    assert (
        sent.extra_headers["Message-ID"] == f"<reminder-message-{message.pk}@breach-tracker.local>"
    )
    assert "Message-ID: <reminder-message-" in sent.message().as_string()


@pytest.mark.django_db
def test_sends_are_handed_over_a_batch_a_task(monkeypatch, django_capture_on_commit_callbacks):
    """One task per message cost 8 s of publishing after a full-scale sweep (18,000
    mails): the sweep hands the broker one task per SEND_BATCH messages."""
    for name in "abcde":
        make_plan(contact_email=f"{name}@supplier.example")
    batches = []
    monkeypatch.setattr(enqueue, "SEND_BATCH", 2)
    monkeypatch.setattr(enqueue, "enqueue_batch", batches.append)
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders.run_sweep(as_of=day(1))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(i for batch in batches for i in batch) == sorted(result.message_ids)
    assert result.queued == 5


@pytest.mark.django_db
def test_a_batch_sends_each_message_once_and_hands_a_failure_to_the_retrying_task(
    flaky_mail, mailoutbox, monkeypatch
):
    for name in ("broken", "fine", "also-fine"):
        make_plan(contact_email=f"{name}@supplier.example")
    reminders.run_sweep(as_of=day(3), enqueue=False)
    flaky_mail.failures = {"broken@supplier.example": -1}
    ids = list(ReminderMessage.objects.order_by("pk").values_list("pk", flat=True))
    broken = ReminderMessage.objects.get(recipient="broken@supplier.example")
    retried = []
    monkeypatch.setattr(tasks.send_reminder_message, "apply_async", lambda **kw: retried.append(kw))

    outcomes = tasks.send_reminder_messages.apply(args=[ids]).get()

    assert outcomes == {"sent": 2, "retrying": 1}
    assert recipients_of(mailoutbox) == ["also-fine@supplier.example", "fine@supplier.example"]
    assert retried == [{"args": [broken.pk], "countdown": tasks.SEND_RETRY_DELAY, "retries": 1}]
    broken.refresh_from_db()
    assert (broken.state, broken.attempts, broken.claimed_at) == (DeliveryState.PENDING, 1, None)
    # Redelivered (the worker died after sending): nothing is mailed twice.
    assert tasks.send_reminder_messages.apply(args=[ids]).get() == {
        "not_claimed": 2,
        "retrying": 1,
    }
    assert len(mailoutbox) == 2
    # The retrying task goes on from the attempts made (two here): six in all, then failed.
    monkeypatch.undo()
    flaky_mail.failures = {"broken@supplier.example": -1}
    settled = tasks.send_reminder_message.apply(args=[broken.pk], retries=2).get()
    broken.refresh_from_db()
    assert (settled, broken.state) == ("failed", DeliveryState.FAILED)
    assert broken.attempts == tasks.SEND_MAX_RETRIES + 1


@pytest.mark.django_db
def test_a_batch_that_loses_the_database_runs_again_and_mails_nothing_twice(
    flaky_mail, mailoutbox, monkeypatch
):
    """A database error in the middle of a batch (a restart, a failover) does not leave
    its messages waiting for the sweep's re-queue: the batch runs again, and the message
    already sent is claimed by nobody the second time."""
    from django.db import OperationalError

    for name in ("first", "second"):
        make_plan(contact_email=f"{name}@supplier.example")
    reminders.run_sweep(as_of=day(3), enqueue=False)
    ids = list(ReminderMessage.objects.order_by("pk").values_list("pk", flat=True))
    deliver = reminders.deliver_message
    calls = []

    def database_lost_once(*, message_id, final_attempt):
        calls.append(message_id)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return deliver(message_id=message_id, final_attempt=final_attempt)

    monkeypatch.setattr(reminders, "deliver_message", database_lost_once)

    outcomes = tasks.send_reminder_messages.apply(args=[ids]).get()

    assert calls == [ids[0], ids[1], ids[0], ids[1]]
    assert outcomes == {"not_claimed": 1, "sent": 1}
    assert recipients_of(mailoutbox) == ["first@supplier.example", "second@supplier.example"]
    assert set(ReminderMessage.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
