"""No N+1: every list costs the same number of queries at page_size 5 and 50, and
details stay under a small bound, for staff and for a supplier user."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from breaches import services
from suppliers.choices import Role
from tests.apiclients import build_world, client_for
from tests.factories import AssetFactory, NDAFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/suppliers/",
    "/api/v1/contacts/",
    "/api/v1/ndas/",
    "/api/v1/assets/",
    "/api/v1/disclosures/",
    "/api/v1/incidents/",
    "/api/v1/evidence/",
    "/api/v1/penalties/",
    "/api/v1/rectification-plans/",
    "/api/v1/rectification-actions/",
    "/api/v1/reminders/",
    "/api/v1/users/",
    "/api/v1/incidents/{incident}/events/",
    "/api/v1/incidents/{incident}/evidence/",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def many(compliance_user):
    """Seven suppliers, each with a sub-vendor and a full world: more rows than a page of
    five in every list; the first supplier's incident has a long timeline."""
    worlds = []
    for n in range(7):
        tier1 = SupplierFactory(name=f"Tier one {n}")
        sub = SupplierFactory(name=f"Sub vendor {n}", parent=tier1)
        worlds.append(
            build_world(
                supplier=tier1,
                subvendor=sub,
                nda=NDAFactory(supplier=tier1),
                asset=AssetFactory(),
                tag=f"w{n}",
                actor=compliance_user,
            )
        )
        UserFactory(role=Role.SUPPLIER, supplier=tier1)
    first = worlds[0].incident
    for i in range(8):
        services.incident_add_note(actor=compliance_user, incident=first, message=f"note {i}")
        services.incident_add_evidence(
            actor=compliance_user,
            incident=first,
            upload=SimpleUploadedFile(f"e{i}.txt", f"evidence {i}\n".encode(), "text/plain"),
        )
    # Several actions and payments on one plan and penalty: nested rows must not multiply.
    for world in worlds[:2]:
        for i in range(3):
            services.action_create(
                actor=compliance_user,
                plan=world.plan,
                description=f"extra {i}",
                due_on=world.plan.due_on,
            )
    return worlds


def _count(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return len(ctx.captured_queries), len(rows)


@pytest.mark.parametrize(
    ("who", "url"),
    [("admin", url) for url in LISTS]
    + [("supplier", url) for url in LISTS if url != "/api/v1/users/"],  # users: admin only
)
def test_list_query_count_does_not_grow_with_page_size(many, admin_user, who, url):
    user = admin_user
    if who == "supplier":
        user = UserFactory(role=Role.SUPPLIER, supplier=many[0].supplier)
    client = client_for(user, token=True)
    url = url.format(incident=many[0].incident.pk)
    client.get(url + "?page_size=5")  # warm-up (token, caches)
    small, small_rows = _count(client, url + "?page_size=5")
    large, large_rows = _count(client, url + "?page_size=50")
    assert small_rows == 5 or small_rows == large_rows, (url, small_rows, large_rows)
    if who == "admin":
        assert large_rows > 5, (url, large_rows)
    assert small == large, f"{url}: {small} queries for 5 rows, {large} for {large_rows}"
    assert large <= 12, f"{url}: {large} queries"


DETAILS = [
    "/api/v1/suppliers/{subvendor}/",
    "/api/v1/contacts/{contact}/",
    "/api/v1/ndas/{nda}/",
    "/api/v1/assets/{asset}/",
    "/api/v1/disclosures/{disclosure}/",
    "/api/v1/incidents/{incident}/",
    "/api/v1/incidents/{incident}/suspects/",
    "/api/v1/evidence/{evidence}/",
    "/api/v1/penalties/{penalty}/",
    "/api/v1/rectification-plans/{plan}/",
    "/api/v1/rectification-actions/{action}/",
    "/api/v1/reminders/{reminder}/",
    "/api/v1/reports/summary/",
    "/api/v1/reports/coverage-gaps/",
]


@pytest.mark.parametrize("url", DETAILS)
def test_detail_query_count_is_bounded(many, admin_user, django_assert_max_num_queries, url):
    world = many[0]
    ids = {name: getattr(world, name).pk for name in vars(world) if getattr(world, name)}
    client = client_for(admin_user, token=True)
    client.get("/api/v1/reports/summary/")
    with django_assert_max_num_queries(12):
        response = client.get(url.format(**ids))
    assert response.status_code == 200, response.content
