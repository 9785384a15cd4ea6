"""Performance rules guarded in the normal suite (the figures themselves come from
`make bench`): no request path counts a big table, the lists cost the same number of
queries at any page size, and the whole-scope aggregates are computed once per scope
and cache period without ever mixing two scopes."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from breaches.models import Incident
from suppliers.choices import Role
from tests.apiclients import client_for
from tests.factories import UserFactory
from tests.sqlaudit import COUNT, get_ok, on_big_tables

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?status=confirmed",
    "/api/v1/penalties/",
    "/api/v1/rectification-plans/",
    "/api/v1/rectification-plans/?overdue=true",
    "/api/v1/rectification-actions/",
    "/api/v1/disclosures/",
]


@pytest.fixture
def seeded(db):
    call_command(
        "seed_scale", incidents=150, suppliers=12, seed=3, as_of=timezone.localdate(), verbosity=0
    )
    top = (
        Incident.objects.exclude(responsible_supplier=None)
        .values("responsible_supplier")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["responsible_supplier"]
    )
    return {
        "admin": UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
        "supplier": UserFactory(role=Role.SUPPLIER, supplier_id=top),
        "top": top,
    }


@pytest.mark.parametrize("who", ["admin", "supplier"])
@pytest.mark.parametrize("url", LISTS)
def test_lists_never_count_a_big_table_and_cost_the_same_at_any_page_size(seeded, who, url):
    client = client_for(seeded[who], token=True)
    joiner = "&" if "?" in url else "?"
    client.get(f"{url}{joiner}page_size=10")  # warm-up: token, scope
    _small, small_queries = get_ok(client, f"{url}{joiner}page_size=10")
    large, large_queries = get_ok(client, f"{url}{joiner}page_size=200")
    assert on_big_tables(small_queries + large_queries, COUNT) == []
    assert len(small_queries) == len(large_queries), (
        url,
        [q["sql"][:120] for q in large_queries],
    )
    assert "count" not in large.json(), "cursor pages carry no total count"
    if who == "admin" and "overdue" not in url:
        assert len(large.json()["results"]) > 10, url


@pytest.mark.parametrize("who", ["admin", "supplier"])
def test_details_never_count_a_big_table(seeded, who):
    client = client_for(seeded[who], token=True)
    first = client.get("/api/v1/incidents/?page_size=1").json()["results"][0]["id"]
    client.get(f"/api/v1/incidents/{first}/")
    _response, queries = get_ok(client, f"/api/v1/incidents/{first}/")
    assert on_big_tables(queries, COUNT) == []
    assert len(queries) <= 6, [q["sql"][:120] for q in queries]


@pytest.mark.parametrize(("url", "session"), [("/api/v1/reports/summary/", False), ("/", True)])
def test_aggregates_are_computed_once_per_scope_and_never_shared_across_scopes(
    seeded, settings, client, url, session
):
    """The summary report and the dashboard count whole scopes: with the cache on, the
    first request computes the snapshot of every scope (none exists yet), later ones
    count nothing, and a supplier's scope gets its own figures."""
    settings.REPORT_CACHE_SECONDS = 60
    settings.REPORT_SNAPSHOT_MIN_INCIDENTS = 1  # the supplier's world gets a row

    def fetch(user):
        if session:
            client.force_login(user)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            # The page differs only by its per-request CSRF token.
            html = re.sub(r'value="[A-Za-z0-9]{64}"', "", response.content.decode())
            return html, ctx.captured_queries
        api = client_for(user, token=True)
        api.get("/api/v1/incidents/?page_size=1")  # token and scope lookups out of the way
        response, queries = get_ok(api, url)
        return response.json(), queries

    admin_first, first_queries = fetch(seeded["admin"])
    assert on_big_tables(first_queries, COUNT), "the first request computes the figures"
    admin_again, again_queries = fetch(seeded["admin"])
    assert on_big_tables(again_queries, COUNT) == []
    assert admin_again == admin_first

    supplier_view, supplier_queries = fetch(seeded["supplier"])
    assert on_big_tables(supplier_queries, COUNT) == [], "its row was computed with all"
    name = f"supplier-{seeded['supplier'].supplier_id}"
    assert [q for q in supplier_queries if f"'{name}'" in q["sql"]], "read from its own row"
    assert supplier_view != admin_first
    if not session:
        visible = (
            Incident.objects.filter(responsible_supplier=seeded["top"]).count()
            + Incident.objects.filter(source_supplier=seeded["top"])
            .exclude(responsible_supplier=seeded["top"])
            .count()
        )
        total = supplier_view["incidents"]["total"]
        assert total >= visible, (total, visible)
        assert total < admin_first["incidents"]["total"], supplier_view["incidents"]


def test_aggregates_are_live_when_the_cache_is_off(seeded, settings):
    settings.REPORT_CACHE_SECONDS = 0
    api = client_for(seeded["admin"], token=True)
    before = api.get("/api/v1/reports/summary/").json()["incidents"]["total"]
    Incident.objects.filter(pk=Incident.objects.order_by("id").first().pk).update(title="x")
    _response, queries = get_ok(api, "/api/v1/reports/summary/")
    assert on_big_tables(queries, COUNT), "no cache: every request counts"
    assert api.get("/api/v1/reports/summary/").json()["incidents"]["total"] == before == 150
