"""The outbox of events worth telling, and what became of each: a notification per
person (in-app, and mailed in batches), a delivery per webhook endpoint with every
attempt. The database decides that nothing is done twice: unique constraints per
(event, user), (event, contact address) and (event, endpoint), and conditional updates
to claim a mail or a delivery for a lease."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import EventType, MailState, SendState, WebhookState


class Event(models.Model):
    """Something that happened which people or systems must hear of, written by the
    service that did it, in the same transaction. `data` is the webhook body's `data`:
    ids and public facts, never an internal note nor a fingerprint. Fanned out (to
    notifications and webhook deliveries) after commit; `fanned_out_at` says it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    data = models.JSONField(default=dict, blank=True)
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The supplier the event concerns (its users and contacts are told)."),
    )
    incident_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path = models.CharField(max_length=200, blank=True, help_text=_("The page of the object."))
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's "events not yet fanned out" (a handful at any time).
            models.Index(
                fields=["created_at"],
                condition=Q(fanned_out_at__isnull=True),
                name="event_not_fanned_out",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class NotificationMail(models.Model):
    """One mail to one address listing everything that batch had for it (never one
    mail per event). Sent at most once: claimed with a conditional update, the hand-over
    recorded before it is made."""

    batch_id = models.UUIDField()
    recipient = models.EmailField(max_length=254)
    state = models.CharField(max_length=8, choices=SendState.choices, default=SendState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch_id", "recipient"], name="notification_mail_one_per_batch"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(state="pending"),
                name="notificationmail_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.state})"


class Notification(models.Model):
    """What one person is told of one event: in the user's in-app list (unread until
    opened), and mailed in the next batch unless the user turned mail off for the kind.
    A supplier contact (no account) gets the mail only: `user` is empty."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    mail_state = models.CharField(max_length=8, choices=MailState.choices, default=MailState.NONE)
    mail = models.ForeignKey(
        NotificationMail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(user__isnull=False),
                name="notification_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=Q(user__isnull=True),
                name="notification_once_per_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
            # The bell: one indexed COUNT of the user's unread rows.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(mail_state="pending"),
                name="notification_mail_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.user or self.email}"


class NotificationPreference(models.Model):
    """A user's choice of mail per kind: the kinds listed in `email_off` stay in-app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_off = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class WebhookEndpoint(models.Model):
    """A system that listens (ERP, SIEM): events of the kinds in `events` are POSTed to
    `url`, signed with `secret`. Marked failing when a delivery gave up (after 24 hours
    of retries); a success clears it."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to one endpoint, at least once: retried with exponential backoff and
    jitter until `give_up_at`, each attempt recorded. A sweep sends those due; a send
    holds the delivery for a lease (`claimed_until`), so a worker that dies mid-send
    leaves it to be picked up again when the lease ends."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        max_length=10, choices=WebhookState.choices, default=WebhookState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint} ({self.state})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back (status, first KB) or what went wrong."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error[:40]}"
