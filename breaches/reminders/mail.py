"""The grouped reminder mail: one message per recipient listing every item due for that
person, most overdue first, each with what happens next if it stays outstanding.

A mail is written for its one recipient (DESIGN section 11): in the recipient's language,
with instants in its time zone (suppliers.selectors.mail_locale_for). Money is written as the
language writes it; due dates are calendar days and read as stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from breaches.models import Reminder, ReminderMessage
from config.formats import format_instant, format_money
from suppliers.selectors import mail_locale_for

from .schedule import next_step_text

MAX_ITEMS_PER_MESSAGE = 300


def plan_url(plan_id: int) -> str:
    return f"{settings.SITE_URL}/plans/{plan_id}/"


def incident_url(incident_id: int) -> str:
    return f"{settings.SITE_URL}/incidents/{incident_id}/"


def penalty_url(penalty_id: int) -> str:
    return f"{settings.SITE_URL}/penalties/{penalty_id}/"


def supplier_shown(name: str, local_name: str = "") -> str:
    """A supplier as a mail names it: its registered name in its own script beside the
    English one, when it has one."""
    if not local_name or local_name == name:
        return name
    return gettext("%(name)s (%(local_name)s)") % {"name": name, "local_name": local_name}


def action_target(description: str) -> str:
    return gettext("Action: %(description)s") % {"description": description}


def plan_target() -> str:
    return gettext("Rectification plan (submission)")


def build_email(template: str, context: dict, recipient: str) -> EmailMultiAlternatives:
    """`<template>_subject.txt`, `<template>.txt` and `<template>.html` rendered into one
    mail (text with an HTML alternative) to `recipient`, in the language and time zone
    active (the caller's MailLocale.written())."""
    context = {"sent_at": format_instant(timezone.now()), **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    mail = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient]
    )
    mail.attach_alternative(html, "text/html")
    return mail


def _item_context(reminder: Reminder) -> dict[str, Any]:
    if reminder.penalty_id is not None:
        penalty = reminder.penalty
        incident, supplier, url = penalty.incident, penalty.supplier, penalty_url(penalty.pk)
        target = gettext("Payment of the penalty: %(amount)s outstanding") % {
            "amount": format_money(penalty.outstanding, penalty.currency)
        }
        has_parent = False  # the penalised supplier's own debt
    else:
        plan = reminder.plan
        incident, supplier, url = plan.incident, plan.supplier, plan_url(plan.pk)
        has_parent = supplier.parent_id is not None
        if reminder.action_id is None:
            target = plan_target()
        else:
            target = action_target(reminder.action.description)
    return {
        "reference": incident.reference,
        "incident_title": incident.title,
        "incident_url": incident_url(incident.pk),
        "target": target,
        "target_type": reminder.target_type,
        "url": url,
        "supplier": supplier_shown(supplier.name, supplier.local_name),
        "due_on": reminder.due_on,
        "due_soon": reminder.schedule_point < 0,
        "days_overdue": reminder.days_overdue,
        "days_left": -reminder.days_overdue if reminder.days_overdue < 0 else 0,
        "level": reminder.level,
        "next_step": next_step_text(
            point=reminder.schedule_point,
            due_on=reminder.due_on,
            has_parent=has_parent,
        ),
    }


def reminder_email(message: ReminderMessage, reminders: list[Reminder]) -> EmailMultiAlternatives:
    """The mail of `message` about `reminders` (loaded with plan, incident, supplier and
    action), those still due, written for its recipient."""
    with mail_locale_for(message.recipient).written():
        items = [_item_context(r) for r in reminders]
        items.sort(key=lambda i: (-i["days_overdue"], i["reference"], i["target"]))
        overdue = sum(1 for i in items if not i["due_soon"])
        context = {
            # A mail stays readable (and under mail servers' size limits): the most overdue
            # first, the rest counted, and the weekly digest has the whole picture.
            "items": items[:MAX_ITEMS_PER_MESSAGE],
            "more_items": max(0, len(items) - MAX_ITEMS_PER_MESSAGE),
            "overdue_count": overdue,
            "due_soon_count": len(items) - overdue,
            "as_of": message.as_of,
            "site_url": settings.SITE_URL,
            "max_level": max(i["level"] for i in items),
        }
        return build_email("breaches/email/reminder", context, message.recipient)
