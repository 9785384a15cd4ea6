"""The dashboard's numbers, its constant query count, and the UI's rule helpers."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from breaches.allowed import (
    allowed_incident_transitions,
    allowed_penalty_transitions,
    allowed_plan_transitions,
)
from breaches.choices import PenaltyStatus, PlanStatus
from tests.factories import (
    ActionFactory,
    IncidentFactory,
    PenaltyFactory,
    PlanFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


def _late_plan_and_action(incident, today: date, days_late: int):
    """An overdue plan on `incident`, and a late action of an approved plan on another
    incident, both of the incident's responsible supplier."""
    supplier = incident.responsible_supplier
    PlanFactory(
        incident=incident,
        supplier=supplier,
        requested_on=today - timedelta(days=40),
        due_on=today - timedelta(days=days_late),
    )
    approved = PlanFactory(
        incident=IncidentFactory(source_supplier=supplier, responsible_supplier=supplier),
        supplier=supplier,
        requested_on=today - timedelta(days=40),
        due_on=today - timedelta(days=20),
    )
    type(approved).objects.filter(pk=approved.pk).update(status=PlanStatus.APPROVED)
    ActionFactory(plan=approved, due_on=today - timedelta(days=days_late))


def _bulk_world(n: int, today: date):
    """n suppliers each with an incident, a penalty, an overdue plan and a late action."""
    for i in range(n):
        supplier = SupplierFactory()
        incident = IncidentFactory(
            source_supplier=supplier,
            responsible_supplier=supplier,
            occurred_on=today - timedelta(days=30 * (i % 12)),
            discovered_on=today - timedelta(days=30 * (i % 12)),
        )
        PenaltyFactory(incident=incident, supplier=supplier, currency=["CNY", "EUR"][i % 2])
        _late_plan_and_action(incident, today, days_late=i + 1)


def _dashboard_queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return len(queries), response.context


def test_dashboard_query_count_does_not_grow_with_data(client, compliance_user):
    today = date.today()
    client.force_login(compliance_user)
    _bulk_world(2, today)
    few, _ = _dashboard_queries(client)
    _bulk_world(30, today)
    many, context = _dashboard_queries(client)
    assert many == few, (few, many)
    assert context["overdue_plans_count"] == 32
    assert len(context["overdue_plans"]) == 10
    assert context["overdue_actions_count"] == 32
    assert len(context["supplier_chart"]["bars"]) == 10
    assert context["month_chart"]["total"] == 32  # the approved plans' incidents are older


def test_dashboard_query_count_for_a_supplier_user(client, supplier_user, tier1):
    client.force_login(supplier_user)
    few, _ = _dashboard_queries(client)
    _bulk_world(10, date.today())
    many, context = _dashboard_queries(client)
    assert many == few
    assert context["open_total"] == 0
    assert context["overdue_plans_count"] == 0


def _own_overdue_world(supplier, n: int, today: date):
    """n overdue plans, n late actions of approved plans and n issued penalties past due
    with money outstanding, all the supplier's own: its to-do and every overdue list."""
    from decimal import Decimal

    for i in range(n):
        incident = IncidentFactory(source_supplier=supplier, responsible_supplier=supplier)
        _late_plan_and_action(incident, today, days_late=i + 1)
        penalty = PenaltyFactory(incident=incident, supplier=supplier, amount=Decimal("500.00"))
        type(penalty).objects.filter(pk=penalty.pk).update(
            status=PenaltyStatus.ISSUED,
            due_on=today - timedelta(days=i + 1),
            paid_amount=Decimal("100.00"),
        )


@pytest.mark.parametrize("who", ["supplier_user", "compliance_user"])
def test_full_lists_cost_the_queries_of_short_ones(client, request, tier1, who):
    """The lists and the to-do read only the columns their rows show: a column a row
    needs and did not read would cost a query per row, which this count would show."""
    today = date.today()
    client.force_login(request.getfixturevalue(who))
    _own_overdue_world(tier1, 2, today)
    few, _ = _dashboard_queries(client)
    _own_overdue_world(tier1, 12, today)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert len(queries) == few, [q["sql"][:100] for q in queries]
    context = response.context
    for name in ("overdue_plans", "overdue_actions", "overdue_penalties"):
        assert len(context[name]) == 10, name
    assert context["more_overdue_penalties"]
    page = response.content.decode()
    oldest = context["overdue_plans"][0]
    assert oldest.incident.reference in page
    assert context["overdue_actions"][0].plan.supplier.name in page
    assert context["overdue_penalties"][0].outstanding == 400
    if who == "supplier_user":
        # Ten of each kind asked, the most pressing first; a penalty owes acknowledging
        # and paying.
        assert len(context["todo"]) == 40
        assert "Acknowledge the penalty for" in page


