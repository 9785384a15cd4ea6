"""The staff report figures, kept in the database so that no request counts a whole
table (DESIGN section 8): the beat task `refresh_report_snapshot` recomputes them every
REPORT_SNAPSHOT_SECONDS into one ReportSnapshot row, and the staff summary report and
dashboard read that row (breaches.reports.StaffFigures turns it into the day's figures).

Only with report caching on (REPORT_CACHE_SECONDS > 0, production): development and tests
keep live figures, so that every change shows at once. Supplier users' figures are
scoped, cheap, and stay per request (report_cache).

- No row yet (a fresh deployment before beat's first run), or one written by another
  payload version: the request computes and stores it, once.
- A row older than REPORT_SNAPSHOT_MAX_AGE (beat or the workers stopped): served all the
  same, and one refresh is queued (one per REPORT_SNAPSHOT_MAX_AGE across processes,
  through the shared cache). A request never waits for a recount; a broker that is down
  costs a log line, not an error."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from breaches.models import ReportSnapshot
from breaches.queueing import publish_task
from breaches.reports import StaffFigures
from suppliers.selectors import scope_for

logger = logging.getLogger(__name__)

STAFF = "all"  # the scope key of report_cache: everything, as every staff user sees it
REFRESH_QUEUED_KEY = f"report-snapshot:refresh-queued:{STAFF}"
REFRESH_TASK = "breaches.tasks.refresh_report_snapshot"


def serves(user) -> bool:
    """Whether this user's report figures come from the snapshot: staff, caching on."""
    return (
        getattr(settings, "REPORT_CACHE_SECONDS", 0) > 0
        and getattr(user, "is_authenticated", False)
        and scope_for(user).everything
    )


def max_age() -> timedelta:
    return timedelta(seconds=settings.REPORT_SNAPSHOT_MAX_AGE)


def refresh() -> ReportSnapshot:
    """Compute the staff figures now and store them, unless figures computed later are
    already stored (two refreshes overlapping). Returns what this run computed."""
    computed_at = timezone.now()
    started = time.monotonic()
    snapshot = ReportSnapshot(
        name=STAFF, payload=StaffFigures.compute().to_payload(), computed_at=computed_at
    )
    stored = _store(snapshot)
    logger.info(
        "Report snapshot %r computed in %.2f s%s",
        STAFF,
        time.monotonic() - started,
        "" if stored else " (not stored: newer figures were already there)",
    )
    try:
        cache.delete(REFRESH_QUEUED_KEY)  # fresh again: the next staleness may queue at once
    except Exception:
        logger.warning("Could not clear the queued-refresh mark of the report snapshot")
    return snapshot


def _store(snapshot: ReportSnapshot) -> bool:
    updated = ReportSnapshot.objects.filter(
        name=snapshot.name, computed_at__lte=snapshot.computed_at
    ).update(payload=snapshot.payload, computed_at=snapshot.computed_at)
    if updated:
        return True
    try:
        with transaction.atomic():
            snapshot.save(force_insert=True)
    except IntegrityError:
        return False  # the row exists with later figures (or another process just made it)
    return True


def staff_figures() -> StaffFigures:
    """The staff figures for a request: one row read, computed here only if missing."""
    snapshot = ReportSnapshot.objects.filter(name=STAFF).first()
    if snapshot is None or snapshot.payload.get("version") != StaffFigures.VERSION:
        logger.info(
            "No report snapshot %r of version %s yet: computing it", STAFF, StaffFigures.VERSION
        )
        snapshot = refresh()
    elif snapshot.computed_at < timezone.now() - max_age():
        request_refresh(snapshot)
    return StaffFigures.from_payload(snapshot.payload)


def request_refresh(stale: ReportSnapshot) -> bool:
    """Queue one refresh of a stale snapshot; True if this call queued it. Never raises."""
    try:
        seconds = settings.REPORT_SNAPSHOT_MAX_AGE
        if not cache.add(REFRESH_QUEUED_KEY, stale.computed_at.isoformat(), timeout=seconds):
            return False
        logger.warning(
            "Report snapshot %r dates from %s (beat or workers down?): queueing a refresh",
            STAFF,
            stale.computed_at.isoformat(),
        )
        # No publish retries: a broker that is down must not hold the request.
        # By name: breaches.tasks imports this module.
        publish_task(REFRESH_TASK, retry=False, expires=seconds)
    except Exception:
        logger.exception("Could not queue a refresh of the report snapshot %r", STAFF)
        return False
    return True
