"""The reminders on the plan's and incident's timeline (append-only IncidentEvent rows):
one event per plan per chunk of targets, naming each of its reminders."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from breaches.choices import EventKind, ReminderTargetType

from .items import SweepItem

EVENT_MAX_ITEMS = 20


def event_rows(items: list[SweepItem]) -> list[tuple]:
    """(incident_id, plan_id, kind, message, from_status, to_status, penalty_id) per plan
    or penalty. The targets come in plan order, so an approved plan's overdue actions share
    one event instead of one each (a third fewer timeline rows at full scale)."""
    by_target: dict[tuple[int | None, int | None], list[SweepItem]] = {}
    for item in items:
        by_target.setdefault((item.plan_id, item.penalty_id), []).append(item)
    kind = str(EventKind.REMINDER)
    return [
        (group[0].incident_id, plan_id, kind, event_message(group), "", "", penalty_id)
        for (plan_id, penalty_id), group in by_target.items()
    ]


def event_message(items: list[SweepItem]) -> str:
    """`Level 2 reminder for the rectification plan, 7 days overdue (due ...); to a, b.`
    or, for several reminders about one plan, each named after the highest level."""
    recipients = list(dict.fromkeys(email for item in items for email in item.recipients))
    to = ", ".join(recipients) if recipients else "nobody: no reminder contacts"
    level = max(item.level for item in items)
    if len(items) == 1:
        return f"Level {level} reminder for {_item_text(items[0])}; to {to}."
    shown = "; ".join(_item_text(item) for item in items[:EVENT_MAX_ITEMS])
    more = len(items) - EVENT_MAX_ITEMS
    if more > 0:
        shown += f"; and {more} more"
    return f"Level {level} reminders ({len(items)}): {shown}; to {to}."


def _item_text(item: SweepItem) -> str:
    if item.target_type == ReminderTargetType.PENALTY:
        what = f"the payment of the penalty ({item.label})"
    elif item.target_type == ReminderTargetType.PLAN:
        what = "the rectification plan"
    else:
        what = f"action \u201c{item.label}\u201d"
    return f"{what}, {_when_text(item.schedule_point < 0, item.days_overdue, item.due_on)}"


@lru_cache(maxsize=4096)
def _when_text(due_soon: bool, days_overdue: int, due_on: date) -> str:
    """`due soon (due 2026-12-01)` / `8 days overdue (due 2026-11-16)`: a few thousand
    distinct texts for a few hundred thousand reminders."""
    if due_soon:
        return f"due soon (due {due_on.isoformat()})"
    days = f"{days_overdue} day{'s' * (days_overdue != 1)}"
    return f"{days} overdue (due {due_on.isoformat()})"
