"""Four eyes through the API: a cut to a penalty (issue below the NDA clause, reduction,
waiver) by one staff user waits for another, who is told and sees it in a queue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from breaches.models import Penalty, PenaltyReview
from tests.apiclients import client_for, results
from tests.factories import PenaltyFactory
from tests.notifying import deliver_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(tier1, liable_penalty_incident):
    return PenaltyFactory(incident=liable_penalty_incident, supplier=tier1)


@pytest.fixture
def liable_penalty_incident(compliance_user, subvendor, tier1_nda, bumper_asset):
    from tests.ui_cases import confirmed_incident

    return confirmed_incident(compliance_user, subvendor, [bumper_asset])


def test_issuing_far_below_the_clause_waits_for_a_second_user_who_is_told(
    compliance_user, second_compliance_user, admin_user, liable_penalty_incident
):
    penalty = liable_penalty_incident.penalties.get()  # proposed at the NDA clause
    url = f"/api/v1/penalties/{penalty.pk}/transition/"
    response = client_for(compliance_user).post(
        url, {"to": "issued", "amount": "0.01", "note": "Goodwill"}, format="json"
    )
    assert response.status_code == 202, response.content
    review = response.json()["review"]
    assert (review["kind"], review["amount"], review["state"]) == (
        "issue_below_clause",
        "0.01",
        "pending",
    )
    penalty.refresh_from_db()
    assert (penalty.status, penalty.amount) == ("proposed", Decimal("1000000.00"))

    # The others are told (the event the request wrote, fanned out after commit).
    deliver_everything()
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == sorted([second_compliance_user.email, admin_user.email])
    assert f"/penalties/{penalty.pk}/" in mail.outbox[0].body

    # The queue: the second user's, not the requester's.
    queue = "/api/v1/penalty-reviews/?awaiting_me=true"
    assert results(client_for(compliance_user).get(queue)) == []
    mine = results(client_for(second_compliance_user).get(queue))
    assert [row["id"] for row in mine] == [review["id"]]

    decide = f"/api/v1/penalty-reviews/{review['id']}/decide/"
    assert client_for(compliance_user).post(decide, {"approve": True}).status_code == 403
    response = client_for(second_compliance_user).post(decide, {"approve": True}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["amount"]) == ("issued", "0.01")
    assert results(client_for(second_compliance_user).get(queue)) == []


def test_suppliers_have_no_queue_and_auditors_only_read(
    compliance_user, auditor_user, supplier_user, proposed
):
    asked = client_for(compliance_user).post(
        f"/api/v1/penalties/{proposed.pk}/transition/", {"to": "waived"}, format="json"
    )
    assert asked.status_code == 202, asked.content
    review_id = asked.json()["review"]["id"]
    supplier = client_for(supplier_user)
    assert results(supplier.get("/api/v1/penalty-reviews/")) == []
    assert supplier.get(f"/api/v1/penalty-reviews/{review_id}/").status_code == 404
    assert (
        supplier.post(f"/api/v1/penalty-reviews/{review_id}/decide/", {"approve": True}).status_code
        == 404
    )
    auditor = client_for(auditor_user)
    assert auditor.get(f"/api/v1/penalty-reviews/{review_id}/").status_code == 200
    response = auditor.post(f"/api/v1/penalty-reviews/{review_id}/decide/", {"approve": True})
    assert response.status_code == 403, response.content
    assert PenaltyReview.objects.get(pk=review_id).state == "pending"
    assert Penalty.objects.get(pk=proposed.pk).status == "proposed"


def test_a_disputed_penalty_cannot_be_raised_then_upheld(
    compliance_user, second_compliance_user, supplier_user, liable_penalty_incident
):
    penalty = liable_penalty_incident.penalties.get()
    staff = client_for(compliance_user)
    url = f"/api/v1/penalties/{penalty.pk}/transition/"
    assert staff.post(url, {"to": "issued"}, format="json").status_code == 200
    disputed = client_for(supplier_user).post(
        url, {"to": "disputed", "note": "Not ours"}, format="json"
    )
    assert disputed.status_code == 200, disputed.content
    raised = client_for(second_compliance_user).patch(
        f"/api/v1/penalties/{penalty.pk}/", {"amount": "5000000.00"}, format="json"
    )
    assert raised.status_code == 400, raised.content
    assert "amount" in raised.json()
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("1000000.00")


def test_a_broker_down_does_not_fail_the_request_it_only_delays_the_mail(
    compliance_user, proposed, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from config import queueing

    def broker_down(*args, **kwargs):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(queueing, "publish_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(compliance_user).post(
            f"/api/v1/penalties/{proposed.pk}/transition/", {"to": "waived"}, format="json"
        )
    assert len(callbacks) == 1
    assert response.status_code == 202, response.content
    assert PenaltyReview.objects.filter(penalty=proposed, state="pending").exists()
