"""One reminder-sweep worker for the benchmark: waits for a shared start instant (so that
several workers race), runs the sweep and prints its time and peak memory as one JSON
line. Run by bench.run, one process per worker.

`--path` says which way in: `bench` (run_sweep without enqueueing the sends, the figure
of earlier sessions), `task` (the daily Celery task as beat's worker runs it, in this
process: the sweep, then its sends handed to the broker of CELERY_BROKER_URL after
commit) or `command` (`manage.py send_reminders` as a person runs it, output to
/dev/null)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import date


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--path", choices=("bench", "task", "command"), default="bench")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from breaches.reminders import run_sweep
    from breaches.tasks import run_reminder_sweep

    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    started = time.monotonic()
    error = None
    created = queued = None
    try:
        if args.path == "task":
            outcome = run_reminder_sweep.apply(kwargs={"as_of": args.as_of.isoformat()})
            summary = outcome.get()  # raises what the task raised
            created, queued = summary["reminders"], summary["queued"]
        elif args.path == "command":
            with open(os.devnull, "w") as sink:
                call_command("send_reminders", as_of=args.as_of.isoformat(), stdout=sink)
        else:
            # As the daily task runs it (counts only), without mailing anything.
            result = run_sweep(as_of=args.as_of, dry_run=False, enqueue=False, keep_items=False)
            created = result.created
    except Exception as exc:  # report, do not hide: the parent prints it
        error = f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    report = {
        "elapsed_s": round(elapsed, 3),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_mb": baseline_mb,
        "created": created,
        "queued": queued,
        "path": args.path,
    }
    if error:
        report["error"] = error
    print("SWEEP_JSON " + json.dumps(report), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
