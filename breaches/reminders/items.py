"""What a sweep reads and records, as plain values: one SweepItem per reminder, the
SweepResult a sweep returns, and the choices as the database stores them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from breaches.choices import DeliveryState, ReminderKind, ReminderTargetType

# The choices as plain str (what the database stores): str() of an enum member runs
# Python code, a few hundred thousand times a sweep at full scale.
PLAN, ACTION = str(ReminderTargetType.PLAN), str(ReminderTargetType.ACTION)
PENALTY = str(ReminderTargetType.PENALTY)
DUE_SOON, OVERDUE = str(ReminderKind.DUE_SOON), str(ReminderKind.OVERDUE)
PENDING, FAILED = str(DeliveryState.PENDING), str(DeliveryState.FAILED)


@dataclass(slots=True)
class SweepItem:
    """One reminder the sweep recorded (or, in a dry run, would record). A penalty's has
    no plan and no action."""

    target_type: str
    plan_id: int | None
    action_id: int | None
    incident_id: int
    incident_reference: str
    label: str
    due_on: date
    schedule_point: int
    days_overdue: int
    level: int
    recipients: tuple[str, ...]
    reminder_id: int | None = None
    penalty_id: int | None = None

    @property
    def kind(self) -> str:
        return DUE_SOON if self.schedule_point < 0 else OVERDUE

    @property
    def target_id(self) -> int:
        if self.penalty_id is not None:
            return self.penalty_id
        return self.action_id if self.action_id is not None else self.plan_id


@dataclass
class SweepResult:
    as_of: date
    dry_run: bool
    sweep_id: uuid.UUID
    items: list[SweepItem] = field(default_factory=list)
    # recipient -> number of items in that person's one message
    messages: dict[str, int] = field(default_factory=dict)
    message_ids: list[int] = field(default_factory=list)
    requeued_message_ids: list[int] = field(default_factory=list)
    targets_seen: int = 0
    created_count: int = 0
    # When the sweep took its sends for the broker (their `enqueued_at`, written in its
    # transaction), or None: a dry run, or a sweep told not to enqueue.
    reserved_at: datetime | None = None
    # How many of those the broker took (sweep.hand_over), None until handed over.
    queued: int | None = None

    @property
    def created(self) -> int:
        return self.created_count

    @property
    def to_enqueue(self) -> list[int]:
        """The sends this sweep took for the broker: its own messages, then the re-queued."""
        if self.reserved_at is None:
            return []
        return self.message_ids + self.requeued_message_ids
