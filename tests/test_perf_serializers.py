"""An incident has one shape (breaches.selectors.incident_rows), read as plain rows and
shaped by hand for speed: it must stay exactly what DRF's field-by-field representation
of IncidentSerializer gives, for every shape of incident and every reader."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from breaches.api.serializers import IncidentSerializer
from breaches.models import Incident
from breaches.selectors import incident_row, incident_values
from suppliers.choices import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def drf_shape(incident: Incident, user) -> dict:
    """What DRF's ModelSerializer gives field by field, with what `user` may not see of
    it (a parent's NDA, the fingerprint found) left out and the owner named as the user may
    know them: the reference the rows must equal."""
    from suppliers.selectors import may_see_fingerprints, may_see_nda, person_shown

    request = APIRequestFactory().get("/api/v1/incidents/")
    request.user = user
    serializer = IncidentSerializer(context={"request": request})
    data = dict(serializers.ModelSerializer.to_representation(serializer, incident))
    if incident.nda_id is not None and not may_see_nda(user, incident.nda.supplier_id):
        data["nda"] = data["nda_reference"] = None
    if not may_see_fingerprints(user):
        del data["leak_fingerprint"]
    data["owner_username"] = person_shown(user, incident.owner) or None
    return data


def test_the_incident_row_equals_drf_field_by_field():
    call_command(
        "seed_scale", incidents=120, suppliers=12, seed=5, as_of=timezone.localdate(), verbosity=0
    )
    admin = UserFactory(role=Role.ADMIN)
    incidents = Incident.objects.select_related(
        "source_supplier", "responsible_supplier", "nda", "owner"
    ).prefetch_related("assets")
    shapes = set()
    for incident in incidents:
        fast = incident_row(incident.pk, admin)
        slow = drf_shape(incident, admin)
        assert list(fast) == list(slow), incident.reference
        assert fast == slow, incident.reference
        shapes.add((incident.source_supplier_id is None, incident.nda_id is None, incident.status))
    # Unknown sources, no NDA and every status went through the comparison.
    assert (True, True, "reported") in shapes or (True, True, "investigating") in shapes
    assert any(nda_missing for _, nda_missing, _ in shapes)
    assert {status for *_, status in shapes} >= {"confirmed", "closed", "dismissed"}


@pytest.mark.parametrize("who", ["admin", "supplier", "subvendor"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=confirmed",
        "ordering=occurred_on",
        "ordering=-occurred_on&status=closed",
        "search=renders",
        "no_nda_coverage=true",
    ],
)
def test_list_rows_equal_drf_field_by_field(who, query):
    """The list reads plain rows; every page must be what DRF gives field by field for
    the same incidents (staff, a tier-1 supplier user, a sub-vendor's user)."""
    from django.db.models import Count

    from suppliers.models import Supplier
    from tests.apiclients import client_for

    call_command(
        "seed_scale", incidents=160, suppliers=12, seed=9, as_of=timezone.localdate(), verbosity=0
    )
    top = (
        Incident.objects.exclude(responsible_supplier=None)
        .values("responsible_supplier")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["responsible_supplier"]
    )
    # A sub-vendor that leaked under its parent's NDA: its user must not see that NDA.
    sub = Supplier.objects.get(
        pk=Incident.objects.filter(
            responsible_supplier=top, nda__supplier=top, source_supplier__parent=top
        )
        .values_list("source_supplier", flat=True)
        .first()
    )
    user = {
        "admin": lambda: UserFactory(role=Role.ADMIN),
        "supplier": lambda: UserFactory(role=Role.SUPPLIER, supplier_id=top),
        "subvendor": lambda: UserFactory(role=Role.SUPPLIER, supplier=sub),
    }[who]()
    client = client_for(user, token=True)
    url = f"/api/v1/incidents/?page_size=200&{query}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    if who == "admin" and query in ("", "status=confirmed"):
        assert len(rows) > 20, (query, len(rows))

    by_id = {
        incident.pk: incident
        for incident in Incident.objects.filter(pk__in=[row["id"] for row in rows])
        .select_related("source_supplier", "responsible_supplier", "nda", "owner")
        .prefetch_related("assets")
    }
    assert rows == [drf_shape(by_id[row["id"]], user) for row in rows]
    if who == "subvendor" and query == "":
        masked = [row for row in rows if row["nda"] is None and by_id[row["id"]].nda_id]
        assert masked, "the parent's NDA is hidden from the sub-vendor's user"


@pytest.mark.parametrize("who", ["admin", "subvendor"])
def test_detail_and_write_answers_equal_drf_and_404_outside_the_scope(who):
    from suppliers.models import Supplier
    from tests.apiclients import client_for

    call_command(
        "seed_scale", incidents=80, suppliers=10, seed=4, as_of=timezone.localdate(), verbosity=0
    )
    sample = Incident.objects.filter(nda__isnull=False, source_supplier__parent__isnull=False)
    incident = sample.exclude(source_supplier=None).first()
    user = (
        UserFactory(role=Role.ADMIN)
        if who == "admin"
        else UserFactory(role=Role.SUPPLIER, supplier=incident.source_supplier)
    )
    client = client_for(user, token=True)
    response = client.get(f"/api/v1/incidents/{incident.pk}/")
    assert response.status_code == 200, response.content
    fresh = (
        Incident.objects.select_related("source_supplier", "responsible_supplier", "nda", "owner")
        .prefetch_related("assets")
        .get(pk=incident.pk)
    )
    assert response.json() == drf_shape(fresh, user)
    # A write answers with the same shape (the serializer reads the row too).
    request = APIRequestFactory().get("/")
    request.user = user
    assert IncidentSerializer(fresh, context={"request": request}).data == response.json()
    if who == "subvendor" and incident.nda.supplier_id != incident.source_supplier_id:
        assert response.json()["nda"] is None
    outside = Incident.objects.exclude(source_supplier=incident.source_supplier).exclude(
        responsible_supplier=incident.source_supplier
    )
    stranger = outside.exclude(
        source_supplier__in=Supplier.objects.filter(parent=incident.source_supplier)
    ).first()
    expected = 200 if who == "admin" else 404
    assert client.get(f"/api/v1/incidents/{stranger.pk}/").status_code == expected
    assert client.get("/api/v1/incidents/not-a-number/").status_code == 404
    assert client.get("/api/v1/incidents/999999999/").status_code == 404


def test_cursor_pages_over_equal_and_whole_second_times_walk_both_ways():
    """Times are read as UTC text on PostgreSQL, and the cursor position is taken from
    that text: whole seconds (no fraction in the output), microseconds and incidents
    created at the same instant must page forward and back exactly, as DRF formats them."""
    from datetime import UTC, datetime

    from tests.apiclients import client_for
    from tests.factories import IncidentFactory

    stamps = [
        datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC),  # whole second
        datetime(2026, 3, 1, 8, 0, 0, 120000, tzinfo=UTC),  # trailing zeros
        datetime(2026, 3, 1, 8, 0, 0, 120000, tzinfo=UTC),  # the same instant again
        datetime(2026, 3, 1, 8, 0, 0, 120000, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 1, 1, tzinfo=UTC),  # one microsecond
        datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    made = []
    for stamp in stamps:
        incident = IncidentFactory()
        Incident.objects.filter(pk=incident.pk).update(created_at=stamp, updated_at=stamp)
        made.append(incident.pk)
    client = client_for(UserFactory(role=Role.ADMIN), token=True)
    pages, url = [], "/api/v1/incidents/?page_size=2"
    while url:
        body = client.get(url).json()
        pages.append(body)
        url = body["next"]
    forward = [row for page in pages for row in page["results"]]
    assert sorted(row["id"] for row in forward) == sorted(made)
    expected = {pk: stamp for pk, stamp in zip(made, stamps, strict=True)}
    field = serializers.DateTimeField()
    for row in forward:
        assert row["created_at"] == field.to_representation(expected[row["id"]])
        assert row["updated_at"] == row["created_at"]
    assert [row["created_at"] for row in forward][-1] == "2026-03-01T08:00:00Z"
    assert forward[0]["created_at"] == "2026-03-02T23:59:59.999999Z"
    # Back from the last page through the `previous` links: the same pages, reversed.
    backward, url = [], pages[-1]["previous"]
    while url:
        body = client.get(url).json()
        backward.insert(0, [row["id"] for row in body["results"]])
        url = body["previous"]
    assert backward == [[row["id"] for row in page["results"]] for page in pages[:-1]]


@pytest.mark.parametrize("who", ["admin", "supplier"])
def test_the_detail_read_by_id_equals_the_orms_row_column_for_column(who):
    """visible_incident_row keeps incident_values()'s compiled statement per process (on
    PostgreSQL, for viewers who see every incident): its rows must be the ORM's, column
    for column and type for type, and a row outside the viewer's scope none at all."""
    from breaches.selectors import incidents_visible_to, visible_incident_row
    from suppliers.models import Supplier

    call_command(
        "seed_scale", incidents=60, suppliers=8, seed=7, as_of=timezone.localdate(), verbosity=0
    )
    if who == "admin":
        user = UserFactory(role=Role.ADMIN)
    else:
        supplier = Supplier.objects.filter(parent__isnull=True).order_by("pk").first()
        user = UserFactory(role=Role.SUPPLIER, supplier=supplier)
    visible = set(incidents_visible_to(user).values_list("pk", flat=True))
    seen = 0
    for pk in Incident.objects.order_by("pk").values_list("pk", flat=True):
        row = visible_incident_row(user, pk)
        if pk not in visible:
            assert row is None
            continue
        orm = incident_values().filter(pk=pk).order_by().get()
        assert list(row) == list(orm)
        assert row == orm
        assert [type(value) for value in row.values()] == [type(v) for v in orm.values()]
        seen += 1
    assert seen >= 5
    for wrong in ("0", "-1", "abc", str(2**63), "9" * 30, None):
        assert visible_incident_row(user, wrong) is None


@pytest.mark.parametrize("who", ["admin", "supplier"])
def test_a_detail_outside_the_scope_answers_as_one_with_filters_does(who, tier1, other_supplier):
    """The read by id and the filtered read refuse alike: 404, with the same words."""
    from tests.apiclients import client_for
    from tests.factories import IncidentFactory

    hidden = IncidentFactory(source_supplier=other_supplier, responsible_supplier=other_supplier)
    user = (
        UserFactory(role=Role.ADMIN)
        if who == "admin"
        else UserFactory(role=Role.SUPPLIER, supplier=tier1)
    )
    client = client_for(user)
    missing = hidden.pk + 1000 if who == "admin" else hidden.pk
    for path in (f"/api/v1/incidents/{missing}/", "/api/v1/incidents/99999999999999999999/"):
        plain = client.get(path)
        filtered = client.get(path, {"status": "reported"})
        assert plain.status_code == filtered.status_code == 404
        assert plain.json() == filtered.json()
