"""API shapes of notifications and webhooks, and the documented webhook body."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import SUBSCRIBABLE, EventType
from ..describe import describe
from ..models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class NotificationSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="event.type", read_only=True)
    event = serializers.UUIDField(source="event.pk", read_only=True)
    title = serializers.SerializerMethodField(
        help_text=_("The kind of event, in words, in the caller's language (Accept-Language).")
    )
    text = serializers.SerializerMethodField(
        help_text=_(
            "What happened, in the caller's language (Accept-Language); the facts are in "
            "`type` and `data`."
        )
    )
    url = serializers.SerializerMethodField()
    data = serializers.JSONField(source="event.data", read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "type", "title", "text", "url", "data", "created_at", "read",
                  "read_at"]  # fmt: skip
        read_only_fields = fields

    def get_title(self, obj) -> str:
        return describe(obj.event)["title"]

    def get_text(self, obj) -> str:
        return describe(obj.event)["text"]

    def get_url(self, obj) -> str:
        return obj.event.path

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=200,
        help_text=_("Shared secret the signature is made with (never shown again)."),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), allow_empty=False
    )
    failing = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "secret", "events", "is_active", "failing", "failing_since",
                  "created_at"]  # fmt: skip
        read_only_fields = ["id", "failing", "failing_since", "created_at"]

    def get_failing(self, obj) -> bool:
        return obj.failing_since is not None


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "latency_ms", "response_excerpt", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.pk", read_only=True)
    type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = WebhookAttemptSerializer(source="tries", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "type", "state", "attempts", "next_attempt_at", "give_up_at",
                  "created_at", "delivered_at", "attempt_log"]  # fmt: skip


class WebhookEventSerializer(serializers.Serializer):
    """The body POSTed to an endpoint (documentation only). Headers:
    X-Breach-Timestamp (unix seconds) and X-Breach-Signature
    (`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>`). Delivered at
    least once: deduplicate by `id`."""

    id = serializers.UUIDField(help_text=_("The event's id: the same on every retry."))
    type = serializers.ChoiceField(choices=EventType.choices)
    created_at = serializers.DateTimeField()
    data = serializers.DictField(
        help_text=_(
            "Ids and public facts of the object: penalty/plan/incident ids, "
            "incident_reference, supplier, supplier_name, amount and currency (decimal "
            "strings), status, due_on. Never an internal note nor a fingerprint."
        )
    )
