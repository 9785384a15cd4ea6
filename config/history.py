"""Who changed which field from what to what: the field differences between consecutive
records of a model's django-simple-history, for the pages' History sections (incident,
penalty, plan, NDA, disclosure). One query for the records, one per related model named by a
changed foreign key; nothing per record. Rendered by templates/includes/history.html."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from config.formats import format_instant

# Kept by the database or the workflow on every save: noise in a list of changes.
DEFAULT_EXCLUDED = frozenset({"updated_at", "created_at", "id"})
DEFAULT_LIMIT = 50


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    user: object | None
    kind: str  # "created", "changed", "deleted"
    changes: list[FieldChange] = field(default_factory=list)
    reason: str = ""  # the history's change reason (a correction's, a revocation's)


_KIND = {"+": "created", "~": "changed", "-": "deleted"}


def _display(model_field, value, related: dict) -> str:
    """A value as a person reads it: related rows by name, choices by label, yes/no, dates
    as YYYY-MM-DD, instants in the viewer's time zone (named), a file by its name."""
    if value is None or value == "":
        return "-"
    if model_field.is_relation:
        return related.get((model_field.related_model, value), f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if getattr(model_field, "upload_to", None) is not None:
        return str(value).rsplit("/", 1)[-1]
    return str(value)


def history_entries(
    instance: models.Model,
    *,
    hidden: frozenset[str] | set[str] = frozenset(),
    limit: int = DEFAULT_LIMIT,
) -> list[HistoryEntry]:
    """The `limit` latest changes of `instance`, newest first: its creation, then each
    save that changed a field or gave a reason (saves that changed nothing shown are left
    out). `hidden` fields (a secret, a stored file's path) are never shown."""
    exclude = DEFAULT_EXCLUDED | set(hidden)
    records = list(
        instance.history.select_related("history_user__supplier").order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    records.reverse()  # oldest first, to diff each against the one before
    model = type(instance)
    entries: list[HistoryEntry] = []
    deltas = []
    if records and len(records) <= limit:
        first = records[0]
        entries.append(
            HistoryEntry(
                first.history_date,
                first.history_user,
                "created",
                reason=first.history_change_reason or "",
            )
        )
    for before, after in pairwise(records):
        delta = after.diff_against(before, excluded_fields=list(exclude))
        if delta.changes or after.history_change_reason:
            deltas.append((after, delta.changes))
    # Names of the related rows the changes point at, one query per related model.
    wanted: dict[type, set] = {}
    for _record, changes in deltas:
        for change in changes:
            model_field = model._meta.get_field(change.field)
            if model_field.is_relation:
                for value in (change.old, change.new):
                    if value not in (None, ""):
                        wanted.setdefault(model_field.related_model, set()).add(value)
    related = {
        (related_model, obj.pk): str(obj)
        for related_model, ids in wanted.items()
        for obj in related_model._default_manager.filter(pk__in=ids)
    }
    for record, changes in deltas:
        entry = HistoryEntry(
            record.history_date,
            record.history_user,
            _KIND[record.history_type],
            reason=record.history_change_reason or "",
        )
        for change in changes:
            model_field = model._meta.get_field(change.field)
            entry.changes.append(
                FieldChange(
                    name=change.field,
                    label=capfirst(str(model_field.verbose_name)),
                    old=_display(model_field, change.old, related),
                    new=_display(model_field, change.new, related),
                )
            )
        entries.append(entry)
    entries.reverse()
    return entries
