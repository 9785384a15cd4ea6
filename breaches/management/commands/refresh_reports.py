"""`python manage.py refresh_reports`: recompute the report figures of every scope (the
summary report and the dashboard, everyone's and each supplier's) now, as the beat task
does every REPORT_SNAPSHOT_SECONDS. The benchmark runs it before measuring; after a bulk
load it spares the first request the inline computation."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from breaches import report_snapshot


class Command(BaseCommand):
    help = "Recompute and store the report figures of every scope (summary, dashboard)."

    def handle(self, *args, **options):
        started = time.monotonic()
        snapshot = report_snapshot.refresh()
        self.stdout.write(
            f"Report snapshots computed at {snapshot.computed_at.isoformat()} "
            f"in {time.monotonic() - started:.2f} s."
        )
