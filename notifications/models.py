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

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID")
    )
    type = models.CharField(max_length=40, choices=EventType.choices, verbose_name=_("type"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The supplier the event concerns (its users and contacts are told)."),
        verbose_name=_("supplier"),
    )
    incident_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("incident id"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    path = models.CharField(
        max_length=200, blank=True, help_text=_("The page of the object."), verbose_name=_("path")
    )
    fanned_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("fanned out at"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
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

    batch_id = models.UUIDField(verbose_name=_("batch id"))
    recipient = models.EmailField(max_length=254, verbose_name=_("recipient"))
    state = models.CharField(
        max_length=8, choices=SendState.choices, default=SendState.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    send_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("send started at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification mail")
        verbose_name_plural = _("notification mails")
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

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    email = models.EmailField(max_length=254, blank=True, verbose_name=_("email"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    mail_state = models.CharField(
        max_length=8,
        choices=MailState.choices,
        default=MailState.NONE,
        verbose_name=_("mail state"),
    )
    mail = models.ForeignKey(
        NotificationMail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("mail"),
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email_off = models.JSONField(default=list, blank=True, verbose_name=_("email off"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class WebhookEndpoint(models.Model):
    """A system that listens (ERP, SIEM): events of the kinds in `events` are POSTed to
    `url`, signed with `secret`. Marked failing when a delivery gave up (after 24 hours
    of retries); a success clears it."""

    url = models.URLField(max_length=500, verbose_name=_("URL"))
    secret = models.CharField(max_length=200, verbose_name=_("secret"))
    events = models.JSONField(default=list, verbose_name=_("events"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name_plural = _("webhook endpoints")
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
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    state = models.CharField(
        max_length=10,
        choices=WebhookState.choices,
        default=WebhookState.PENDING,
        verbose_name=_("state"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    give_up_at = models.DateTimeField(verbose_name=_("give up at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
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

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="tries", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(default=timezone.now, verbose_name=_("attempted at"))
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("status code")
    )
    latency_ms = models.PositiveIntegerField(default=0, verbose_name=_("latency ms"))
    response_excerpt = models.TextField(blank=True, verbose_name=_("response excerpt"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error[:40]}"
