"""Builders shared by the reminder tests: plans and actions with their supplier, reminder
contacts and incident owner, and a way to deliver what a sweep queued."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import Group

from breaches import reminders
from breaches.choices import PlanStatus
from breaches.models import ReminderMessage
from suppliers.choices import Role

from .factories import (
    ActionFactory,
    ContactFactory,
    IncidentFactory,
    PlanFactory,
    SupplierFactory,
    UserFactory,
)

DUE = date(2025, 3, 3)


def day(offset: int, due: date = DUE) -> date:
    """The date `offset` days after the due date (negative: before it)."""
    return due + timedelta(days=offset)


def make_plan(
    *,
    due_on: date = DUE,
    status: str = PlanStatus.REQUESTED,
    supplier=None,
    owner=None,
    contact_email: str | None = "lead@supplier.example",
):
    supplier = supplier or SupplierFactory()
    if contact_email and not supplier.contacts.filter(email=contact_email).exists():
        ContactFactory(supplier=supplier, email=contact_email, receives_reminders=True)
    incident = IncidentFactory(owner=owner, responsible_supplier=supplier)
    return PlanFactory(
        incident=incident,
        supplier=supplier,
        requested_on=due_on - timedelta(days=30),
        due_on=due_on,
        status=status,
    )


def make_action(*, plan, due_on: date = DUE, **kwargs):
    return ActionFactory(plan=plan, due_on=due_on, created_on=plan.requested_on, **kwargs)


def make_manager(username: str = "manager", *, is_active: bool = True):
    user = UserFactory(username=username, role=Role.COMPLIANCE, is_active=is_active)
    group, _ = Group.objects.get_or_create(name=settings.COMPLIANCE_MANAGERS_GROUP)
    user.groups.add(group)
    return user


def deliver_pending() -> dict[str, int]:
    """Send every pending message in this process, as the worker would."""
    outcomes: dict[str, int] = {}
    ids = ReminderMessage.objects.filter(state="pending").order_by("pk")
    ids = ids.values_list("pk", flat=True)
    for message_id in list(ids):
        outcome = reminders.deliver_message(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def recipients_of(outbox) -> list[str]:
    return sorted(address for mail in outbox for address in mail.to)
