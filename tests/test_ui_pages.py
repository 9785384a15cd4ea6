"""Every browser page and form through the Django test client: 200s for each role,
login required, 403 for roles that may see but not act, flash messages, form errors
next to their fields, and refusals that change nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from breaches.choices import IncidentStatus, PenaltyStatus, PlanStatus
from breaches.models import Evidence, Incident, Payment
from suppliers.models import NDA, Disclosure, Supplier
from tests.ui_cases import approved_plan_with_action, confirmed_incident, report_seed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def seed(compliance_user, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    return confirmed_incident(compliance_user, subvendor, [bumper_asset])


# --- Every page, every role --------------------------------------------------------------


def _page_urls(incident):
    plan = incident.rectification_plans.get()
    penalty = incident.penalties.get()
    return [
        reverse("dashboard"),
        reverse("suppliers:list"),
        reverse("suppliers:detail", args=[incident.responsible_supplier_id]),
        reverse("suppliers:detail", args=[incident.source_supplier_id]),
        reverse("breaches:incident-list"),
        reverse("breaches:incident-detail", args=[incident.pk]),
        reverse("breaches:penalty-list"),
        reverse("breaches:penalty-detail", args=[penalty.pk]),
        reverse("breaches:plan-list"),
        reverse("breaches:plan-detail", args=[plan.pk]),
        reverse("breaches:reminder-list"),
    ]


@pytest.mark.parametrize("role_fixture", ["admin_user", "compliance_user", "auditor_user"])
def test_staff_roles_see_every_page(client, request, seed, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    for url in _page_urls(seed):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert b"<script" not in response.content.replace(b'<script src="/static/', b"")
        assert b"style=" not in response.content, url


def test_supplier_user_sees_its_pages(client, supplier_user, seed):
    client.force_login(supplier_user)
    for url in _page_urls(seed):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_every_page_needs_login(client, seed):
    for url in [*_page_urls(seed), reverse("breaches:incident-create")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), response["Location"]


def test_list_filters_and_paging(client, compliance_user, subvendor, tier1_nda):
    for n in range(27):
        report_seed_incident(compliance_user, subvendor, title=f"Leak number {n}")
    client.force_login(compliance_user)
    response = client.get(reverse("breaches:incident-list"))
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].has_next
    response = client.get(reverse("breaches:incident-list"), {"page": 2})
    assert len(response.context["page"].object_list) == 2
    assert not response.context["page"].has_next
    response = client.get(reverse("breaches:incident-list"), {"search": "Leak number 13"})
    titles = [i.title for i in response.context["page"]]
    # Every word in the reference, title or description: "13" also finds INC-....-0013.
    assert "Leak number 13" in titles
    assert len(titles) <= 2, titles
    response = client.get(reverse("breaches:incident-list"), {"status": "confirmed"})
    assert b"No incident matches these filters." in response.content
    response = client.get(reverse("breaches:incident-list"), {"page": "x", "severity": "bogus"})
    assert response.status_code == 200
    response = client.get(reverse("suppliers:list"), {"tier": 2})
    assert [s.name for s in response.context["page"]] == ["Hebei Precision Mould Studio"]
    response = client.get(reverse("breaches:plan-list"), {"overdue": "true"})
    assert response.status_code == 200


# --- Login -------------------------------------------------------------------------------


def test_login_and_logout(client, compliance_user):
    response = client.post(
        reverse("login"), {"username": "compliance", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_lockout_is_explained(client, settings, compliance_user):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "compliance", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "compliance", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429, response.status_code
    assert b"Account locked" in response.content
    assert client.get("/").status_code == 302  # still not signed in


def test_wrong_password_shows_an_error(client, compliance_user):
    response = client.post(reverse("login"), {"username": "compliance", "password": "nope"})
    assert response.status_code == 200
    assert b"errorlist" in response.content


# --- Incidents ---------------------------------------------------------------------------


def _incident_post(source, asset, **overrides):
    data = {
        "title": "MS11 bumper renders on social media",
        "description": "Renders on Weibo",
        "source_supplier": source.pk,
        "assets": [asset.pk],
        "occurred_on": "2025-01-22",
        "discovered_on": "2025-01-22",
        "channel": "social_media",
        "severity": "critical",
    }
    data.update(overrides)
    return data


def test_report_incident_resolves_the_liable_tier1(
    client, compliance_user, subvendor, tier1, tier1_nda, bumper_asset
):
    client.force_login(compliance_user)
    assert client.get(reverse("breaches:incident-create")).status_code == 200
    response = client.post(
        reverse("breaches:incident-create"), _incident_post(subvendor, bumper_asset)
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("breaches:incident-detail", args=[incident.pk])
    assert incident.responsible_supplier == tier1
    assert incident.nda == tier1_nda
    assert any("Liable: Beijing Molding" in m for m in flashes(response))
    page = client.get(response["Location"]).content.decode()
    assert "Beijing Molding Technology Co. Ltd" in page
    assert "NDA-XM-2024-017" in page


def test_report_incident_form_errors_change_nothing(
    client, compliance_user, subvendor, tier1_nda, bumper_asset
):
    client.force_login(compliance_user)
    response = client.post(
        reverse("breaches:incident-create"),
        _incident_post(subvendor, bumper_asset, discovered_on="2025-01-01", title=""),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "discovered_on" in form.errors
    assert "title" in form.errors
    assert b'id="id_discovered_on_errors"' in response.content
    assert not Incident.objects.exists()


@pytest.mark.parametrize("role_fixture", ["auditor_user", "supplier_user"])
def test_only_writers_report_incidents(client, request, role_fixture, subvendor, bumper_asset):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(reverse("breaches:incident-create")).status_code == 403
    response = client.post(
        reverse("breaches:incident-create"), _incident_post(subvendor, bumper_asset)
    )
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_liability_preview(client, compliance_user, subvendor, tier1_nda):
    client.force_login(compliance_user)
    url = reverse("breaches:liability-preview")
    data = client.get(url, {"source_supplier": subvendor.pk, "occurred_on": "2025-01-22"}).json()
    assert data == {
        "source_supplier": "Hebei Precision Mould Studio",
        "responsible_supplier": "Beijing Molding Technology Co. Ltd",
        "nda": "NDA-XM-2024-017",
    }
    data = client.get(url, {"source_supplier": subvendor.pk, "occurred_on": "2020-01-01"}).json()
    assert data["responsible_supplier"] is None
    assert client.get(url, {"source_supplier": "x", "occurred_on": "2025-01-22"}).status_code == 400
    assert (
        client.get(url, {"source_supplier": 99999, "occurred_on": "2025-01-22"}).status_code == 404
    )


def test_transition_buttons_follow_the_rules(
    client, compliance_user, auditor_user, subvendor, tier1_nda
):
    incident = report_seed_incident(compliance_user, subvendor)
    url = reverse("breaches:incident-detail", args=[incident.pk])
    client.force_login(compliance_user)
    transitions = [t["to"] for t in client.get(url).context["transitions"]]
    assert transitions == ["investigating"]
    client.force_login(auditor_user)
    assert client.get(url).context["transitions"] == []
    response = client.post(
        reverse("breaches:incident-transition", args=[incident.pk]), {"to": "investigating"}
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.REPORTED


def test_incident_transitions_and_refusals(client, compliance_user, subvendor, tier1_nda):
    incident = report_seed_incident(compliance_user, subvendor)
    client.force_login(compliance_user)
    url = reverse("breaches:incident-transition", args=[incident.pk])
    response = client.post(url, {"to": "closed"})
    assert response.status_code == 302
    assert any("cannot go from reported to closed" in m for m in flashes(response))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.REPORTED
    response = client.post(url, {"to": "investigating", "t-investigating-note": "Tracing drafts"})
    assert any("under investigation" in m for m in flashes(response))
    response = client.post(url, {"to": "confirmed"})
    assert any("penalty was proposed" in m for m in flashes(response))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CONFIRMED
    assert incident.penalties.get().status == PenaltyStatus.PROPOSED
    assert incident.rectification_plans.get().status == PlanStatus.REQUESTED
    response = client.post(url, {"to": "nonsense"})
    assert response.status_code == 302
    assert flashes(response)


def test_confirm_button_hidden_without_liability(client, compliance_user, other_supplier):
    incident = report_seed_incident(compliance_user, other_supplier)  # no NDA anywhere
    client.force_login(compliance_user)
    client.post(
        reverse("breaches:incident-transition", args=[incident.pk]), {"to": "investigating"}
    )
    context = client.get(reverse("breaches:incident-detail", args=[incident.pk])).context
    assert [t["to"] for t in context["transitions"]] == ["dismissed"]


def test_evidence_upload_and_download(client, compliance_user, supplier_user, seed):
    client.force_login(supplier_user)
    upload = SimpleUploadedFile("forum-post.txt", b"Screenshot of the forum post", "text/plain")
    response = client.post(
        reverse("breaches:incident-evidence", args=[seed.pk]),
        {"file": upload, "description": "forum"},
    )
    assert response.status_code == 302, response.content
    assert any("Evidence forum-post.txt added" in m for m in flashes(response))
    evidence = Evidence.objects.get()
    response = client.get(reverse("breaches:evidence-download", args=[seed.pk, evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"Screenshot of the forum post"


def test_evidence_of_a_wrong_type_is_refused_next_to_the_field(client, compliance_user, seed):
    client.force_login(compliance_user)
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "text/plain")
    response = client.post(reverse("breaches:incident-evidence", args=[seed.pk]), {"file": upload})
    assert response.status_code == 400
    assert "file" in response.context["evidence_form"].errors
    assert not Evidence.objects.exists()


def test_auditor_cannot_upload_evidence(client, auditor_user, seed):
    client.force_login(auditor_user)
    upload = SimpleUploadedFile("a.txt", b"text", "text/plain")
    response = client.post(reverse("breaches:incident-evidence", args=[seed.pk]), {"file": upload})
    assert response.status_code == 403
    assert not Evidence.objects.exists()


def test_notes_and_fingerprint(client, compliance_user, seed, bumper_disclosure):
    client.force_login(compliance_user)
    response = client.post(reverse("breaches:incident-note", args=[seed.pk]), {"message": ""})
    assert response.status_code == 400
    assert "message" in response.context["note_form"].errors
    response = client.post(
        reverse("breaches:incident-note", args=[seed.pk]), {"message": "Called the supplier"}
    )
    assert response.status_code == 302
    assert seed.events.filter(message="Called the supplier").exists()
    page = client.get(
        reverse("breaches:incident-detail", args=[seed.pk]),
        {"fingerprint": bumper_disclosure.fingerprint},
    )
    assert page.context["suspects"][0].fingerprint_match
    assert b"Prime suspect" in page.content
    response = client.post(
        reverse("breaches:incident-fingerprint", args=[seed.pk]),
        {"fingerprint": bumper_disclosure.fingerprint},
    )
    assert response.status_code == 302
    seed.refresh_from_db()
    assert seed.leak_fingerprint == bumper_disclosure.fingerprint


# --- Penalties ---------------------------------------------------------------------------


def test_penalty_issue_and_payments(client, compliance_user, supplier_user, seed):
    penalty = seed.penalties.get()
    client.force_login(supplier_user)
    assert (
        client.get(reverse("breaches:penalty-detail", args=[penalty.pk])).context["transitions"]
        == []
    )
    response = client.post(
        reverse("breaches:penalty-transition", args=[penalty.pk]), {"to": "issued"}
    )
    assert response.status_code == 403

    client.force_login(compliance_user)
    detail = reverse("breaches:penalty-detail", args=[penalty.pk])
    assert [t["to"] for t in client.get(detail).context["transitions"]] == ["issued", "waived"]
    response = client.post(
        reverse("breaches:penalty-transition", args=[penalty.pk]), {"to": "issued"}
    )
    assert any("now issued" in m for m in flashes(response))
    payment_url = reverse("breaches:penalty-payment", args=[penalty.pk])
    response = client.post(
        payment_url, {"amount": "2000000.00", "paid_on": "2025-03-01", "reference": "X"}
    )
    assert response.status_code == 400
    assert "amount" in response.context["payment_form"].errors
    assert not Payment.objects.exists()
    response = client.post(payment_url, {"amount": "abc", "paid_on": "2025-03-01"})
    assert response.status_code == 400
    response = client.post(
        payment_url, {"amount": "400000.00", "paid_on": "2025-03-01", "reference": "CNAPS-1"}
    )
    assert any("Outstanding: CN¥600,000.00" in m for m in flashes(response))
    response = client.post(payment_url, {"amount": "600000", "paid_on": "2025-03-09"})
    assert any("paid in full" in m for m in flashes(response))
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.PAID
    response = client.post(payment_url, {"amount": "1", "paid_on": "2025-03-09"})
    assert response.status_code == 302
    assert any("not paid ones" in m for m in flashes(response))


def test_supplier_disputes_and_another_staff_member_waives(
    client, compliance_user, second_compliance_user, supplier_user, seed
):
    from breaches import services

    penalty = services.penalty_transition(
        actor=compliance_user, penalty=seed.penalties.get(), to="issued"
    )
    url = reverse("breaches:penalty-transition", args=[penalty.pk])
    client.force_login(supplier_user)
    detail = client.get(reverse("breaches:penalty-detail", args=[penalty.pk]))
    assert [t["to"] for t in detail.context["transitions"]] == ["disputed"]
    assert detail.context["can_acknowledge"]
    response = client.post(url, {"to": "disputed"})
    assert response.status_code == 400
    assert "note" in response.context["transitions"][0]["form"].errors
    response = client.post(url, {"to": "disputed", "t-disputed-note": "The sub-vendor leaked"})
    assert response.status_code == 302
    client.force_login(compliance_user)
    detail = client.get(reverse("breaches:penalty-detail", args=[penalty.pk]))
    assert [t["to"] for t in detail.context["transitions"]] == ["issued"]  # no waiver by issuer
    client.force_login(second_compliance_user)
    response = client.post(url, {"to": "waived", "t-waived-note": "Goodwill"})
    assert any("needs a second staff user" in m for m in flashes(response))
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.DISPUTED
    # The issuer sees the request but may not carry out a waiver; a third user does.
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:penalty-detail", args=[penalty.pk]))
    assert page.context["pending_review"] is not None
    assert not page.context["may_decide_review"]
    from tests.factories import UserFactory

    client.force_login(UserFactory(role="admin"))
    assert b"Waiting for your review" in client.get(reverse("dashboard")).content
    review = page.context["pending_review"]
    decide = reverse("breaches:penalty-review-decide", args=[penalty.pk, review.pk])
    response = client.post(decide, {"decision": "approve", "note": "Goodwill, agreed"})
    assert any("Approved" in m for m in flashes(response))
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.WAIVED


def test_supplier_acknowledges(client, compliance_user, supplier_user, seed):
    from breaches import services

    penalty = services.penalty_transition(
        actor=compliance_user, penalty=seed.penalties.get(), to="issued"
    )
    client.force_login(supplier_user)
    response = client.post(reverse("breaches:penalty-acknowledge", args=[penalty.pk]))
    assert any("acknowledged" in m for m in flashes(response))
    client.force_login(compliance_user)
    response = client.post(reverse("breaches:penalty-acknowledge", args=[penalty.pk]))
    assert response.status_code == 403


# --- Plans -------------------------------------------------------------------------------


def test_plan_drafting_submission_and_review(
    client, compliance_user, supplier_user, auditor_user, seed
):
    plan = seed.rectification_plans.get()
    detail = reverse("breaches:plan-detail", args=[plan.pk])
    transition = reverse("breaches:plan-transition", args=[plan.pk])
    client.force_login(supplier_user)
    response = client.post(transition, {"to": "submitted"})
    assert response.status_code == 400
    errors = response.context["transitions"][0]["form"].non_field_errors()
    assert any("summary" in e.lower() for e in errors), errors
    response = client.post(reverse("breaches:plan-summary", args=[plan.pk]), {"summary": ""})
    assert response.status_code == 400
    assert "summary" in response.context["summary_form"].errors
    response = client.post(
        reverse("breaches:plan-summary", args=[plan.pk]), {"summary": "Tighten downstream"}
    )
    assert any("summary saved" in m for m in flashes(response))
    add = reverse("breaches:plan-add-action", args=[plan.pk])
    response = client.post(add, {"description": "Watermark drafts", "due_on": ""})
    assert response.status_code == 400
    assert "due_on" in response.context["action_form"].errors
    response = client.post(
        add, {"description": "Watermark drafts", "due_on": "2020-01-01", "owner": "IT"}
    )
    assert response.status_code == 400, "an action due before it was created is refused"
    due = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(add, {"description": "Watermark drafts", "due_on": due, "owner": "IT"})
    assert any("Action added" in m for m in flashes(response))
    response = client.post(transition, {"to": "submitted"})
    assert any("submitted" in m for m in flashes(response))
    page = client.get(detail)
    assert page.context["summary_form"] is None
    assert page.context["action_form"] is None

    client.force_login(auditor_user)
    assert client.get(detail).context["transitions"] == []
    assert client.post(transition, {"to": "approved"}).status_code == 403

    client.force_login(compliance_user)
    assert [t["to"] for t in client.get(detail).context["transitions"]] == [
        "approved",
        "changes_requested",
    ]
    response = client.post(transition, {"to": "changes_requested"})
    assert response.status_code == 400
    form = next(
        t["form"] for t in response.context["transitions"] if t["to"] == "changes_requested"
    )
    assert "note" in form.errors
    response = client.post(
        transition, {"to": "changes_requested", "t-changes_requested-note": "Cover tier 3 too"}
    )
    assert any("Changes requested" in m for m in flashes(response))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CHANGES_REQUESTED
    assert b"Cover tier 3 too" in client.get(detail).content


def test_action_done_with_evidence(client, compliance_user, supplier_user, seed):
    plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    url = reverse("breaches:action-complete", args=[plan.pk, action.pk])
    client.force_login(supplier_user)
    page = client.get(reverse("breaches:plan-detail", args=[plan.pk]))
    assert b"0 of 1 actions done" in page.content
    response = client.post(url, {f"a{action.pk}-evidence_note": ""})
    assert response.status_code == 400
    response = client.post(url, {f"a{action.pk}-evidence_note": "Policy v2 signed"})
    assert any("marked done" in m for m in flashes(response))
    page = client.get(reverse("breaches:plan-detail", args=[plan.pk]))
    assert b"1 of 1 actions done (100%)" in page.content
    assert [t["to"] for t in page.context["transitions"]] == ["completed"]
    response = client.post(url, {f"a{action.pk}-evidence_note": "again"})
    assert response.status_code == 302
    assert any("already done" in m for m in flashes(response))


def test_late_action_has_a_text_marker(client, compliance_user, supplier_user, seed):
    plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    type(action).objects.filter(pk=action.pk).update(
        due_on=date.today() - timedelta(days=8), created_on=date.today() - timedelta(days=30)
    )
    client.force_login(supplier_user)
    page = client.get(reverse("breaches:plan-detail", args=[plan.pk]))
    assert b"Late (8 d)" in page.content
    dashboard = client.get(reverse("dashboard")).context
    assert dashboard["overdue_actions_count"] == 1
    assert dashboard["overdue_actions"][0].escalation_level == 2


# --- Suppliers ---------------------------------------------------------------------------


def test_supplier_detail_shows_tree_ndas_disclosures_and_gaps(
    client, compliance_user, tier1, subvendor, tier1_nda, bumper_disclosure, seed
):
    client.force_login(compliance_user)
    page = client.get(reverse("suppliers:detail", args=[tier1.pk]))
    body = page.content.decode()
    assert "Hebei Precision Mould Studio" in body
    assert "NDA-XM-2024-017" in body
    assert seed.reference in body
    assert page.context["gaps"], "the sub-vendor has no NDA of its own despite flow-down"
    sub_page = client.get(reverse("suppliers:detail", args=[subvendor.pk])).content.decode()
    assert bumper_disclosure.fingerprint in sub_page


def test_staff_create_and_edit_suppliers_ndas_and_disclosures(
    client, compliance_user, tier1, bumper_asset
):
    client.force_login(compliance_user)
    response = client.post(
        reverse("suppliers:create"),
        {"name": "Tianjin Finishing", "country": "CN", "parent": tier1.pk, "status": "active"},
    )
    created = Supplier.objects.get(name="Tianjin Finishing")
    assert response.status_code == 302
    assert created.tier == 2
    assert any("registered (tier 2)" in m for m in flashes(response))
    response = client.post(
        reverse("suppliers:create"),
        {"name": "tianjin finishing", "country": "CN", "status": "active"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    response = client.post(
        reverse("suppliers:edit", args=[created.pk]),
        {"name": "Tianjin Finishing", "country": "CN", "parent": "", "status": "suspended"},
    )
    created.refresh_from_db()
    assert (created.status, created.tier) == ("suspended", 1)
    response = client.post(
        reverse("suppliers:nda-create", args=[created.pk]),
        {
            "reference": "NDA-TJ-1",
            "signed_on": "2025-01-01",
            "effective_from": "2025-01-01",
            "expires_on": "2024-01-01",
            "penalty_amount": "5000",
            "penalty_currency": "CNY",
            "rectification_days": 30,
        },
    )
    assert response.status_code == 400
    assert not NDA.objects.filter(reference="NDA-TJ-1").exists()
    response = client.post(
        reverse("suppliers:nda-create", args=[created.pk]),
        {
            "reference": "NDA-TJ-1",
            "signed_on": "2025-01-01",
            "effective_from": "2025-01-01",
            "penalty_amount": "5000",
            "penalty_currency": "CNY",
            "rectification_days": 30,
        },
    )
    assert response.status_code == 302
    nda = NDA.objects.get(reference="NDA-TJ-1")
    response = client.post(
        reverse("suppliers:disclosure-create", args=[created.pk]),
        {"asset": bumper_asset.pk, "nda": nda.pk, "disclosed_on": "2025-02-01", "version": "v2"},
    )
    disclosure = Disclosure.objects.get(supplier=created)
    assert any(disclosure.fingerprint in m for m in flashes(response))
    response = client.post(
        reverse("suppliers:asset-create"),
        {"code": "ms11-door", "name": "MS11 door", "classification": "secret"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("role_fixture", ["auditor_user", "supplier_user"])
def test_only_writers_change_supplier_records(client, request, role_fixture, tier1):
    client.force_login(request.getfixturevalue(role_fixture))
    for url in (
        reverse("suppliers:create"),
        reverse("suppliers:edit", args=[tier1.pk]),
        reverse("suppliers:nda-create", args=[tier1.pk]),
        reverse("suppliers:disclosure-create", args=[tier1.pk]),
        reverse("suppliers:asset-create"),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("suppliers:edit", args=[tier1.pk]),
        {"name": "Renamed", "country": "CN", "status": "active"},
    )
    assert response.status_code == 403
    tier1.refresh_from_db()
    assert tier1.name == "Beijing Molding Technology Co. Ltd"


# --- Reminders ---------------------------------------------------------------------------


def test_reminder_log_is_scoped(client, compliance_user, supplier_user, other_supplier, seed):
    from tests.factories import ReminderFactory
    from tests.ui_cases import other_world_incident

    own = ReminderFactory(plan=seed.rectification_plans.get(), recipients=["a@bmt.example"])
    other_plan = other_world_incident(compliance_user, other_supplier).rectification_plans.get()
    ReminderFactory(plan=other_plan, recipients=["b@glass.example"])
    client.force_login(supplier_user)
    page = client.get(reverse("breaches:reminder-list"))
    assert [r.pk for r in page.context["page"]] == [own.pk]
    assert b"b@glass.example" not in page.content
    # Who a reminder went to names the buyer's people: the API and the page both keep it.
    assert b"a@bmt.example" not in page.content
    assert b"Recipients" not in page.content
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:reminder-list"))
    assert len(page.context["page"]) == 2
    assert b"a@bmt.example" in page.content


def test_staff_decide_liability_when_no_nda_covers(client, compliance_user, auditor_user, tier1):
    from tests.factories import NDAFactory

    orphan = Supplier.objects.create(name="Orphan Studio", country="CN")
    nda = NDAFactory(supplier=tier1, reference="NDA-MANUAL-1")
    incident = report_seed_incident(compliance_user, orphan)
    url = reverse("breaches:incident-liability", args=[incident.pk])
    client.force_login(auditor_user)
    assert (
        client.get(reverse("breaches:incident-detail", args=[incident.pk])).context[
            "liability_form"
        ]
        is None
    )
    assert client.post(url, {"responsible_supplier": tier1.pk, "reason": "x"}).status_code == 403
    client.force_login(compliance_user)
    response = client.post(url, {"responsible_supplier": tier1.pk, "nda": nda.pk, "reason": ""})
    assert response.status_code == 400
    assert "reason" in response.context["liability_form"].errors
    response = client.post(url, {"responsible_supplier": orphan.pk, "nda": nda.pk, "reason": "r"})
    assert response.status_code == 400
    assert "nda" in response.context["liability_form"].errors
    incident.refresh_from_db()
    assert incident.responsible_supplier is None
    response = client.post(
        url, {"responsible_supplier": tier1.pk, "nda": nda.pk, "reason": "Orphan works for it"}
    )
    assert any("Liability set to Beijing Molding" in m for m in flashes(response))
    incident.refresh_from_db()
    assert (incident.responsible_supplier, incident.nda) == (tier1, nda)
    assert incident.liability_overridden


def test_navigation_marks_the_current_section(client, compliance_user):
    client.force_login(compliance_user)
    body = client.get(reverse("breaches:plan-list")).content.decode()
    assert 'href="/plans/" class="active" aria-current="page"' in body
    assert 'href="/incidents/" class="active"' not in body


def test_penalty_amount_changes_only_while_proposed(
    client, compliance_user, second_compliance_user, supplier_user, seed
):
    from breaches import services

    penalty = seed.penalties.get()
    url = reverse("breaches:penalty-edit", args=[penalty.pk])
    client.force_login(supplier_user)
    assert client.post(url, {"amount": "1"}).status_code == 403
    client.force_login(compliance_user)
    response = client.post(url, {"amount": "-5"})
    assert response.status_code == 400
    assert "amount" in response.context["edit_form"].errors
    response = client.post(url, {"amount": "800000.00", "due_on": "2030-01-01"})
    assert any("needs a second staff user" in m for m in flashes(response))
    client.force_login(second_compliance_user)
    response = client.post(url, {"amount": "800000.00", "due_on": "2030-01-01"})
    assert any("CN¥800,000.00" in m for m in flashes(response))
    client.force_login(compliance_user)
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("800000.00")
    # 800,000 is below the NDA clause: issuing it takes a second staff user.
    services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    services.penalty_transition(actor=second_compliance_user, penalty=penalty, to="issued")
    assert (
        client.get(reverse("breaches:penalty-detail", args=[penalty.pk])).context["edit_form"]
        is None
    )
    response = client.post(url, {"amount": "700000.00"})
    assert any("cannot change" in m for m in flashes(response))
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("800000.00")


@pytest.mark.parametrize(
    ("page", "api", "queries"),
    [
        ("breaches:incident-list", "/api/v1/incidents/", ["number 1", "INC-", "leak 2", "zzz"]),
        ("suppliers:list", "/api/v1/suppliers/", ["Hebei", "beijing molding", "Mould, Hebei"]),
        ("breaches:plan-list", "/api/v1/rectification-plans/", ["INC-", "Hebei", "nothing"]),
        ("breaches:penalty-list", "/api/v1/penalties/", ["INC-", "Beijing", "nothing"]),
    ],
)
def test_a_page_finds_what_the_api_finds(
    client, compliance_user, subvendor, tier1_nda, page, api, queries
):
    """One FilterSet per model serves both: the same parameters, the same search."""
    from tests.apiclients import client_for, results

    for n in range(12):
        make = confirmed_incident if n % 3 == 0 else report_seed_incident
        make(compliance_user, subvendor, title=f"Leak number {n}")
    client.force_login(compliance_user)
    rest = client_for(compliance_user)
    for query in queries:
        on_page = client.get(reverse(page), {"search": query, "status": ""})
        assert on_page.status_code == 200, query
        by_api = results(rest.get(api, {"search": query, "page_size": 200}))
        assert sorted(obj.pk for obj in on_page.context["page"]) == sorted(
            row["id"] for row in by_api
        ), query
