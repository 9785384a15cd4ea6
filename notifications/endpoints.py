"""Webhook endpoints, managed by administrators (DESIGN section 12): registered with an
address that passes the SSRF checks (notifications.webhooks.check_url), a secret to sign
with and the kinds they listen to; a test event delivered like any other."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suppliers.choices import Role
from suppliers.models import User

from .choices import SUBSCRIBABLE, EventType
from .fanout import create_deliveries
from .models import Event, WebhookEndpoint
from .webhooks import check_url


def _require_admin(actor: User) -> None:
    if not (actor and actor.is_active and actor.role == Role.ADMIN):
        raise PermissionDenied(_("Only administrators manage webhooks."))


def _clean_events(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError({"events": _("Name at least one kind of event.")})
    unknown = sorted({str(e) for e in events} - set(SUBSCRIBABLE))
    if unknown:
        raise ValidationError(
            {
                "events": _("Unknown kinds: %(unknown)s (one of: %(known)s).")
                % {"unknown": ", ".join(unknown), "known": ", ".join(SUBSCRIBABLE)}
            }
        )
    return sorted(set(events))


def _clean_secret(secret: str) -> str:
    if len(secret or "") < 16:
        raise ValidationError({"secret": _("Use a secret of at least 16 characters.")})
    return secret


@transaction.atomic
def webhook_create(
    *, actor: User, url: str, secret: str, events: list[str], is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint: an http(s) URL that resolves to public addresses only (unless
    WEBHOOK_ALLOW_PRIVATE), a secret to sign with, the kinds it listens to."""
    _require_admin(actor)
    endpoint = WebhookEndpoint(
        url=check_url(url),
        secret=_clean_secret(secret),
        events=_clean_events(events),
        is_active=bool(is_active),
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_update(*, actor: User, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in fields:
        endpoint.url = check_url(fields["url"])
    if "secret" in fields:
        endpoint.secret = _clean_secret(fields["secret"])
    if "events" in fields:
        endpoint.events = _clean_events(fields["events"])
    if "is_active" in fields:
        endpoint.is_active = bool(fields["is_active"])
        if endpoint.is_active:
            endpoint.failing_since = None
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    _require_admin(actor)
    endpoint.delete()


@transaction.atomic
def webhook_send_test(*, actor: User, endpoint: WebhookEndpoint):
    """A `webhook.test` event to this endpoint only, delivered like any other."""
    _require_admin(actor)
    event = Event.objects.create(
        type=EventType.WEBHOOK_TEST,
        data={"endpoint": endpoint.pk, "message": "Test event from the breach tracker."},
        actor=actor,
        fanned_out_at=timezone.now(),
    )
    (delivery,) = create_deliveries(event, [endpoint])
    return delivery
