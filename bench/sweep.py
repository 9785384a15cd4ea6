"""One reminder-sweep worker for the benchmark: waits for a shared start instant (so that
several workers race), runs the sweep without enqueuing mail, and prints its time and
peak memory as one JSON line. Run by bench.run, one process per worker."""

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
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from breaches.reminders import run_sweep

    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    started = time.monotonic()
    error = None
    try:
        # As the daily task runs it (counts only), without mailing anything.
        result = run_sweep(as_of=args.as_of, dry_run=False, enqueue=False, keep_items=False)
    except Exception as exc:  # report, do not hide: the parent prints it
        result, error = None, f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    report = {
        "elapsed_s": round(elapsed, 3),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_mb": baseline_mb,
        "created": getattr(result, "created", None),
        "targets_seen": getattr(result, "targets_seen", None),
    }
    if error:
        report["error"] = error
    print("SWEEP_JSON " + json.dumps(report), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
