"""What a request sent to the database: the SQL it ran, and which of it touched the
tables that hold millions of rows at full scale (docs/benchmarks.md)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.run import BIG_TABLES  # the tables `make bench` fills to millions of rows

COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)
AGGREGATE = re.compile(r"\b(COUNT|SUM|AVG|MIN|MAX)\s*\(|\bGROUP BY\b", re.IGNORECASE)


def on_big_tables(queries, pattern: re.Pattern | None = None) -> list[str]:
    """The start of each captured statement that names a big table (and matches
    `pattern`, when given)."""
    return [
        q["sql"][:200]
        for q in queries
        if any(t in q["sql"] for t in BIG_TABLES) and (pattern is None or pattern.search(q["sql"]))
    ]


def get_ok(client, url):
    """GET `url`, which must answer 200; the response and the statements it ran."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response, ctx.captured_queries


# The bell's count of the signed-in user's unread notifications: one indexed COUNT over
# that user's own rows (notifications.selectors.unread_count), on every page.
BELL_COUNT = re.compile(r'FROM "notifications_notification" WHERE .*"user_id" = ', re.I | re.S)


def unbounded_counts(queries) -> list[str]:
    """COUNT statements other than the bell's and the lists' bounded ones (a count of at
    most so many rows, suppliers.ui.capped_count, holds a LIMIT): none may run on a list
    page, whatever the table."""
    return [
        q["sql"][:200]
        for q in queries
        if COUNT.search(q["sql"]) and not BELL_COUNT.search(q["sql"]) and "LIMIT" not in q["sql"]
    ]
