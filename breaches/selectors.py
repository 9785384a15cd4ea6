"""Reads of the breaches app that carry a rule, each written once: what each user may
see of incidents, penalties, plans, actions and reminders (DESIGN section 7), what is
overdue and at which escalation level (DESIGN section 5). The API's fields and filters,
the pages, the reports, the digest and the reminder sweep all ask here; none restates a
condition.

Each rule comes as a Q (for querysets; `prefix` reaches it through a relation) and as a
predicate on a loaded object, and a test holds the two equal."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from suppliers.selectors import scope_for

from .choices import PLAN_AWAITING_SUPPLIER, ActionStatus, PlanStatus
from .models import Incident, Penalty, RectificationAction, RectificationPlan, Reminder

# --- What each user may see -------------------------------------------------------------


def incidents_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Incident.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(
        Q(source_supplier__in=scope.world_ids) | Q(responsible_supplier__in=scope.world_ids)
    )


def penalties_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Penalty.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier=scope.own_supplier_id)


def plans_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = RectificationPlan.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier=scope.own_supplier_id)


def actions_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = RectificationAction.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(plan__supplier=scope.own_supplier_id)


def reminders_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Reminder.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(plan__supplier=scope.own_supplier_id)


# Escalation (DESIGN section 5): level 1 under 7 days overdue (and due soon), level 2
# from 7 to 13 days, level 3 from 14.
LEVEL_2_FROM_DAYS = 7
LEVEL_3_FROM_DAYS = 14


def escalation_level(days_overdue: int) -> int:
    """The escalation level of an item `days_overdue` days past its due date."""
    if days_overdue >= LEVEL_3_FROM_DAYS:
        return 3
    if days_overdue >= LEVEL_2_FROM_DAYS:
        return 2
    return 1


def days_overdue(due_on: date, today: date) -> int:
    """Days past the due date (negative before it)."""
    return (today - due_on).days


# --- Plans ------------------------------------------------------------------------------


def plan_pending_q(prefix: str = "") -> Q:
    """A plan the supplier still owes (requested or changes requested), due or not."""
    return Q(**{f"{prefix}status__in": sorted(PLAN_AWAITING_SUPPLIER)})


def plan_overdue_q(today: date, prefix: str = "") -> Q:
    """A plan the supplier still owes past its due date."""
    return plan_pending_q(prefix) & Q(**{f"{prefix}due_on__lt": today})


def plan_is_pending(plan) -> bool:
    return plan.status in PLAN_AWAITING_SUPPLIER


def plan_is_overdue(plan, today: date) -> bool:
    return plan_is_pending(plan) and plan.due_on < today


# --- Actions ----------------------------------------------------------------------------


def action_pending_q(prefix: str = "") -> Q:
    """An open action of an approved plan, due or not: its due date is chased."""
    return Q(**{f"{prefix}status": ActionStatus.OPEN, f"{prefix}plan__status": PlanStatus.APPROVED})


def action_overdue_q(today: date, prefix: str = "") -> Q:
    """An open action of an approved plan past its due date."""
    return action_pending_q(prefix) & Q(**{f"{prefix}due_on__lt": today})


def action_is_pending(action, plan_status: str | None = None) -> bool:
    """`plan_status` spares a query when the caller holds the plan already."""
    plan_status = plan_status if plan_status is not None else action.plan.status
    return action.status == ActionStatus.OPEN and plan_status == PlanStatus.APPROVED


def action_is_overdue(action, today: date, plan_status: str | None = None) -> bool:
    return action_is_pending(action, plan_status) and action.due_on < today
