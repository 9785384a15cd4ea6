"""The sweep's writes: reminders, timeline events and messages inserted many rows per
statement. On PostgreSQL one INSERT ... SELECT FROM unnest(...) per call, each column
passed as one array literal (built here with str.join, possibly on the reader thread);
on SQLite multi-row VALUES in batches."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection

from breaches.choices import MessageKind
from breaches.models import IncidentEvent, Reminder, ReminderMessage
from config.iteration import batched

from .events import event_rows
from .items import FAILED, PENDING, SweepItem, SweepResult

INSERT_BATCH = 500

NO_RECIPIENTS_ERROR = "Not sent: nobody to notify (the supplier has no reminder contacts)."

# (column, PostgreSQL type) of what the sweep writes; the rest take their defaults.
REMINDER_COLUMNS = (
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
    ("penalty_id", "bigint"),
)
MESSAGE_COLUMNS = (
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
EVENT_COLUMNS = (
    ("incident_id", "bigint"),
    ("plan_id", "bigint"),
    ("kind", "varchar"),
    ("message", "text"),
    ("from_status", "varchar"),
    ("to_status", "varchar"),
    ("penalty_id", "bigint"),
)

_NUMERIC_TYPES = frozenset({"bigint", "integer", "smallint"})


def pg_array_literal(values: list, pg_type: str) -> str:
    """A PostgreSQL array literal (`{1,2,NULL}`, `{"a \\"b\\"",NULL}`) of one column.
    Built with str.join, it costs a tenth of psycopg's per-element array dumping, and
    can be built on another thread than the one that writes (see reader.reader_batches)."""
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


def pg_arrays(columns: tuple[tuple[str, str], ...], rows: list[tuple]) -> list[str]:
    """One array literal per column of `rows`."""
    return [
        pg_array_literal(list(values), pg_type)
        for (_, pg_type), values in zip(columns, zip(*rows, strict=True), strict=True)
    ]


def bulk_insert(
    table: str,
    columns: tuple[tuple[str, str], ...],
    rows: list[tuple],
    *,
    stamps: Mapping[str, datetime | None],
    arrays: list[str] | None = None,
    returning: str = "",
) -> list[tuple]:
    """Insert many rows in few statements. On PostgreSQL one statement per call, the
    values passed as one array per column (`SELECT ... FROM unnest(...)`): a handful of
    parameters however many rows, which keeps a sweep over 150,000 targets fast.
    `arrays`, when given (PostgreSQL only), are those columns already built by
    pg_arrays and `rows` is not read. On SQLite, multi-row VALUES in batches. Values are
    plain (JSON as text, dates as dates); `stamps` are timestamp columns with the same
    value for every row (created_at; a message's enqueued_at)."""
    if not rows and arrays is None:
        return []
    qn = connection.ops.quote_name
    names = ", ".join([*(qn(name) for name, _ in columns), *(qn(name) for name in stamps)])
    tail = f" RETURNING {returning}" if returning else ""
    out: list[tuple] = []
    if connection.vendor == "postgresql":
        if arrays is None:
            arrays = pg_arrays(columns, rows)
        unnest = ", ".join(f"%s::{pg_type}[]" for _, pg_type in columns)
        stamped = ", ".join(["%s::timestamptz"] * len(stamps))
        sql = (
            f"INSERT INTO {qn(table)} ({names}) "  # noqa: S608 (names are ours)
            f"SELECT *, {stamped} FROM unnest({unnest})" + tail
        )
        connection.ensure_connection()
        # A server-side-binding cursor on Django's own connection (same transaction):
        # the arrays travel as parameters instead of being quoted into the SQL text.
        with psycopg.Cursor(connection.connection) as cursor:
            # The stamps' placeholders come first in the text.
            cursor.execute(sql, [*stamps.values(), *arrays])
            if returning:
                out.extend(cursor.fetchall())
        return out
    with connection.cursor() as cursor:
        stamp_values = [connection.ops.adapt_datetimefield_value(v) for v in stamps.values()]
        row_sql = "(" + ", ".join(["%s"] * (len(columns) + len(stamps))) + ")"
        dates = [i for i, (_, pg_type) in enumerate(columns) if pg_type == "date"]
        uuids = [i for i, (_, pg_type) in enumerate(columns) if pg_type == "uuid"]
        for batch in batched(rows, INSERT_BATCH):
            params: list[Any] = []
            for row in batch:
                values = list(row)
                for i in dates:
                    values[i] = values[i].isoformat()
                for i in uuids:
                    values[i] = values[i].hex  # Django's UUIDField on SQLite: char(32)
                params.extend(values)
                params.extend(stamp_values)
            sql = (
                f"INSERT INTO {qn(table)} ({names}) VALUES "  # noqa: S608 (names are ours)
                + ", ".join([row_sql] * len(batch))
                + tail
            )
            cursor.execute(sql, params)
            if returning:
                out.extend(cursor.fetchall())
    return out


def reminder_rows(items: list[SweepItem]) -> list[tuple]:
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
            PENDING if item.recipients else FAILED,
            0,
            "" if item.recipients else NO_RECIPIENTS_ERROR,
            item.penalty_id,
        )
        for item in items
    ]


def insert_reminders(
    items: list[SweepItem], now: datetime, arrays: list[str] | None = None
) -> dict[tuple[str, int], int]:
    """INSERT ... RETURNING: the ids of the rows created, keyed by (target type, target
    id). A plain INSERT: the sweep holds its turn (sweep.take_turn), and ON CONFLICT DO
    NOTHING cost a third more at full scale (3.9 s against 2.9 s per 400,000 rows)."""
    if not items:
        return {}
    returned = bulk_insert(
        Reminder._meta.db_table,
        REMINDER_COLUMNS,
        [] if arrays is not None else reminder_rows(items),
        arrays=arrays,
        stamps={"created_at": now},
        returning="id, target_type, plan_id, action_id, penalty_id",
    )
    return {
        (target_type, _target_id(plan_id, action_id, penalty_id)): rid
        for rid, target_type, plan_id, action_id, penalty_id in returned
    }


def _target_id(plan_id: int | None, action_id: int | None, penalty_id: int | None) -> int:
    """SweepItem.target_id of a row read back."""
    if penalty_id is not None:
        return penalty_id
    return action_id if action_id is not None else plan_id


def insert_events(items: list[SweepItem], now: datetime, arrays: list[str] | None = None) -> None:
    if not items:
        return
    rows = [] if arrays is not None else event_rows(items)
    bulk_insert(
        IncidentEvent._meta.db_table, EVENT_COLUMNS, rows, arrays=arrays, stamps={"created_at": now}
    )


def insert_messages(
    result: SweepResult,
    by_recipient: dict[str, list[int]],
    now: datetime,
    *,
    enqueued_at: datetime | None,
) -> list[int]:
    """One pending message per recipient, listing that person's reminders in the order
    they were recorded; returns the message ids in recipient order. `enqueued_at` set:
    the messages are this sweep's to hand to the broker (no other sweep re-queues them)."""
    kind = str(MessageKind.REMINDERS)
    rows = [
        (kind, result.sweep_id, result.as_of, email, json.dumps(sorted(ids)), "[]", PENDING, 0, "")
        for email, ids in sorted(by_recipient.items())
    ]
    returned = bulk_insert(
        ReminderMessage._meta.db_table,
        MESSAGE_COLUMNS,
        rows,
        stamps={"created_at": now, "enqueued_at": enqueued_at},
        returning="id, recipient",
    )
    return [pk for pk, _ in sorted(returned, key=lambda row: row[1])]
