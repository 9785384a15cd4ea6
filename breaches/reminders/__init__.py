"""The reminder sweep of DESIGN section 5, and the delivery of its grouped mail.

A plan is overdue when the supplier still owes it (requested or changes_requested)
past its due date; an action is overdue when it is open past its due date in an
approved plan (the rules live in breaches.selectors). Each target gets reminders at
fixed schedule points counted from its due date: 3 days before ("due soon", point -3),
then 1, 3, 7 and 14 days overdue, then every 7 days. A sweep records, for every target,
the latest point it has reached, so a sweep that missed days catches up with one
reminder, not a burst.

What makes it safe to run twice (two beats, two workers, a retry) is the database:
sweeps take turns (a transaction-level advisory lock on PostgreSQL; SQLite writes one
transaction at a time), each reads the targets after the previous one committed, so
the next finds their reminders recorded and creates none, and Reminder is unique per
(target, due date, point), so a duplicate that slipped through anyway would fail the
sweep, not be recorded. Only the sweep that created a row mails about it. Mail is
grouped: one ReminderMessage per recipient per sweep lists every item due for that
person. The sends a sweep means to make are stamped as taken in its transaction and
enqueued after commit, so the sweep after it leaves them alone; the send task claims its
message with a conditional update before mailing (a redelivered task finds it claimed or
sent) and rolls the outcome up onto the Reminder rows. If the broker is down the rows
stay pending with no `enqueued_at`, and the next sweep enqueues them again.

The modules, each importing only those above it:

- schedule: the points, the next one, what happens next
- recipients: who is told at each level
- items: SweepItem, SweepResult, chunking
- targets: the indexed target queries
- events: the timeline entries' text
- bulk: the bulk inserts (PostgreSQL array literals)
- reader: targets to due reminders, on a reader thread
- enqueue: handing sends to the broker (by task name), re-queueing the lost
- sweep: run_sweep, hand_over
- mail, digest: the reminder mail, the weekly digest
- delivery: claim, send, roll-up
"""

from .delivery import ReminderDeliveryError, deliver_message
from .digest import create_weekly_digest, overdue_by_supplier
from .enqueue import (
    CLAIM_LEASE,
    REQUEUE_AFTER,
    enqueue_batch,
    enqueue_messages,
    undelivered_message_ids,
)
from .items import SweepItem, SweepResult
from .mail import incident_url, plan_url
from .recipients import compliance_manager_emails
from .schedule import (
    DUE_SOON_POINT,
    OVERDUE_POINTS,
    REPEAT_EVERY_DAYS,
    latest_point,
    next_point,
    next_step_text,
)
from .sweep import SWEEP_LOCK_KEY, hand_over, run_sweep

__all__ = [
    "CLAIM_LEASE",
    "DUE_SOON_POINT",
    "OVERDUE_POINTS",
    "REPEAT_EVERY_DAYS",
    "REQUEUE_AFTER",
    "SWEEP_LOCK_KEY",
    "ReminderDeliveryError",
    "SweepItem",
    "SweepResult",
    "compliance_manager_emails",
    "create_weekly_digest",
    "deliver_message",
    "enqueue_batch",
    "enqueue_messages",
    "hand_over",
    "incident_url",
    "latest_point",
    "next_point",
    "next_step_text",
    "overdue_by_supplier",
    "plan_url",
    "run_sweep",
    "undelivered_message_ids",
]
