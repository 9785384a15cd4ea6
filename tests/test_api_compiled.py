"""Incident reads compiled once per scope (suppliers.api.compiled): the same rows as the
queryset, nothing compiled after the first read of a scope, and scopes never mixed."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from breaches.api.views import INCIDENT_READS
from breaches.models import Incident
from suppliers.api.compiled import PROBES, CompiledReads
from suppliers.choices import Role
from tests.apiclients import client_for
from tests.factories import IncidentFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_statements():
    INCIDENT_READS.clear()
    yield
    INCIDENT_READS.clear()


@pytest.fixture
def compilations(monkeypatch):
    """How many times Django compiled a SELECT."""
    seen = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        seen.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return seen


def test_a_scope_compiles_its_incident_read_once(compliance_user, compilations):
    first, second = IncidentFactory(), IncidentFactory()
    client = client_for(compliance_user, token=True)
    assert client.get(f"/api/v1/incidents/{first.pk}/").json()["id"] == first.pk
    assert compilations.count(Incident) == 2  # the two probes
    compilations.clear()
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/v1/incidents/{second.pk}/").json()
    assert body["id"] == second.pk
    assert body["reference"] == second.reference
    assert compilations.count(Incident) == 0
    # The token's user and the incident (with its asset ids on PostgreSQL; a query more
    # for them elsewhere, compiled by incident_list_rows).
    assert len(queries) == (2 if connection.vendor == "postgresql" else 3)


def test_scopes_never_share_a_statement(tier1, subvendor, other_supplier, compliance_user):
    own = IncidentFactory(source_supplier=subvendor, responsible_supplier=tier1)
    foreign = IncidentFactory(source_supplier=other_supplier, responsible_supplier=other_supplier)
    staff = client_for(compliance_user, token=True)
    assert staff.get(f"/api/v1/incidents/{foreign.pk}/").status_code == 200

    tier1_user = client_for(UserFactory(role=Role.SUPPLIER, supplier=tier1), token=True)
    assert tier1_user.get(f"/api/v1/incidents/{own.pk}/").status_code == 200
    assert tier1_user.get(f"/api/v1/incidents/{foreign.pk}/").status_code == 404

    other_user = client_for(UserFactory(role=Role.SUPPLIER, supplier=other_supplier), token=True)
    assert other_user.get(f"/api/v1/incidents/{foreign.pk}/").status_code == 200
    assert other_user.get(f"/api/v1/incidents/{own.pk}/").status_code == 404
    # The staff statement is still the staff one after the suppliers' reads.
    assert staff.get(f"/api/v1/incidents/{own.pk}/").status_code == 200


def test_a_new_sub_vendor_widens_the_scope_at_once(tier1, tier1_nda):
    user = UserFactory(role=Role.SUPPLIER, supplier=tier1)
    client = client_for(user, token=True)
    stranger = SupplierFactory(name="Later Sub-vendor")
    leak = IncidentFactory(source_supplier=stranger, responsible_supplier=stranger)
    assert client.get(f"/api/v1/incidents/{leak.pk}/").status_code == 404
    stranger.parent = tier1
    stranger.tier = 2
    stranger.save()
    assert client.get(f"/api/v1/incidents/{leak.pk}/").status_code == 200


@pytest.mark.parametrize(
    "lookup", ["0", "00", "999999999", "99999999999999999999999", "-1", "abc", "1e3"]
)
def test_ids_that_match_nothing_are_404(compliance_user, lookup):
    IncidentFactory()
    client = client_for(compliance_user, token=True)
    response = client.get(f"/api/v1/incidents/{lookup}/")
    assert response.status_code == 404, response.content


def test_leading_zeros_read_the_same_incident(compliance_user):
    incident = IncidentFactory()
    client = client_for(compliance_user, token=True)
    assert client.get(f"/api/v1/incidents/000{incident.pk}/").json()["id"] == incident.pk


def test_query_parameters_still_filter_a_detail(compliance_user):
    incident = IncidentFactory(severity="high")
    client = client_for(compliance_user, token=True)
    assert client.get(f"/api/v1/incidents/{incident.pk}/?severity=high").status_code == 200
    assert client.get(f"/api/v1/incidents/{incident.pk}/?severity=low").status_code == 404
    assert client.get(f"/api/v1/incidents/{incident.pk}/?severity=nope").status_code == 400


def test_rows_equal_the_querysets_with_converted_values():
    incident = IncidentFactory(occurred_on=date(2025, 1, 4))
    reads = CompiledReads()

    def build(pk):
        return Incident.objects.filter(pk=pk).values("id", "occurred_on", "created_at", "title")

    assert reads.rows("k", build, incident.pk) == list(build(incident.pk))
    again = reads.rows("k", build, incident.pk)
    assert again == list(build(incident.pk))
    assert again[0]["occurred_on"] == date(2025, 1, 4)
    assert again[0]["created_at"] == incident.created_at
    assert reads.rows("k", build, incident.pk + 1000) == []


def test_a_value_that_shapes_the_sql_is_never_replayed(compilations):
    low, high = IncidentFactory(), IncidentFactory()
    reads = CompiledReads()

    def build(pk):  # the value picks the lookup: no statement fits every value
        lookup = "pk" if pk >= 0 else "pk__lte"
        return Incident.objects.filter(**{lookup: abs(pk)}).values("id")

    assert reads.rows("k", build, low.pk) == [{"id": low.pk}]
    compilations.clear()
    assert reads.rows("k", build, high.pk) == [{"id": high.pk}]
    assert compilations.count(Incident) == 1  # compiled by the queryset itself, as before


def test_a_value_the_sql_does_not_take_is_never_replayed():
    incident = IncidentFactory()
    reads = CompiledReads()

    def build(pk):
        return Incident.objects.filter(pk=incident.pk).values("id")

    assert reads.rows("k", build, 12345) == [{"id": incident.pk}]
    assert reads._statements["k"] is None


def test_probes_are_no_ids_and_the_least_recent_shape_is_dropped():
    assert all(probe < 0 for probe in PROBES)
    reads = CompiledReads(maxsize=2)

    def build(pk):
        return Incident.objects.filter(pk=pk).values("id")

    for key in ("a", "b", "a", "c"):
        reads.rows(key, build, 1)
    assert list(reads._statements) == ["a", "c"]


def _walk(client, url):
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    return pages


def test_list_pages_compile_once_per_shape_and_equal_the_orms_order(compliance_user, compilations):
    made = [IncidentFactory().pk for _ in range(7)]
    client = client_for(compliance_user, token=True)
    first_walk = _walk(client, "/api/v1/incidents/?page_size=3")
    assert first_walk == [sorted(made, reverse=True)[i : i + 3] for i in (0, 3, 6)]
    compilations.clear()
    assert _walk(client, "/api/v1/incidents/?page_size=3") == first_walk
    # PostgreSQL takes the cursor's position as it is given: every page is replayed.
    # SQLite is given datetimes as text, so a page with a position is compiled each time.
    positioned = len(first_walk) - 1
    assert compilations.count(Incident) == (0 if connection.vendor == "postgresql" else positioned)


def test_list_statements_are_kept_apart_by_query_string_and_scope(
    tier1, other_supplier, compliance_user
):
    high = IncidentFactory(severity="high", responsible_supplier=tier1, source_supplier=tier1)
    low = IncidentFactory(severity="low", responsible_supplier=other_supplier)
    staff = client_for(compliance_user, token=True)
    supplier = client_for(UserFactory(role=Role.SUPPLIER, supplier=tier1), token=True)
    for _ in range(2):  # the second time, every shape is known
        assert _walk(staff, "/api/v1/incidents/?severity=high") == [[high.pk]]
        assert _walk(staff, "/api/v1/incidents/?severity=low") == [[low.pk]]
        assert _walk(staff, "/api/v1/incidents/") == [[low.pk, high.pk]]
        assert _walk(supplier, "/api/v1/incidents/") == [[high.pk]]
        assert _walk(staff, "/api/v1/incidents/?ordering=created_at") == [[high.pk, low.pk]]
