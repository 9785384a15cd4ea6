"""From an event to what each person and system gets: notifications (exactly once per
event and user, or contact address: unique constraints) and webhook deliveries (once per
event and endpoint). Run after the act commits (the task the event queued) and again by
the sweep for any event whose task was lost; running twice adds nothing.

The sweep (beat, every NOTIFICATIONS_SWEEP_SECONDS) is also what makes mail a batch and
what retries webhooks: it fans out the stragglers, gathers every pending mail into one
message per address, and hands the due webhook deliveries to the workers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import mail, queue, webhooks
from .choices import MailState
from .models import Event, Notification, NotificationPreference, WebhookDelivery, WebhookEndpoint
from .recipients import audience_for

logger = logging.getLogger(__name__)

# An event whose fan-out task has not run this long after it was written was lost.
FAN_OUT_GRACE = timedelta(seconds=30)
INSERT_BATCH = 500


def create_deliveries(event: Event, endpoints) -> list[WebhookDelivery]:
    """A delivery of `event` to each endpoint (none twice), sent after commit."""
    now = timezone.now()
    window = timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e,
                event=event,
                created_at=now,
                next_attempt_at=now,
                give_up_at=now + window,
            )
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    deliveries = list(
        WebhookDelivery.objects.filter(event=event, endpoint__in=[e.pk for e in endpoints])
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: queue.publish_each(queue.WEBHOOK_TASK, ids))
    return deliveries


def subscribed_endpoints(event_type: str) -> list[WebhookEndpoint]:
    # A few endpoints at most: filtered here rather than by a JSON lookup SQLite and
    # PostgreSQL spell differently.
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if event_type in e.events]


@transaction.atomic
def fan_out(event_id) -> int:
    """Notify the event's audience and queue its webhooks, once. Returns how many people
    (users and contact addresses) were told now (0 when it was fanned out before)."""
    event = (
        Event.objects.select_for_update(of=("self",))
        .select_related("actor")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.fanned_out_at is not None:
        return 0
    audience = audience_for(event)
    email_off = dict(
        NotificationPreference.objects.filter(user__in=audience.users).values_list(
            "user_id", "email_off"
        )
    )
    rows = []
    for user in audience.users:
        mailed = bool(user.email) and event.type not in email_off.get(user.pk, ())
        rows.append(
            Notification(
                event=event,
                user=user,
                email=user.email if mailed else "",
                mail_state=MailState.PENDING if mailed else MailState.NONE,
            )
        )
    rows += [
        Notification(event=event, email=email, mail_state=MailState.PENDING)
        for email in audience.contact_emails
    ]
    Notification.objects.bulk_create(rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
    create_deliveries(event, subscribed_endpoints(event.type))
    Event.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
    return len(rows)


@dataclass
class SweepResult:
    fanned_out: int = 0
    mails: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)


def due_deliveries(now: datetime) -> list[int]:
    """Pending deliveries whose next attempt is due and that no live send holds."""
    return list(
        WebhookDelivery.objects.filter(state="pending", next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.WEBHOOK_SWEEP_LIMIT]
    )


def sweep(*, now: datetime | None = None, inline: bool = False) -> SweepResult:
    """Fan out the events whose task was lost, batch the pending mail (one message per
    address) and send the due webhooks: through the workers, or here with inline=True
    (the management command's --inline, the tests, the bench)."""
    now = now or timezone.now()
    result = SweepResult()
    stragglers = Event.objects.filter(
        fanned_out_at__isnull=True, created_at__lte=now - FAN_OUT_GRACE
    ).values_list("pk", flat=True)
    for event_id in list(stragglers[:1000]):
        fan_out(event_id)
        result.fanned_out += 1
    result.mails = mail.create_batch(now=now, enqueue=not inline)
    lost = mail.undelivered_mail_ids(now=now, exclude=result.mails)
    if inline:
        for mail_id in result.mails + lost:
            mail.send_mail(mail_id=mail_id, now=now)
    else:
        queue.publish_each(queue.MAIL_TASK, lost)
    result.webhooks = due_deliveries(now)
    if inline:
        for delivery_id in result.webhooks:
            webhooks.deliver(delivery_id=delivery_id, now=now)
    else:
        queue.publish_each(queue.WEBHOOK_TASK, result.webhooks)
    return result
