"""The report figures, kept in the database so that no request counts a whole table
(DESIGN section 8; issue: no request path grows with the data): the beat task
`refresh_report_snapshot` recomputes them every REPORT_SNAPSHOT_SECONDS
(breaches.reports.ScopeFigures.compute_all) into one ReportSnapshot row per scope:
everyone's, which every staff user reads, and one per supplier whose world holds at least
REPORT_SNAPSHOT_MIN_INCIDENTS incidents, which that supplier's users read. A request
reads one row.

Only with report caching on (REPORT_CACHE_SECONDS > 0, production): development and tests
keep live figures, so that every change shows at once.

- No row of everyone's yet (a fresh deployment before beat's first run), or one written by
  another payload version: a staff request computes and stores the figures, once.
- No row for a supplier of the current version: its users get live figures (report_cache
  keeps them a minute). Its world held fewer than REPORT_SNAPSHOT_MIN_INCIDENTS incidents
  at the last refresh, so they are cheap; the busy ones, whose counting grows with the
  data, have a row.
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
from django.db import transaction
from django.utils import timezone

from breaches.models import ReportSnapshot
from breaches.queueing import publish_task
from breaches.reports import EVERYONE, ScopeFigures, supplier_scope_name
from suppliers.selectors import scope_for

logger = logging.getLogger(__name__)

STAFF = EVERYONE  # every staff user sees everything: one shared row
SUPPLIER_ROWS = "supplier-"  # the prefix of supplier_scope_name
REFRESH_QUEUED_KEY = f"report-snapshot:refresh-queued:{STAFF}"
REFRESH_TASK = "breaches.tasks.refresh_report_snapshot"


def serves(user) -> bool:
    """Whether this user's report figures come from the snapshot: caching on, and a scope
    it keeps (staff, or a supplier user's supplier)."""
    if getattr(settings, "REPORT_CACHE_SECONDS", 0) <= 0:
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    scope = scope_for(user)
    return scope.everything or scope.own_supplier_id is not None


def max_age() -> timedelta:
    return timedelta(seconds=settings.REPORT_SNAPSHOT_MAX_AGE)


def refresh() -> ReportSnapshot:
    """Compute every scope's figures now and store them, unless figures computed later
    are already stored (two refreshes overlapping). Returns everyone's, as computed."""
    computed_at = timezone.now()
    started = time.monotonic()
    figures = ScopeFigures.compute_all(
        timezone.localdate(), min_incidents=settings.REPORT_SNAPSHOT_MIN_INCIDENTS
    )
    rows = {
        name: ReportSnapshot(name=name, payload=scope.to_payload(), computed_at=computed_at)
        for name, scope in figures.items()
    }
    stored = _store(rows)
    logger.info(
        "Report snapshot of %d scopes computed in %.2f s%s",
        len(rows),
        time.monotonic() - started,
        "" if stored else " (not stored: newer figures were already there)",
    )
    try:
        cache.delete(REFRESH_QUEUED_KEY)  # fresh again: the next staleness may queue at once
    except Exception:
        logger.warning("Could not clear the queued-refresh mark of the report snapshot")
    return rows[STAFF]


def _store(rows: dict[str, ReportSnapshot]) -> bool:
    """Write every row in one transaction, everyone's first and locked, so that of two
    overlapping refreshes the later one's figures stay; drop the rows of suppliers that
    no longer get one."""
    everyone = rows[STAFF]
    with transaction.atomic():
        current = (
            ReportSnapshot.objects.select_for_update()
            .filter(name=STAFF)
            .values_list("computed_at", flat=True)
            .first()
        )
        if current is not None and current > everyone.computed_at:
            return False
        ReportSnapshot.objects.bulk_create(  # an upsert: rows are replaced whole
            list(rows.values()),
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["payload", "computed_at"],
        )
        ReportSnapshot.objects.filter(
            name__startswith=SUPPLIER_ROWS, computed_at__lt=everyone.computed_at
        ).delete()
    return True


def figures_for(user) -> ScopeFigures | None:
    """The figures of this user's scope for a request: one row read. Everyone's are
    computed here if missing; None for a supplier without a row (a small world: its live
    figures are cheap)."""
    scope = scope_for(user)
    name = STAFF if scope.everything else supplier_scope_name(scope.own_supplier_id)
    snapshot = ReportSnapshot.objects.filter(name=name).first()
    current = snapshot is not None and snapshot.payload.get("version") == ScopeFigures.VERSION
    if not current and name != STAFF:
        return None
    if not current:
        logger.info(
            "No report snapshot %r of version %s yet: computing it", STAFF, ScopeFigures.VERSION
        )
        snapshot = refresh()
    elif snapshot.computed_at < timezone.now() - max_age():
        request_refresh(snapshot)
    return ScopeFigures.from_payload(snapshot.payload)


def request_refresh(stale: ReportSnapshot) -> bool:
    """Queue one refresh of a stale snapshot; True if this call queued it. Never raises."""
    try:
        seconds = settings.REPORT_SNAPSHOT_MAX_AGE
        if not cache.add(REFRESH_QUEUED_KEY, stale.computed_at.isoformat(), timeout=seconds):
            return False
        logger.warning(
            "Report snapshot %r dates from %s (beat or workers down?): queueing a refresh",
            stale.name,
            stale.computed_at.isoformat(),
        )
        # No publish retries: a broker that is down must not hold the request.
        # By name: breaches.tasks imports this module.
        publish_task(REFRESH_TASK, retry=False, expires=seconds)
    except Exception:
        logger.exception("Could not queue a refresh of the report snapshot %r", stale.name)
        return False
    return True
