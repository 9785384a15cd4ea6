"""The reminder sweep of DESIGN section 5, and the delivery of its grouped mail.

A plan is overdue when the supplier still owes it (requested or changes_requested)
past its due date; an action is overdue when it is open past its due date in an
approved plan. Each target gets reminders at fixed schedule points counted from its
due date: 3 days before ("due soon", point -3), then 1, 3, 7 and 14 days overdue, then
every 7 days. A sweep records, for every target, the latest point it has reached, so
a sweep that missed days catches up with one reminder, not a burst.

What makes it safe to run twice (two beats, two workers, a retry) is the database:
sweeps take turns (a transaction-level advisory lock on PostgreSQL; SQLite writes one
transaction at a time), each reads the targets after the previous one committed, so
the next finds their reminders recorded and creates none, and Reminder is unique per
(target, due date, point), so a duplicate that slipped through anyway would fail the
sweep, not be recorded. Only the sweep that created a row mails about it. Mail is
grouped: one ReminderMessage per recipient per sweep lists every item due for that
person. Sends are enqueued after commit; the send task claims its message with a
conditional update before mailing (a redelivered task finds it claimed or sent) and
rolls the outcome up onto the Reminder rows. If the broker is down the rows stay
pending with no `enqueued_at`, and the next sweep enqueues them again.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache, partial
from typing import Any

import psycopg
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.template.loader import render_to_string
from django.utils import timezone

from suppliers.models import Contact, Supplier, User

from .choices import (
    DeliveryState,
    EventKind,
    MessageKind,
    ReminderKind,
    ReminderTargetType,
)
from .models import (
    IncidentEvent,
    RectificationAction,
    RectificationPlan,
    Reminder,
    ReminderMessage,
)
from .selectors import (
    action_is_pending,
    action_overdue_q,
    action_pending_q,
    days_overdue,
    escalation_level,
    plan_is_pending,
    plan_overdue_q,
    plan_pending_q,
)

logger = logging.getLogger(__name__)

DUE_SOON_POINT = -3
OVERDUE_POINTS = (1, 3, 7, 14)
REPEAT_EVERY_DAYS = 7

# Targets are read in chunks (a server-side cursor on PostgreSQL) and written in
# batches, so a sweep over a million plans holds one chunk in memory at a time.
SWEEP_CHUNK = 2000
INSERT_BATCH = 500
# A send task holds its message this long; after that a re-enqueued send may take it
# over (the worker died between claiming and mailing).
CLAIM_LEASE = timedelta(minutes=30)
# A pending message handed to the broker this long ago without being sent was lost
# (the broker's visibility timeout is one hour); the next sweep enqueues it again.
REQUEUE_AFTER = timedelta(hours=2)
MAX_ITEMS_PER_MESSAGE = 300
DIGEST_ITEMS_PER_SUPPLIER = 25
DIGEST_MAX_SUPPLIERS = 200


# --- The schedule -----------------------------------------------------------------------


def latest_point(days_overdue: int) -> int | None:
    """The latest schedule point reached `days_overdue` days after the due date (negative
    before it), or None before the due-soon notice."""
    if days_overdue < DUE_SOON_POINT:
        return None
    last = OVERDUE_POINTS[-1]
    if days_overdue < last:
        return _POINTS_BEFORE_LAST[days_overdue - DUE_SOON_POINT]
    return last + (days_overdue - last) // REPEAT_EVERY_DAYS * REPEAT_EVERY_DAYS


# The point reached on each day from the due-soon notice to the last fixed point.
_POINTS_BEFORE_LAST = tuple(
    max(p for p in (DUE_SOON_POINT, *OVERDUE_POINTS) if p <= day)
    for day in range(DUE_SOON_POINT, OVERDUE_POINTS[-1])
)


def next_point(point: int) -> int:
    if point == DUE_SOON_POINT:
        return OVERDUE_POINTS[0]
    later = [p for p in OVERDUE_POINTS if p > point]
    return later[0] if later else point + REPEAT_EVERY_DAYS


def next_step_text(*, point: int, due_on: date, has_parent: bool) -> str:
    """What happens next if the item stays outstanding: the next escalation."""
    nxt = next_point(point)
    when = due_on + timedelta(days=nxt)
    if point == DUE_SOON_POINT:
        return (
            f"Due on {due_on:%Y-%m-%d}. If it is not done by then, overdue reminders start "
            f"on {when:%Y-%m-%d}; from 7 days overdue the incident owner is copied."
        )
    level = escalation_level(point)
    next_level = escalation_level(nxt)
    if next_level > level == 1:
        also = " and the parent supplier's contacts" if has_parent else ""
        return (
            f"If it is still outstanding on {when:%Y-%m-%d} ({nxt} days overdue), the reminder "
            f"escalates to level 2: the incident owner{also} will be copied."
        )
    if next_level > level == 2:
        return (
            f"If it is still outstanding on {when:%Y-%m-%d} ({nxt} days overdue), the reminder "
            "escalates to level 3: the compliance managers will be copied."
        )
    if level == 3:
        return (
            "The compliance managers are informed. Reminders repeat every 7 days; the next "
            f"goes out on {when:%Y-%m-%d} ({nxt} days overdue)."
        )
    return f"Next reminder on {when:%Y-%m-%d} ({nxt} days overdue) if it is still outstanding."


# --- Who is told ------------------------------------------------------------------------


def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


def compliance_manager_emails() -> list[str]:
    """Active members of the compliance managers group with an email (read only: the
    sweep's dry run must write nothing, so the group is not created here)."""
    emails = User.objects.filter(
        groups__name=settings.COMPLIANCE_MANAGERS_GROUP, is_active=True
    ).values_list("email", flat=True)
    return sorted({_norm(e) for e in emails if _norm(e)})


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
            if _norm(email):
                found[supplier_id].add(_norm(email))
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


# --- The sweep --------------------------------------------------------------------------

# The choices as plain str (what the database stores): str() of an enum member runs
# Python code, a few hundred thousand times a sweep at full scale.
_PLAN, _ACTION = str(ReminderTargetType.PLAN), str(ReminderTargetType.ACTION)
_DUE_SOON, _OVERDUE = str(ReminderKind.DUE_SOON), str(ReminderKind.OVERDUE)
_PENDING, _FAILED = str(DeliveryState.PENDING), str(DeliveryState.FAILED)


@dataclass(slots=True)
class SweepItem:
    """One reminder the sweep recorded (or, in a dry run, would record)."""

    target_type: str
    plan_id: int
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

    @property
    def kind(self) -> str:
        return _DUE_SOON if self.schedule_point < 0 else _OVERDUE


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

    @property
    def created(self) -> int:
        return self.created_count


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for row in iterable:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# (target_type, plan_id, action_id, due_on, supplier_id, parent_id, incident_id, reference,
#  owner_email, action_description)
TargetRow = tuple


class DaysSince(Func):
    """Whole days from a date column to `day` (`day - column`), in SQL."""

    output_field = IntegerField()

    def __init__(self, column: str, day: date):
        super().__init__(Value(day, output_field=DateField()), F(column))

    def as_sql(self, compiler, connection, **extra):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        column_sql, column_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"({day_sql}::date - {column_sql})"
        else:
            sql = f"CAST(julianday({day_sql}) - julianday({column_sql}) AS INTEGER)"
        return sql, (*day_params, *column_params)


def _without_current_reminder(qs, as_of: date, reminders):
    """Leave out the targets that already have the reminder of their latest schedule
    point, in SQL: a same-day rerun reads nothing instead of every overdue target.
    A reminder's point is never above the latest point reached, so "has one at or
    above the latest point's lower bound" is "has the latest one" (from 14 days on the
    points are 7 apart, hence days - 6)."""
    threshold = Case(
        When(days_since_due__lt=OVERDUE_POINTS[0], then=Value(DUE_SOON_POINT)),
        When(days_since_due__lt=OVERDUE_POINTS[1], then=Value(OVERDUE_POINTS[0])),
        When(days_since_due__lt=OVERDUE_POINTS[2], then=Value(OVERDUE_POINTS[1])),
        When(days_since_due__lt=OVERDUE_POINTS[3], then=Value(OVERDUE_POINTS[2])),
        default=F("days_since_due") - (REPEAT_EVERY_DAYS - 1),
        output_field=IntegerField(),
    )
    reminded = reminders.filter(
        due_on=OuterRef("due_on"), schedule_point__gte=OuterRef("point_floor")
    )
    return (
        qs.annotate(days_since_due=DaysSince("due_on", as_of))
        .annotate(point_floor=threshold)
        .exclude(Exists(reminded))
    )


def _nothing_pending(qs, as_of: date, reminders, index_order: tuple[str, ...]) -> bool:
    """Whether every target is already reminded for its latest point (a same-day rerun),
    asked with a plain query before any server-side cursor is opened: PostgreSQL plans a
    cursor serially and for its first rows (1.3 s at full scale), a plain query in
    parallel. The question is asked in the order of the targets' partial index: for the
    first row of an unordered anti-join the planner expects a match early and scans the
    whole table (1,000,000 plans, 0.16 s) where a rerun reads every target anyway, from
    the index (144,000 entries, 0.01 s)."""
    pending = _without_current_reminder(qs.order_by(*index_order), as_of, reminders)
    # Not .exists(), which drops the ordering.
    return not pending.values_list("pk", flat=True)[:1]


def _plan_targets(as_of: date) -> Iterator[TargetRow]:
    # The filter matches the partial index plan_awaiting_due_idx (status list sorted the
    # same way), which holds only the plans the supplier still owes.
    # In plan order: the reminder and timeline rows are then written, and their
    # references checked, page after page of the plans and incidents instead of at
    # random.
    qs = RectificationPlan.objects.filter(
        plan_pending_q(), due_on__lte=as_of - timedelta(days=DUE_SOON_POINT)
    ).order_by("id")
    reminded = Reminder.objects.filter(action__isnull=True, plan_id=OuterRef("pk"))
    if _nothing_pending(qs, as_of, reminded, ("due_on", "id")):  # plan_awaiting_due_idx
        return
    qs = _without_current_reminder(qs, as_of, reminded).values_list(
        "id",
        "due_on",
        "supplier_id",
        "supplier__parent_id",
        "incident_id",
        "incident__reference",
        "incident__owner__email",
        "incident__owner__is_active",
    )
    for pid, due_on, sid, parent, iid, ref, owner, owner_active in qs.iterator(SWEEP_CHUNK):
        owner_email = _norm(owner) if owner_active else ""
        yield (_PLAN, pid, None, due_on, sid, parent, iid, ref, owner_email, "")


def _action_targets(as_of: date) -> Iterator[TargetRow]:
    # Open actions plan by plan (action_open_plan_idx) merged with the approved plans
    # (plan_approved_idx); in plan order, so that a plan's actions share one event.
    index_order = ("plan_id", "due_on", "id")
    qs = RectificationAction.objects.filter(
        action_pending_q(), due_on__lte=as_of - timedelta(days=DUE_SOON_POINT)
    ).order_by(*index_order)
    reminded = Reminder.objects.filter(action_id=OuterRef("pk"))
    if _nothing_pending(qs, as_of, reminded, index_order):
        return
    qs = _without_current_reminder(qs, as_of, reminded).values_list(
        "id",
        "due_on",
        "plan_id",
        "plan__supplier_id",
        "plan__supplier__parent_id",
        "plan__incident_id",
        "plan__incident__reference",
        "plan__incident__owner__email",
        "plan__incident__owner__is_active",
        "description",
    )
    for row in qs.iterator(SWEEP_CHUNK):
        aid, due_on, pid, sid, parent, iid, ref, owner, owner_active, description = row
        owner_email = _norm(owner) if owner_active else ""
        label = description if len(description) <= 80 else description[:77] + "..."
        target = _ACTION
        yield (target, pid, aid, due_on, sid, parent, iid, ref, owner_email, label)


def _existing_keys(target_type: str, candidates: list[SweepItem]) -> set[tuple]:
    """The (target id, due_on, point) of candidates that already have their reminder."""
    points = {c.schedule_point for c in candidates}
    if target_type == ReminderTargetType.PLAN:
        qs = Reminder.objects.filter(
            action__isnull=True,
            plan_id__in=[c.plan_id for c in candidates],
            schedule_point__in=points,
        ).values_list("plan_id", "due_on", "schedule_point")
    else:
        qs = Reminder.objects.filter(
            action_id__in=[c.action_id for c in candidates], schedule_point__in=points
        ).values_list("action_id", "due_on", "schedule_point")
    return set(qs)


def _target_id(item: SweepItem) -> int:
    return item.action_id if item.action_id is not None else item.plan_id


NO_RECIPIENTS_ERROR = "Not sent: nobody to notify (the supplier has no reminder contacts)."

# (column, PostgreSQL type) of what the sweep writes; the rest take their defaults.
_REMINDER_COLUMNS = (
    ("target_type", "varchar"),
    ("plan_id", "bigint"),
    ("action_id", "bigint"),
    ("kind", "varchar"),
    ("level", "smallint"),
    ("due_on", "date"),
    ("schedule_point", "smallint"),
    ("days_overdue", "smallint"),
    ("recipients", "jsonb"),
    ("state", "varchar"),
    ("attempts", "smallint"),
    ("last_error", "text"),
)
_MESSAGE_COLUMNS = (
    ("kind", "varchar"),
    ("sweep_id", "uuid"),
    ("as_of", "date"),
    ("recipient", "varchar"),
    ("reminder_ids", "jsonb"),
    ("skipped_reminder_ids", "jsonb"),
    ("state", "varchar"),
    ("attempts", "smallint"),
    ("last_error", "text"),
)
_EVENT_COLUMNS = (
    ("incident_id", "bigint"),
    ("plan_id", "bigint"),
    ("kind", "varchar"),
    ("message", "text"),
    ("from_status", "varchar"),
    ("to_status", "varchar"),
)


_NUMERIC_TYPES = frozenset({"bigint", "integer", "smallint"})


def _pg_array_literal(values: list, pg_type: str) -> str:
    """A PostgreSQL array literal (`{1,2,NULL}`, `{"a \\"b\\"",NULL}`) of one column.
    Built with str.join, it costs a tenth of psycopg's per-element array dumping, and
    can be built on another thread than the one that writes (see _reader_batches)."""
    if pg_type in _NUMERIC_TYPES or pg_type in ("date", "uuid"):
        # ints, dates (str() is ISO 8601) and UUIDs need no quoting
        if None in values:
            parts = ["NULL" if v is None else str(v) for v in values]
        else:
            parts = list(map(str, values))
    else:
        # Text is quoted and escaped, once per distinct value (choices, shared recipient
        # lists and empty strings repeat all along a column).
        quoted: dict[str, str] = {}
        parts = []
        for v in values:
            part = quoted.get(v)
            if part is None:
                part = "NULL" if v is None else _pg_quote(v)
                if v is not None:
                    quoted[v] = part
            parts.append(part)
    return "{" + ",".join(parts) + "}"


def _pg_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_arrays(columns: tuple[tuple[str, str], ...], rows: list[tuple]) -> list[str]:
    """One array literal per column of `rows`."""
    return [
        _pg_array_literal(list(values), pg_type)
        for (_, pg_type), values in zip(columns, zip(*rows, strict=True), strict=True)
    ]


def _bulk_insert(
    table: str,
    columns: tuple[tuple[str, str], ...],
    rows: list[tuple],
    *,
    created_at,
    arrays: list[str] | None = None,
    returning: str = "",
) -> list[tuple]:
    """Insert many rows in few statements. On PostgreSQL one statement per call, the
    values passed as one array per column (`SELECT ... FROM unnest(...)`): a handful of
    parameters however many rows, which keeps a sweep over 150,000 targets fast.
    `arrays`, when given (PostgreSQL only), are those columns already built by
    _pg_arrays and `rows` is not read. On SQLite, multi-row VALUES in batches. Values are
    plain (JSON as text, dates as dates); `created_at` is the same for every row."""
    if not rows and arrays is None:
        return []
    qn = connection.ops.quote_name
    names = ", ".join(qn(name) for name, _ in columns) + ", " + qn("created_at")
    tail = f" RETURNING {returning}" if returning else ""
    out: list[tuple] = []
    if connection.vendor == "postgresql":
        if arrays is None:
            arrays = _pg_arrays(columns, rows)
        unnest = ", ".join(f"%s::{pg_type}[]" for _, pg_type in columns)
        sql = (
            f"INSERT INTO {qn(table)} ({names}) "  # noqa: S608 (names are ours)
            f"SELECT *, %s FROM unnest({unnest})" + tail
        )
        connection.ensure_connection()
        # A server-side-binding cursor on Django's own connection (same transaction):
        # the arrays travel as parameters instead of being quoted into the SQL text.
        with psycopg.Cursor(connection.connection) as cursor:
            # The created_at placeholder comes first in the text.
            cursor.execute(sql, [created_at, *arrays])
            if returning:
                out.extend(cursor.fetchall())
        return out
    with connection.cursor() as cursor:
        created = connection.ops.adapt_datetimefield_value(created_at)
        row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        dates = [i for i, (_, pg_type) in enumerate(columns) if pg_type == "date"]
        uuids = [i for i, (_, pg_type) in enumerate(columns) if pg_type == "uuid"]
        for batch in _chunks(rows, INSERT_BATCH):
            params: list[Any] = []
            for row in batch:
                values = list(row)
                for i in dates:
                    values[i] = values[i].isoformat()
                for i in uuids:
                    values[i] = values[i].hex  # Django's UUIDField on SQLite: char(32)
                params.extend(values)
                params.append(created)
            sql = (
                f"INSERT INTO {qn(table)} ({names}) VALUES "  # noqa: S608 (names are ours)
                + ", ".join([row_sql] * len(batch))
                + tail
            )
            cursor.execute(sql, params)
            if returning:
                out.extend(cursor.fetchall())
    return out


def _reminder_rows(items: list[SweepItem]) -> list[tuple]:
    as_json: dict[tuple[str, ...], str] = {}  # recipient tuples are shared: dump each once
    return [
        (
            item.target_type,
            item.plan_id,
            item.action_id,
            item.kind,
            item.level,
            item.due_on,
            item.schedule_point,
            item.days_overdue,
            as_json.get(item.recipients)
            or as_json.setdefault(item.recipients, json.dumps(list(item.recipients))),
            _PENDING if item.recipients else _FAILED,
            0,
            "" if item.recipients else NO_RECIPIENTS_ERROR,
        )
        for item in items
    ]


def _insert_reminders(
    items: list[SweepItem], now, arrays: list[str] | None = None
) -> dict[tuple[str, int], int]:
    """INSERT ... RETURNING: the ids of the rows created, keyed by (target type, target
    id). A plain INSERT: the sweep holds its turn (_take_turn), and ON CONFLICT DO
    NOTHING cost a third more at full scale (3.9 s against 2.9 s per 400,000 rows)."""
    if not items:
        return {}
    returned = _bulk_insert(
        Reminder._meta.db_table,
        _REMINDER_COLUMNS,
        [] if arrays is not None else _reminder_rows(items),
        arrays=arrays,
        created_at=now,
        returning="id, target_type, plan_id, action_id",
    )
    return {
        (target_type, action_id if action_id is not None else plan_id): rid
        for rid, target_type, plan_id, action_id in returned
    }


def _insert_messages(result: SweepResult, by_recipient: dict[str, list[int]], now) -> list[int]:
    """One pending message per recipient, listing that person's reminders in the order
    they were recorded; returns the message ids in recipient order."""
    kind = str(MessageKind.REMINDERS)
    rows = [
        (kind, result.sweep_id, result.as_of, email, json.dumps(sorted(ids)), "[]", _PENDING, 0, "")
        for email, ids in sorted(by_recipient.items())
    ]
    returned = _bulk_insert(
        ReminderMessage._meta.db_table,
        _MESSAGE_COLUMNS,
        rows,
        created_at=now,
        returning="id, recipient",
    )
    return [pk for pk, _ in sorted(returned, key=lambda row: row[1])]


def _event_rows(items: list[SweepItem]) -> list[tuple]:
    """The reminders on the plan's and incident's timeline (append-only): one event per
    plan per chunk, naming each of its reminders. The targets come in plan order, so an
    approved plan's overdue actions share one event instead of one each (a third fewer
    timeline rows at full scale)."""
    by_plan: dict[int, list[SweepItem]] = {}
    for item in items:
        by_plan.setdefault(item.plan_id, []).append(item)
    kind = str(EventKind.REMINDER)
    return [
        (group[0].incident_id, plan_id, kind, _event_message(group), "", "")
        for plan_id, group in by_plan.items()
    ]


def _insert_events(items: list[SweepItem], now, arrays: list[str] | None = None) -> None:
    if not items:
        return
    rows = [] if arrays is not None else _event_rows(items)
    _bulk_insert(IncidentEvent._meta.db_table, _EVENT_COLUMNS, rows, arrays=arrays, created_at=now)


EVENT_MAX_ITEMS = 20


def _event_item_text(item: SweepItem) -> str:
    what = (
        "the rectification plan"
        if item.target_type == ReminderTargetType.PLAN
        else f"action \u201c{item.label}\u201d"
    )
    return f"{what}, {_when_text(item.schedule_point < 0, item.days_overdue, item.due_on)}"


@lru_cache(maxsize=4096)
def _when_text(due_soon: bool, days_overdue: int, due_on: date) -> str:
    """`due soon (due 2026-12-01)` / `8 days overdue (due 2026-11-16)`: a few thousand
    distinct texts for a few hundred thousand reminders."""
    if due_soon:
        return f"due soon (due {due_on.isoformat()})"
    days = f"{days_overdue} day{'s' * (days_overdue != 1)}"
    return f"{days} overdue (due {due_on.isoformat()})"


def _event_message(items: list[SweepItem]) -> str:
    """`Level 2 reminder for the rectification plan, 7 days overdue (due ...); to a, b.`
    or, for several reminders about one plan, each named after the highest level."""
    recipients = list(dict.fromkeys(email for item in items for email in item.recipients))
    to = ", ".join(recipients) if recipients else "nobody: no reminder contacts"
    level = max(item.level for item in items)
    if len(items) == 1:
        return f"Level {level} reminder for {_event_item_text(items[0])}; to {to}."
    shown = "; ".join(_event_item_text(item) for item in items[:EVENT_MAX_ITEMS])
    more = len(items) - EVENT_MAX_ITEMS
    if more > 0:
        shown += f"; and {more} more"
    return f"Level {level} reminders ({len(items)}): {shown}; to {to}."


def _candidates(rows: list[TargetRow], as_of: date, resolver: RecipientResolver) -> list[SweepItem]:
    resolver.load_contacts(sid for row in rows for sid in (row[4], row[5]))  # supplier and parent
    out: list[SweepItem] = []
    schedule = resolver.schedule
    for target_type, pid, aid, due_on, sid, parent, iid, ref, owner_email, label in rows:
        days = days_overdue(due_on, as_of)
        step = schedule.get(days)
        if step is None:
            point = latest_point(days)
            step = schedule[days] = (
                point,
                None if point is None else escalation_level(max(point, 0)),
            )
        point, level = step
        if point is None:
            continue
        out.append(
            SweepItem(
                target_type=target_type,
                plan_id=pid,
                action_id=aid,
                incident_id=iid,
                incident_reference=ref,
                label=label,
                due_on=due_on,
                schedule_point=point,
                days_overdue=days,  # negative before the due date (due soon)
                level=level,
                recipients=resolver.recipients(
                    level=level, supplier_id=sid, parent_id=parent, owner_email=owner_email
                ),
            )
        )
    return out


def undelivered_message_ids(*, now=None, exclude_sweep: uuid.UUID | None = None) -> list[int]:
    """Pending messages nobody is handling: never handed to the broker (it was down), or
    handed over long ago and lost; not held by a live send task."""
    now = now or timezone.now()
    qs = ReminderMessage.objects.filter(state=DeliveryState.PENDING)
    if exclude_sweep is not None:
        qs = qs.exclude(sweep_id=exclude_sweep)
    qs = (
        qs.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_AFTER))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("created_at", "id")
    )
    return list(qs.values_list("id", flat=True))


