"""The lists this issue touched keep a constant number of queries per request whatever
their page size: the penalty list (overdue flags, sorting), the incident list (search by
supplier and asset), the reminder list (penalty reminders among plan and action ones)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from breaches import reminders, views
from breaches.choices import PenaltyStatus
from breaches.models import Penalty
from suppliers import ui
from tests.factories import (
    ContactFactory,
    IncidentFactory,
    PenaltyFactory,
    PlanFactory,
    SupplierFactory,
)
from tests.sqlaudit import unbounded_counts

pytestmark = pytest.mark.django_db


def _world(n: int = 12) -> None:
    today = timezone.localdate()
    for i in range(n):
        supplier = SupplierFactory(name=f"Hebei Works {i}")
        ContactFactory(supplier=supplier, receives_reminders=True)
        incident = IncidentFactory(source_supplier=supplier, responsible_supplier=supplier)
        PlanFactory(
            incident=incident,
            supplier=supplier,
            requested_on=today - timedelta(days=40),
            due_on=today - timedelta(days=i % 9 + 1),
        )
        penalty = PenaltyFactory(
            incident=incident,
            supplier=supplier,
            proposed_on=today - timedelta(days=60),
            due_on=today - timedelta(days=i % 7 + 1),
        )
        Penalty.objects.filter(pk=penalty.pk).update(
            status=PenaltyStatus.ISSUED, paid_amount=Decimal("10.00")
        )
    reminders.run_sweep(as_of=today, enqueue=False)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("breaches:penalty-list", {"sort": "-amount"}),
        ("breaches:penalty-list", {"overdue": "true"}),
        ("breaches:incident-list", {"search": "Hebei"}),
        ("breaches:reminder-list", {}),
        ("breaches:reminder-list", {"search": "Hebei"}),
    ],
)
def test_constant_queries_at_two_page_sizes(client, compliance_user, monkeypatch, name, params):
    _world()
    client.force_login(compliance_user)
    url = reverse(name)
    client.get(url, params)
    counts = []
    for size in (2, 10):
        monkeypatch.setattr(views, "paginate", partial(ui.paginate, per_page=size))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == size
        counts.append(len(captured.captured_queries))
        assert not unbounded_counts(captured.captured_queries)
    assert counts[0] == counts[1], counts
