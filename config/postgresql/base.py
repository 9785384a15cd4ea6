"""Django's PostgreSQL backend, whose check of a kept connection costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a kept connection before a request first uses
it, by sending `SELECT 1`: one round trip of three on an API read, and about a tenth of
its time at full scale (docs/benchmarks.md). An idle connection has nothing to read, so
asking the socket whether it is readable tells the usual case apart at the cost of one
system call: a server that closed the connection (restarted, `pg_terminate_backend`, an
idle timeout) has sent its error or end of file, which makes the socket readable. Only
then is `SELECT 1` sent, which also consumes a harmless message (a notice) and keeps
the connection. A server that vanished without closing anything (a host gone) is not
seen by either check before the query's own timeout.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if readable:
            return super().is_usable()  # SELECT 1: fails if the server closed it
        return True
