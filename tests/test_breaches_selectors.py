"""One home for the rules reads carry (breaches.selectors): what is overdue and at which
level. Every reader (API field and filter, pages, reports, the sweep) gives the same
answer, because each asks the selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from breaches import reminders, selectors
from breaches.models import RectificationAction, RectificationPlan
from tests.apiclients import client_for
from tests.factories import ActionFactory, IncidentFactory, PlanFactory

pytestmark = pytest.mark.django_db

PLAN_STATUSES = ["requested", "submitted", "changes_requested", "approved", "completed"]


def _readers_of_action(action: RectificationAction, user) -> dict[str, bool]:
    """Whether each reader calls the action overdue today."""
    today = timezone.localdate()
    api = client_for(user)
    field = api.get(f"/api/v1/rectification-actions/{action.pk}/")
    assert field.status_code == 200, field.content
    listed = api.get("/api/v1/rectification-actions/?overdue=true")
    assert listed.status_code == 200, listed.content
    page = Client()
    page.force_login(user)
    plan_page = page.get(f"/plans/{action.plan_id}/")
    assert plan_page.status_code == 200
    swept = {item.action_id for item in reminders.run_sweep(as_of=today, dry_run=True).items}
    return {
        "api field": field.json()["overdue"],
        "api filter": action.pk in [row["id"] for row in listed.json()["results"]],
        "plan page": b"Late (3 d)" in plan_page.content,
        "sweep": action.pk in swept,
        "selector": selectors.action_is_overdue(action, today),
        "queryset": RectificationAction.objects.filter(
            selectors.action_overdue_q(today), pk=action.pk
        ).exists(),
    }


@pytest.mark.parametrize("plan_status", PLAN_STATUSES)
def test_an_open_action_three_days_late_is_overdue_for_every_reader_or_for_none(
    plan_status, tier1, compliance_user
):
    today = timezone.localdate()
    incident = IncidentFactory(responsible_supplier=tier1)
    plan = PlanFactory(
        incident=incident,
        supplier=tier1,
        status=plan_status,
        requested_on=today - timedelta(days=40),
        due_on=today + timedelta(days=5),
    )
    action = ActionFactory(
        plan=plan, created_on=today - timedelta(days=30), due_on=today - timedelta(days=3)
    )
    answers = _readers_of_action(action, compliance_user)
    expected = plan_status == "approved"
    assert answers == dict.fromkeys(answers, expected), answers


@pytest.mark.parametrize("plan_status", PLAN_STATUSES)
def test_a_plan_three_days_late_is_overdue_for_every_reader_or_for_none(
    plan_status, tier1, compliance_user
):
    today = timezone.localdate()
    plan = PlanFactory(
        incident=IncidentFactory(responsible_supplier=tier1),
        supplier=tier1,
        status=plan_status,
        requested_on=today - timedelta(days=40),
        due_on=today - timedelta(days=3),
    )
    api = client_for(compliance_user)
    field = api.get(f"/api/v1/rectification-plans/{plan.pk}/").json()["overdue"]
    listed = api.get("/api/v1/rectification-plans/?overdue=true").json()["results"]
    page = Client()
    page.force_login(compliance_user)
    list_page = page.get("/plans/?overdue=true")
    swept = {
        item.plan_id
        for item in reminders.run_sweep(as_of=today, dry_run=True).items
        if item.action_id is None
    }
    answers = {
        "api field": field,
        "api filter": plan.pk in [row["id"] for row in listed],
        "list page": f"/plans/{plan.pk}/".encode() in list_page.content,
        "sweep": plan.pk in swept,
        "selector": selectors.plan_is_overdue(plan, today),
        "queryset": RectificationPlan.objects.filter(
            selectors.plan_overdue_q(today), pk=plan.pk
        ).exists(),
    }
    expected = plan_status in ("requested", "changes_requested")
    assert answers == dict.fromkeys(answers, expected), answers


@pytest.mark.parametrize(
    ("days", "level"), [(-3, 1), (0, 1), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (60, 3)]
)
def test_escalation_level_has_one_definition(days, level):
    assert selectors.escalation_level(days) == level