@dataclass(slots=True)
class Batch:
    """A chunk of targets read and the reminders they are due. On PostgreSQL, unless it
    is a dry run, also the reminder and timeline columns as array literals, ready for
    the writer's INSERTs."""

    seen: int
    candidates: list[SweepItem]
    reminder_arrays: list[str] | None = None
    event_arrays: list[str] | None = None


def _candidate_batches(as_of: date, *, prepare: bool = False) -> Iterator[Batch]:
    """The due reminders, a chunk of targets at a time: plans first, then actions."""
    resolver = RecipientResolver()
    # The server-side cursors keep PostgreSQL's fast-start plans (cursor_tuple_fraction
    # 0.1): rows flow to the writer from the start instead of after hash tables over
    # every target are built (1 to 1.5 s of the writer waiting, twice). Reading to the
    # end that way costs the reruns nothing (_nothing_pending answers them first) and a
    # next-day sweep (59,000 reminders at full scale) half: 2.9 s against 5.8 s.
    prepare = prepare and connection.vendor == "postgresql"
    for source in (_plan_targets(as_of), _action_targets(as_of)):
        for rows in _chunks(source, SWEEP_CHUNK):
            batch = Batch(len(rows), _candidates(rows, as_of, resolver))
            if prepare and batch.candidates:
                batch.reminder_arrays = _pg_arrays(
                    _REMINDER_COLUMNS, _reminder_rows(batch.candidates)
                )
                batch.event_arrays = _pg_arrays(_EVENT_COLUMNS, _event_rows(batch.candidates))
            yield batch


