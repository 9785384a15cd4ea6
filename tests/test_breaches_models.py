"""Every constraint of the breaches models, refused AT THE DATABASE: rows are written
with `objects.create` / `.update()`, bypassing Python validation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from hypothesis import given
from hypothesis import strategies as st

from breaches.choices import ActionStatus, PenaltyStatus, PlanStatus
from breaches.models import (
    Evidence,
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    RectificationAction,
    RectificationPlan,
    Reminder,
)
from suppliers.choices import CURRENCY_CODES
from suppliers.models import MAX_MONEY_AMOUNT

from .dbchecks import db_settings, db_text, refused, rolled_back
from .factories import (
    ActionFactory,
    EventFactory,
    IncidentFactory,
    NDAFactory,
    PenaltyFactory,
    PlanFactory,
    ReminderFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- Incident --------------------------------------------------------------------------


def _incident(**overrides) -> Incident:
    fields = {
        "reference": "INC-TEST-0001",
        "title": "Leak",
        "occurred_on": date(2025, 1, 22),
        "discovered_on": date(2025, 1, 22),
        "channel": "social_media",
    }
    fields.update(overrides)
    return Incident.objects.create(**fields)


def test_incident_discovered_after_occurred():
    refused(lambda: _incident(discovered_on=date(2025, 1, 21)))
    incident = _incident()
    refused(lambda: Incident.objects.filter(pk=incident.pk).update(occurred_on=date(2025, 2, 1)))


def test_incident_reference_unique():
    _incident(reference="INC-2025-0001")
    refused(lambda: _incident(reference="INC-2025-0001"))


@pytest.mark.parametrize(
    "field", [{"status": "archived"}, {"channel": "tv"}, {"severity": "extreme"}]
)
def test_incident_choices_checked(field):
    refused(lambda: _incident(**field))


def test_incident_nda_needs_a_responsible_supplier():
    nda = NDAFactory()
    refused(lambda: _incident(nda=nda))
    assert _incident(nda=nda, responsible_supplier=nda.supplier).pk


def test_incident_override_needs_a_reason():
    refused(lambda: _incident(liability_overridden=True, liability_override_reason=""))


@pytest.mark.parametrize("status", ["confirmed", "resolved", "closed"])
def test_confirmed_incident_needs_a_responsible_supplier(status):
    refused(lambda: _incident(status=status))
    incident = _incident(reference=f"INC-{status}")
    refused(lambda: Incident.objects.filter(pk=incident.pk).update(status=status))


# --- Timeline --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"message": "rewritten"},
        {"kind": "transition"},
        {"from_status": "reported"},
        {"to_status": "closed"},
        {"created_at": F("created_at") - timedelta(days=1)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_timeline_events_are_append_only(change):
    event = EventFactory(message="original")
    refused(lambda: IncidentEvent.objects.filter(pk=event.pk).update(**change))
    assert IncidentEvent.objects.get(pk=event.pk).message == "original"


def test_timeline_event_moved_to_another_incident_is_refused():
    event = EventFactory()
    other = IncidentFactory()
    refused(lambda: IncidentEvent.objects.filter(pk=event.pk).update(incident=other))


def test_timeline_event_actor_may_be_cleared_when_an_account_goes():
    user = UserFactory()
    event = EventFactory(actor=user)
    user.delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.message == "note"


def test_timeline_event_kind_checked():
    refused(lambda: IncidentEvent.objects.create(incident=IncidentFactory(), kind="gossip"))


# --- References of the reminder log and the timeline (statement triggers, 0009) --------

MISSING_ID = 987_654_321


def test_timeline_event_for_a_missing_incident_is_refused():
    refused(lambda: IncidentEvent.objects.create(incident_id=MISSING_ID, kind="note"))
    assert not IncidentEvent.objects.filter(incident_id=MISSING_ID).exists()


def test_timeline_event_for_a_plan_of_another_incident_is_refused():
    plan = PlanFactory()
    other = IncidentFactory()
    refused(lambda: IncidentEvent.objects.create(incident=other, plan=plan, kind="plan"))
    refused(lambda: IncidentEvent.objects.create(incident=plan.incident, plan_id=MISSING_ID))
    event = IncidentEvent.objects.create(incident=plan.incident, plan=plan, kind="plan")
    assert event.plan_id == plan.pk


def test_timeline_events_written_together_are_checked_together():
    """One statement, many rows (what the sweep writes): a single bad row refuses all."""
    incident = IncidentFactory()
    refused(
        lambda: IncidentEvent.objects.bulk_create(
            [
                IncidentEvent(incident=incident, kind="note", message="fine"),
                IncidentEvent(incident_id=MISSING_ID, kind="note", message="dangling"),
            ]
        )
    )
    assert not IncidentEvent.objects.filter(message__in=["fine", "dangling"]).exists()


def test_reminder_for_a_missing_plan_or_an_action_of_another_plan_is_refused():
    plan = PlanFactory()
    other_action = ActionFactory()
    refused(lambda: ReminderFactory(plan=None, plan_id=MISSING_ID, due_on=plan.due_on))
    refused(
        lambda: ReminderFactory(
            plan=plan, action=other_action, target_type="action", due_on=plan.due_on
        )
    )
    refused(lambda: ReminderFactory(plan=plan, action_id=MISSING_ID, target_type="action"))
    action = ActionFactory(plan=plan)
    assert ReminderFactory(plan=plan, action=action, target_type="action").action == action


def test_reminder_target_cannot_change():
    reminder = ReminderFactory()
    plan_id = reminder.plan_id
    other = PlanFactory()
    refused(lambda: Reminder.objects.filter(pk=reminder.pk).update(plan=other))
    action = ActionFactory(plan=reminder.plan)
    refused(
        lambda: Reminder.objects.filter(pk=reminder.pk).update(action=action, target_type="action")
    )
    Reminder.objects.filter(pk=reminder.pk).update(state="sent")  # the rest may change
    reminder.refresh_from_db()
    assert (reminder.plan_id, reminder.action_id, reminder.state) == (plan_id, None, "sent")


def test_deleting_an_action_takes_its_reminders_with_it():
    """Django's on_delete still cascades (the database no longer does it for it)."""
    action = ActionFactory()
    ReminderFactory(plan=action.plan, action=action, target_type="action")
    action.delete()
    assert not Reminder.objects.filter(action_id=action.pk).exists()


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the delete checks are PostgreSQL triggers (CI runs them)",
)


