"""Workflow acts through the API beyond the seed case: dispute and a reduced uphold with
four eyes, waiver, changes requested, liability decided by hand, notes, acknowledgement."""

from __future__ import annotations

import pytest

from breaches.models import Penalty
from tests.apiclients import client_for
from tests.factories import IncidentFactory, PenaltyFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _post(client, url, payload):
    return client.post(url, payload, format="json")


def test_dispute_and_reduced_uphold_need_four_eyes(
    compliance_user, second_compliance_user, admin_user, supplier_user, tier1
):
    penalty = PenaltyFactory(supplier=tier1)
    url = f"/api/v1/penalties/{penalty.pk}/transition/"
    issuer, reviewer = client_for(compliance_user), client_for(second_compliance_user)
    supplier = client_for(supplier_user)

    assert _post(issuer, url, {"to": "issued"}).status_code == 200
    response = _post(supplier, url, {"to": "disputed"})
    assert response.status_code == 400, response.content  # a dispute says why
    assert "note" in response.json()
    response = _post(supplier, url, {"to": "disputed", "note": "The leak was not ours."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disputed"
    response = _post(supplier, url, {"to": "waived", "note": "please"})
    assert response.status_code == 403, response.content  # waiving is for staff

    response = _post(issuer, url, {"to": "issued", "amount": "600000.00"})
    assert response.status_code == 403, response.content  # the issuer cannot reduce
    response = _post(reviewer, url, {"to": "issued", "amount": "2000000.00"})
    assert response.status_code == 400, response.content  # nor may anyone increase
    assert "amount" in response.json()
    response = _post(reviewer, url, {"to": "issued", "amount": "600000.00", "note": "Upheld"})
    assert response.status_code == 202, response.content  # asked: a second user decides
    assert response.json()["review"]["kind"] == "reduction"
    assert Penalty.objects.get(pk=penalty.pk).status == "disputed"
    response = _post(reviewer, url, {"to": "issued", "amount": "600000.00"})
    assert response.status_code == 409, response.content  # not twice by the same user
    response = _post(client_for(admin_user), url, {"to": "issued", "amount": "600000.00"})
    assert response.status_code == 200, response.content  # the second user's same act
    body = response.json()
    assert (body["status"], body["amount"], body["outstanding"]) == (
        "issued",
        "600000.00",
        "600000.00",
    )

    ack = _post(supplier, f"/api/v1/penalties/{penalty.pk}/acknowledge/", {"note": "Accepted"})
    assert ack.status_code == 201, ack.content
    assert ack.json()["kind"] == "penalty"


def test_waiver_by_a_second_person(compliance_user, second_compliance_user, admin_user, tier1):
    penalty = PenaltyFactory(supplier=tier1)
    url = f"/api/v1/penalties/{penalty.pk}/transition/"
    assert _post(client_for(compliance_user), url, {"to": "issued"}).status_code == 200
    assert (
        _post(client_for(compliance_user), url, {"to": "disputed", "note": "x"}).status_code == 200
    )
    assert _post(client_for(compliance_user), url, {"to": "waived"}).status_code == 403
    response = _post(client_for(second_compliance_user), url, {"to": "waived", "note": "ok"})
    assert response.status_code == 202, response.content
    review = response.json()["review"]
    # The issuer may not carry out a waiver, even someone else's request.
    decide = f"/api/v1/penalty-reviews/{review['id']}/decide/"
    assert _post(client_for(compliance_user), decide, {"approve": True}).status_code == 403
    response = _post(client_for(admin_user), decide, {"approve": True, "note": "agreed"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "waived"
    assert response.json()["outstanding"] == "0.00"
    assert _post(client_for(compliance_user), url, {"to": "paid"}).status_code == 409


def test_penalty_amount_editable_only_while_proposed(
    compliance_user, second_compliance_user, tier1
):
    staff = client_for(compliance_user)
    penalty = PenaltyFactory(supplier=tier1)
    response = staff.patch(f"/api/v1/penalties/{penalty.pk}/", {"amount": "5.00"}, format="json")
    assert response.status_code == 202, response.content  # a reduction: four eyes
    response = client_for(second_compliance_user).patch(
        f"/api/v1/penalties/{penalty.pk}/", {"amount": "5.00"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "5.00"
    Penalty.objects.filter(pk=penalty.pk).update(status="issued")
    response = staff.patch(f"/api/v1/penalties/{penalty.pk}/", {"amount": "6.00"}, format="json")
    assert response.status_code == 409, response.content
    penalty.refresh_from_db()
    assert str(penalty.amount) == "5.00"


def test_changes_requested_needs_a_note(compliance_user, supplier_user, tier1):
    plan = PlanFactory(supplier=tier1, summary="Draft", status="submitted")
    url = f"/api/v1/rectification-plans/{plan.pk}/transition/"
    response = _post(client_for(compliance_user), url, {"to": "changes_requested"})
    assert response.status_code == 400, response.content
    assert "note" in response.json()
    response = _post(
        client_for(compliance_user), url, {"to": "changes_requested", "note": "Cover sub-vendors"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["changes_requested_reason"] == "Cover sub-vendors"
    # The supplier may edit its draft again, but not move the deadline.
    supplier = client_for(supplier_user)
    detail = f"/api/v1/rectification-plans/{plan.pk}/"
    assert supplier.patch(detail, {"summary": "v2"}, format="json").status_code == 200
    later = (plan.due_on + __import__("datetime").timedelta(days=60)).isoformat()
    response = supplier.patch(detail, {"due_on": later}, format="json")
    assert response.status_code == 403, response.content


def test_liability_decided_by_hand_when_no_nda_covers(compliance_user, other_supplier):
    staff = client_for(compliance_user)
    response = _post(
        staff,
        "/api/v1/incidents/",
        {
            "title": "Leak by an unbound supplier",
            "occurred_on": "2025-01-22",
            "discovered_on": "2025-01-22",
            "channel": "competitor",
            "source_supplier": other_supplier.pk,
        },
    )
    assert response.status_code == 201, response.content
    incident = response.json()
    assert incident["no_nda_coverage"] is True
    assert incident["responsible_supplier"] is None
    url = f"/api/v1/incidents/{incident['id']}/"
    assert _post(staff, url + "transition/", {"to": "investigating"}).status_code == 200
    response = _post(staff, url + "transition/", {"to": "confirmed"})
    assert response.status_code == 409, response.content  # nobody is liable yet
    response = _post(staff, url + "liability/", {"responsible_supplier": other_supplier.pk})
    assert response.status_code == 400, response.content
    assert "reason" in response.json()
    response = _post(
        staff,
        url + "liability/",
        {"responsible_supplier": other_supplier.pk, "reason": "Purchase order terms"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["liability_overridden"] is True
    response = _post(staff, url + "transition/", {"to": "confirmed"})
    assert response.status_code == 200, response.content
    plans = staff.get(f"/api/v1/rectification-plans/?incident={incident['id']}").json()
    assert len(plans["results"]) == 1  # a plan, but no NDA clause to penalise under
    assert staff.get(f"/api/v1/penalties/?incident={incident['id']}").json()["results"] == []


def test_notes_and_empty_notes(compliance_user, supplier_user, tier1):
    incident = IncidentFactory(responsible_supplier=tier1)
    url = f"/api/v1/incidents/{incident.pk}/notes/"
    response = _post(client_for(supplier_user), url, {"message": "We are investigating."})
    assert response.status_code == 201, response.content
    assert response.json()["actor_username"] == "bmt-user"
    response = _post(client_for(compliance_user), url, {"message": ""})
    assert response.status_code == 400, response.content
    assert "message" in response.json()
