"""A supplier user sees only its own world in the browser: anything else is a 404 and the
dashboard counts only its records."""

import pytest
from django.urls import reverse

from breaches.models import Evidence
from tests.ui_cases import confirmed_incident, other_world_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_worlds(compliance_user, subvendor, tier1_nda, bumper_asset, other_supplier):
    own = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    other = other_world_incident(compliance_user, other_supplier)
    return own, other


def _detail_urls(incident):
    return {
        "incident": reverse("breaches:incident-detail", args=[incident.pk]),
        "plan": reverse("breaches:plan-detail", args=[incident.rectification_plans.get().pk]),
        "penalty": reverse("breaches:penalty-detail", args=[incident.penalties.get().pk]),
    }


def test_supplier_user_gets_404_outside_its_world(
    client, supplier_user, two_worlds, other_supplier
):
    own, other = two_worlds
    client.force_login(supplier_user)
    for name, url in _detail_urls(other).items():
        response = client.get(url)
        assert response.status_code == 404, (name, response.status_code)
    response = client.get(reverse("suppliers:detail", args=[other_supplier.pk]))
    assert response.status_code == 404
    for name, url in _detail_urls(own).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)


def test_supplier_user_cannot_act_on_foreign_records(client, supplier_user, two_worlds):
    _, other = two_worlds
    client.force_login(supplier_user)
    plan = other.rectification_plans.get()
    response = client.post(
        reverse("breaches:plan-summary", args=[plan.pk]), {"summary": "Hijacked"}
    )
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.summary == ""
    response = client.post(reverse("breaches:incident-note", args=[other.pk]), {"message": "hello"})
    assert response.status_code == 404
    assert not other.events.filter(message="hello").exists()


def test_evidence_of_a_foreign_incident_is_404(client, compliance_user, supplier_user, two_worlds):
    _, other = two_worlds
    client.force_login(compliance_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("note.txt", b"leaked copy found on forum", "text/plain")
    response = client.post(reverse("breaches:incident-evidence", args=[other.pk]), {"file": upload})
    assert response.status_code == 302, response.content
    evidence = Evidence.objects.get(incident=other)
    client.force_login(supplier_user)
    response = client.get(reverse("breaches:evidence-download", args=[other.pk, evidence.pk]))
    assert response.status_code == 404


def test_lists_show_only_own_records(client, supplier_user, two_worlds):
    own, other = two_worlds
    client.force_login(supplier_user)
    for url in (
        reverse("breaches:incident-list"),
        reverse("breaches:penalty-list"),
        reverse("breaches:plan-list"),
    ):
        body = client.get(url).content.decode()
        assert own.reference in body, url
        assert other.reference not in body, url
    body = client.get(reverse("suppliers:list")).content.decode()
    assert "Unrelated Glass Works" not in body
    assert "Beijing Molding Technology Co. Ltd" in body


def test_dashboard_counts_are_scoped(client, supplier_user, compliance_user, two_worlds):
    client.force_login(supplier_user)
    context = client.get(reverse("dashboard")).context
    assert context["open_total"] == 1
    assert dict((v, n) for v, _, n in context["by_status"])["confirmed"] == 1
    assert [row["currency"] for row in context["money"]] == ["CNY"]
    assert [bar["name"] for bar in context["supplier_chart"]["bars"]] == [
        "Beijing Molding Technology Co. Ltd"
    ]
    assert context["month_chart"]["total"] == 0  # January 2025 is outside the last 12 months

    client.force_login(compliance_user)
    context = client.get(reverse("dashboard")).context
    assert context["open_total"] == 2
    assert sorted(row["currency"] for row in context["money"]) == ["CNY", "EUR"]


def test_subvendor_user_does_not_see_parents_penalty_or_nda(
    client, compliance_user, subvendor, tier1_nda, bumper_asset
):
    from suppliers.choices import Role
    from tests.factories import UserFactory

    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    sub_user = UserFactory(username="hebei-user", role=Role.SUPPLIER, supplier=subvendor)
    client.force_login(sub_user)
    response = client.get(reverse("breaches:incident-detail", args=[incident.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert tier1_nda.reference not in body
    assert "1,000,000.00" not in body
    assert "1000000.00" not in body
    penalty = incident.penalties.get()
    assert client.get(reverse("breaches:penalty-detail", args=[penalty.pk])).status_code == 404


def test_supplier_pages_hide_fingerprints_and_the_parents_nda(
    client, compliance_user, supplier_user, tier1, subvendor, tier1_nda, bumper_disclosure
):
    """The watermark fingerprint is the buyer's secret, and a sub-vendor's user does not
    see the NDA of its parent that it received the drafts under (DESIGN section 7)."""
    from tests.factories import UserFactory

    subvendor_user = UserFactory(username="hebei", role="supplier", supplier=subvendor)
    page = reverse("suppliers:detail", args=[subvendor.pk])

    client.force_login(compliance_user)
    staff_view = client.get(page).content.decode()
    assert bumper_disclosure.fingerprint in staff_view
    assert tier1_nda.reference in staff_view

    for user in (supplier_user, subvendor_user):
        client.force_login(user)
        response = client.get(page)
        assert response.status_code == 200, user.username
        html = response.content.decode()
        assert bumper_disclosure.asset.code in html, user.username
        assert bumper_disclosure.fingerprint not in html, user.username
        assert "Fingerprint" not in html, user.username
    # The tier-1 may see its own NDA; its sub-vendor may not.
    client.force_login(supplier_user)
    assert tier1_nda.reference in client.get(page).content.decode()
    client.force_login(subvendor_user)
    assert tier1_nda.reference not in client.get(page).content.decode()
