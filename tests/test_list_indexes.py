"""A list's first page is read along an index in the list's order, not sorted out of the
whole table: at a million disclosures each first page of `/api/v1/disclosures/` and
`/disclosures/` sorted them all (0.8 s). PostgreSQL is told not to sort
(`enable_sort = off`): a plan that still sorts has no index to read instead."""

from __future__ import annotations

import pytest
from django.db import connection

from suppliers.models import Disclosure

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="plans are PostgreSQL's (CI runs it)"
    ),
]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # the test's transaction only
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("model", "ordering"),
    [
        (Disclosure, ("-created_at", "-id")),  # the API's newest first
        (Disclosure, ("-disclosed_on", "-id")),  # the page's latest hand-overs first
        (Disclosure, ("disclosed_on", "id")),
    ],
)
def test_a_lists_first_page_reads_an_index_in_its_order(model, ordering):
    plan = _plan(model.objects.order_by(*ordering)[:26])
    assert "Sort" not in plan, plan