def _raw_delete(model, pk) -> None:
    """DELETE straight in the table: no Django collector to cascade or protect first."""
    qs = model.objects.filter(pk=pk)
    qs._raw_delete(qs.db)


@postgres_only
def test_database_refuses_deleting_what_the_logs_refer_to():
    plan = PlanFactory()
    action = ActionFactory(plan=plan)
    EventFactory(incident=plan.incident)
    ReminderFactory(plan=plan, action=action, target_type="action")
    refused(lambda: _raw_delete(Incident, plan.incident_id))
    refused(lambda: _raw_delete(RectificationPlan, plan.pk))
    refused(lambda: _raw_delete(RectificationAction, action.pk))
    assert RectificationAction.objects.filter(pk=action.pk).exists()
    unreferenced = ActionFactory(plan=plan)
    _raw_delete(RectificationAction, unreferenced.pk)
    assert not RectificationAction.objects.filter(pk=unreferenced.pk).exists()


# --- Evidence --------------------------------------------------------------------------


def test_evidence_checksum_and_size_checked():
    incident = IncidentFactory()

    def evidence(**overrides):
        fields = {
            "incident": incident,
            "file": "evidence/x",
            "original_name": "x.pdf",
            "content_type": "application/pdf",
            "size": 10,
            "sha256": "a" * 64,
        }
        fields.update(overrides)
        return Evidence.objects.create(**fields)

    refused(lambda: evidence(sha256="not-a-digest"))
    refused(lambda: evidence(sha256="A" * 64))
    refused(lambda: evidence(size=0))
    assert evidence().pk


