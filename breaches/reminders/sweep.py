"""run_sweep: record the reminders due on a day and queue one message per recipient.

Sweeps take turns (a transaction-level advisory lock on PostgreSQL; SQLite writes one
transaction at a time) and read the targets after taking theirs, so each finds the
reminders of the sweeps before it recorded and creates none of them again; Reminder is
unique per (target, due date, point), so a duplicate that slipped through anyway would
fail the sweep, not be recorded. The messages a sweep means to send, its own and any
left undelivered, are taken for it in its transaction (enqueue.reserve_undelivered) and
handed to the broker after commit (hand_over)."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from datetime import date
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from breaches.models import Reminder

from .bulk import insert_events, insert_messages, insert_reminders
from .enqueue import enqueue_messages, reserve_undelivered, undelivered_message_ids
from .items import SweepItem, SweepResult
from .reader import candidate_batches, reader_batches
from .targets import existing_keys

logger = logging.getLogger(__name__)

# Sweeps take turns on PostgreSQL under a transaction-level advisory lock with this key
# (a constant nothing else in the database locks: "breach" in ASCII).
SWEEP_LOCK_KEY = 0x627265616368


def take_turn() -> None:
    """Wait until no other sweep is writing, for the rest of this transaction. Taken
    before any target is read, so that the targets are read with the reminders of the
    previous sweep committed. On SQLite, whose IMMEDIATE transactions (config.settings)
    already write one at a time, there is nothing to take."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])


def refresh_statistics() -> None:
    """Bring PostgreSQL's statistics of the reminder table up to date before the sweep
    commits (ANALYZE samples the rows this transaction wrote; 0.4 s at full scale).

    The sweep's anti-joins (targets.without_current_reminder) are planned from them. A
    table analyzed while it held plan and action reminders only says that no reminder
    has a penalty; the planner then expects one row on the inner side, materializes the
    penalty reminders and compares every issued penalty with all of them: a same-day
    rerun at full scale ran for more than ten minutes instead of a second. Autovacuum
    would analyze the table eventually, but not before a retried task or the next
    worker's turn, which starts the moment this transaction commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Reminder._meta.db_table}")


def run_sweep(
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    enqueue: bool = True,
    keep_items: bool = True,
    enqueue_after_commit: bool = True,
    on_items: Callable[[list[SweepItem]], None] | None = None,
) -> SweepResult:
    """Record the reminders due on `as_of` (today by default) and queue one message per
    recipient. `dry_run` computes the same result and writes and sends nothing;
    `enqueue=False` records everything but leaves the sends to a later sweep;
    `keep_items=False` counts the reminders without keeping each one in the result
    (the daily task: 400,000 items would hold about 200 MB at full scale);
    `on_items` is handed each batch of the reminders recorded (or, in a dry run, due)
    as it is written, for a caller that shows them without keeping them all.
    `enqueue_after_commit=False` takes the sends for this sweep all the same but leaves
    handing them to the broker to the caller, hand_over(result) once the sweep has
    committed (the command, which reports how many went)."""
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
        reader_batches(as_of, prepare=not dry_run)
        if threaded
        else candidate_batches(as_of, prepare=not dry_run)
    )
    # closing(): a failure while writing stops and joins the reader there and then,
    # whoever still holds the generator.
    with transaction.atomic(), closing(batches):
        if not dry_run:
            take_turn()  # before the first batch is read
        for batch in batches:
            candidates = batch.candidates
            result.targets_seen += batch.seen
            if not candidates:
                continue
            if dry_run:
                existing = existing_keys(candidates[0].target_type, candidates)
                created_items = [
                    c
                    for c in candidates
                    if (c.target_id, c.due_on, c.schedule_point) not in existing
                ]
            else:
                # Every candidate is new: the targets were read after the previous sweep
                # committed, without those already reminded (a duplicate would raise).
                created = insert_reminders(candidates, now, batch.reminder_arrays)
                for item in candidates:
                    item.reminder_id = created[(item.target_type, item.target_id)]
                created_items = candidates
                insert_events(created_items, now, batch.event_arrays)
            # Grouped by recipient list first (the resolver hands out one tuple per
            # list), then spread per person once at the end: 400,000 appends at full
            # scale instead of one per item per recipient.
            for item in created_items:
                by_recipients[item.recipients].append(item.reminder_id)
            result.created_count += len(created_items)
            if keep_items:
                result.items.extend(created_items)
            if on_items is not None:
                on_items(created_items)

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

        result.message_ids = insert_messages(
            result, by_recipient, now, enqueued_at=now if enqueue else None
        )
        if result.created_count:
            refresh_statistics()
        if enqueue:
            # Taken in this transaction: the sweep waiting for its turn, which reads the
            # moment this one commits, must not queue them again.
            result.requeued_message_ids = reserve_undelivered(
                now=now, exclude_sweep=result.sweep_id
            )
            result.reserved_at = now
            if not result.to_enqueue:
                result.queued = 0
            elif enqueue_after_commit:
                transaction.on_commit(partial(hand_over, result))
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


def hand_over(result: SweepResult) -> int:
    """Hand the sends the sweep took to the broker (after it committed); records and
    returns how many the broker took. Those it did not take stay pending, released for
    the next sweep. Never raises."""
    result.queued = enqueue_messages(result.to_enqueue, reserved_at=result.reserved_at)
    return result.queued
