"""Notification mail, grouped: each sweep gathers every notification waiting for mail
into one message per address (a batch), never one mail per event. The pattern is the
reminders' (breaches.reminders.delivery): a send claims its message with a conditional
update, records the hand-over before making it, and a message whose worker died after
the hand-over began is marked `unknown`, never mailed twice; one that died before it is
sent by the next try. The mail itself is built by the reminders' build_email, in the
recipient's language and time zone (DESIGN section 11): the account's when the address
is a user's, else the supplier contact's with that address."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from breaches.reminders.mail import build_email
from suppliers.selectors import mail_locale_for

from . import queue
from .choices import MailState, SendState
from .describe import describe
from .models import Notification, NotificationMail

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
# A pending message nobody sent this long after its batch was lost with its task.
REQUEUE_AFTER = timedelta(minutes=15)
MAX_ITEMS_PER_MAIL = 200
READ_LIMIT = 100_000  # notifications gathered by one sweep; the rest wait for the next

UNKNOWN_OUTCOME = (
    "The worker stopped while handing this mail to the mail server, which may have accepted "
    "it. Not sent again, to avoid a duplicate; the notifications stay in the in-app list."
)


def _enqueue(mail_ids: list[int]) -> None:
    queue.publish_each(queue.MAIL_TASK, mail_ids)


@transaction.atomic
def create_batch(*, now: datetime | None = None, enqueue: bool = True) -> list[int]:
    """One NotificationMail per address with notifications waiting, those notifications
    attached to it (a conditional update: a concurrent batch that took one first keeps
    it). Returns the new messages' ids; they are enqueued after commit."""
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(mail_state=MailState.PENDING)
        .order_by("created_at", "id")
        .values_list("id", "email")[:READ_LIMIT]
    )
    by_address: dict[str, list[int]] = defaultdict(list)
    for notification_id, email in pending:
        by_address[email.strip().lower()].append(notification_id)
    if not by_address:
        return []
    batch_id = uuid.uuid4()
    mails = NotificationMail.objects.bulk_create(
        [NotificationMail(batch_id=batch_id, recipient=a, created_at=now) for a in by_address],
        batch_size=500,
    )
    if mails and mails[0].pk is None:  # a backend that does not return ids
        mails = list(NotificationMail.objects.filter(batch_id=batch_id))
    ids = []
    for message in mails:
        notification_ids = by_address[message.recipient]
        for start in range(0, len(notification_ids), 500):
            Notification.objects.filter(
                pk__in=notification_ids[start : start + 500], mail_state=MailState.PENDING
            ).update(mail=message, mail_state=MailState.BATCHED)
        ids.append(message.pk)
    if enqueue:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def undelivered_mail_ids(*, now: datetime, exclude: list[int] = ()) -> list[int]:
    """Messages still pending long after their batch, held by no live send."""
    return list(
        NotificationMail.objects.filter(state=SendState.PENDING, created_at__lt=now - REQUEUE_AFTER)
        .exclude(pk__in=list(exclude))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .values_list("pk", flat=True)[:1000]
    )


def _claim(mail_id: int, now: datetime) -> bool:
    return bool(
        NotificationMail.objects.filter(pk=mail_id, state=SendState.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .filter(send_started_at__isnull=True)
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def _settle_unknown(mail_id: int, now: datetime) -> bool:
    return bool(
        NotificationMail.objects.filter(
            pk=mail_id,
            state=SendState.PENDING,
            send_started_at__isnull=False,
            claimed_at__lt=now - CLAIM_LEASE,
        ).update(state=SendState.UNKNOWN, claimed_at=None, last_error=UNKNOWN_OUTCOME)
    )


def message_id_header(message: NotificationMail) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "breach-tracker.local"
    return f"<notification-mail-{message.pk}@{domain}>"


def notification_email(message: NotificationMail, notifications: list[Notification]):
    """The batch mail of `message`, written in its recipient's language, with its
    instants in the recipient's time zone."""
    # The account's settings, else those of a contact of a supplier the events concern.
    locale = mail_locale_for(
        message.recipient, supplier_ids={n.event.supplier_id for n in notifications}
    )
    with locale.written():
        items = [describe(n.event, viewer=n.user) for n in notifications]
        context = {
            "items": items[:MAX_ITEMS_PER_MAIL],
            "more_items": max(0, len(items) - MAX_ITEMS_PER_MAIL),
            "count": len(items),
            "site_url": settings.SITE_URL,
            "has_account": any(n.user_id for n in notifications),
        }
        return build_email("notifications/email/batch", context, message.recipient)


class MailDeliveryError(Exception):
    """The mail server refused or failed; the send task retries with backoff."""


def send_mail(*, mail_id: int, final_attempt: bool = True, now: datetime | None = None) -> str:
    """Send one batch message once. Returns sent, skipped (nothing left), failed (for
    good), unknown (see the module) or not_claimed; raises MailDeliveryError when the
    send failed and another attempt should follow."""
    now = now or timezone.now()
    if _settle_unknown(mail_id, now):
        logger.warning("Notification mail %s: %s", mail_id, UNKNOWN_OUTCOME)
        return str(SendState.UNKNOWN)
    if not _claim(mail_id, now):
        return "not_claimed"
    message = NotificationMail.objects.get(pk=mail_id)
    notifications = list(
        Notification.objects.filter(mail=message)
        .select_related("event", "user", "user__supplier")
        .order_by("created_at", "id")
    )
    if not notifications:
        NotificationMail.objects.filter(pk=mail_id).update(state=SendState.SKIPPED, claimed_at=None)
        return str(SendState.SKIPPED)
    try:
        email = notification_email(message, notifications)
        email.extra_headers["Message-ID"] = message_id_header(message)
        NotificationMail.objects.filter(pk=mail_id).update(send_started_at=timezone.now())
        email.send(fail_silently=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        NotificationMail.objects.filter(pk=mail_id).update(
            state=SendState.FAILED if final_attempt else SendState.PENDING,
            claimed_at=None,
            send_started_at=None,
            last_error=error,
        )
        if final_attempt:
            logger.error("Notification mail %s failed for good: %s", mail_id, error)
            return str(SendState.FAILED)
        raise MailDeliveryError(error) from exc
    NotificationMail.objects.filter(pk=mail_id).update(
        state=SendState.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
    )
    return str(SendState.SENT)
