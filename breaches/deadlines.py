"""What falls due: the deadlines page (the overdue and the next 30 days, across plan
submissions, actions and payments) and a supplier user's "to do" list. Built on the rules
of breaches.selectors (what is pending, what is overdue, what a user may see) and filtered
by each model's FilterSet, so that a row here is exactly what the lists, the API and the
reminder sweep call due. Each list is a fixed number of queries, each reading at most
`limit + 1` rows in due-date order along the targets' partial indexes; nothing is counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.formats import format_money

from .filtersets import ActionFilter, PenaltyFilter, PlanFilter
from .selectors import (
    action_is_overdue,
    action_pending_q,
    actions_visible_to,
    days_overdue,
    escalation_level,
    penalties_visible_to,
    penalty_is_overdue,
    penalty_is_pending,
    penalty_pending_q,
    penalty_to_acknowledge_q,
    plan_is_overdue,
    plan_pending_q,
    plans_visible_to,
)

HORIZON_DAYS = 30
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

PLAN, ACTION, PENALTY = "plan", "action", "penalty"
KIND_LABELS = {
    PLAN: _("Plan submission"),
    ACTION: _("Action"),
    PENALTY: _("Payment"),
}

# What a penalty's row shows: what is outstanding (Penalty.outstanding), its currency,
# due date and incident. The dashboard, the to-do and the deadlines page read only these
# columns (with, there, the supplier's name and the incident owner's).
PENALTY_ROW_FIELDS = (
    "status",
    "amount",
    "paid_amount",
    "currency",
    "due_on",
    "incident__reference",
)
# What the rows of plans and actions show (and what their overdue rule reads): the
# dashboard's, the to-do's, the deadlines page's.
PLAN_ROW_FIELDS = ("due_on", "status", "incident__reference", "supplier__name")
ACTION_ROW_FIELDS = (
    "plan_id",
    "description",
    "due_on",
    "status",
    "plan__status",
    "plan__incident__reference",
    "plan__supplier__name",
)


@dataclass
class Deadline:
    """One thing due: a plan the supplier owes, an open action of an approved plan, or an
    issued penalty's payment."""

    kind: str
    what: str
    reference: str
    supplier: str
    due_on: date
    days_overdue: int  # negative: days left
    url: str
    owner: object = None  # the incident's owner (staff)

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def days_left(self) -> int:
        return max(-self.days_overdue, 0)

    @property
    def escalation_level(self) -> int:
        return escalation_level(self.days_overdue)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])


@dataclass
class DeadlineLists:
    overdue: list[Deadline] = field(default_factory=list)
    upcoming: list[Deadline] = field(default_factory=list)
    # Kinds with more rows than the limit, per list: the page links to the full lists.
    more_overdue: list[str] = field(default_factory=list)
    more_upcoming: list[str] = field(default_factory=list)

    @property
    def more_overdue_labels(self) -> list[str]:
        return [str(KIND_LABELS[kind]) for kind in self.more_overdue]

    @property
    def more_upcoming_labels(self) -> list[str]:
        return [str(KIND_LABELS[kind]) for kind in self.more_upcoming]


# The page each kind of row links to: an action's is its plan's. The deadlines page, the
# to-do and the dashboard's lists all link through these.
def plan_url(plan) -> str:
    return reverse("breaches:plan-detail", args=[plan.pk])


def action_url(action) -> str:
    return reverse("breaches:plan-detail", args=[action.plan_id])


def penalty_url(penalty) -> str:
    return reverse("breaches:penalty-detail", args=[penalty.pk])


def _plan_rows(qs: QuerySet, today: date) -> list[Deadline]:
    return [
        Deadline(
            kind=PLAN,
            what=gettext("Submit the rectification plan"),
            reference=plan.incident.reference,
            supplier=plan.supplier.name,
            due_on=plan.due_on,
            days_overdue=days_overdue(plan.due_on, today),
            url=plan_url(plan),
            owner=plan.incident.owner,
        )
        for plan in qs.select_related("incident__owner", "supplier").only(
            *PLAN_ROW_FIELDS, "incident__owner__username"
        )
    ]


def _action_rows(qs: QuerySet, today: date) -> list[Deadline]:
    return [
        Deadline(
            kind=ACTION,
            what=action.description,
            reference=action.plan.incident.reference,
            supplier=action.plan.supplier.name,
            due_on=action.due_on,
            days_overdue=days_overdue(action.due_on, today),
            url=action_url(action),
            owner=action.plan.incident.owner,
        )
        for action in qs.select_related("plan__incident__owner", "plan__supplier").only(
            *ACTION_ROW_FIELDS, "plan__incident__owner__username"
        )
    ]


def _penalty_rows(qs: QuerySet, today: date) -> list[Deadline]:
    return [
        Deadline(
            kind=PENALTY,
            what=gettext("Pay %(amount)s outstanding")
            % {"amount": format_money(penalty.outstanding, penalty.currency)},
            reference=penalty.incident.reference,
            supplier=penalty.supplier.name,
            due_on=penalty.due_on,
            days_overdue=days_overdue(penalty.due_on, today),
            url=penalty_url(penalty),
            owner=penalty.incident.owner,
        )
        for penalty in qs.select_related("incident__owner", "supplier").only(
            *PENALTY_ROW_FIELDS, "incident__owner__username", "supplier__name"
        )
    ]


def _sources(user, params, request):
    """(kind, filtered queryset of what is pending, row builder) per kind."""
    plans = PlanFilter(
        params, queryset=plans_visible_to(user).filter(plan_pending_q()), request=request
    ).qs
    actions = ActionFilter(
        params, queryset=actions_visible_to(user).filter(action_pending_q()), request=request
    ).qs
    penalties = PenaltyFilter(
        params, queryset=penalties_visible_to(user).filter(penalty_pending_q()), request=request
    ).qs
    return [
        (PLAN, plans, _plan_rows),
        (ACTION, actions, _action_rows),
        (PENALTY, penalties, _penalty_rows),
    ]


