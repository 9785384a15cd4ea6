"""Delivery of one grouped message, at most once: the send task claims the message with a
conditional update before mailing (a redelivered or duplicated task finds it claimed or
sent), records that it is handing the mail over before it does, leaves out the items no
longer due, and rolls the outcome up onto the Reminder rows the message covers.

The policy for an unknown outcome: a worker that died after recording the hand-over (the
mail server may have accepted the mail) leaves the message claimed with send_started_at
set. When its claim lapses, the next send task does not mail again: it marks the message
`unknown` and logs it. A duplicate reminder is worse than a missing one, which the next
schedule point repeats. Every mail carries a stable Message-ID (one per message), so a
mail server or client that sees the same message twice can tell."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from breaches.choices import DeliveryState, MessageKind
from breaches.models import Reminder, ReminderMessage
from breaches.selectors import action_is_pending, penalty_is_pending, plan_is_pending

from .bulk import INSERT_BATCH
from .digest import digest_email
from .enqueue import CLAIM_LEASE
from .mail import reminder_email

logger = logging.getLogger(__name__)


class ReminderDeliveryError(Exception):
    """The mail backend refused or failed; the send task retries with backoff."""


def _still_due(reminder: Reminder) -> bool:
    if reminder.penalty_id is not None:
        penalty = reminder.penalty
        return penalty_is_pending(penalty) and penalty.due_on == reminder.due_on
    plan = reminder.plan
    if reminder.action_id is None:
        return plan_is_pending(plan) and plan.due_on == reminder.due_on
    action = reminder.action
    return action_is_pending(action, plan.status) and action.due_on == reminder.due_on


def message_id_header(message: ReminderMessage) -> str:
    """The same Message-ID for every attempt at one message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "breach-tracker.local"
    return f"<reminder-message-{message.pk}@{domain}>"


def _settle_unknown(message_id: int, now) -> bool:
    """A message whose claim lapsed after its hand-over began: outcome unknown, never
    resent (the module's policy). True when this call settled it so."""
    settled = ReminderMessage.objects.filter(
        pk=message_id,
        state=DeliveryState.PENDING,
        send_started_at__isnull=False,
        claimed_at__lt=now - CLAIM_LEASE,
    ).update(
        state=DeliveryState.UNKNOWN,
        claimed_at=None,
        last_error=UNKNOWN_OUTCOME,
    )
    return bool(settled)


UNKNOWN_OUTCOME = (
    "The worker stopped while handing this mail to the mail server, which may have accepted "
    "it. Not sent again, to avoid a duplicate; the next schedule point reminds again."
)


