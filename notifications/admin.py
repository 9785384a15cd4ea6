"""Admin: webhook endpoints (with "send a test event"), their deliveries and attempts,
and the events and notifications, read-only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import endpoints
from .models import (
    Event,
    Notification,
    NotificationMail,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    # A URL typed without a scheme is https (Django 6's default, asked for now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["url", "events", "is_active", "failing_since", "created_at"]
    fields = ["url", "secret", "events", "is_active", "failing_since"]
    readonly_fields = ["failing_since"]
    actions = ["send_test_event"]

    def save_model(self, request, obj, form, change):
        # Through the services, so the address checks hold here too.
        fields = {"url": obj.url, "secret": obj.secret, "events": obj.events}
        try:
            if change:
                endpoints.webhook_update(
                    actor=request.user, endpoint=obj, is_active=obj.is_active, **fields
                )
            else:
                saved = endpoints.webhook_create(actor=request.user, **fields)
                obj.pk = saved.pk
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])),
                              messages.ERROR)  # fmt: skip

    @admin.action(description=_("Send a test event"))
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            endpoints.webhook_send_test(actor=request.user, endpoint=endpoint)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "A test event is on its way to %(count)d endpoint.",
                "A test event is on its way to %(count)d endpoints.",
                count,
            )
            % {"count": count},
        )


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "status_code", "latency_ms", "response_excerpt", "error"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "state", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["state"]
    inlines = [AttemptInline]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["type", "created_at", "supplier", "incident_id", "fanned_out_at"]
    list_filter = ["type"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["event", "user", "email", "read_at", "mail_state"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user", "mail"]


@admin.register(NotificationMail)
class NotificationMailAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state"]
