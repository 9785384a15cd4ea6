"""The seed case of DESIGN section 1 end to end through the REST API: suppliers and a
sub-vendor, NDAs, assets and disclosures, the leak by the sub-vendor resolving to the
tier-1, investigation, confirmation (penalty and plan), issue, payments up to paid,
the supplier's plan and its approval, suspects by fingerprint, gaps and the summary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from suppliers.choices import Role
from tests.apiclients import client_for, results
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_case_through_the_api(admin_user, compliance_user, second_compliance_user):
    staff = client_for(compliance_user, token=True)

    # Suppliers: the tier-1 and the sub-vendor it engaged (+ one without any NDA reach).
    r = staff.post(
        "/api/v1/suppliers/",
        {"name": "Beijing Molding Technology Co. Ltd", "country": "cn"},
        format="json",
    )
    assert r.status_code == 201, r.content
    tier1 = r.json()
    assert (tier1["tier"], tier1["parent"], tier1["country"]) == (1, None, "CN")
    r = staff.post(
        "/api/v1/suppliers/",
        {"name": "Hebei Precision Mould Studio", "country": "CN", "parent": tier1["id"]},
        format="json",
    )
    assert r.status_code == 201, r.content
    sub = r.json()
    assert sub["tier"] == 2
    assert sub["parent"] == tier1["id"]
    r = staff.post(
        "/api/v1/suppliers/",
        {"name": "beijing molding technology co. ltd", "country": "CN"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "name" in r.json(), r.content

    # NDAs: the tier-1's covers sub-vendors and requires flow-down.
    r = staff.post(
        "/api/v1/ndas/",
        {
            "reference": "NDA-XM-2024-017",
            "supplier": tier1["id"],
            "signed_on": "2024-02-20",
            "effective_from": "2024-03-01",
            "expires_on": "2027-03-01",
            "covers_subvendors": True,
            "flow_down_required": True,
            "penalty_amount": "1000000.00",
            "penalty_currency": "cny",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    nda = r.json()
    assert nda["penalty_amount"] == "1000000.00"
    assert nda["penalty_currency"] == "CNY"
    assert nda["rectification_days"] == 30
    assert nda["status"] in {"active", "expired"}

    # Assets and disclosures; each disclosure gets its own fingerprint.
    fingerprints = {}
    asset_ids = []
    for code in ("MS11-BUMPER-FR", "MS11-BUMPER-RR"):
        r = staff.post(
            "/api/v1/assets/",
            {"code": code, "name": f"{code} drafts", "project": "MS11"},
            format="json",
        )
        assert r.status_code == 201, r.content
        asset_ids.append(r.json()["id"])
    for asset_id, recipient in ((asset_ids[0], tier1), (asset_ids[0], sub), (asset_ids[1], sub)):
        r = staff.post(
            "/api/v1/disclosures/",
            {
                "asset": asset_id,
                "supplier": recipient["id"],
                "nda": nda["id"],
                "disclosed_on": "2024-11-05",
                "version": "v3",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        body = r.json()
        assert len(body["fingerprint"]) >= 32
        fingerprints[(asset_id, recipient["id"])] = body["fingerprint"]
    assert len(set(fingerprints.values())) == 3

    # The leak: the sub-vendor is the source, the tier-1 is liable under its NDA.
    r = staff.post(
        "/api/v1/incidents/",
        {
            "title": "MS11 bumper renders on social media",
            "occurred_on": "2025-01-22",
            "discovered_on": "2025-01-22",
            "channel": "social_media",
            "severity": "critical",
            "source_supplier": sub["id"],
            "assets": asset_ids,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    incident = r.json()
    assert incident["status"] == "reported"
    assert incident["reference"].startswith("INC-")
    assert incident["responsible_supplier"] == tier1["id"]
    assert incident["nda"] == nda["id"]
    assert incident["no_nda_coverage"] is False
    iid = incident["id"]

    # Status is read-only: a PATCH does not move it.
    r = staff.patch(f"/api/v1/incidents/{iid}/", {"status": "closed"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "reported", r.content

    # Invalid transition: 409, nothing changes.
    r = staff.post(f"/api/v1/incidents/{iid}/transition/", {"to": "closed"}, format="json")
    assert r.status_code == 409, r.content
    r = staff.post(f"/api/v1/incidents/{iid}/transition/", {"to": "investigating"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "investigating", r.content
    r = staff.post(
        f"/api/v1/incidents/{iid}/transition/",
        {"to": "confirmed", "note": "Watermark matches the sub-vendor's copy."},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "confirmed", r.content

    # Confirmation created the proposed penalty (NDA clause) and the requested plan.
    penalties = results(staff.get(f"/api/v1/penalties/?incident={iid}"))
    assert len(penalties) == 1
    penalty = penalties[0]
    assert (penalty["amount"], penalty["currency"], penalty["status"]) == (
        "1000000.00",
        "CNY",
        "proposed",
    )
    assert penalty["supplier"] == tier1["id"]
    assert (penalty["paid_amount"], penalty["outstanding"]) == ("0.00", "1000000.00")
    plans = results(staff.get(f"/api/v1/rectification-plans/?incident={iid}"))
    assert len(plans) == 1
    plan = plans[0]
    assert plan["status"] == "requested"
    assert plan["supplier"] == tier1["id"]
    today = timezone.localdate()
    assert plan["due_on"] == (today + timedelta(days=30)).isoformat()

    # Issue, then pay in two parts; an overpayment is refused and changes nothing.
    pid = penalty["id"]
    r = staff.post(f"/api/v1/penalties/{pid}/transition/", {"to": "issued"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "issued", r.content
    r = staff.post(
        f"/api/v1/penalties/{pid}/payments/",
        {"amount": "400000.00", "paid_on": "2025-03-01", "reference": "WIRE-1"},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = staff.post(
        f"/api/v1/penalties/{pid}/payments/",
        {"amount": "600000.01", "paid_on": "2025-03-02", "reference": "WIRE-2"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "amount" in r.json(), r.content
    r = staff.get(f"/api/v1/penalties/{pid}/")
    assert r.json()["paid_amount"] == "400000.00"
    assert len(r.json()["payments"]) == 1
    r = staff.post(
        f"/api/v1/penalties/{pid}/payments/",
        {"amount": "600000.00", "paid_on": "2025-03-02", "reference": "WIRE-2"},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = staff.get(f"/api/v1/penalties/{pid}/")
    body = r.json()
    assert (body["status"], body["paid_amount"], body["outstanding"]) == (
        "paid",
        "1000000.00",
        "0.00",
    )

    # The tier-1's user drafts, adds actions and submits its plan (token auth).
    r = client_for(admin_user).post(
        "/api/v1/users/",
        {
            "username": "bmt-security",
            "email": "security@bmt.example",
            "password": "Correct-Horse-Battery-42",
            "role": "supplier",
            "supplier": tier1["id"],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert "password" not in r.json()
    r = client_for().post(
        "/api/v1/auth/token/",
        {"username": "bmt-security", "password": "Correct-Horse-Battery-42"},
        format="json",
    )
    assert r.status_code == 200, r.content
    supplier_client = client_for()
    supplier_client.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")

    plan_id = plan["id"]
    r = supplier_client.patch(
        f"/api/v1/rectification-plans/{plan_id}/",
        {"summary": "Bind every sub-vendor by NDA; watermark all drafts; audit downstream."},
        format="json",
    )
    assert r.status_code == 200, r.content
    for days, text in ((20, "Sign NDAs with all sub-vendors"), (40, "Quarterly downstream audit")):
        r = supplier_client.post(
            "/api/v1/rectification-actions/",
            {
                "plan": plan_id,
                "description": text,
                "owner": "CISO",
                "due_on": (today + timedelta(days=days)).isoformat(),
            },
            format="json",
        )
        assert r.status_code == 201, r.content
    r = supplier_client.post(
        f"/api/v1/rectification-plans/{plan_id}/transition/", {"to": "submitted"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "submitted", r.content
    # Approving is for staff: the supplier may see the plan, so 403 (not 404).
    r = supplier_client.post(
        f"/api/v1/rectification-plans/{plan_id}/transition/", {"to": "approved"}, format="json"
    )
    assert r.status_code == 403, r.content

    # Compliance approves; the supplier completes actions with evidence notes.
    r = staff.post(
        f"/api/v1/rectification-plans/{plan_id}/transition/", {"to": "approved"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "approved", r.content
    assert r.json()["progress"] == {"done": 0, "total": 2, "percent": 0}
    action_ids = [a["id"] for a in r.json()["actions"]]
    r = supplier_client.post(
        f"/api/v1/rectification-actions/{action_ids[0]}/complete/",
        {"evidence_note": "Signed NDAs uploaded to the portal."},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "done", r.content
    r = staff.get(f"/api/v1/rectification-plans/{plan_id}/")
    assert r.json()["progress"] == {"done": 1, "total": 2, "percent": 50}

    # Suspects: the fingerprint on the leaked copy points at the sub-vendor's copy.
    leaked = fingerprints[(asset_ids[0], sub["id"])]
    r = staff.get(f"/api/v1/incidents/{iid}/suspects/", {"fingerprint": leaked.upper()})
    assert r.status_code == 200, r.content
    suspects = r.json()
    assert len(suspects) == 3
    prime = suspects[0]
    assert prime["fingerprint_match"] is True
    assert prime["recipient"] == sub["id"]
    assert [link["id"] for link in prime["chain"]] == [sub["id"], tier1["id"]]
    assert prime["responsible_supplier"] == tier1["id"]
    assert prime["nda"] == nda["id"]
    assert not any(s["fingerprint_match"] for s in suspects[1:])

    # Coverage gaps: a second sub-vendor without an NDA under a flow-down clause.
    r = staff.post(
        "/api/v1/suppliers/",
        {"name": "Tianjin Render House", "country": "CN", "parent": tier1["id"]},
        format="json",
    )
    assert r.status_code == 201, r.content
    gap_supplier = r.json()["id"]
    r = staff.get("/api/v1/reports/coverage-gaps/", {"as_of": "2025-06-01"})
    assert r.status_code == 200, r.content
    gaps = {(g["supplier"], g["reason"]) for g in r.json()}
    assert (gap_supplier, "flow_down_missing") in gaps
    assert (sub["id"], "flow_down_missing") in gaps

    # Summary: counts by status, overdue counts and penalty totals per currency.
    r = staff.get("/api/v1/reports/summary/")
    assert r.status_code == 200, r.content
    summary = r.json()
    assert summary["incidents"]["by_status"] == {"confirmed": 1}
    assert summary["penalties"]["by_status"] == {"paid": 1}
    assert summary["rectification_plans"]["by_status"] == {"approved": 1}
    assert summary["overdue"] == {"plans": 0, "actions": 0}
    assert summary["penalty_totals"] == [
        {
            "currency": "CNY",
            "count": 1,
            "amount": "1000000.00",
            "paid": "1000000.00",
            "outstanding": "0.00",
            "waived": "0.00",
        }
    ]
    # Twenty days on, the open action is overdue in the supplier's own summary too.
    later = (today + timedelta(days=45)).isoformat()
    r = supplier_client.get("/api/v1/reports/summary/", {"as_of": later})
    assert r.json()["overdue"] == {"plans": 0, "actions": 1}, r.content

    # The timeline kept every step.
    events = results(staff.get(f"/api/v1/incidents/{iid}/events/?page_size=200"))
    kinds = {e["kind"] for e in events}
    assert {"created", "transition", "penalty", "payment", "plan", "action"} <= kinds


def test_supplier_user_cannot_use_another_users_role(admin_user):
    # Users endpoint validates role and supplier together (400 naming the field).
    r = client_for(admin_user).post(
        "/api/v1/users/",
        {"username": "x", "password": "Correct-Horse-Battery-42", "role": Role.SUPPLIER},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "supplier" in r.json(), r.content
    r = client_for(admin_user).post(
        "/api/v1/users/",
        {"username": "y", "password": "123", "role": Role.AUDITOR},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "password" in r.json(), r.content
    assert not UserFactory._meta.model.objects.filter(username__in=["x", "y"]).exists()
