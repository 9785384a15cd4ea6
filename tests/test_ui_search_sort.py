"""Search finds incidents by supplier name, asset code, reference and title, on the page
and in the API alike (one FilterSet); the incident and penalty lists sort by allow-listed
columns; the reminder list searches too."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from breaches import services
from tests.factories import AssetFactory
from tests.sqlaudit import unbounded_counts
from tests.ui_cases import confirmed_incident, other_world_incident, report_seed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(compliance_user, subvendor, tier1_nda, bumper_asset, other_supplier):
    seed = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    glass = other_world_incident(compliance_user, other_supplier)
    dash = AssetFactory(code="MS12-DASH", name="Dashboard")
    anon = report_seed_incident(compliance_user, None, [dash], title="Anonymous post")
    return {"seed": seed, "glass": glass, "anon": anon}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Hebei", {"seed"}),  # the source supplier's name
        ("beijing molding", {"seed"}),  # the liable supplier's, every word
        ("ms11-bumper", {"seed"}),  # an asset code
        ("MS12", {"anon"}),
        ("Glass", {"glass"}),  # title and supplier
        ("Anonymous", {"anon"}),
    ],
)
def test_incident_search_page_and_api(client, incidents, compliance_user, term, expected):
    client.force_login(compliance_user)
    ids = {incidents[name].pk for name in expected}
    page = client.get(reverse("breaches:incident-list"), {"search": term})
    assert {i.pk for i in page.context["page"]} == ids
    api = client.get("/api/v1/incidents/", {"search": term}).json()
    assert {row["id"] for row in api["results"]} == ids


def test_search_by_reference_and_no_duplicate_rows(client, incidents, compliance_user):
    seed = incidents["seed"]
    seed.assets.add(AssetFactory(code="MS11-BUMPER-RR"))
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:incident-list"), {"search": "MS11-BUMPER"})
    assert [i.pk for i in page.context["page"]] == [seed.pk]  # two assets match, one row
    page = client.get(reverse("breaches:incident-list"), {"search": seed.reference})
    assert [i.pk for i in page.context["page"]] == [seed.pk]


def test_supplier_search_stays_in_scope(client, incidents, other_supplier_user):
    client.force_login(other_supplier_user)
    page = client.get(reverse("breaches:incident-list"), {"search": "Hebei"})
    assert list(page.context["page"]) == []


def test_search_query_count_does_not_grow_with_matches(client, incidents, compliance_user):
    client.force_login(compliance_user)
    url = reverse("breaches:incident-list")
    client.get(url)
    counts = []
    for term in ("Hebei", "MS1"):
        with CaptureQueriesContext(connection) as captured:
            client.get(url, {"search": term})
        counts.append(len(captured.captured_queries))
        assert not unbounded_counts(captured.captured_queries)
    assert counts[0] == counts[1], counts


def test_incident_list_sorts_by_allow_listed_columns(client, incidents, compliance_user):
    client.force_login(compliance_user)
    url = reverse("breaches:incident-list")
    titles = [i.title for i in client.get(url, {"sort": "title"}).context["page"]]
    assert titles == sorted(titles)
    page = client.get(url, {"sort": "-title"})
    assert [i.title for i in page.context["page"]] == sorted(titles, reverse=True)
    assert b'aria-sort="descending"' in page.content
    # Not allow-listed: the default order, newest first, never a 500.
    for junk in ("description", "-password", "owner__password", "?"):
        response = client.get(url, {"sort": junk})
        assert response.status_code == 200
        assert [i.pk for i in response.context["page"]] == [
            incidents["anon"].pk,
            incidents["glass"].pk,
            incidents["seed"].pk,
        ]


def test_penalty_list_sorts_by_amount(client, incidents, compliance_user):
    client.force_login(compliance_user)
    services.penalty_update(
        actor=compliance_user, penalty=incidents["seed"].penalties.get(), amount="2000000"
    )
    url = reverse("breaches:penalty-list")
    amounts = [p.amount for p in client.get(url, {"sort": "amount"}).context["page"]]
    assert amounts == sorted(amounts)
    amounts = [p.amount for p in client.get(url, {"sort": "-amount"}).context["page"]]
    assert amounts == sorted(amounts, reverse=True)
    page = client.get(url, {"search": "Glass"})
    assert [p.incident_id for p in page.context["page"]] == [incidents["glass"].pk]


def test_filtered_list_keeps_its_short_labels(client, incidents, compliance_user):
    """A list read with filters validated its form before the page form was drawn: the
    short label ("Overdue") must still be the one shown."""
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:penalty-list"), {"overdue": "true"})
    labels = {field.name: field.label for field in page.context["filter_form"]}
    assert labels["overdue"] == "Overdue"
