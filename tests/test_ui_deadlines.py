"""The deadlines page (the overdue and the next 30 days: plan submissions, actions,
payments), filtered by supplier and owner, scoped; a supplier user's "to do" list on the
dashboard; a constant number of queries whatever the page size."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from breaches import services
from breaches.choices import PenaltyStatus, PlanStatus
from breaches.models import Penalty, RectificationPlan
from suppliers.choices import Role
from tests.factories import (
    ActionFactory,
    IncidentFactory,
    PenaltyFactory,
    PlanFactory,
    SupplierFactory,
    UserFactory,
)
from tests.sqlaudit import unbounded_counts
from tests.ui_cases import confirmed_incident, other_world_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(compliance_user, subvendor, tier1_nda, bumper_asset, bumper_disclosure, other_supplier):
    """The seed incident confirmed with its penalty issued and past due (600,000 CNY
    outstanding), and another supplier's incident with a plan past due."""
    today = timezone.localdate()
    seed = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = services.penalty_transition(
        actor=compliance_user, penalty=seed.penalties.get(), to="issued"
    )
    Penalty.objects.filter(pk=penalty.pk).update(
        proposed_on=today - timedelta(days=70), due_on=today - timedelta(days=40)
    )
    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount="400000", paid_on=today
    )
    other = other_world_incident(compliance_user, other_supplier)
    RectificationPlan.objects.filter(incident=other).update(
        requested_on=today - timedelta(days=40), due_on=today - timedelta(days=5)
    )
    return {"seed": seed, "penalty": penalty, "other": other}


def _rows(response, section: str):
    return [(row.kind, row.reference) for row in getattr(response.context["lists"], section)]


def test_staff_see_the_overdue_penalty_and_every_supplier(client, world, compliance_user):
    client.force_login(compliance_user)
    response = client.get(reverse("breaches:deadline-list"))
    assert response.status_code == 200
    overdue = _rows(response, "overdue")
    assert ("penalty", world["seed"].reference) in overdue
    assert ("plan", world["other"].reference) in overdue
    upcoming = _rows(response, "upcoming")
    assert ("plan", world["seed"].reference) in upcoming  # due in 30 days
    html = response.content.decode()
    assert "Pay CN¥600,000.00 outstanding" in html
    assert "40 days late" in html
    # Filtered by supplier: the other supplier only.
    response = client.get(
        reverse("breaches:deadline-list"), {"supplier": world["other"].responsible_supplier_id}
    )
    assert _rows(response, "overdue") == [("plan", world["other"].reference)]
    # By owner: someone who owns nothing.
    nobody = UserFactory(role=Role.COMPLIANCE)
    response = client.get(reverse("breaches:deadline-list"), {"owner": nobody.pk})
    assert _rows(response, "overdue") == []
    assert _rows(response, "upcoming") == []
    response = client.get(reverse("breaches:deadline-list"), {"owner": compliance_user.pk})
    assert len(_rows(response, "overdue")) == 2


def test_supplier_user_sees_its_own_deadlines_only(client, world, supplier_user):
    client.force_login(supplier_user)
    response = client.get(reverse("breaches:deadline-list"))
    assert _rows(response, "overdue") == [("penalty", world["seed"].reference)]
    assert world["other"].reference not in response.content.decode()
    assert [f.name for f in response.context["filter_form"]] == ["supplier"]
    assert not response.context["show_owner"]


def test_supplier_to_do_list(client, world, supplier_user, other_supplier_user):
    client.force_login(supplier_user)
    dashboard = client.get(reverse("dashboard"))
    texts = [item.text for item in dashboard.context["todo"]]
    reference = world["seed"].reference
    assert texts[0] == f"Pay CN¥600,000.00 for {reference}"  # overdue first
    assert f"Acknowledge the penalty for {reference}" in texts
    assert f"Submit the rectification plan for {reference}" in texts
    assert b'id="todo"' in dashboard.content
    services.penalty_acknowledge(actor=supplier_user, penalty=world["penalty"])
    texts = [item.text for item in client.get(reverse("dashboard")).context["todo"]]
    assert f"Acknowledge the penalty for {reference}" not in texts
    # Another supplier's user has its own list, never this one's.
    client.force_login(other_supplier_user)
    texts = [item.text for item in client.get(reverse("dashboard")).context["todo"]]
    assert all(reference not in text for text in texts)


def test_staff_have_no_to_do_list(client, world, compliance_user):
    client.force_login(compliance_user)
    assert client.get(reverse("dashboard")).context["todo"] is None


def _many_due(n: int) -> None:
    today = timezone.localdate()
    owner = UserFactory(role=Role.COMPLIANCE)
    for i in range(n):
        supplier = SupplierFactory()
        incident = IncidentFactory(owner=owner, responsible_supplier=supplier)
        PlanFactory(
            incident=incident,
            supplier=supplier,
            requested_on=today - timedelta(days=40),
            due_on=today - timedelta(days=i % 20),
        )
        approved = PlanFactory(
            incident=IncidentFactory(owner=owner, responsible_supplier=supplier),
            supplier=supplier,
            status=PlanStatus.APPROVED,
            requested_on=today - timedelta(days=60),
            due_on=today - timedelta(days=50),
        )
        ActionFactory(plan=approved, due_on=today + timedelta(days=i % 25))
        penalty = PenaltyFactory(
            incident=incident,
            supplier=supplier,
            proposed_on=today - timedelta(days=60),
            due_on=today - timedelta(days=i % 30),
        )
        Penalty.objects.filter(pk=penalty.pk).update(
            status=PenaltyStatus.ISSUED, paid_amount=Decimal("1.00")
        )


def test_constant_queries_whatever_the_page_size(
    client, compliance_user, django_assert_num_queries
):
    _many_due(12)
    client.force_login(compliance_user)
    url = reverse("breaches:deadline-list")
    client.get(url)  # warm the session and caches
    counts = []
    for limit in (2, 10):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"limit": limit})
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
        assert len(response.context["lists"].overdue) <= 3 * limit
    assert counts[0] == counts[1], counts
    assert not unbounded_counts(captured.captured_queries), "no counting on the deadlines page"
    with django_assert_num_queries(counts[0]):
        client.get(url, {"limit": 5})
