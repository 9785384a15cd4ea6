"""Money is chased too (DESIGN section 5): an issued penalty with an amount outstanding past
its due date is reminded on the plans' schedule, levels and guarantees (target kind
`penalty`): the supplier's contacts, then the owner, then the compliance managers; once
per schedule point whatever runs twice; nothing once it is paid; and the demo's overdue
penalty gets one payment reminder."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from breaches import reminders
from breaches.choices import (
    DeliveryState,
    EventKind,
    PenaltyStatus,
    ReminderKind,
    ReminderTargetType,
)
from breaches.models import IncidentEvent, Penalty, Reminder
from suppliers.choices import Role
from tests.factories import (
    ContactFactory,
    IncidentFactory,
    PenaltyFactory,
    SupplierFactory,
    UserFactory,
)
from tests.reminder_helpers import DUE, day, deliver_pending, make_manager, recipients_of

pytestmark = pytest.mark.django_db


def make_penalty(*, due_on=DUE, status=PenaltyStatus.ISSUED, paid=Decimal("0.00"), owner=None):
    supplier = SupplierFactory()
    ContactFactory(supplier=supplier, email="finance@supplier.example", receives_reminders=True)
    incident = IncidentFactory(owner=owner, responsible_supplier=supplier)
    penalty = PenaltyFactory(
        incident=incident,
        supplier=supplier,
        proposed_on=due_on - timedelta(days=30),
        due_on=due_on,
    )
    Penalty.objects.filter(pk=penalty.pk).update(status=status, paid_amount=paid)
    penalty.refresh_from_db()
    return penalty


def test_overdue_penalty_is_reminded_at_each_point_with_its_level(mailoutbox):
    owner = UserFactory(username="owner", role=Role.COMPLIANCE, email="owner@buyer.example")
    make_manager()
    penalty = make_penalty(paid=Decimal("400000.00"), owner=owner)
    seen = {}
    for offset in (-3, 1, 3, 7, 14):
        reminders.run_sweep(as_of=day(offset))
        reminder = Reminder.objects.get(penalty=penalty, schedule_point=offset)
        seen[offset] = (reminder.level, sorted(reminder.recipients), reminder.kind)
    assert seen[-3] == (1, ["finance@supplier.example"], ReminderKind.DUE_SOON)
    assert seen[1] == (1, ["finance@supplier.example"], ReminderKind.OVERDUE)
    assert seen[7][0] == 2
    assert "owner@buyer.example" in seen[7][1]
    assert seen[14][0] == 3
    assert len(seen[14][1]) == 3  # and the compliance manager
    first = Reminder.objects.get(penalty=penalty, schedule_point=1)
    assert first.target_type == ReminderTargetType.PENALTY
    assert first.plan_id is None
    assert first.action_id is None
    event = IncidentEvent.objects.filter(penalty=penalty, kind=EventKind.REMINDER).first()
    assert "payment of the penalty (600000.00 CNY outstanding)" in event.message


def test_penalty_reminder_once_per_point_and_mailed(mailoutbox):
    penalty = make_penalty()
    for _ in range(2):
        reminders.run_sweep(as_of=day(8), enqueue=False)
    assert Reminder.objects.filter(penalty=penalty).count() == 1  # caught up: point 7 only
    assert deliver_pending() == {"sent": 1}
    assert recipients_of(mailoutbox) == ["finance@supplier.example"]
    body = mailoutbox[0].body
    # Money in a mail as its reader's language writes it (English here: CLDR's CN¥).
    assert "Payment of the penalty: CN¥1,000,000.00 outstanding" in body
    assert f"/penalties/{penalty.pk}/" in body
    assert Reminder.objects.get(penalty=penalty).state == DeliveryState.SENT


@pytest.mark.parametrize("status", [PenaltyStatus.PROPOSED, PenaltyStatus.DISPUTED])
def test_nothing_for_a_penalty_not_issued(status):
    make_penalty(status=status)
    assert reminders.run_sweep(as_of=day(7)).created == 0


def test_paid_before_the_mail_goes_out_is_skipped(mailoutbox):
    penalty = make_penalty()
    reminders.run_sweep(as_of=day(3), enqueue=False)
    Penalty.objects.filter(pk=penalty.pk).update(
        status=PenaltyStatus.PAID, paid_amount=penalty.amount
    )
    assert deliver_pending() == {"skipped": 1}
    assert not mailoutbox
    assert reminders.run_sweep(as_of=day(7)).created == 0


def test_supplier_user_sees_its_own_penalty_reminders_only(client):
    penalty = make_penalty()
    other = make_penalty()
    reminders.run_sweep(as_of=day(3))
    user = UserFactory(role=Role.SUPPLIER, supplier=penalty.supplier)
    client.force_login(user)
    body = client.get("/api/v1/reminders/").json()
    assert [r["penalty"] for r in body["results"]] == [penalty.pk]
    assert other.reminders.exists()
    page = client.get("/reminders/")
    assert page.status_code == 200
    assert b"Penalty payment" in page.content


def test_the_demo_overdue_penalty_gets_one_payment_reminder(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = timezone.localdate()
    overdue = [p for p in Penalty.objects.all() if p.due_on and p.due_on < today]
    (penalty,) = [p for p in overdue if p.status == PenaltyStatus.ISSUED]
    assert penalty.outstanding == Decimal("600000.00")
    assert Reminder.objects.filter(penalty=penalty).count() == 1
    reminders.run_sweep(as_of=today)  # a second sweep the same day sends nothing more
    assert Reminder.objects.filter(penalty=penalty).count() == 1
    # Shown as overdue on the dashboard, the penalty list and the deadlines page.
    client.force_login(penalty.incident.owner)
    dashboard = client.get("/")
    assert penalty in dashboard.context["overdue_penalties"]
    listing = client.get("/penalties/", {"overdue": "true"})
    assert [p.pk for p in listing.context["page"]] == [penalty.pk]
    assert b"badge-late" in listing.content
    deadlines = client.get("/deadlines/")
    assert ("penalty", penalty.incident.reference) in [
        (row.kind, row.reference) for row in deadlines.context["lists"].overdue
    ]


def test_a_sweep_leaves_the_planner_knowing_about_the_reminders_it_wrote():
    """The defect: statistics taken while the table held plan reminders only said that no
    reminder has a penalty, and the next sweep's anti-join compared every issued penalty
    with every penalty reminder (a same-day rerun ran for over ten minutes at full scale).
    The sweep analyzes the table before it commits."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics: SQLite keeps none")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE breaches_reminder")  # taken while no reminder exists
    for _ in range(20):
        make_penalty()
    assert reminders.run_sweep(as_of=day(3), enqueue=False).created == 20
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT null_frac FROM pg_stats WHERE tablename = 'breaches_reminder'"
            " AND attname = 'penalty_id'"
        )
        row = cursor.fetchone()
    assert row is not None, "no statistics of penalty_id: the planner was not told"
    assert row[0] < 1, f"penalty_id null_frac {row[0]}: the planner was not told"
