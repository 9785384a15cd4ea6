"""Celery tasks of notifications: thin, each calling one function. Published by name
(notifications.queue) after the act commits; the beat sweep catches up on
whatever was lost."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError

from . import fanout, mail, webhooks


@shared_task(
    autoretry_for=(DatabaseOperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
)
def fan_out_event(event_id: str) -> int:
    """Notify an event's audience and queue its webhooks (once, whatever runs twice)."""
    return fanout.fan_out(event_id)


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at a due webhook delivery; the next, if any, is the sweep's."""
    return webhooks.deliver(delivery_id=delivery_id)


@shared_task(
    bind=True,
    autoretry_for=(mail.MailDeliveryError,),
    retry_backoff=60,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def send_notification_mail(self, mail_id: int) -> str:
    """Send one batch mail (claimed first: running twice mails once)."""
    return mail.send_mail(mail_id=mail_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(acks_late=True)
def run_notifications_sweep() -> dict:
    """Beat: fan out lost events, batch the mail, hand over the due webhooks."""
    result = fanout.sweep()
    return {
        "fanned_out": result.fanned_out,
        "mails": len(result.mails),
        "webhooks": len(result.webhooks),
    }
