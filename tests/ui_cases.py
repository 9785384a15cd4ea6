"""Builders for the UI tests: the seed case moved along through the services."""

from __future__ import annotations

from datetime import date, timedelta

from breaches import services
from breaches.models import Incident
from suppliers.models import Supplier, User
from tests.factories import NDAFactory

OCCURRED = date(2025, 1, 22)


def report_seed_incident(actor: User, source: Supplier, assets=(), title: str = "") -> Incident:
    return services.incident_create(
        actor=actor,
        title=title or "MS11 bumper renders on social media",
        occurred_on=OCCURRED,
        discovered_on=OCCURRED,
        channel="social_media",
        severity="critical",
        source_supplier=source,
        assets=list(assets),
    )


def confirmed_incident(actor: User, source: Supplier, assets=(), title: str = "") -> Incident:
    """Reported, investigated and confirmed: a proposed penalty and a requested plan."""
    incident = report_seed_incident(actor, source, assets, title)
    services.incident_transition(actor=actor, incident=incident, to="investigating")
    return services.incident_transition(actor=actor, incident=incident, to="confirmed")


def other_world_incident(actor: User, other_supplier: Supplier) -> Incident:
    """An incident of an unrelated supplier, confirmed, with its own NDA (EUR)."""
    NDAFactory(
        reference="NDA-GLASS-1",
        supplier=other_supplier,
        effective_from=date(2024, 1, 1),
        penalty_amount="250000.00",
        penalty_currency="EUR",
    )
    return confirmed_incident(actor, other_supplier, title="Glass supplier deck forwarded")


def approved_plan_with_action(staff: User, supplier_user: User, incident: Incident):
    plan = incident.rectification_plans.get()
    services.plan_update(actor=supplier_user, plan=plan, summary="Tighten downstream security")
    action = services.action_create(
        actor=supplier_user,
        plan=plan,
        description="Watermark every draft sent to sub-vendors",
        due_on=plan.due_on + timedelta(days=10),
    )
    services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    services.plan_transition(actor=staff, plan=plan, to="approved")
    return plan, action
