"""The database's floor for the benchmark: the SQL of the incidents page replayed through
psycopg, as the app sends it (server-side binding, prepared after the first runs), by 1
or N client processes for a fixed time. Prints one JSON line: requests, requests per
second and latency percentiles in microseconds. Run by bench.run.

    python -m bench.rawsql --dsn postgresql://... --script page.json --clients 10 --duration 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time


def _client(dsn: str, statements: list[list], duration: float, start_at: float, out) -> None:
    import psycopg

    latencies: list[int] = []
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=1) as conn:
        delay = start_at - time.time()
        if delay > 0:
            time.sleep(delay)
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            began = time.perf_counter_ns()
            for sql, params in statements:
                conn.execute(sql, params).fetchall()
            latencies.append((time.perf_counter_ns() - began) // 1000)
    out.put(latencies)


def run(dsn: str, statements: list[list], clients: int, duration: float) -> dict:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start_at = time.time() + 1.0  # every client starts at the same instant, connected
    workers = [
        context.Process(target=_client, args=(dsn, statements, duration, start_at, out))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    latencies = sorted(x for _ in workers for x in out.get())
    for worker in workers:
        worker.join()

    def pct(p: float) -> float:
        return float(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))])

    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "p50_us": pct(50) if latencies else 0.0,
        "p99_us": pct(99) if latencies else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--script", required=True, help="JSON list of [sql, params]")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    with open(args.script) as handle:
        statements = json.load(handle)
    result = run(args.dsn, statements, args.clients, args.duration)
    print("RAWSQL_JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
