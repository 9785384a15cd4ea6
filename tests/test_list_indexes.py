"""A list's first page is read along an index in the list's order, not sorted out of the
whole table: at a million rows each first page of `/api/v1/disclosures/` and
`/disclosures/`, and the incident and penalty pages sorted by title, status, amount or
due date, sorted them all (0.2 to 0.9 s). PostgreSQL is told not to sort
(`enable_sort = off`): a plan that still sorts has no index to read instead."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import RequestFactory

from breaches.filtersets import INCIDENT_SORTS, PENALTY_SORTS
from breaches.models import Incident, Penalty
from suppliers.models import Disclosure
from suppliers.register_views import DISCLOSURE_SORTS
from suppliers.ui import SORT_PARAM, sort_queryset

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


def _sorts_everything(plan: str) -> bool:
    """A Sort node; an Incremental Sort (rows come in order of the first key, ties are
    sorted as they come) reads only what the page needs."""
    return bool(re.search(r"(^|->)\s*Sort  \(", plan, re.M))


def _orders(model, columns: dict) -> list[tuple[str, object]]:
    """Every sort of a page's column, both ways, ordered by the pages' own sort_queryset."""
    found = []
    for key in columns:
        for asked in (key, f"-{key}"):
            request = RequestFactory().get("/", {SORT_PARAM: asked})
            ordered, _sorting = sort_queryset(request, model.objects.all(), columns, ("id",))
            found.append((asked, ordered))
    return found


CASES = [
    (Disclosure, "API newest first", Disclosure.objects.order_by("-created_at", "-id")),
    (Disclosure, "page default", Disclosure.objects.order_by("-disclosed_on", "-id")),
    *((Disclosure, key, ordered) for key, ordered in _orders(Disclosure, DISCLOSURE_SORTS)),
    *((Incident, key, ordered) for key, ordered in _orders(Incident, INCIDENT_SORTS)),
    *((Penalty, key, ordered) for key, ordered in _orders(Penalty, PENALTY_SORTS)),
]


@pytest.mark.parametrize(
    "ordered",
    [pytest.param(ordered, id=f"{model.__name__}:{key}") for model, key, ordered in CASES],
)
def test_a_lists_first_page_reads_an_index_in_its_order(ordered):
    plan = _plan(ordered[:26])
    assert not _sorts_everything(plan), plan