@pytest.mark.parametrize(("late", "due_soon"), [(12, 3), (3, 9), (0, 4)])
def test_a_supplier_users_overdue_lists_are_those_the_lists_read(
    client, supplier_user, tier1, late, due_soon
):
    """A supplier user's overdue plans and actions come from its to-do's reads
    (deadlines.SupplierWork): they are the rows the overdue lists' own queries give, in
    the same order, however many are late and however many fall due soon."""
    from breaches import reports

    today = date.today()
    for i in range(late):
        incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1)
        _late_plan_and_action(incident, today, days_late=i + 1)
    for i in range(due_soon):
        incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1)
        _late_plan_and_action(incident, today, days_late=-(i + 1))  # due in i + 1 days
    client.force_login(supplier_user)
    context = client.get(reverse("dashboard")).context
    plans = reports.overdue_plans(supplier_user, today).order_by("due_on", "id")[:10]
    actions = reports.overdue_actions(supplier_user, today).order_by("due_on", "id")[:10]
    assert [p.pk for p in context["overdue_plans"]] == [p.pk for p in plans]
    assert [a.pk for a in context["overdue_actions"]] == [a.pk for a in actions]
    assert len(context["overdue_plans"]) == min(late, 10)
    assert sum(item.overdue for item in context["todo"]) == 2 * min(late, 10)
    assert len(context["todo"]) == 2 * min(late + due_soon, 10)


def test_dashboard_money_per_currency(client, compliance_user):
    from decimal import Decimal

    supplier = SupplierFactory()
    issued = PenaltyFactory(supplier=supplier, amount=Decimal("1000.00"))
    type(issued).objects.filter(pk=issued.pk).update(
        status=PenaltyStatus.ISSUED, paid_amount=Decimal("250.00")
    )
    PenaltyFactory(supplier=supplier, amount=Decimal("99.00"))  # proposed
    waived = PenaltyFactory(supplier=supplier, amount=Decimal("5000.00"), currency="EUR")
    type(waived).objects.filter(pk=waived.pk).update(status=PenaltyStatus.WAIVED)
    client.force_login(compliance_user)
    money = {row["currency"]: row for row in client.get(reverse("dashboard")).context["money"]}
    assert money["CNY"]["outstanding"] == Decimal("750.00")
    assert money["CNY"]["collected"] == Decimal("250.00")
    assert money["CNY"]["proposed"] == Decimal("99.00")
    assert not money["EUR"]["outstanding"]


def test_allowed_helpers_follow_roles(
    compliance_user, second_compliance_user, auditor_user, supplier_user, tier1
):
    incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1)
    assert allowed_incident_transitions(auditor_user, incident) == []
    assert allowed_incident_transitions(supplier_user, incident) == []
    assert [t for t, _ in allowed_incident_transitions(compliance_user, incident)] == [
        "investigating"
    ]
    penalty = PenaltyFactory(incident=incident, supplier=tier1)
    type(penalty).objects.filter(pk=penalty.pk).update(
        status=PenaltyStatus.DISPUTED, issued_by=compliance_user
    )
    penalty.refresh_from_db()
    assert [t for t, _ in allowed_penalty_transitions(compliance_user, penalty)] == ["issued"]
    assert [t for t, _ in allowed_penalty_transitions(second_compliance_user, penalty)] == [
        "issued",
        "waived",
    ]
    assert allowed_penalty_transitions(supplier_user, penalty) == []
    plan = PlanFactory(incident=incident, supplier=tier1)
    assert [t for t, _ in allowed_plan_transitions(supplier_user, plan)] == ["submitted"]
    assert allowed_plan_transitions(compliance_user, plan) == []
    assert allowed_plan_transitions(auditor_user, plan) == []


def test_a_supplier_users_to_do_speaks_its_language(client, supplier_user, tier1):
    """The to-do's texts and due dates are written in Python (deadlines.TodoItem), in the
    language of the person reading them."""
    today = date.today()
    incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1)
    _late_plan_and_action(incident, today, days_late=-3)  # due in three days
    type(supplier_user).objects.filter(pk=supplier_user.pk).update(language="zh-hans")
    client.force_login(supplier_user)
    page = client.get(reverse("dashboard")).content.decode()
    due = (today + timedelta(days=3)).isoformat()
    assert f"截止 {due}" in page
    assert f"提交 {incident.reference} 的整改计划" in page
    assert f"due {due}" not in page