def deadlines(
    user, *, today: date, params=None, request=None, limit: int = DEFAULT_LIMIT
) -> DeadlineLists:
    """What `user` sees falling due: the overdue (most overdue first) and what falls due
    from today to HORIZON_DAYS ahead (soonest first), at most `limit` of each kind in each
    list. `params` are the FilterSets' parameters (`supplier`, `owner`)."""
    horizon = today + timedelta(days=HORIZON_DAYS)
    out = DeadlineLists()
    for kind, qs, rows in _sources(user, params, request):
        overdue = list(
            rows(qs.filter(due_on__lt=today).order_by("due_on", "id")[: limit + 1], today)
        )
        upcoming = list(
            rows(
                qs.filter(due_on__gte=today, due_on__lte=horizon).order_by("due_on", "id")[
                    : limit + 1
                ],
                today,
            )
        )
        if len(overdue) > limit:
            out.more_overdue.append(kind)
        if len(upcoming) > limit:
            out.more_upcoming.append(kind)
        out.overdue.extend(overdue[:limit])
        out.upcoming.extend(upcoming[:limit])
    out.overdue.sort(key=lambda d: (d.due_on, d.kind, d.reference))
    out.upcoming.sort(key=lambda d: (d.due_on, d.kind, d.reference))
    return out


@dataclass
class TodoItem:
    text: str
    url: str
    due_on: date | None
    overdue: bool
    kind: str

    @property
    def due_text(self) -> str:
        """The due date as the to-do shows it ("due 2026-11-30"), translated: written
        here once per item rather than by a {% blocktranslate %} per row of the page."""
        if self.due_on is None:
            return ""
        return gettext("due %(day)s") % {"day": self.due_on.isoformat()}


TODO_LIMIT = 10


@dataclass
class SupplierWork:
    """What a supplier user owes, at most `limit` of each kind in due-date order (the
    oldest first): the plans to submit, the open actions due within the horizon or
    overdue, and the penalties to acknowledge or to pay. The to-do lists them all. The
    dashboard's overdue plans and actions are the overdue ones among them: the same order
    and the same limit, and the overdue come first, so the first `limit` overdue of each
    are all here (tests/test_ui_dashboard.py compares them with the lists' own queries)."""

    today: date
    plans: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    penalties: list = field(default_factory=list)

    @property
    def overdue_plans(self) -> list:
        return [plan for plan in self.plans if plan_is_overdue(plan, self.today)]

    @property
    def overdue_actions(self) -> list:
        return [
            action
            for action in self.actions
            if action_is_overdue(action, self.today, plan_status=action.plan.status)
        ]


def supplier_work(user, today: date, limit: int = TODO_LIMIT) -> SupplierWork:
    """Three queries, `limit` rows each, reading the columns the to-do and the dashboard's
    rows show (only())."""
    horizon = today + timedelta(days=HORIZON_DAYS)
    plans = (
        plans_visible_to(user)
        .filter(plan_pending_q())
        .select_related("incident", "supplier")
        .only(*PLAN_ROW_FIELDS)
        .order_by("due_on", "id")[:limit]
    )
    actions = (
        actions_visible_to(user)
        .filter(action_pending_q(), due_on__lte=horizon)
        .select_related("plan__incident", "plan__supplier")
        .only(*ACTION_ROW_FIELDS)
        .order_by("due_on", "id")[:limit]
    )
    penalties = (
        penalties_visible_to(user)
        .filter(Q(penalty_to_acknowledge_q()) | penalty_pending_q())
        .select_related("incident")
        .only(*PENALTY_ROW_FIELDS, "acknowledged_at")
        .order_by("due_on", "id")[:limit]
    )
    return SupplierWork(
        today=today, plans=list(plans), actions=list(actions), penalties=list(penalties)
    )


def supplier_todo(work: SupplierWork) -> list[TodoItem]:
    """What a supplier user must do now (supplier_work), the overdue first."""
    today = work.today
    items: list[TodoItem] = []
    for plan in work.plans:
        items.append(
            TodoItem(
                text=gettext("Submit the rectification plan for %(reference)s")
                % {"reference": plan.incident.reference},
                url=plan_url(plan),
                due_on=plan.due_on,
                overdue=plan_is_overdue(plan, today),
                kind=PLAN,
            )
        )
    for action in work.actions:
        items.append(
            TodoItem(
                text=gettext("Complete the action “%(action)s” (%(reference)s)")
                % {"action": action.description[:80], "reference": action.plan.incident.reference},
                url=action_url(action),
                due_on=action.due_on,
                overdue=action_is_overdue(action, today, plan_status=action.plan.status),
                kind=ACTION,
            )
        )
    for penalty in work.penalties:
        url = penalty_url(penalty)
        if penalty.acknowledged_at is None:
            items.append(
                TodoItem(
                    text=gettext("Acknowledge the penalty for %(reference)s")
                    % {"reference": penalty.incident.reference},
                    url=url,
                    due_on=None,
                    overdue=False,
                    kind=PENALTY,
                )
            )
        if penalty_is_pending(penalty):
            items.append(
                TodoItem(
                    text=gettext("Pay %(amount)s for %(reference)s")
                    % {
                        "amount": format_money(penalty.outstanding, penalty.currency),
                        "reference": penalty.incident.reference,
                    },
                    url=url,
                    due_on=penalty.due_on,
                    overdue=penalty_is_overdue(penalty, today),
                    kind=PENALTY,
                )
            )
    items.sort(key=lambda i: (not i.overdue, i.due_on or date.max))
    return items