_READ_AHEAD = 3  # batches the reader may hold ahead of the writer (memory stays flat)
_SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval) while the reader runs
_DONE = object()


_switching_lock = threading.Lock()
_switching_readers = 0
_switching_restore = 0.0


def _quick_switching(on: bool) -> None:
    """The interpreter's switch interval is the process's: the first reader to start
    shortens it, the last to stop puts back what it was (sweeps on several threads of
    one worker)."""
    global _switching_readers, _switching_restore
    with _switching_lock:
        if on:
            if _switching_readers == 0:
                _switching_restore = sys.getswitchinterval()
                sys.setswitchinterval(min(_switching_restore, _SWITCH_INTERVAL))
            _switching_readers += 1
        else:
            _switching_readers -= 1
            if _switching_readers == 0:
                sys.setswitchinterval(_switching_restore)


def _reader_batches(as_of: date, *, prepare: bool) -> Iterator[Batch]:
    """_candidate_batches run by a thread on a connection of its own, a few batches
    ahead: the targets are read, and the rows built, while this thread waits for the
    database to write the previous batch (two cores busy instead of one taking turns;
    a third of the sweep's time at full scale). The reader works in a read-only
    transaction of its own, started after the writer took its turn (_take_turn): it sees
    every reminder of the sweeps before, which is all the writer needs to know."""
    handoff: queue.Queue = queue.Queue(maxsize=_READ_AHEAD)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION READ ONLY")
                for batch in _candidate_batches(as_of, prepare=prepare):
                    if not hand(batch):
                        return
            hand(_DONE)
        except BaseException as exc:  # handed over and raised by the writer
            hand(exc)
        finally:
            connection.close()  # this thread's own connection

    reader = threading.Thread(target=read, name="reminder-sweep-reader", daemon=True)
    # The writer spends its time waiting for PostgreSQL, the reader computing in Python.
    # Each time a statement returns, the writer waits for the reader to hand over the
    # interpreter lock, by default after up to 5 ms: 400 times a sweep at full scale.
    # A shorter interval while the reader runs saved about 1 s of 13.
    _quick_switching(True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
        _quick_switching(False)


# Sweeps take turns on PostgreSQL under a transaction-level advisory lock with this key
# (a constant nothing else in the database locks: "breach" in ASCII).
SWEEP_LOCK_KEY = 0x627265616368


def _take_turn() -> None:
    """Wait until no other sweep is writing, for the rest of this transaction. Taken
    before any target is read, so that the targets are read with the reminders of the
    previous sweep committed. On SQLite, whose IMMEDIATE transactions (config.settings)
    already write one at a time, there is nothing to take."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])


def run_sweep(
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    enqueue: bool = True,
    keep_items: bool = True,
) -> SweepResult:
    """Record the reminders due on `as_of` (today by default) and queue one message per
    recipient. `dry_run` computes the same result and writes and sends nothing;
    `enqueue=False` records everything but leaves the sends to a later sweep;
    `keep_items=False` counts the reminders without keeping each one in the result
    (the daily task: 400,000 items would hold about 200 MB at full scale)."""
    as_of = as_of or timezone.localdate()
    now = timezone.now()
    result = SweepResult(as_of=as_of, dry_run=dry_run, sweep_id=uuid.uuid4())
    by_recipients: dict[tuple[str, ...], list] = defaultdict(list)
    by_recipient: dict[str, list[int]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    # A reader thread needs its own connection, which sees only committed data: it is
    # used when the sweep has a transaction of its own on PostgreSQL (the daily task, the
    # command), not inside a caller's transaction (tests, SQLite).
    threaded = connection.vendor == "postgresql" and not connection.in_atomic_block

    batches = (
        _reader_batches(as_of, prepare=not dry_run)
        if threaded
        else _candidate_batches(as_of, prepare=not dry_run)
    )
    # closing(): a failure while writing stops and joins the reader there and then,
    # whoever still holds the generator.
    with transaction.atomic(), closing(batches):
        if not dry_run:
            _take_turn()  # before the first batch is read
        for batch in batches:
            candidates = batch.candidates
            result.targets_seen += batch.seen
            if not candidates:
                continue
            if dry_run:
                existing = _existing_keys(candidates[0].target_type, candidates)
                created_items = [
                    c
                    for c in candidates
                    if (_target_id(c), c.due_on, c.schedule_point) not in existing
                ]
            else:
                # Every candidate is new: the targets were read after the previous sweep
                # committed, without those already reminded (a duplicate would raise).
                created = _insert_reminders(candidates, now, batch.reminder_arrays)
                for item in candidates:
                    item.reminder_id = created[(item.target_type, _target_id(item))]
                created_items = candidates
                _insert_events(created_items, now, batch.event_arrays)
            # Grouped by recipient list first (the resolver hands out one tuple per
            # list), then spread per person once at the end: 400,000 appends at full
            # scale instead of one per item per recipient.
            for item in created_items:
                by_recipients[item.recipients].append(item.reminder_id)
            result.created_count += len(created_items)
            if keep_items:
                result.items.extend(created_items)

        for recipients, ids in by_recipients.items():
            for email in recipients:
                counts[email] += len(ids)
                if not dry_run:
                    by_recipient[email].extend(ids)
        result.messages = dict(sorted(counts.items()))
        if dry_run:
            result.requeued_message_ids = undelivered_message_ids(
                now=now, exclude_sweep=result.sweep_id
            )
            return result

        result.message_ids = _insert_messages(result, by_recipient, now)
        if enqueue:
            result.requeued_message_ids = undelivered_message_ids(
                now=now, exclude_sweep=result.sweep_id
            )
            to_send = result.message_ids + result.requeued_message_ids
            if to_send:
                transaction.on_commit(partial(enqueue_messages, to_send))
    logger.info(
        "Reminder sweep %s as of %s: %d targets, %d reminders, %d messages, %d re-queued",
        result.sweep_id,
        as_of,
        result.targets_seen,
        result.created,
        len(result.message_ids),
        len(result.requeued_message_ids),
    )
    return result


# --- Handing sends to the broker ----------------------------------------------------


def enqueue_message(message_id: int) -> None:
    """Hand one send to the broker (raises kombu's OperationalError when it is down)."""
    from .tasks import send_reminder_message

    send_reminder_message.apply_async(args=[message_id])


def enqueue_messages(message_ids: list[int]) -> int:
    """Enqueue the sends (after commit). A broker that is down stops the loop and leaves
    the rest with no `enqueued_at`: the next sweep enqueues them. Never raises."""
    done: list[int] = []
    try:
        for message_id in message_ids:
            enqueue_message(message_id)
            done.append(message_id)
    except Exception:
        logger.exception(
            "Could not enqueue reminder sends (%d of %d queued); the next sweep retries them",
            len(done),
            len(message_ids),
        )
    for batch in _chunks(done, INSERT_BATCH):
        try:
            ReminderMessage.objects.filter(pk__in=batch).update(enqueued_at=timezone.now())
        except Exception:
            logger.exception("Could not stamp enqueued reminder messages")
    return len(done)


# --- Delivery -------------------------------------------------------------------------


class ReminderDeliveryError(Exception):
    """The mail backend refused or failed; the send task retries with backoff."""


def _still_due(reminder: Reminder) -> bool:
    plan = reminder.plan
    if reminder.action_id is None:
        return plan_is_pending(plan) and plan.due_on == reminder.due_on
    action = reminder.action
    return action_is_pending(action, plan.status) and action.due_on == reminder.due_on


def plan_url(plan_id: int) -> str:
    return f"{settings.SITE_URL}/plans/{plan_id}/"


def incident_url(incident_id: int) -> str:
    return f"{settings.SITE_URL}/incidents/{incident_id}/"


def _item_context(reminder: Reminder) -> dict[str, Any]:
    plan = reminder.plan
    incident = plan.incident
    if reminder.action_id is None:
        target = "Rectification plan (submission)"
    else:
        target = f"Action: {reminder.action.description}"
    return {
        "reference": incident.reference,
        "incident_title": incident.title,
        "incident_url": incident_url(incident.pk),
        "target": target,
        "target_type": reminder.target_type,
        "url": plan_url(plan.pk),
        "supplier": plan.supplier.name,
        "due_on": reminder.due_on,
        "due_soon": reminder.schedule_point < 0,
        "days_overdue": reminder.days_overdue,
        "days_left": -reminder.days_overdue if reminder.days_overdue < 0 else 0,
        "level": reminder.level,
        "next_step": next_step_text(
            point=reminder.schedule_point,
            due_on=reminder.due_on,
            has_parent=plan.supplier.parent_id is not None,
        ),
    }


def _reminder_email(message: ReminderMessage, reminders: list[Reminder]) -> EmailMultiAlternatives:
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
    return _email("breaches/email/reminder", context, message.recipient)


def _email(template: str, context: dict, recipient: str) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    mail = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient]
    )
    mail.attach_alternative(html, "text/html")
    return mail