# --- Penalty and payments --------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-0.01"), Decimal("-5")])
def test_penalty_amount_positive(amount):
    refused(lambda: PenaltyFactory(amount=amount))


def test_money_amounts_are_capped_where_they_stay_exact_on_sqlite():
    refused(lambda: PenaltyFactory(amount=MAX_MONEY_AMOUNT + Decimal("0.01")))
    penalty = PenaltyFactory(amount=MAX_MONEY_AMOUNT)
    # The largest accepted amount reads back to the cent, on SQLite too.
    assert Penalty.objects.get(pk=penalty.pk).amount == MAX_MONEY_AMOUNT
    refused(
        lambda: Payment.objects.create(
            penalty=penalty, amount=MAX_MONEY_AMOUNT + 1, paid_on=date(2025, 3, 1)
        )
    )
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(amount=Decimal("1e14")))


@pytest.mark.parametrize("currency", ["", "cny", "RMB", "ABC"])
def test_penalty_currency_iso_4217(currency):
    refused(lambda: PenaltyFactory(currency=currency))


@db_settings
@given(currency=db_text(4))
def test_penalty_currency_random_strings(currency):
    incident = Incident.objects.first() or IncidentFactory()
    supplier = incident.source_supplier or SupplierFactory()
    if incident.source_supplier is None:
        Incident.objects.filter(pk=incident.pk).update(source_supplier=supplier)

    def create():
        return Penalty.objects.create(
            incident=incident, supplier=supplier, amount=Decimal("1.00"), currency=currency
        )

    if currency in CURRENCY_CODES:
        with rolled_back():
            create()
    else:
        refused(create)


def test_paid_amount_never_above_amount():
    penalty = PenaltyFactory(amount=Decimal("100.00"))
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("100.01")))
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("-1")))
    refused(
        lambda: Penalty.objects.filter(pk=penalty.pk).update(paid_amount=F("paid_amount") + 101)
    )
    # Nor may the amount drop below what is already paid.
    Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("60.00"))
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(amount=Decimal("59.99")))
    Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("100.00"))


def test_penalty_due_after_proposed():
    refused(lambda: PenaltyFactory(proposed_on=date(2025, 2, 1), due_on=date(2025, 1, 31)))
    assert PenaltyFactory(proposed_on=date(2025, 2, 1), due_on=date(2025, 2, 1)).pk


def test_penalty_paid_means_fully_paid():
    penalty = PenaltyFactory(amount=Decimal("100.00"))
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(status=PenaltyStatus.PAID))
    refused(lambda: Penalty.objects.filter(pk=penalty.pk).update(status="settled"))
    Penalty.objects.filter(pk=penalty.pk).update(
        paid_amount=Decimal("100.00"), status=PenaltyStatus.PAID
    )


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_payment_amount_positive(amount):
    penalty = PenaltyFactory()
    refused(
        lambda: Payment.objects.create(penalty=penalty, amount=amount, paid_on=date(2025, 3, 1))
    )


def test_payment_reference_unique_per_penalty_when_given():
    penalty = PenaltyFactory()

    def pay(reference):
        return Payment.objects.create(
            penalty=penalty, amount=Decimal("1.00"), paid_on=date(2025, 3, 1), reference=reference
        )

    pay("WIRE-1")
    refused(lambda: pay("WIRE-1"))
    pay("")
    pay("")  # unreferenced payments may repeat
    Payment.objects.create(
        penalty=PenaltyFactory(),
        amount=Decimal("1.00"),
        paid_on=date(2025, 3, 1),
        reference="WIRE-1",
    )


# --- Rectification ---------------------------------------------------------------------


def test_plan_due_after_requested():
    refused(lambda: PlanFactory(requested_on=date(2025, 2, 1), due_on=date(2025, 1, 31)))
    plan = PlanFactory(requested_on=date(2025, 2, 1), due_on=date(2025, 3, 1))
    refused(lambda: RectificationPlan.objects.filter(pk=plan.pk).update(due_on=date(2025, 1, 1)))


