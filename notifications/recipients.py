"""Who is told of an event (DESIGN section 12), by its kind's audience (choices.AUDIENCE):

- supplier: the active users of the supplier the event concerns, if that supplier's
  users may see the object (the read rules of breaches.selectors decide, asked once per
  supplier: every user of one supplier sees the same), and its reminder contacts (mail
  only; breaches.reminders.recipients reads them);
- staff: the active compliance staff (admins and compliance, suppliers.models.WRITERS);
- reviewers: the staff users who may decide the pending cut (breaches.selectors.
  reviews_awaiting, asked per staff user);
- admins: the active admins.

The person who did the act is not told of it. Nobody else is told: a supplier user or
contact hears only of its own supplier's events. This module reads breaches' rules, so
it is imported by the fan-out, never by notifications.services (which breaches imports)."""

from __future__ import annotations

from dataclasses import dataclass, field

from breaches.reminders.recipients import RecipientResolver, normalize_email
from breaches.selectors import (
    incidents_visible_to,
    penalties_visible_to,
    plans_visible_to,
    reviews_awaiting,
)
from suppliers.choices import Role
from suppliers.models import WRITERS, User

from .choices import ADMINS, AUDIENCE, REVIEWERS, STAFF, SUPPLIER
from .models import Event


@dataclass
class Audience:
    users: list[User] = field(default_factory=list)
    contact_emails: list[str] = field(default_factory=list)  # mail only


def _object_visible_to(user: User, event: Event) -> bool:
    data = event.data
    if "penalty" in data:
        return penalties_visible_to(user).filter(pk=data["penalty"]).exists()
    if "plan" in data:
        return plans_visible_to(user).filter(pk=data["plan"]).exists()
    if "incident" in data:
        return incidents_visible_to(user).filter(pk=data["incident"]).exists()
    return False


def _supplier_side(event: Event) -> tuple[list[User], list[str]]:
    if event.supplier_id is None:
        return [], []
    users = list(
        User.objects.filter(role=Role.SUPPLIER, supplier_id=event.supplier_id, is_active=True)
    )
    if users and not _object_visible_to(users[0], event):
        users = []
    resolver = RecipientResolver()
    resolver.load_contacts([event.supplier_id])
    contacts = resolver.recipients(
        level=1, supplier_id=event.supplier_id, parent_id=None, owner_email=""
    )
    return users, list(contacts)


def audience_for(event: Event) -> Audience:
    groups = AUDIENCE.get(event.type, frozenset())
    users: dict[int, User] = {}
    contacts: list[str] = []
    if SUPPLIER in groups:
        supplier_users, contacts = _supplier_side(event)
        users.update((u.pk, u) for u in supplier_users)
    if STAFF in groups:
        users.update((u.pk, u) for u in User.objects.filter(WRITERS))
    if ADMINS in groups:
        users.update((u.pk, u) for u in User.objects.filter(role=Role.ADMIN, is_active=True))
    if REVIEWERS in groups and "review" in event.data:
        for user in User.objects.filter(WRITERS):
            if reviews_awaiting(user).filter(pk=event.data["review"]).exists():
                users[user.pk] = user
    users.pop(event.actor_id, None)
    user_emails = {normalize_email(u.email) for u in users.values()}
    actor_email = normalize_email(event.actor.email) if event.actor_id else ""
    contacts = sorted({e for e in contacts if e and e not in user_emails and e != actor_email})
    return Audience(users=sorted(users.values(), key=lambda u: u.pk), contact_emails=contacts)