def overdue_by_supplier(as_of: date) -> list[dict[str, Any]]:
    """Everything overdue on `as_of`, grouped by supplier (the weekly digest)."""
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
    for pid, due_on, sid, iid, ref in plans.iterator(SWEEP_CHUNK):
        g = group(sid)
        g["count"] += 1
        if len(g["items"]) < DIGEST_ITEMS_PER_SUPPLIER:
            g["items"].append(
                {
                    "reference": ref,
                    "incident_url": incident_url(iid),
                    "target": "Rectification plan (submission)",
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
    for due_on, description, pid, sid, iid, ref in actions.iterator(SWEEP_CHUNK):
        g = group(sid)
        g["count"] += 1
        if len(g["items"]) < DIGEST_ITEMS_PER_SUPPLIER:
            g["items"].append(
                {
                    "reference": ref,
                    "incident_url": incident_url(iid),
                    "target": f"Action: {description[:120]}",
                    "url": plan_url(pid),
                    "due_on": due_on,
                    "days_overdue": days_overdue(due_on, as_of),
                }
            )
    names = dict(Supplier.objects.filter(pk__in=groups).values_list("id", "name"))
    result = []
    for g in groups.values():
        g["supplier"] = names.get(g["supplier_id"], f"Supplier #{g['supplier_id']}")
        g["more"] = g["count"] - len(g["items"])
        g["items"].sort(key=lambda i: (-i["days_overdue"], i["reference"]))
        result.append(g)
    result.sort(key=lambda g: (-g["count"], g["supplier"].lower()))
    return result


def _digest_email(message: ReminderMessage) -> EmailMultiAlternatives:
    groups = overdue_by_supplier(message.as_of)
    context = {
        "as_of": message.as_of,
        "groups": groups[:DIGEST_MAX_SUPPLIERS],
        "more_suppliers": max(0, len(groups) - DIGEST_MAX_SUPPLIERS),
        "total": sum(g["count"] for g in groups),
        "supplier_count": len(groups),
        "site_url": settings.SITE_URL,
    }
    return _email("breaches/email/weekly_digest", context, message.recipient)


def _claim(message_id: int, now) -> bool:
    """Take the message for this send: only a pending message that no live task holds.
    The conditional update is what keeps a redelivered or duplicated task from mailing
    a second time."""
    return bool(
        ReminderMessage.objects.filter(pk=message_id, state=DeliveryState.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def _roll_up(message: ReminderMessage) -> None:
    """Carry the outcome of the messages of this sweep onto the Reminder rows they cover:
    pending while any recipient's mail is pending, failed if any failed, sent once all
    went out (skipped if every recipient's mail left the item out). Rows are locked in
    id order, so two sends finishing at once see each other's outcome."""
    if not message.reminder_ids:
        return
    reminders = list(
        Reminder.objects.select_for_update()
        .filter(pk__in=message.reminder_ids)
        .order_by("pk")
        .only("pk", "recipients", "state", "attempts", "last_error", "sent_at")
    )
    recipients = {email for r in reminders for email in r.recipients}
    covering = {
        m.recipient: m
        for m in ReminderMessage.objects.filter(
            sweep_id=message.sweep_id, recipient__in=recipients
        ).only("recipient", "state", "attempts", "last_error", "sent_at", "skipped_reminder_ids")
    }
    for reminder in reminders:
        outcomes = []
        errors = []
        attempts = 0
        sent_at = None
        for email in reminder.recipients:
            m = covering.get(email)
            if m is None:
                continue
            attempts = max(attempts, m.attempts)
            if reminder.pk in m.skipped_reminder_ids:
                outcomes.append(DeliveryState.SKIPPED)
                continue
            outcomes.append(m.state)
            if m.last_error:
                errors.append(f"{email}: {m.last_error}")
            if m.sent_at and (sent_at is None or m.sent_at > sent_at):
                sent_at = m.sent_at
        if not outcomes:
            continue
        if DeliveryState.PENDING in outcomes:
            state = DeliveryState.PENDING
        elif DeliveryState.FAILED in outcomes:
            state = DeliveryState.FAILED
        elif DeliveryState.SENT in outcomes:
            state = DeliveryState.SENT
        else:
            state = DeliveryState.SKIPPED
        reminder.state = state
        reminder.attempts = attempts
        reminder.last_error = "\n".join(errors)[:2000]
        reminder.sent_at = sent_at if state == DeliveryState.SENT else None
    Reminder.objects.bulk_update(
        reminders, ["state", "attempts", "last_error", "sent_at"], batch_size=INSERT_BATCH
    )


def deliver_message(*, message_id: int, final_attempt: bool = True) -> str:
    """Send one grouped message, exactly once. Returns the outcome: "sent", "skipped"
    (nothing left that is still due), "failed" (last attempt failed), or "not_claimed"
    (already sent, failed for good, or another task holds it). Raises
    ReminderDeliveryError when the send failed and another attempt should follow."""
    now = timezone.now()
    if not _claim(message_id, now):
        return "not_claimed"
    message = ReminderMessage.objects.get(pk=message_id)
    try:
        if message.kind == MessageKind.DIGEST:
            mail = _digest_email(message)
            skipped: list[int] = []
        else:
            reminders = list(
                Reminder.objects.filter(pk__in=message.reminder_ids)
                .select_related("plan__incident", "plan__supplier", "action")
                .order_by("pk")
            )
            due = [r for r in reminders if _still_due(r)]
            skipped = [r.pk for r in reminders if r not in due]
            mail = _reminder_email(message, due) if due else None
        if mail is not None:
            mail.send(fail_silently=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with transaction.atomic():
            ReminderMessage.objects.filter(pk=message_id).update(
                state=DeliveryState.FAILED if final_attempt else DeliveryState.PENDING,
                claimed_at=None,
                last_error=error,
            )
            message.refresh_from_db()
            _roll_up(message)
        if final_attempt:
            logger.error(
                "Reminder message %s to %s failed for good: %s",
                message_id,
                message.recipient,
                error,
            )
            return "failed"
        raise ReminderDeliveryError(error) from exc
    outcome = DeliveryState.SENT if mail is not None else DeliveryState.SKIPPED
    with transaction.atomic():
        ReminderMessage.objects.filter(pk=message_id).update(
            state=outcome,
            sent_at=timezone.now() if mail is not None else None,
            claimed_at=None,
            last_error="",
            skipped_reminder_ids=skipped,
        )
        message.refresh_from_db()
        _roll_up(message)
    return str(outcome)


# --- Weekly digest --------------------------------------------------------------------


def create_weekly_digest(*, as_of: date | None = None, enqueue: bool = True) -> list[int]:
    """One digest message per compliance manager for `as_of` (unique per day and
    recipient, so a second beat or worker adds nothing), sent after commit."""
    as_of = as_of or timezone.localdate()
    run_id = uuid.uuid4()
    created: list[int] = []
    with transaction.atomic():
        for email in compliance_manager_emails():
            try:
                with transaction.atomic():
                    message = ReminderMessage.objects.create(
                        kind=MessageKind.DIGEST, sweep_id=run_id, as_of=as_of, recipient=email
                    )
            except IntegrityError:
                continue
            created.append(message.pk)
        if enqueue and created:
            transaction.on_commit(partial(enqueue_messages, list(created)))
    return created
