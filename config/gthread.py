"""gunicorn's threaded worker, accepting a connection only while one of its threads is free.

The stock `gthread` worker accepts every connection it is woken for, busy or not
(benoitc/gunicorn#3433): under keep-alive a connection stays with the worker that took
it, so ten clients on five one-thread workers were seen spread 10, 7/1/1/1 or 8/1/1,
with requests queued behind one busy worker while others idled (the incidents list
served 299 requests/s at 10 connections with all ten on one worker, and its p99 was 137
to 158 ms at 7/1/1/1). This worker stops listening while all its threads are taken and
listens again as one comes free, so a new connection goes to a worker that can serve it
now: always 2/2/2/2/2, p99 32 to 37 ms in the same minutes. Nothing else changes:
keep-alive, timeouts and `worker_connections` work as in gthread.

    gunicorn config.wsgi:application --worker-class config.gthread.BalancedThreadWorker
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Requests handed to the thread pool and not finished yet. Only the worker's main
        # thread (the poller) touches it: enqueue_req runs in its callbacks, and
        # finish_request is deferred to it through the method queue.
        self.in_flight = 0

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self.in_flight < self.cfg.threads)

    def _listen_if_free(self):
        # A stopping worker has stopped listening for good (ThreadWorker.run).
        if self.alive:
            self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)
        self._listen_if_free()

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        try:
            super().finish_request(conn, fs)
        finally:
            self._listen_if_free()
