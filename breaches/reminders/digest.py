"""The weekly overdue digest: everything overdue (the rules of breaches.selectors),
grouped by supplier, in one message per compliance manager and day, written for that
manager (its language and time zone, as every reminder mail)."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from breaches.choices import MessageKind
from breaches.models import RectificationAction, RectificationPlan, ReminderMessage
from breaches.selectors import action_overdue_q, days_overdue, plan_overdue_q
from suppliers.models import Supplier
from suppliers.selectors import mail_locale_for

from .enqueue import enqueue_messages
from .mail import (
    action_target,
    build_email,
    incident_url,
    plan_target,
    plan_url,
    supplier_shown,
)
from .recipients import compliance_manager_emails

DIGEST_ITEMS_PER_SUPPLIER = 25
DIGEST_MAX_SUPPLIERS = 200
_READ_CHUNK = 2000  # rows per round trip (a server-side cursor on PostgreSQL)


def overdue_by_supplier(as_of: date) -> list[dict[str, Any]]:
    """Everything overdue on `as_of`, grouped by supplier (the weekly digest), worded in
    the active language."""
    groups: dict[int, dict[str, Any]] = {}

    def group(supplier_id: int) -> dict[str, Any]:
        if supplier_id not in groups:
            groups[supplier_id] = {"supplier_id": supplier_id, "items": [], "count": 0}
        return groups[supplier_id]

    plans = (
        RectificationPlan.objects.filter(plan_overdue_q(as_of))
        .order_by("due_on", "id")
        .values_list("id", "due_on", "supplier_id", "incident_id", "incident__reference")
    )
    for pid, due_on, sid, iid, ref in plans.iterator(_READ_CHUNK):
        g = group(sid)
        g["count"] += 1
        if len(g["items"]) < DIGEST_ITEMS_PER_SUPPLIER:
            g["items"].append(
                {
                    "reference": ref,
                    "incident_url": incident_url(iid),
                    "target": plan_target(),
                    "url": plan_url(pid),
                    "due_on": due_on,
                    "days_overdue": days_overdue(due_on, as_of),
                }
            )
    actions = (
        RectificationAction.objects.filter(action_overdue_q(as_of))
        .order_by("due_on", "id")
        .values_list(
            "due_on",
            "description",
            "plan_id",
            "plan__supplier_id",
            "plan__incident_id",
            "plan__incident__reference",
        )
    )
    for due_on, description, pid, sid, iid, ref in actions.iterator(_READ_CHUNK):
        g = group(sid)
        g["count"] += 1
        if len(g["items"]) < DIGEST_ITEMS_PER_SUPPLIER:
            g["items"].append(
                {
                    "reference": ref,
                    "incident_url": incident_url(iid),
                    "target": action_target(description[:120]),
                    "url": plan_url(pid),
                    "due_on": due_on,
                    "days_overdue": days_overdue(due_on, as_of),
                }
            )
    names = {
        pk: supplier_shown(name, local_name)
        for pk, name, local_name in Supplier.objects.filter(pk__in=groups).values_list(
            "id", "name", "local_name"
        )
    }
    result = []
    for g in groups.values():
        g["supplier"] = names.get(g["supplier_id"]) or gettext("Supplier #%(id)s") % {
            "id": g["supplier_id"]
        }
        g["more"] = g["count"] - len(g["items"])
        g["items"].sort(key=lambda i: (-i["days_overdue"], i["reference"]))
        result.append(g)
    result.sort(key=lambda g: (-g["count"], g["supplier"].lower()))
    return result


def digest_email(message: ReminderMessage) -> EmailMultiAlternatives:
    with mail_locale_for(message.recipient).written():
        groups = overdue_by_supplier(message.as_of)
        context = {
            "as_of": message.as_of,
            "groups": groups[:DIGEST_MAX_SUPPLIERS],
            "more_suppliers": max(0, len(groups) - DIGEST_MAX_SUPPLIERS),
            "total": sum(g["count"] for g in groups),
            "supplier_count": len(groups),
            "site_url": settings.SITE_URL,
        }
        return build_email("breaches/email/weekly_digest", context, message.recipient)


def create_weekly_digest(*, as_of: date | None = None, enqueue: bool = True) -> list[int]:
    """One digest message per compliance manager for `as_of` (unique per day and
    recipient, so a second beat or worker adds nothing), sent after commit. Messages to
    enqueue are stamped in this transaction, so a sweep meanwhile does not queue them."""
    as_of = as_of or timezone.localdate()
    run_id = uuid.uuid4()
    now = timezone.now()
    enqueued_at = now if enqueue else None
    created: list[int] = []
    with transaction.atomic():
        for email in compliance_manager_emails():
            try:
                with transaction.atomic():
                    message = ReminderMessage.objects.create(
                        kind=MessageKind.DIGEST,
                        sweep_id=run_id,
                        as_of=as_of,
                        recipient=email,
                        enqueued_at=enqueued_at,
                    )
            except IntegrityError:
                continue
            created.append(message.pk)
        if enqueue and created:
            transaction.on_commit(partial(enqueue_messages, list(created), reserved_at=enqueued_at))
    return created
