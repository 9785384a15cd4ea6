"""Staff correct an incident's facts in the browser through incident_update (liability
re-resolved when the source changes, the change on the timeline), and the History section
of the incident, penalty and plan pages says who changed which field from what to what
(config.history), to staff only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from breaches import services
from breaches.choices import EventKind
from config.history import history_entries
from suppliers.models import NDA
from tests.factories import NDAFactory, SupplierFactory
from tests.ui_cases import confirmed_incident, report_seed_incident

pytestmark = pytest.mark.django_db


def _edit_data(incident, **changes):
    data = {
        "title": incident.title,
        "description": incident.description,
        "source_supplier": incident.source_supplier_id or "",
        "assets": list(incident.assets.values_list("pk", flat=True)),
        "occurred_on": incident.occurred_on.isoformat(),
        "discovered_on": incident.discovered_on.isoformat(),
        "channel": incident.channel,
        "severity": incident.severity,
        "owner": incident.owner_id,
    }
    data.update(changes)
    return data


def test_staff_correct_facts_and_liability_is_reresolved(
    client, compliance_user, tier1, subvendor, tier1_nda, bumper_asset
):
    incident = report_seed_incident(compliance_user, subvendor, [bumper_asset])
    assert incident.responsible_supplier == tier1
    # Another tier-1 with its own NDA becomes the source: it is liable for itself.
    other = SupplierFactory(name="Tianjin Glassworks")
    own_nda = NDAFactory(reference="NDA-TJ-1", supplier=other, effective_from=date(2024, 1, 1))
    client.force_login(compliance_user)
    url = reverse("breaches:incident-edit", args=[incident.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, _edit_data(incident, source_supplier=other.pk, severity="high", title="Corrected")
    )
    assert response.status_code == 302, response.content[:500]
    incident.refresh_from_db()
    assert incident.title == "Corrected"
    assert incident.responsible_supplier == other
    assert incident.nda == own_nda
    liability = incident.events.filter(kind=EventKind.LIABILITY).get()
    assert "Tianjin Glassworks liable under NDA-TJ-1" in liability.message
    assert "was Beijing Molding Technology Co. Ltd liable under NDA-XM-2024-017" in (
        liability.message
    )
    note = incident.events.filter(kind=EventKind.NOTE).get()
    assert "severity: critical -> high" in note.message
    # The History section names who changed what from what to what.
    page = client.get(reverse("breaches:incident-detail", args=[incident.pk]))
    history = page.context["history"]
    changes = {c.name: c for entry in history for c in entry.changes}
    assert changes["title"].old == "MS11 bumper renders on social media"
    assert changes["title"].new == "Corrected"
    assert changes["source_supplier"].old == "Hebei Precision Mould Studio"
    assert changes["source_supplier"].new == "Tianjin Glassworks"
    assert changes["severity"].old == "Critical"
    assert history[0].user == compliance_user
    html = page.content.decode()
    assert 'id="change-history"' in html
    assert "Tianjin Glassworks" in html.split('id="change-history"')[1]


def test_confirmed_incident_freezes_the_facts_behind_the_penalty(
    client, compliance_user, subvendor, tier1_nda, bumper_asset
):
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    client.force_login(compliance_user)
    url = reverse("breaches:incident-edit", args=[incident.pk])
    form = client.get(url).context["form"]
    assert form.fields["source_supplier"].disabled
    # A posted source is ignored (disabled), the title changes.
    response = client.post(url, _edit_data(incident, source_supplier="", title="Retitled"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Retitled"
    assert incident.source_supplier == subvendor
    assert NDA.objects.count() == 1


def test_only_staff_writers_correct_and_see_history(
    client, compliance_user, auditor_user, supplier_user, subvendor, tier1_nda, bumper_asset
):
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = incident.penalties.get()
    plan = incident.rectification_plans.get()
    services.penalty_update(actor=compliance_user, penalty=penalty, amount="1200000")
    url = reverse("breaches:incident-edit", args=[incident.pk])
    client.force_login(supplier_user)
    assert client.post(url, _edit_data(incident, title="x")).status_code == 403
    for name, pk in (("incident", incident.pk), ("penalty", penalty.pk), ("plan", plan.pk)):
        page = client.get(reverse(f"breaches:{name}-detail", args=[pk]))
        assert page.context["history"] is None
        assert b'id="change-history"' not in page.content
    client.force_login(auditor_user)
    assert client.get(url).status_code == 403
    page = client.get(reverse("breaches:penalty-detail", args=[penalty.pk]))
    changes = [c for entry in page.context["history"] for c in entry.changes]
    assert [(c.name, c.old, c.new) for c in changes] == [("amount", "1000000.00", "1200000.00")]
    assert client.get(reverse("breaches:plan-detail", args=[plan.pk])).context["history"]


def test_history_queries_do_not_grow_with_the_records(
    compliance_user, subvendor, tier1_nda, bumper_asset, django_assert_max_num_queries
):
    incident = report_seed_incident(compliance_user, subvendor, [bumper_asset])
    for n in range(15):
        services.incident_update(actor=compliance_user, incident=incident, title=f"Title {n}")
    incident.refresh_from_db()
    with django_assert_max_num_queries(2):
        entries = history_entries(incident)
    assert len(entries) == 16  # created, then fifteen changes
    assert entries[0].changes[0].new == "Title 14"
    # The author is the service's actor, also outside a request (no middleware).
    assert {entry.user for entry in entries} == {compliance_user}
