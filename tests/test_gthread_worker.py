"""config.gthread.BalancedThreadWorker: a worker whose threads are all busy leaves new
connections to a free worker (the stock gthread worker takes them and queues them)."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    port = _free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "tests.slow_wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "config.gthread.BalancedThreadWorker",
            "--threads",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    pids: set[str] = set()
    deadline = time.monotonic() + 20
    while len(pids) < 2 and time.monotonic() < deadline:  # both workers up and listening
        try:
            pids.add(_get(port, "/fast"))
        except OSError:
            time.sleep(0.1)
    assert len(pids) == 2, "gunicorn did not start two workers"
    yield port
    process.terminate()
    process.wait(timeout=30)


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_a_busy_worker_leaves_new_connections_to_the_free_one(server):
    # Each round, one worker is busy on a kept-alive connection; a new client must be
    # served at once by the other. The stock worker sends it to the busy one about half
    # the time (one round in eight rounds passing by chance is 1 in 256).
    for _ in range(8):
        busy = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
        busy.request("GET", "/slow?0.6")
        time.sleep(0.15)  # the request is in a worker's thread
        started = time.monotonic()
        free_pid = _get(server, "/fast")
        waited = time.monotonic() - started
        busy_pid = busy.getresponse().read().decode()
        busy.close()
        assert free_pid != busy_pid
        assert waited < 0.4, f"the new connection waited {waited:.2f} s behind the busy worker"


def test_kept_alive_connections_keep_being_served(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    answers = set()
    for _ in range(20):
        connection.request("GET", "/fast")
        answers.add(connection.getresponse().read().decode())
    connection.close()
    assert len(answers) == 1  # one connection, one worker, twenty answers
