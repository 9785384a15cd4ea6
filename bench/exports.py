"""`make bench-export`: how an export of every incident behaves at scale (DESIGN 13,
issue: 1,000,000 incidents stream with peak memory under 200 MB and start within 1 s).

Steps: migrate and seed the bench database (seed_scale, like bench.run) when it is empty,
serve the app with gunicorn (one worker, so that its memory is the export's), then
download `/api/v1/incidents/?format=csv` (and `xlsx`) as the admin, printing the time to
the first byte of the body, the total time, the bytes and rows received, and the
worker's peak resident memory (VmHWM) before and after.

Environment: EXPORT_ROWS (incidents to seed, 100000 by default; SQLite holds at most
100,000: give a PostgreSQL DATABASE_URL for 1,000,000), DATABASE_URL (default: a SQLite
file var/bench/export.sqlite3), EXPORT_FORMATS (csv,xlsx), BENCH_PORT (8401),
BENCH_RESEED=1 (empty and reseed when the database holds another scale).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 200
FIRST_BYTE_LIMIT_S = 1.0


def _configure() -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var/bench/export.sqlite3'}")
    os.environ.setdefault("BENCH_INCIDENTS", os.environ.get("EXPORT_ROWS", "100000"))
    os.environ.setdefault("BENCH_PORT", "8401")
    os.environ.setdefault("BENCH_WORKERS", "1")
    os.environ.setdefault("BENCH_THREADS", "2")
    (ROOT / "var/bench").mkdir(parents=True, exist_ok=True)


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise RuntimeError("gunicorn started no worker")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _admin_token() -> str:
    """An API token of an admin made for the bench (bench.run makes the same one)."""
    from rest_framework.authtoken.models import Token

    from suppliers.models import User

    user = User.objects.filter(username="bench-admin").first() or User(username="bench-admin")
    user.role, user.is_staff, user.is_superuser, user.is_active = "admin", True, True, True
    user.email = "bench-admin@bench.example.com"
    user.set_unusable_password()
    user.save()
    return Token.objects.get_or_create(user=user)[0].key


def download(port: int, path: str, token: str) -> dict:
    """GET `path`, reading the body in 64 KB blocks; times from the request sent."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    started = time.monotonic()
    connection.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    first = None
    size = lines = 0
    while block := response.read(65536):
        if first is None:
            first = time.monotonic() - started
        size += len(block)
        lines += block.count(b"\n")
    total = time.monotonic() - started
    connection.close()
    return {
        "status": response.status,
        "first_byte_s": first,
        "total_s": total,
        "bytes": size,
        "lines": lines,
    }


def main() -> int:
    _configure()
    sys.path.insert(0, str(ROOT))
    from bench.run import Config, Server, django_setup, log, seed

    cfg = Config.from_env()
    env = cfg.django_env()
    log(f"database: {cfg.database_url.split('@')[-1]}; incidents wanted: {cfg.incidents:,}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    django_setup(cfg)
    from breaches.models import Incident

    count = Incident.objects.count()
    if count != cfg.incidents:
        if count and not cfg.reseed:
            log(f"the database holds {count:,} incidents; BENCH_RESEED=1 reseeds it")
        else:
            seed(cfg, force=bool(count))
    count = Incident.objects.count()
    token = _admin_token()
    from django.db import connections

    connections.close_all()

    server = Server(cfg, ROOT / "var/bench")
    server.start()
    results = []
    try:
        worker = _worker_pid(server.process.pid)
        download(cfg.port, "/api/v1/incidents/?page_size=50", token)  # warm
        before = _peak_rss_mb(worker)
        log(f"worker {worker}: peak RSS {before:.0f} MB after a page of the list")
        for fmt in os.environ.get("EXPORT_FORMATS", "csv,xlsx").split(","):
            log(f"exporting {count:,} incidents as {fmt}")
            result = download(cfg.port, f"/api/v1/incidents/?format={fmt}", token)
            result.update(format=fmt, peak_rss_mb=_peak_rss_mb(worker))
            results.append(result)
            log(
                f"{fmt}: HTTP {result['status']}, first byte {result['first_byte_s']:.3f} s, "
                f"total {result['total_s']:.1f} s, {result['bytes'] / 1e6:.1f} MB, "
                f"{result['lines']:,} lines, worker peak RSS {result['peak_rss_mb']:.0f} MB"
            )
    finally:
        server.stop()

    print()
    print(f"Export of {count:,} incidents ({connections['default'].vendor})")
    print(f"{'format':<7}{'first byte':>12}{'total':>10}{'MB':>9}{'rows':>12}{'peak RSS':>11}")
    ok = True
    for r in results:
        rows = r["lines"] - 1 if r["format"] == "csv" else None
        print(
            f"{r['format']:<7}{r['first_byte_s']:>11.3f}s{r['total_s']:>9.1f}s"
            f"{r['bytes'] / 1e6:>9.1f}{rows if rows is not None else '-':>12}"
            f"{r['peak_rss_mb']:>9.0f}MB"
        )
        if r["format"] == "csv":
            met_memory = r["peak_rss_mb"] < LIMIT_MB
            met_start = r["first_byte_s"] < FIRST_BYTE_LIMIT_S
            ok = ok and met_memory and met_start and r["status"] == 200
            print(
                f"  target: peak RSS under {LIMIT_MB} MB: {'met' if met_memory else 'NOT met'}; "
                f"first byte within {FIRST_BYTE_LIMIT_S:.0f} s: "
                f"{'met' if met_start else 'NOT met'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
