"""Handing sends to the broker. A run that means to enqueue messages (a sweep, the
weekly digest) stamps their `enqueued_at` in its own transaction, so that the sweep after
it, which may start the moment it commits, leaves them alone; it publishes them after
commit, and puts the stamp back to none for any the broker did not take, for the next
sweep to enqueue. A stamp older than REQUEUE_AFTER on a message still pending means the
send was lost (in the broker, or with the process that was to publish it): the next
sweep enqueues it again.

Tasks are published by name: breaches.tasks imports this package, not the reverse."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from breaches.choices import DeliveryState
from breaches.models import ReminderMessage
from breaches.queueing import publish_task
from config.iteration import batched

from .bulk import INSERT_BATCH

logger = logging.getLogger(__name__)

SEND_TASK = "breaches.tasks.send_reminder_message"
SEND_BATCH_TASK = "breaches.tasks.send_reminder_messages"
# Messages handed to the broker per task: publishing a task costs the publisher more than
# sending a message costs the worker, and one task a message made the hand-over after a
# full-scale sweep take about as long as the sweep (docs/benchmarks.md, session 10).
SEND_BATCH = 100
# A send task holds its message this long; after that a re-enqueued send may take it
# over (the worker died between claiming and mailing).
CLAIM_LEASE = timedelta(minutes=30)
# A pending message handed to the broker this long ago without being sent was lost
# (the broker's visibility timeout is one hour); the next sweep enqueues it again.
REQUEUE_AFTER = timedelta(hours=2)


def enqueue_batch(message_ids: list[int]) -> None:
    """Hand one task sending these messages to the broker (raises kombu's
    OperationalError when it is down)."""
    publish_task(SEND_BATCH_TASK, args=[message_ids])


def enqueue_messages(message_ids: list[int], *, reserved_at: datetime | None = None) -> int:
    """Enqueue the sends (after commit), SEND_BATCH messages a task, and return how many
    messages the broker took. A broker that is down stops the loop; the rest are released
    (their `enqueued_at` back to none where it is still `reserved_at`, the caller's
    stamp) for the next sweep. Never raises."""
    done: list[int] = []
    try:
        for batch in batched(message_ids, SEND_BATCH):
            enqueue_batch(batch)
            done.extend(batch)
    except Exception:
        logger.exception(
            "Could not enqueue reminder sends (%d of %d queued); the next sweep retries them",
            len(done),
            len(message_ids),
        )
    for batch in batched(done, INSERT_BATCH):
        try:
            ReminderMessage.objects.filter(pk__in=batch).update(enqueued_at=timezone.now())
        except Exception:
            logger.exception("Could not stamp enqueued reminder messages")
    if reserved_at is not None:
        for batch in batched(message_ids[len(done) :], INSERT_BATCH):
            try:
                ReminderMessage.objects.filter(pk__in=batch, enqueued_at=reserved_at).update(
                    enqueued_at=None
                )
            except Exception:
                logger.exception(
                    "Could not release unsent reminder messages; they are re-queued after %s",
                    REQUEUE_AFTER,
                )
    return len(done)


def undelivered_message_ids(*, now=None, exclude_sweep: uuid.UUID | None = None) -> list[int]:
    """Pending messages nobody is handling: never taken for the broker (or released when
    it was down), or taken long ago and lost; not held by a live send task."""
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


def reserve_undelivered(*, now: datetime, exclude_sweep: uuid.UUID) -> list[int]:
    """undelivered_message_ids, taken for this run's hand-over: stamped `now` in the
    caller's transaction. Sweeps take turns, so the next one, reading after this one
    committed, finds them taken (until REQUEUE_AFTER, if they are lost again)."""
    ids = undelivered_message_ids(now=now, exclude_sweep=exclude_sweep)
    for batch in batched(ids, INSERT_BATCH):
        ReminderMessage.objects.filter(pk__in=batch).update(enqueued_at=now)
    return ids
