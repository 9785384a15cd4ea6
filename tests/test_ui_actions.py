"""Actions edited and removed in the browser while their plan allows it (the rules of
breaches.selectors, which the services apply), and files attached to an action as
evidence under the rules of incident evidence, by the plan's supplier or staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from breaches import services
from breaches.choices import EventKind, Visibility
from breaches.models import Evidence, RectificationAction
from tests.ui_cases import approved_plan_with_action, confirmed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seed(compliance_user, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    return confirmed_incident(compliance_user, subvendor, [bumper_asset])


@pytest.fixture
def draft(seed, supplier_user):
    plan = seed.rectification_plans.get()
    action = services.action_create(
        actor=supplier_user, plan=plan, description="Audit access", due_on=plan.due_on
    )
    return plan, action


def _action(page, pk):
    return next(a for a in page.context["actions"] if a.pk == pk)


def test_supplier_edits_and_removes_a_draft_action(client, draft, supplier_user):
    plan, action = draft
    client.force_login(supplier_user)
    page = client.get(reverse("breaches:plan-detail", args=[plan.pk]))
    row = _action(page, action.pk)
    assert row.may_edit
    assert row.may_delete
    url = reverse("breaches:action-edit", args=[plan.pk, action.pk])
    assert client.get(url).status_code == 200
    new_due = plan.due_on + timedelta(days=5)
    response = client.post(
        url,
        {"description": "Audit access logs", "owner": "IT", "due_on": new_due.isoformat()},
    )
    assert response.status_code == 302, response.content[:400]
    action.refresh_from_db()
    assert (action.description, action.owner, action.due_on) == ("Audit access logs", "IT", new_due)
    event = plan.events.filter(kind=EventKind.ACTION).latest("id")
    assert "changed: description; owner: none -> IT" in event.message
    client.post(reverse("breaches:action-delete", args=[plan.pk, action.pk]))
    assert not RectificationAction.objects.filter(pk=action.pk).exists()
    assert "Action removed" in plan.events.filter(kind=EventKind.ACTION).latest("id").message


def test_approved_plan_fixes_actions_for_the_supplier_not_staff(
    client, seed, compliance_user, supplier_user
):
    plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    client.force_login(supplier_user)
    row = _action(client.get(reverse("breaches:plan-detail", args=[plan.pk])), action.pk)
    assert not row.may_edit
    assert not row.may_delete
    assert row.file_form is not None  # evidence may still be attached
    # The edit page offers only the progress note; a changed description is refused.
    form = client.get(reverse("breaches:action-edit", args=[plan.pk, action.pk])).context["form"]
    assert list(form.fields) == ["evidence_note"]
    response = client.post(
        reverse("breaches:action-delete", args=[plan.pk, action.pk]), follow=True
    )
    assert b"cannot be removed" in response.content
    assert RectificationAction.objects.filter(pk=action.pk).exists()
    client.force_login(compliance_user)
    row = _action(client.get(reverse("breaches:plan-detail", args=[plan.pk])), action.pk)
    assert row.may_edit
    assert not row.may_delete


def test_supplier_attaches_a_file_to_its_action(
    client, seed, compliance_user, supplier_user, other_supplier_user
):
    plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    client.force_login(supplier_user)
    url = reverse("breaches:action-evidence", args=[plan.pk, action.pk])
    pdf = SimpleUploadedFile("training.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = client.post(url, {f"f{action.pk}-file": pdf, f"f{action.pk}-description": "Slides"})
    assert response.status_code == 302, response.content[:400]
    evidence = Evidence.objects.get()
    assert evidence.action == action
    assert evidence.incident == seed
    assert evidence.visibility == Visibility.SHARED
    assert evidence.content_type == "application/pdf"
    page = client.get(reverse("breaches:plan-detail", args=[plan.pk]))
    assert _action(page, action.pk).files == [evidence]
    download = client.get(reverse("breaches:evidence-download", args=[seed.pk, evidence.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    # The same upload rules as incident evidence: HTML is refused, nothing stored.
    html = SimpleUploadedFile("x.html", b"<html><script>1</script></html>")
    response = client.post(url, {f"f{action.pk}-file": html})
    assert response.status_code == 400
    assert "not accepted" in str(_action(response, action.pk).file_form.errors)
    assert Evidence.objects.count() == 1
    # Another supplier's user cannot reach the plan at all.
    client.force_login(other_supplier_user)
    pdf.seek(0)
    assert client.post(url, {f"f{action.pk}-file": pdf}).status_code == 404
    assert Evidence.objects.count() == 1


def test_api_attaches_and_lists_action_evidence(client, seed, compliance_user, supplier_user):
    _plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    client.force_login(supplier_user)
    url = f"/api/v1/rectification-actions/{action.pk}/evidence/"
    pdf = SimpleUploadedFile("log.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = client.post(url, {"file": pdf, "description": "Access log"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["action"] == action.pk
    assert body["incident"] == seed.pk
    assert body["visibility"] == "shared"
    listed = client.get(url).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    svg = SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert client.post(url, {"file": svg}).status_code == 400
