"""Who is told (DESIGN section 5): the supplier's reminder contacts at level 1; from
level 2 also the incident owner and, for a sub-vendor, its parent's contacts; at level 3
also the compliance managers. And in which language and time zone each is told
(DESIGN section 11): mail is grouped per address, so the address's person decides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings

from suppliers.models import Contact, User


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def compliance_manager_emails() -> list[str]:
    """Active members of the compliance managers group with an email (read only: the
    sweep's dry run must write nothing, so the group is not created here)."""
    emails = User.objects.filter(
        groups__name=settings.COMPLIANCE_MANAGERS_GROUP, is_active=True
    ).values_list("email", flat=True)
    return sorted({normalize_email(e) for e in emails if normalize_email(e)})


class RecipientResolver:
    """Recipients per level, with the contacts of each supplier read once per sweep."""

    def __init__(self) -> None:
        self.managers = tuple(compliance_manager_emails())
        self._contacts: dict[int, tuple[str, ...]] = {}
        self._cache: dict[tuple, tuple[str, ...]] = {}
        # days overdue -> (schedule point, level): a few hundred distinct values a sweep
        self.schedule: dict[int, tuple[int | None, int | None]] = {}

    def load_contacts(self, supplier_ids: Iterable[int | None]) -> None:
        missing = {sid for sid in supplier_ids if sid is not None and sid not in self._contacts}
        if not missing:
            return
        found: dict[int, set[str]] = defaultdict(set)
        rows = Contact.objects.filter(supplier_id__in=missing, receives_reminders=True)
        for supplier_id, email in rows.values_list("supplier_id", "email"):
            if normalize_email(email):
                found[supplier_id].add(normalize_email(email))
        for sid in missing:
            self._contacts[sid] = tuple(sorted(found.get(sid, ())))

    def recipients(
        self, *, level: int, supplier_id: int, parent_id: int | None, owner_email: str
    ) -> tuple[str, ...]:
        escalated = level >= 2
        key = (
            level,
            supplier_id,
            parent_id if escalated else None,
            owner_email if escalated else "",
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        emails = set(self._contacts.get(supplier_id, ()))
        if level >= 2:
            if owner_email:
                emails.add(owner_email)
            if parent_id is not None:
                emails.update(self._contacts.get(parent_id, ()))
        if level >= 3:
            emails.update(self.managers)
        result = self._cache[key] = tuple(sorted(emails))
        return result
