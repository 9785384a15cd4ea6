"""The web service's gunicorn, run as the image runs it, answers a new connection at once
while kept-alive clients keep it busy: a new visitor, or the load balancer's /healthz,
must not queue behind them.

The command is the Dockerfile's CMD (compose runs the same config, tests/test_deploy.py),
with tests/slow_wsgi.py for config.wsgi (no database) and a loopback port for 0.0.0.0:8000.
Its worker count is the production one (5: 2 x 2 cores + 1), so 16 clients are 3.2 per
worker, each holding a thread SLOW s per request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")

CLIENTS = 16  # kept-alive connections, each asking /slow again as soon as it is answered
SLOW = 0.2  # seconds a /slow request holds its thread (a slow page, a slow query)
PROBES = 30  # new connections asking the fast path, one at a time
PROBE_GAP = 0.1  # seconds between two probes
PROBE_TIMEOUT = 5.0  # a probe waiting this long is counted at what it waited
PROBING_FOR = 12.0  # seconds at most for all the probes
P99_LIMIT = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def image_command(port: int, app: str = "tests.slow_wsgi:app") -> list[str]:
    """The Dockerfile's CMD, serving `app` on 127.0.0.1:`port`."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (\[.*\])\s*$", dockerfile, re.MULTILINE).group(1))
    assert command[0] == "gunicorn"
    args, rest = [], iter(command[1:])
    for arg in rest:
        if arg in ("--bind", "-b"):
            next(rest)
        elif arg.startswith("--bind="):
            continue
        else:
            args.append(app if arg == "config.wsgi:application" else arg)
    assert app in args, "the CMD does not serve config.wsgi:application"
    return [str(GUNICORN), *args, "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]


def start_gunicorn(command: list[str], port: int) -> subprocess.Popen:
    # The configuration's own defaults: no GUNICORN_* from the shell running the tests.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUNICORN_")}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the access log
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            _get(port, "/healthz", timeout=2)
            time.sleep(0.5)  # the other workers booting
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    stop_gunicorn(process)
    raise AssertionError(f"gunicorn did not answer on :{port}: {command}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _get(port: int, path: str, timeout: float) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, response.status
        return body
    finally:
        connection.close()


def _keep_alive_client(port: int, slow: float, stop: threading.Event, served: list) -> None:
    """One connection asking /slow until told to stop (http.client reconnects by itself
    if the server closes it), 400 requests or 40 s at most."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT * 2)
    deadline = time.monotonic() + 40
    try:
        for _ in range(400):
            if stop.is_set() or time.monotonic() > deadline:
                break
            connection.request("GET", f"/slow?{slow}")
            connection.getresponse().read()
            served.append(time.monotonic())
    except (OSError, http.client.HTTPException):
        pass  # counted by what it was served
    finally:
        connection.close()


def nearest_rank(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def measure(port: int, clients: int = CLIENTS, slow: float = SLOW) -> dict:
    """Seconds each new connection took to be answered on the fast path while `clients`
    kept-alive connections ask /slow?`slow`, and how many slow requests were served."""
    stop = threading.Event()
    served: list[float] = []
    threads = [
        threading.Thread(target=_keep_alive_client, args=(port, slow, stop, served), daemon=True)
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(slow * 2, 0.5))  # every client connected and busy
    waits: list[float] = []
    started_probing = time.monotonic()
    try:
        for _ in range(PROBES):
            if time.monotonic() - started_probing > PROBING_FOR:
                break
            started = time.monotonic()
            # A probe that times out counts at what it waited.
            with contextlib.suppress(OSError, http.client.HTTPException):
                _get(port, "/healthz", timeout=PROBE_TIMEOUT)
            waits.append(time.monotonic() - started)
            time.sleep(PROBE_GAP)
        probing = time.monotonic() - started_probing
        during = sum(1 for at in served if at >= started_probing)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=PROBE_TIMEOUT * 2 + 1)
    return {
        "probes": len(waits),
        "p50": nearest_rank(waits, 0.5),
        "p99": nearest_rank(waits, 0.99),
        "max": max(waits),
        "slow_per_s": during / probing,
    }


@pytest.fixture
def server():
    port = _free_port()
    process = start_gunicorn(image_command(port), port)
    try:
        yield port
    finally:
        stop_gunicorn(process)


def test_a_new_connection_is_answered_while_kept_alive_clients_are_busy(server):
    result = measure(server)
    summary = (
        f"{result['probes']} new connections under {CLIENTS} kept-alive clients: "
        f"p50 {result['p50']:.3f} s, p99 {result['p99']:.3f} s, max {result['max']:.3f} s; "
        f"{result['slow_per_s']:.0f} slow requests/s served"
    )
    assert result["p99"] < P99_LIMIT, summary
    # The clients were served all along, not held off while the probes went through.
    assert result["slow_per_s"] > CLIENTS / SLOW / 4, summary
