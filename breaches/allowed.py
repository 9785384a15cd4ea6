"""What the current user may do now, for the browser UI: the transition maps of
`breaches.choices` combined with the role rules the services enforce. Used only to decide
which buttons to show; the services remain the authority and refuse anything else."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from suppliers.choices import Role

from .choices import (
    AMOUNT_EDITABLE_PENALTY_STATUSES,
    INCIDENT_TRANSITIONS,
    PENALTY_TRANSITIONS,
    PLAN_AWAITING_SUPPLIER,
    PLAN_TRANSITIONS,
    ActionStatus,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    ReviewKind,
)
from .models import Incident, Penalty, PenaltyReview, RectificationAction, RectificationPlan
from .selectors import (
    action_delete_refusal,
    action_edit_refusal,
    action_evidence_refusal,
    close_blockers,
    may_write_plan,
    penalty_acknowledge_conflict,
    penalty_acknowledge_refusal,
    penalty_cut_refusal,
    penalty_dispute_refusal,
    penalty_review_kind,
)

# Verbs on the buttons, per target status.
INCIDENT_VERBS = {
    IncidentStatus.INVESTIGATING: _("Start investigating"),
    IncidentStatus.CONFIRMED: _("Confirm breach"),
    IncidentStatus.DISMISSED: _("Dismiss"),
    IncidentStatus.RESOLVED: _("Mark resolved"),
    IncidentStatus.CLOSED: _("Close"),
}
# What each penalty button does, per (from, to): on a disputed penalty "Uphold" and
# "Waive" are two different acts and say so.
PENALTY_VERBS = {
    (PenaltyStatus.PROPOSED, PenaltyStatus.ISSUED): _("Issue the penalty"),
    (PenaltyStatus.PROPOSED, PenaltyStatus.WAIVED): _("Waive the penalty"),
    (PenaltyStatus.ISSUED, PenaltyStatus.DISPUTED): _("Dispute the penalty"),
    (PenaltyStatus.DISPUTED, PenaltyStatus.ISSUED): _("Uphold the penalty"),
    (PenaltyStatus.DISPUTED, PenaltyStatus.WAIVED): _("Waive the penalty"),
}
PLAN_VERBS = {
    PlanStatus.SUBMITTED: _("Submit plan"),
    PlanStatus.APPROVED: _("Approve"),
    PlanStatus.CHANGES_REQUESTED: _("Request changes"),
    PlanStatus.COMPLETED: _("Mark completed"),
    PlanStatus.VERIFIED: _("Verify"),
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
            if close_blockers(penalties, plans):
                continue
        allowed.append((to, INCIDENT_VERBS[to]))
    return allowed


def allowed_penalty_transitions(
    user, penalty: Penalty, *, pending_review: PenaltyReview | None = None
) -> list[tuple[str, str]]:
    """(to, verb) pairs of the acts `user` may make now, by the rules the services apply
    (breaches.selectors): staff issue, uphold and waive (a waiver never by the issuer);
    the penalised supplier, or staff, dispute an issued penalty. While a cut waits for a
    second staff user, no other cut is offered, nor the same one to the user who asked."""
    allowed = []
    for to in (PenaltyStatus.ISSUED, PenaltyStatus.DISPUTED, PenaltyStatus.WAIVED):
        if to not in PENALTY_TRANSITIONS[penalty.status]:
            continue
        if to == PenaltyStatus.DISPUTED:
            if penalty_dispute_refusal(user, penalty):
                continue
        elif not user.can_write:
            continue
        kind = penalty_review_kind(penalty, to=to, amount=None)
        if kind is not None and (
            _held_by_review(user, pending_review, kind) or penalty_cut_refusal(user, penalty, kind)
        ):
            continue
        allowed.append((to, PENALTY_VERBS[(penalty.status, to)]))
    return allowed


def _held_by_review(user, pending_review: PenaltyReview | None, kind: str) -> bool:
    """A cut waiting for review holds back every other cut, and the same cut for the user
    who asked for it (another staff user's same act approves it)."""
    if pending_review is None:
        return False
    return pending_review.kind != kind or pending_review.requested_by_id == user.pk


def may_reduce_on_uphold(
    user, penalty: Penalty, *, pending_review: PenaltyReview | None = None
) -> bool:
    """Whether upholding a disputed penalty may come with a reduced amount for `user`."""
    return (
        penalty.status == PenaltyStatus.DISPUTED
        and not _held_by_review(user, pending_review, ReviewKind.REDUCTION)
        and penalty_cut_refusal(user, penalty, ReviewKind.REDUCTION) is None
    )


def may_change_penalty_amount(
    user, penalty: Penalty, *, pending_review: PenaltyReview | None = None
) -> bool:
    """The amount changes while proposed (freely) or disputed (only down: a reduction,
    never by the issuer), and not while a cut waits for review."""
    if not user.can_write or penalty.status not in AMOUNT_EDITABLE_PENALTY_STATUSES:
        return False
    if _held_by_review(user, pending_review, ReviewKind.REDUCTION):
        return False
    if penalty.status == PenaltyStatus.DISPUTED:
        return penalty_cut_refusal(user, penalty, ReviewKind.REDUCTION) is None
    return True


def can_acknowledge_penalty(user, penalty: Penalty) -> bool:
    return (
        penalty_acknowledge_refusal(user, penalty) is None
        and penalty_acknowledge_conflict(penalty) is None
    )


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


def can_edit_action(user, plan: RectificationPlan, action: RectificationAction) -> bool:
    return action_edit_refusal(user, action, plan) is None


def can_delete_action(user, plan: RectificationPlan, action: RectificationAction) -> bool:
    return action_delete_refusal(user, action, plan) is None


def can_attach_action_evidence(user, plan: RectificationPlan, action: RectificationAction) -> bool:
    return action_evidence_refusal(user, action, plan) is None


def can_write_plan(user, plan: RectificationPlan) -> bool:
    """The plan's supplier or staff writers: who edits its actions at all."""
    return may_write_plan(user, plan)
