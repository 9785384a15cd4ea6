"""The FilterSets behind every list: foreign keys, status, date ranges, overdue (DESIGN
section 5), search and cursor-safe ordering."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.apiclients import client_for, results
from tests.factories import ActionFactory, IncidentFactory, PenaltyFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(auditor_user):
    return client_for(auditor_user)


def _ids(response) -> list[int]:
    return [row["id"] for row in results(response)]


def test_plan_and_action_overdue(staff, tier1):
    today = timezone.localdate()
    past, future = today - timedelta(days=30), today - timedelta(days=1)
    late = PlanFactory(supplier=tier1, requested_on=past, due_on=future)
    changes = PlanFactory(
        supplier=tier1, requested_on=past, due_on=future, status="changes_requested"
    )
    submitted = PlanFactory(supplier=tier1, requested_on=past, due_on=future, status="submitted")
    on_time = PlanFactory(supplier=tier1)
    approved = PlanFactory(supplier=tier1, requested_on=past, due_on=future, status="approved")
    late_action = ActionFactory(plan=approved, created_on=past, due_on=future)
    ActionFactory(plan=approved, created_on=past, due_on=today)  # due today: not yet late
    ActionFactory(plan=late, created_on=past, due_on=future)  # plan not approved
    done = ActionFactory(
        plan=approved, created_on=past, due_on=future, status="done", completed_on=today
    )

    overdue_plans = set(_ids(staff.get("/api/v1/rectification-plans/?overdue=true")))
    assert overdue_plans == {late.pk, changes.pk}
    others = set(_ids(staff.get("/api/v1/rectification-plans/?overdue=false")))
    assert others == {submitted.pk, on_time.pk, approved.pk}
    assert _ids(staff.get("/api/v1/rectification-actions/?overdue=true")) == [late_action.pk]
    assert done.pk not in _ids(staff.get("/api/v1/rectification-actions/?overdue=true"))


def test_foreign_keys_status_and_dates(staff, tier1, other_supplier):
    first = IncidentFactory(responsible_supplier=tier1, occurred_on=date(2025, 1, 22))
    second = IncidentFactory(
        responsible_supplier=other_supplier,
        occurred_on=date(2025, 3, 1),
        discovered_on=date(2025, 3, 2),
    )
    issued = PenaltyFactory(incident=first, supplier=tier1, status="issued")
    PenaltyFactory(incident=first, supplier=tier1)
    PenaltyFactory(incident=second, supplier=other_supplier, status="issued")

    url = f"/api/v1/penalties/?incident={first.pk}&status=issued"
    assert _ids(staff.get(url)) == [issued.pk]
    assert _ids(staff.get(f"/api/v1/incidents/?responsible_supplier={tier1.pk}")) == [first.pk]
    url = "/api/v1/incidents/?occurred_on_after=2025-02-01&occurred_on_before=2025-12-31"
    assert _ids(staff.get(url)) == [second.pk]
    today = timezone.localdate().isoformat()
    assert len(_ids(staff.get(f"/api/v1/incidents/?created_after={today}"))) == 2
    assert _ids(staff.get("/api/v1/incidents/?created_before=2000-01-01")) == []
    url = "/api/v1/incidents/?created_after=0001-01-01&created_before=9999-12-31"
    assert len(_ids(staff.get(url))) == 2  # the calendar's ends are no 500


def test_search_and_ordering(staff, tier1):
    a = IncidentFactory(
        title="Bumper renders", occurred_on=date(2025, 1, 1), discovered_on=date(2025, 1, 2)
    )
    b = IncidentFactory(
        title="Door drawings", occurred_on=date(2025, 2, 1), discovered_on=date(2025, 2, 2)
    )
    assert _ids(staff.get("/api/v1/incidents/?search=bumper")) == [a.pk]
    # Newest first by default; ordering by occurrence stays cursor-paged.
    assert _ids(staff.get("/api/v1/incidents/")) == [b.pk, a.pk]
    assert _ids(staff.get("/api/v1/incidents/?ordering=occurred_on")) == [a.pk, b.pk]
    first_page = staff.get("/api/v1/incidents/?ordering=-occurred_on&page_size=1").json()
    assert [r["id"] for r in first_page["results"]] == [b.pk]
    second_page = staff.get(first_page["next"]).json()
    assert [r["id"] for r in second_page["results"]] == [a.pk]
    assert second_page["next"] is None


def test_cursor_pages_walk_everything_once(staff):
    made = {IncidentFactory().pk for _ in range(7)}
    seen: list[int] = []
    url = "/api/v1/incidents/?page_size=3"
    while url:
        body = staff.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made)
    assert "count" not in staff.get("/api/v1/incidents/").json()  # no COUNT(*)


def test_incidents_by_asset_answer_for_every_role(
    admin_user, compliance_user, auditor_user, supplier_user, tier1, bumper_asset
):
    """The asset filter joins the link table with DISTINCT; a page of it once answered 500
    for every role as soon as the asset had incidents."""
    leaked = IncidentFactory(responsible_supplier=tier1)
    leaked.assets.add(bumper_asset)
    IncidentFactory(responsible_supplier=tier1)  # another asset's
    for user in (admin_user, compliance_user, auditor_user, supplier_user):
        for token in (False, True):
            api = client_for(user, token=token)
            assert _ids(api.get(f"/api/v1/incidents/?asset={bumper_asset.pk}")) == [leaked.pk]
            page = api.get(f"/api/v1/incidents/?asset={bumper_asset.pk}&page_size=1")
            assert _ids(page) == [leaked.pk], page.json()