def test_one_open_plan_per_incident_and_supplier():
    first = PlanFactory()
    refused(lambda: PlanFactory(incident=first.incident, supplier=first.supplier))
    # Another supplier of the same incident, or the same supplier elsewhere, is fine.
    PlanFactory(incident=first.incident)
    PlanFactory(supplier=first.supplier)
    # Once the first plan is verified, a new one may be requested.
    RectificationPlan.objects.filter(pk=first.pk).update(status=PlanStatus.VERIFIED)
    second = PlanFactory(incident=first.incident, supplier=first.supplier)
    # ...but it cannot be reopened while the new one is open.
    refused(
        lambda: RectificationPlan.objects.filter(pk=first.pk).update(status=PlanStatus.APPROVED)
    )
    assert second.pk


@pytest.mark.parametrize("status", [s for s in PlanStatus.values if s != PlanStatus.VERIFIED])
def test_every_non_verified_status_counts_as_open(status):
    first = PlanFactory()
    RectificationPlan.objects.filter(pk=first.pk).update(status=status)
    refused(lambda: PlanFactory(incident=first.incident, supplier=first.supplier))


def test_plan_status_checked():
    refused(lambda: PlanFactory(status="abandoned"))


def test_action_due_after_created():
    plan = PlanFactory()
    refused(lambda: ActionFactory(plan=plan, created_on=date(2025, 2, 1), due_on=date(2025, 1, 31)))
    action = ActionFactory(plan=plan, created_on=date(2025, 2, 1), due_on=date(2025, 2, 1))
    refused(
        lambda: RectificationAction.objects.filter(pk=action.pk).update(due_on=date(2025, 1, 1))
    )


def test_action_done_iff_completed_on():
    action = ActionFactory()
    actions = RectificationAction.objects.filter(pk=action.pk)
    refused(lambda: actions.update(status=ActionStatus.DONE))
    refused(lambda: actions.update(completed_on=date(2025, 3, 1)))
    refused(lambda: actions.update(status="half-done"))
    actions.update(status=ActionStatus.DONE, completed_on=date(2025, 3, 1))


def test_action_description_not_empty():
    refused(lambda: ActionFactory(description=""))


# --- Reminders -------------------------------------------------------------------------


def test_reminder_unique_per_plan_and_schedule_point():
    first = ReminderFactory(schedule_point=3)
    refused(
        lambda: ReminderFactory(plan=first.plan, due_on=first.due_on, schedule_point=3, level=2)
    )
    ReminderFactory(plan=first.plan, due_on=first.due_on, schedule_point=7)
    # A new due date restarts the schedule.
    ReminderFactory(plan=first.plan, due_on=first.due_on + timedelta(days=10), schedule_point=3)


def test_reminder_unique_per_action_and_schedule_point():
    action = ActionFactory()

    def remind():
        return Reminder.objects.create(
            target_type="action",
            plan=action.plan,
            action=action,
            kind="overdue",
            level=1,
            due_on=action.due_on,
            schedule_point=1,
        )

    remind()
    refused(remind)
    # A plan reminder at the same point is another target.
    ReminderFactory(plan=action.plan, due_on=action.due_on, schedule_point=1)


def test_reminder_target_level_and_state_checked():
    action = ActionFactory()
    refused(lambda: ReminderFactory(plan=action.plan, target_type="action"))
    refused(lambda: ReminderFactory(plan=action.plan, action=action, target_type="plan"))
    refused(lambda: ReminderFactory(level=0))
    refused(lambda: ReminderFactory(level=4))
    refused(lambda: ReminderFactory(state="lost"))


@db_settings
@given(level=st.integers(min_value=-5, max_value=10))
def test_reminder_level_range(level):
    plan = RectificationPlan.objects.first() or PlanFactory()

    def create():
        return Reminder.objects.create(
            target_type="plan",
            plan=plan,
            kind="overdue",
            level=level,
            due_on=plan.due_on,
            schedule_point=100,
        )

    if 1 <= level <= 3:
        with rolled_back():
            create()
    else:
        refused(create)
