"""Celery tasks of the breaches app: thin wrappers that call one function each.

The beat schedule (settings.CELERY_BEAT_SCHEDULE) runs the reminder sweep daily, the
overdue digest weekly and the staff report snapshot every minute; all are safe to run
twice (the database decides).

The reminders and the report snapshot publish these tasks by name
(breaches.queueing.publish_task): this module imports them, never the reverse."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError

from . import reminders, report_snapshot

# The tasks that only touch the database run again after a database error (a restart, a
# failover): 30 s, 60 s, 120 s later. What they do is safe to run twice.
AFTER_DATABASE_ERROR = {
    "autoretry_for": (DatabaseOperationalError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 3,
    "acks_late": True,
}

# Backoff 60 s, 120 s, ... capped at 10 min: five retries end well below the broker's
# one-hour visibility timeout, so a retried send is never also redelivered.
SEND_MAX_RETRIES = 5
# A send that failed in a batch is retried alone this much later (the first backoff).
SEND_RETRY_DELAY = 60


@shared_task(**AFTER_DATABASE_ERROR)
def run_reminder_sweep(as_of: str | None = None) -> dict:
    """The daily sweep: record the due reminders and queue one message per recipient."""
    result = reminders.run_sweep(
        as_of=date.fromisoformat(as_of) if as_of else None, keep_items=False
    )
    return {
        "as_of": result.as_of.isoformat(),
        "reminders": result.created,
        "messages": len(result.message_ids),
        "requeued": len(result.requeued_message_ids),
        # handed to the broker after commit; the rest stay pending for the next sweep
        "queued": result.queued,
    }


@shared_task(
    bind=True,
    autoretry_for=(reminders.ReminderDeliveryError,),
    retry_backoff=60,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=SEND_MAX_RETRIES,
    acks_late=True,
)
def send_reminder_message(self, message_id: int) -> str:
    """Send one grouped reminder (or digest) message; claims it first, so running twice
    mails once. Raises ReminderDeliveryError (and is retried) while tries remain."""
    return reminders.deliver_message(
        message_id=message_id, final_attempt=self.request.retries >= self.max_retries
    )


@shared_task(**AFTER_DATABASE_ERROR)
def send_reminder_messages(message_ids: list[int]) -> dict[str, int]:
    """Send the grouped messages a sweep (or the digest) handed over together
    (reminders.enqueue.SEND_BATCH a task). Each is claimed as send_reminder_message
    claims it, so a redelivered batch mails nothing twice. A message whose send fails is
    handed on to send_reminder_message, which retries it with its backoff: this was its
    first attempt. A database error (a restart, a failover) runs the whole batch again,
    which the claims make safe, rather than leaving its messages to the sweep's re-queue
    hours later. Returns the count of each outcome."""
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        try:
            outcome = reminders.deliver_message(message_id=message_id, final_attempt=False)
        except reminders.ReminderDeliveryError:
            send_reminder_message.apply_async(
                args=[message_id], countdown=SEND_RETRY_DELAY, retries=1
            )
            outcome = "retrying"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(**AFTER_DATABASE_ERROR)
def send_weekly_digest(as_of: str | None = None) -> int:
    """Queue the weekly overdue digest to each compliance manager (once per day)."""
    return len(reminders.create_weekly_digest(as_of=date.fromisoformat(as_of) if as_of else None))


@shared_task(acks_late=True)
def refresh_report_snapshot() -> str:
    """Recompute the staff report figures (summary report, dashboard) off the request
    path. Not retried: the next beat run, a minute later, is the retry."""
    return report_snapshot.refresh().computed_at.isoformat()
