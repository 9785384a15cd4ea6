"""The sweep's reading side: the targets turned into the reminders they are due (point,
level, recipients), a chunk at a time, and, for a sweep in a transaction of its own on
PostgreSQL, read by a thread of its own a few chunks ahead of the writes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from breaches.selectors import days_overdue, escalation_level

from .bulk import EVENT_COLUMNS, REMINDER_COLUMNS, pg_arrays, reminder_rows
from .events import event_rows
from .items import SweepItem
from .recipients import RecipientResolver
from .schedule import latest_point
from .targets import TargetRow, target_chunks


def candidates(rows: list[TargetRow], as_of: date, resolver: RecipientResolver) -> list[SweepItem]:
    """The reminders `rows` are due on `as_of`: the latest schedule point each reached,
    its level and who is told (targets before the due-soon notice are left out)."""
    resolver.load_contacts(sid for row in rows for sid in (row[4], row[5]))  # supplier and parent
    out: list[SweepItem] = []
    schedule = resolver.schedule
    for target_type, pid, aid, due_on, sid, parent, iid, ref, owner_email, label, nid in rows:
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
                penalty_id=nid,
                level=level,
                recipients=resolver.recipients(
                    level=level, supplier_id=sid, parent_id=parent, owner_email=owner_email
                ),
            )
        )
    return out


@dataclass(slots=True)
class Batch:
    """A chunk of targets read and the reminders they are due. On PostgreSQL, unless it
    is a dry run, also the reminder and timeline columns as array literals, ready for
    the writer's INSERTs."""

    seen: int
    candidates: list[SweepItem]
    reminder_arrays: list[str] | None = None
    event_arrays: list[str] | None = None


def candidate_batches(as_of: date, *, prepare: bool = False) -> Iterator[Batch]:
    """The due reminders, a chunk of targets at a time: plans first, then actions."""
    resolver = RecipientResolver()
    # The server-side cursors keep PostgreSQL's fast-start plans (cursor_tuple_fraction
    # 0.1): rows flow to the writer from the start instead of after hash tables over
    # every target are built (1 to 1.5 s of the writer waiting, twice). Reading to the
    # end that way costs the reruns nothing (targets.nothing_pending answers them first)
    # and a next-day sweep (59,000 reminders at full scale) half: 2.9 s against 5.8 s.
    prepare = prepare and connection.vendor == "postgresql"
    for rows in target_chunks(as_of):
        batch = Batch(len(rows), candidates(rows, as_of, resolver))
        if prepare and batch.candidates:
            batch.reminder_arrays = pg_arrays(REMINDER_COLUMNS, reminder_rows(batch.candidates))
            batch.event_arrays = pg_arrays(EVENT_COLUMNS, event_rows(batch.candidates))
        yield batch


_READ_AHEAD = 3  # batches the reader may hold ahead of the writer (memory stays flat)
_DONE = object()


def reader_batches(as_of: date, *, prepare: bool) -> Iterator[Batch]:
    """candidate_batches run by a thread on a connection of its own, a few batches
    ahead: the targets are read, and the rows built, while this thread waits for the
    database to write the previous batch (two cores busy instead of one taking turns;
    a third of the sweep's time at full scale). The reader works in a read-only
    transaction of its own, started after the writer took its turn (sweep.take_turn): it
    sees every reminder of the sweeps before, which is all the writer needs to know."""
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
                for batch in candidate_batches(as_of, prepare=prepare):
                    if not hand(batch):
                        return
            hand(_DONE)
        except BaseException as exc:  # handed over and raised by the writer
            hand(exc)
        finally:
            connection.close()  # this thread's own connection

    reader = threading.Thread(target=read, name="reminder-sweep-reader", daemon=True)
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
