"""What the current user may do now, for the browser UI: the transition maps of
`breaches.choices` combined with the role rules the services enforce. Used only to decide
which buttons to show; the services remain the authority and refuse anything else."""

from __future__ import annotations

from collections.abc import Iterable

from suppliers.choices import Role

from .choices import (
    INCIDENT_TRANSITIONS,
    PENALTY_TRANSITIONS,
    PLAN_AWAITING_SUPPLIER,
    PLAN_TRANSITIONS,
    SETTLED_PENALTY_STATUSES,
    ActionStatus,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
)
from .models import Incident, Penalty, RectificationAction, RectificationPlan

# Verbs on the buttons, per target status.
INCIDENT_VERBS = {
    IncidentStatus.INVESTIGATING: "Start investigating",
    IncidentStatus.CONFIRMED: "Confirm breach",
    IncidentStatus.DISMISSED: "Dismiss",
    IncidentStatus.RESOLVED: "Mark resolved",
    IncidentStatus.CLOSED: "Close",
}
PENALTY_VERBS = {
    PenaltyStatus.ISSUED: "Issue",
    PenaltyStatus.DISPUTED: "Dispute",
    PenaltyStatus.WAIVED: "Waive",
}
PLAN_VERBS = {
    PlanStatus.SUBMITTED: "Submit plan",
    PlanStatus.APPROVED: "Approve",
    PlanStatus.CHANGES_REQUESTED: "Request changes",
    PlanStatus.COMPLETED: "Mark completed",
    PlanStatus.VERIFIED: "Verify",
}


def _is_supplier_party(user, supplier_id: int | None) -> bool:
    return (
        user.is_active
        and user.role == Role.SUPPLIER
        and supplier_id is not None
        and user.supplier_id == supplier_id
    )


def allowed_incident_transitions(
    user,
    incident: Incident,
    *,
    penalties: Iterable[Penalty] | None = None,
    plans: Iterable[RectificationPlan] | None = None,
) -> list[tuple[str, str]]:
    """(to, verb) pairs the user may ask for now. Confirming needs a responsible supplier;
    closing needs every penalty settled and every plan verified."""
    if not user.can_write:
        return []
    allowed = []
    for to in sorted(INCIDENT_TRANSITIONS[incident.status], key=list(INCIDENT_VERBS).index):
        if to == IncidentStatus.CONFIRMED and incident.responsible_supplier_id is None:
            continue
        if to == IncidentStatus.CLOSED:
            penalties = incident.penalties.all() if penalties is None else penalties
            plans = incident.rectification_plans.all() if plans is None else plans
            if any(p.status not in SETTLED_PENALTY_STATUSES for p in penalties):
                continue
            if any(p.status != PlanStatus.VERIFIED for p in plans):
                continue
        allowed.append((to, INCIDENT_VERBS[to]))
    return allowed


def allowed_penalty_transitions(user, penalty: Penalty) -> list[tuple[str, str]]:
    """Staff issue, uphold and waive (a waiver by someone other than the issuer); the
    penalised supplier, or staff, dispute an issued penalty."""
    allowed = []
    for to in (PenaltyStatus.ISSUED, PenaltyStatus.DISPUTED, PenaltyStatus.WAIVED):
        if to not in PENALTY_TRANSITIONS[penalty.status]:
            continue
        if to == PenaltyStatus.DISPUTED:
            if not (_is_supplier_party(user, penalty.supplier_id) or user.can_write):
                continue
        elif not user.can_write:
            continue
        if to == PenaltyStatus.WAIVED and penalty.issued_by_id == user.pk:
            continue
        verb = "Uphold" if penalty.status == PenaltyStatus.DISPUTED else PENALTY_VERBS[to]
        allowed.append((to, verb))
    return allowed


def can_acknowledge_penalty(user, penalty: Penalty) -> bool:
    return _is_supplier_party(user, penalty.supplier_id) and penalty.status == PenaltyStatus.ISSUED


def can_record_payment(user, penalty: Penalty) -> bool:
    return user.can_write and penalty.status == PenaltyStatus.ISSUED


def allowed_plan_transitions(
    user, plan: RectificationPlan, *, actions: Iterable[RectificationAction] | None = None
) -> list[tuple[str, str]]:
    """Suppliers (or an admin) submit; staff approve, request changes and verify; the
    supplier or staff complete once every action is done."""
    allowed = []
    actions = list(plan.actions.all() if actions is None else actions)
    for to in PLAN_VERBS:
        if to not in PLAN_TRANSITIONS[plan.status]:
            continue
        if to == PlanStatus.SUBMITTED:
            if not (_is_supplier_party(user, plan.supplier_id) or user.role == Role.ADMIN):
                continue
        elif to == PlanStatus.COMPLETED:
            if not (_is_supplier_party(user, plan.supplier_id) or user.can_write):
                continue
            if not actions or any(a.status == ActionStatus.OPEN for a in actions):
                continue
        elif not user.can_write:
            continue
        allowed.append((to, PLAN_VERBS[to]))
    return allowed


def can_edit_plan(user, plan: RectificationPlan) -> bool:
    """The summary and the list of actions are drafted while the plan awaits the supplier."""
    return plan.status in PLAN_AWAITING_SUPPLIER and (
        _is_supplier_party(user, plan.supplier_id) or user.can_write
    )


def can_add_action(user, plan: RectificationPlan) -> bool:
    if plan.status in PLAN_AWAITING_SUPPLIER:
        return _is_supplier_party(user, plan.supplier_id) or user.can_write
    return plan.status == PlanStatus.APPROVED and user.can_write


def can_complete_action(user, plan: RectificationPlan, action: RectificationAction) -> bool:
    return (
        plan.status == PlanStatus.APPROVED
        and action.status == ActionStatus.OPEN
        and (_is_supplier_party(user, plan.supplier_id) or user.can_write)
    )