def _claim(message_id: int, now) -> bool:
    """Take the message for this send: only a pending message that no live task holds.
    The conditional update is what keeps a redelivered or duplicated task from mailing
    a second time."""
    return bool(
        ReminderMessage.objects.filter(pk=message_id, state=DeliveryState.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def _roll_up(message: ReminderMessage) -> None:
    """Carry the outcome of the messages of this sweep onto the Reminder rows they cover:
    pending while any recipient's mail is pending, failed if any failed, sent once all
    went out (skipped if every recipient's mail left the item out). Rows are locked in
    id order, so two sends finishing at once see each other's outcome."""
    if not message.reminder_ids:
        return
    reminders = list(
        Reminder.objects.select_for_update()
        .filter(pk__in=message.reminder_ids)
        .order_by("pk")
        .only("pk", "recipients", "state", "attempts", "last_error", "sent_at")
    )
    recipients = {email for r in reminders for email in r.recipients}
    covering = {
        m.recipient: m
        for m in ReminderMessage.objects.filter(
            sweep_id=message.sweep_id, recipient__in=recipients
        ).only("recipient", "state", "attempts", "last_error", "sent_at", "skipped_reminder_ids")
    }
    for reminder in reminders:
        outcomes = []
        errors = []
        attempts = 0
        sent_at = None
        for email in reminder.recipients:
            m = covering.get(email)
            if m is None:
                continue
            attempts = max(attempts, m.attempts)
            if reminder.pk in m.skipped_reminder_ids:
                outcomes.append(DeliveryState.SKIPPED)
                continue
            outcomes.append(m.state)
            if m.last_error:
                errors.append(f"{email}: {m.last_error}")
            if m.sent_at and (sent_at is None or m.sent_at > sent_at):
                sent_at = m.sent_at
        if not outcomes:
            continue
        if DeliveryState.PENDING in outcomes:
            state = DeliveryState.PENDING
        elif DeliveryState.FAILED in outcomes:
            state = DeliveryState.FAILED
        elif DeliveryState.UNKNOWN in outcomes:
            state = DeliveryState.UNKNOWN
        elif DeliveryState.SENT in outcomes:
            state = DeliveryState.SENT
        else:
            state = DeliveryState.SKIPPED
        reminder.state = state
        reminder.attempts = attempts
        reminder.last_error = "\n".join(errors)[:2000]
        reminder.sent_at = sent_at if state == DeliveryState.SENT else None
    Reminder.objects.bulk_update(
        reminders, ["state", "attempts", "last_error", "sent_at"], batch_size=INSERT_BATCH
    )


def deliver_message(*, message_id: int, final_attempt: bool = True) -> str:
    """Send one grouped message, exactly once. Returns the outcome: "sent", "skipped"
    (nothing left that is still due), "failed" (last attempt failed), or "not_claimed"
    (already sent, failed for good, or another task holds it). Raises
    ReminderDeliveryError when the send failed and another attempt should follow."""
    now = timezone.now()
    if _settle_unknown(message_id, now):
        message = ReminderMessage.objects.get(pk=message_id)
        with transaction.atomic():
            _roll_up(message)
        logger.warning("Reminder message %s: %s", message_id, UNKNOWN_OUTCOME)
        return str(DeliveryState.UNKNOWN)
    if not _claim(message_id, now):
        return "not_claimed"
    message = ReminderMessage.objects.get(pk=message_id)
    try:
        if message.kind == MessageKind.DIGEST:
            mail = digest_email(message)
            skipped: list[int] = []
        else:
            reminders = list(
                Reminder.objects.filter(pk__in=message.reminder_ids)
                .select_related(
                    "plan__incident",
                    "plan__supplier",
                    "action",
                    "penalty__incident",
                    "penalty__supplier",
                )
                .order_by("pk")
            )
            due = [r for r in reminders if _still_due(r)]
            skipped = [r.pk for r in reminders if r not in due]
            mail = reminder_email(message, due) if due else None
        if mail is not None:
            mail.extra_headers["Message-ID"] = message_id_header(message)
            # Committed before the hand-over: if this process dies from here on, the
            # outcome is unknown, and the next task says so instead of mailing again.
            ReminderMessage.objects.filter(pk=message_id).update(send_started_at=timezone.now())
            mail.send(fail_silently=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with transaction.atomic():
            ReminderMessage.objects.filter(pk=message_id).update(
                state=DeliveryState.FAILED if final_attempt else DeliveryState.PENDING,
                claimed_at=None,
                send_started_at=None,  # refused: known not delivered
                last_error=error,
            )
            message.refresh_from_db()
            _roll_up(message)
        if final_attempt:
            logger.error(
                "Reminder message %s to %s failed for good: %s",
                message_id,
                message.recipient,
                error,
            )
            return "failed"
        raise ReminderDeliveryError(error) from exc
    outcome = DeliveryState.SENT if mail is not None else DeliveryState.SKIPPED
    with transaction.atomic():
        ReminderMessage.objects.filter(pk=message_id).update(
            state=outcome,
            sent_at=timezone.now() if mail is not None else None,
            claimed_at=None,
            last_error="",
            skipped_reminder_ids=skipped,
        )
        message.refresh_from_db()
        _roll_up(message)
    return str(outcome)
