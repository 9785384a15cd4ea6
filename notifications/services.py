"""Telling people and systems (DESIGN section 12). The services of other apps call
`announce` (or `announce_penalty` / `announce_plan`, which pick the kind) inside their own
transaction: the Event is written with the act, or not at all, and fanned out after
commit by a Celery task (notifications.fanout). Everything else here is the few writes
people make: reading notifications, choosing mail per kind. Webhook endpoints are
managed in notifications.endpoints.

Dependency direction: breaches and tracing import this module; it imports neither them
nor the fan-out (which reads breaches' rules): the objects it describes are read by
attribute, and the fan-out is a task sent by name."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suppliers.models import User

from . import queue
from .choices import EventType
from .models import Event, Notification, NotificationPreference

logger = logging.getLogger(__name__)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _date(value) -> str | None:
    return value.isoformat() if value else None


def penalty_data(penalty) -> dict[str, Any]:
    incident = penalty.incident
    return {
        "penalty": penalty.pk,
        "incident": incident.pk,
        "incident_reference": incident.reference,
        "supplier": penalty.supplier_id,
        "supplier_name": penalty.supplier.name,
        "amount": _money(penalty.amount),
        "currency": penalty.currency,
        "paid_amount": _money(penalty.paid_amount),
        "status": penalty.status,
        "due_on": _date(penalty.due_on),
    }


def plan_data(plan) -> dict[str, Any]:
    incident = plan.incident
    return {
        "plan": plan.pk,
        "incident": incident.pk,
        "incident_reference": incident.reference,
        "supplier": plan.supplier_id,
        "supplier_name": plan.supplier.name,
        "status": plan.status,
        "due_on": _date(plan.due_on),
    }


def incident_data(incident) -> dict[str, Any]:
    supplier = incident.responsible_supplier
    return {
        "incident": incident.pk,
        "incident_reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "supplier": incident.responsible_supplier_id,
        "supplier_name": supplier.name if supplier else None,
    }


def review_data(review) -> dict[str, Any]:
    return {
        **penalty_data(review.penalty),
        "review": review.pk,
        "review_kind": review.kind,
        "requested_amount": _money(review.amount),
        "requested_by": review.requested_by.get_username() if review.requested_by_id else None,
    }


def announce(
    type: str,
    *,
    actor: User | None = None,
    penalty=None,
    plan=None,
    incident=None,
    review=None,
    data: dict[str, Any] | None = None,
    supplier_id: int | None = None,
    incident_id: int | None = None,
    path: str = "",
) -> Event:
    """Record that `type` happened, in the caller's transaction, and fan it out after
    commit. Give the object (`penalty`, `plan`, `incident` or `review`) and the payload,
    the supplier, the incident and the link are read from it; or give them as `data`,
    `supplier_id`, `incident_id` and `path` (e.g. a trace: see docs/notifications.md)."""
    if type not in EventType.values:
        raise ValueError(f"Unknown event type {type!r}")
    payload: dict[str, Any] = {}
    if review is not None:
        payload = review_data(review)
        path = path or f"/penalties/{review.penalty_id}/"
    elif penalty is not None:
        payload = penalty_data(penalty)
        path = path or f"/penalties/{penalty.pk}/"
    elif plan is not None:
        payload = plan_data(plan)
        path = path or f"/plans/{plan.pk}/"
    elif incident is not None:
        payload = incident_data(incident)
        path = path or f"/incidents/{incident.pk}/"
    payload.update(data or {})
    event = Event.objects.create(
        type=type,
        data=payload,
        supplier_id=supplier_id or payload.get("supplier"),
        incident_id=incident_id or payload.get("incident"),
        actor=actor if actor is not None and actor.pk else None,
        path=path,
    )
    event_id = str(event.pk)
    # robust: a broker that is down must not undo the committed act; the sweep
    # (notifications.fanout.sweep) fans out what was not.
    transaction.on_commit(lambda: queue.publish(queue.FAN_OUT_TASK, args=[event_id]), robust=True)
    return event


def announce_penalty(
    *, actor: User | None, penalty, was_status: str, was_amount: Decimal | None = None
) -> list[Event]:
    """The kinds a change of a penalty is (issued, disputed, reduced, waived, paid), each
    announced. A reduction is told once the supplier has the penalty (issued or
    disputed); a proposal cut before issue is the buyer's own business."""
    kinds = []
    status = penalty.status
    if was_amount is not None and penalty.amount < was_amount and was_status != "proposed":
        kinds.append(EventType.PENALTY_REDUCED)
    if status != was_status:
        if status == "issued" and was_status == "proposed":
            kinds.append(EventType.PENALTY_ISSUED)
        elif status == "disputed":
            kinds.append(EventType.PENALTY_DISPUTED)
        elif status == "waived":
            kinds.append(EventType.PENALTY_WAIVED)
        elif status == "paid":
            kinds.append(EventType.PENALTY_PAID)
    return [announce(kind, actor=actor, penalty=penalty) for kind in kinds]


PLAN_KINDS = {
    "submitted": EventType.PLAN_SUBMITTED,
    "approved": EventType.PLAN_APPROVED,
    "changes_requested": EventType.PLAN_CHANGES_REQUESTED,
}


def announce_plan(*, actor: User | None, plan) -> Event | None:
    """A plan submitted, approved or sent back for changes."""
    kind = PLAN_KINDS.get(plan.status)
    return announce(kind, actor=actor, plan=plan) if kind else None


# --- What people do with their notifications ---------------------------------------------


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (again: no change)."""
    if notification.user_id != user.pk:
        raise PermissionDenied(_("This notification is someone else's."))
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preferences_set(*, user: User, email_off: list[str]) -> NotificationPreference:
    """The kinds the user no longer wants by mail (they stay in the in-app list)."""
    unknown = sorted(set(email_off) - set(EventType.values))
    if unknown:
        raise ValidationError(
            {"email_off": _("Unknown kinds: %(kinds)s") % {"kinds": ", ".join(unknown)}}
        )
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_off": sorted(set(email_off))}
    )
    return preference
