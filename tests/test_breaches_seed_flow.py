"""The seed case through the services, end to end: a sub-vendor leaks, its parent is
liable, confirmation creates the penalty and the plan, payment settles the penalty,
the plan is submitted, approved, completed and verified, and the incident closes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from breaches import services
from breaches.choices import IncidentStatus, PenaltyStatus, PlanStatus


@pytest.mark.django_db
def test_seed_case_end_to_end(
    compliance_user,
    second_compliance_user,
    supplier_user,
    subvendor,
    tier1,
    tier1_nda,
    bumper_asset,
    bumper_disclosure,
):
    incident = services.incident_create(
        actor=compliance_user,
        title="MS11 bumper renders on social media",
        occurred_on=date(2025, 1, 22),
        discovered_on=date(2025, 1, 22),
        channel="social_media",
        severity="critical",
        source_supplier=subvendor,
        assets=[bumper_asset],
    )
    assert incident.reference.startswith(f"INC-{incident.created_at.year}-")
    assert incident.responsible_supplier == tier1
    assert incident.nda == tier1_nda
    assert not incident.no_nda_coverage

    services.incident_transition(actor=compliance_user, incident=incident, to="investigating")
    today = date(2025, 2, 1)
    incident = services.incident_transition(
        actor=compliance_user, incident=incident, to="confirmed", today=today
    )
    assert incident.status == IncidentStatus.CONFIRMED
    penalty = incident.penalties.get()
    assert (penalty.amount, penalty.currency, penalty.status) == (
        Decimal("1000000.00"),
        "CNY",
        PenaltyStatus.PROPOSED,
    )
    plan = incident.rectification_plans.get()
    assert plan.status == PlanStatus.REQUESTED
    assert plan.due_on == today + timedelta(days=30)

    penalty = services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount="400000.00", paid_on=date(2025, 3, 1)
    )
    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount=Decimal("600000"), paid_on=date(2025, 3, 9)
    )
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.PAID
    assert penalty.outstanding == Decimal("0.00")

    services.plan_update(actor=supplier_user, plan=plan, summary="Tighten downstream security")
    action = services.action_create(
        actor=supplier_user,
        plan=plan,
        description="Watermark every draft sent to sub-vendors",
        due_on=date(2025, 4, 1),
        today=today,
    )
    services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    services.plan_transition(actor=compliance_user, plan=plan, to="approved")
    services.action_complete(actor=supplier_user, action=action, evidence_note="Policy v2 signed")
    services.plan_transition(actor=supplier_user, plan=plan, to="completed")
    services.plan_transition(actor=second_compliance_user, plan=plan, to="verified")

    services.incident_transition(actor=compliance_user, incident=incident, to="resolved")
    incident = services.incident_transition(actor=compliance_user, incident=incident, to="closed")
    assert incident.status == IncidentStatus.CLOSED
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds[0] == "created"
    assert kinds.count("transition") == 4
    assert {"penalty", "payment", "plan", "action"} <= set(kinds), kinds
