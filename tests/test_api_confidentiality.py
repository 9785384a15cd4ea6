"""What supplier users must never get (DESIGN section 7): a watermark fingerprint or
anything derived from it, a sub-vendor's view of its parent's NDA, a note or file staff
kept internal, and another supplier's evidence, on every path and every filter that
could confirm it. Checked for each kind of supplier user: the tier-1, its sub-vendor,
the sub-vendor's own sub-vendor (tier 3) and an unrelated supplier."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from breaches import services
from suppliers.choices import Role
from tests.apiclients import client_for, results
from tests.factories import DisclosureFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(compliance_user, tier1, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    tier3 = SupplierFactory(name="Langfang Render Farm", country="CN", parent=subvendor)
    tier3_copy = DisclosureFactory(
        asset=bumper_asset, supplier=tier3, nda=tier1_nda, disclosed_on=date(2024, 11, 20)
    )
    incident = services.incident_create(
        actor=compliance_user,
        title="Bumper renders on social media",
        occurred_on=date(2025, 1, 22),
        discovered_on=date(2025, 1, 22),
        channel="social_media",
        source_supplier=subvendor,
        assets=[bumper_asset],
    )
    services.incident_report_fingerprint(
        actor=compliance_user, incident=incident, fingerprint=bumper_disclosure.fingerprint
    )
    users = {
        "tier-1": UserFactory(role=Role.SUPPLIER, supplier=tier1),
        "sub-vendor": UserFactory(role=Role.SUPPLIER, supplier=subvendor),
        "tier-3": UserFactory(role=Role.SUPPLIER, supplier=tier3),
        "unrelated": UserFactory(role=Role.SUPPLIER, supplier=SupplierFactory()),
    }
    return {
        "incident": incident,
        "nda": tier1_nda,
        "copies": [bumper_disclosure, tier3_copy],
        "users": users,
    }


SUPPLIER_ROLES = ["tier-1", "sub-vendor", "tier-3", "unrelated"]


def _all_text(response) -> str:
    assert response.status_code in (200, 404), (response.status_code, response.content)
    return response.content.decode()


@pytest.mark.parametrize("who", SUPPLIER_ROLES)
def test_no_fingerprint_reaches_a_supplier_user(world, who):
    api = client_for(world["users"][who], token=True)
    incident = world["incident"]
    fingerprints = [copy.fingerprint for copy in world["copies"]]
    answers = [
        api.get("/api/v1/disclosures/"),
        *(api.get(f"/api/v1/disclosures/{copy.pk}/") for copy in world["copies"]),
        api.get("/api/v1/incidents/"),
        api.get(f"/api/v1/incidents/{incident.pk}/"),
        api.get(f"/api/v1/incidents/{incident.pk}/events/"),
        api.get("/api/v1/rectification-plans/"),
    ]
    for response in answers:
        text = _all_text(response)
        for fingerprint in fingerprints:
            assert fingerprint not in text, (who, response.request["PATH_INFO"])
        assert '"fingerprint"' not in text, (who, response.request["PATH_INFO"])
        assert '"leak_fingerprint"' not in text, (who, response.request["PATH_INFO"])
    # Nor can it test a guess: a filter by fingerprint finds nothing for it.
    for fingerprint in fingerprints:
        assert results(api.get(f"/api/v1/disclosures/?fingerprint={fingerprint}")) == []
    # The incident page neither.
    page = Client()
    page.force_login(world["users"][who])
    html = _all_text(page.get(f"/incidents/{incident.pk}/"))
    for fingerprint in fingerprints:
        assert fingerprint not in html, who


def test_staff_see_fingerprints_and_filter_by_them(world, auditor_user):
    api = client_for(auditor_user, token=True)
    copy = world["copies"][0]
    rows = results(api.get(f"/api/v1/disclosures/?fingerprint={copy.fingerprint}"))
    assert [row["id"] for row in rows] == [copy.pk]
    assert rows[0]["fingerprint"] == copy.fingerprint
    detail = api.get(f"/api/v1/incidents/{world['incident'].pk}/").json()
    assert detail["leak_fingerprint"] == copy.fingerprint
    kinds = [e["kind"] for e in results(api.get(f"/api/v1/incidents/{detail['id']}/events/"))]
    assert "fingerprint" in kinds


@pytest.mark.parametrize("who", ["sub-vendor", "tier-3"])
def test_a_sub_vendors_user_never_sees_or_confirms_the_parents_nda(world, who):
    api = client_for(world["users"][who], token=True)
    nda = world["nda"]
    rows = results(api.get("/api/v1/disclosures/"))
    assert rows, who
    for row in rows:
        assert row["nda"] is None, row
        assert row["nda_reference"] is None, row
        detail = api.get(f"/api/v1/disclosures/{row['id']}/").json()
        assert (detail["nda"], detail["nda_reference"]) == (None, None), detail
    for path in ("/api/v1/disclosures/", "/api/v1/incidents/"):
        by_parent_nda = api.get(f"{path}?nda={nda.pk}")
        by_no_nda = api.get(f"{path}?nda=999999")
        assert results(by_parent_nda) == results(by_no_nda) == [], (who, path)
    assert nda.reference not in _all_text(api.get(f"/api/v1/incidents/{world['incident'].pk}/"))


def test_the_tier_1_sees_its_own_nda_on_what_it_passed_down(world):
    api = client_for(world["users"]["tier-1"], token=True)
    nda = world["nda"]
    rows = results(api.get(f"/api/v1/disclosures/?nda={nda.pk}"))
    assert {row["id"] for row in rows} == {copy.pk for copy in world["copies"]}
    assert {row["nda_reference"] for row in rows} == {nda.reference}
    assert [row["id"] for row in results(api.get(f"/api/v1/incidents/?nda={nda.pk}"))] == [
        world["incident"].pk
    ]


@pytest.mark.parametrize("who", ["tier-1", "sub-vendor"])
def test_supplier_users_see_the_buyers_staff_by_role_not_by_name(world, who, compliance_user):
    from django.conf import settings

    staff = UserFactory(username="li.wei.officer", role=Role.COMPLIANCE)
    incident = world["incident"]
    services.incident_update(actor=compliance_user, incident=incident, owner=staff)
    services.incident_add_note(
        actor=staff, incident=incident, message="Asked for logs.", visibility="shared"
    )
    viewer = world["users"][who]
    api = client_for(viewer, token=True)
    detail = api.get(f"/api/v1/incidents/{incident.pk}/")
    events = api.get(f"/api/v1/incidents/{incident.pk}/events/")
    page = Client()
    page.force_login(viewer)
    html = page.get(f"/incidents/{incident.pk}/").content.decode()
    shown = f"Compliance, {settings.BUYER_NAME}"
    for text in (_all_text(detail), _all_text(events), html):
        assert "li.wei.officer" not in text, who
        assert compliance_user.username + '"' not in text, who
    assert detail.json()["owner_username"] == shown
    assert {e["actor_username"] for e in results(events)} >= {shown}
    assert shown in html


def test_staff_see_user_names(world, auditor_user, compliance_user):
    api = client_for(auditor_user, token=True)
    events = results(api.get(f"/api/v1/incidents/{world['incident'].pk}/events/"))
    assert compliance_user.username in {e["actor_username"] for e in events}


def _evidence(actor, incident, name: str, **kwargs):
    upload = SimpleUploadedFile(name, f"contents of {name}\n".encode(), "text/plain")
    return services.incident_add_evidence(actor=actor, incident=incident, upload=upload, **kwargs)


@pytest.mark.parametrize("who", SUPPLIER_ROLES)
def test_no_internal_note_or_file_nor_another_suppliers_file_reaches_a_supplier_user(
    world, who, compliance_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    incident = world["incident"]
    users = world["users"]
    services.incident_add_note(
        actor=compliance_user, incident=incident, message="Internal: the intern at Hebei?"
    )
    services.incident_add_note(
        actor=compliance_user,
        incident=incident,
        message="Shared: send the logs.",
        visibility="shared",
    )
    files = {
        "internal": _evidence(compliance_user, incident, "internal-memo.txt"),
        "shared": _evidence(compliance_user, incident, "shared-brief.txt", visibility="shared"),
        "tier-1": _evidence(users["tier-1"], incident, "parent-audit.txt"),
        "sub-vendor": _evidence(users["sub-vendor"], incident, "subvendor-logs.txt"),
    }
    sees_incident = who in ("tier-1", "sub-vendor")
    own = {"shared", who} if sees_incident else set()
    api = client_for(users[who], token=True)
    page = Client()
    page.force_login(users[who])
    texts = [
        _all_text(api.get(f"/api/v1/incidents/{incident.pk}/events/")),
        _all_text(api.get(f"/api/v1/incidents/{incident.pk}/evidence/")),
        _all_text(api.get("/api/v1/evidence/")),
        _all_text(page.get(f"/incidents/{incident.pk}/")),
    ]
    for text in texts:
        assert "Internal: the intern" not in text, who
    for text in (texts[0], texts[3]):  # the timeline, through the API and on the page
        assert ("Shared: send the logs." in text) == sees_incident, who
    for key, evidence in files.items():
        seen = key in own
        for text in texts[1:]:
            assert (evidence.original_name in text) == seen, (who, key)
        # Nor is its upload on the timeline.
        assert (evidence.original_name in texts[0]) == seen, (who, key)
        expected = 200 if seen else 404
        assert api.get(f"/api/v1/evidence/{evidence.pk}/").status_code == expected, (who, key)
        assert api.get(f"/api/v1/evidence/{evidence.pk}/download/").status_code == expected
        page_download = page.get(f"/incidents/{incident.pk}/evidence/{evidence.pk}/download/")
        assert page_download.status_code == expected, (who, key)
