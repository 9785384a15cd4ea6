"""Celery tasks of leak tracing: thin, each loads by id and calls one service. All are
safe to run twice (a ready copy or a finished trace is left alone)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError

from suppliers.models import Disclosure

from . import services

RETRY = {
    "autoretry_for": (DatabaseOperationalError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 3,
    "acks_late": True,
}


@shared_task(name="tracing.tasks.queue_disclosure_copies", **RETRY)
def queue_disclosure_copies(disclosure_id: int) -> int:
    disclosure = Disclosure.objects.select_related("asset").filter(pk=disclosure_id).first()
    if disclosure is None:
        return 0
    return len(services.copies_queue_for_disclosure(disclosure=disclosure))


@shared_task(name=services.MAKE_COPY_TASK, **RETRY)
def make_copy(copy_id: int) -> str:
    return services.copy_make(copy_id=copy_id).status


@shared_task(name=services.RUN_TRACE_TASK, **RETRY)
def run_trace(trace_id: int) -> str:
    trace = services.trace_run(trace_id=trace_id)
    return trace.verdict or trace.status


@shared_task(name="tracing.tasks.requeue_pending")
def requeue_pending() -> dict:
    """The beat's safety net: copies and traces whose message the broker lost."""
    return services.pending_work_requeue()
