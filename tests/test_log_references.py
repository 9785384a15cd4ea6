"""The reminder log and the timeline check their references with statement triggers on
PostgreSQL (migrations 0009, 0011, 0017, 0021), not with foreign keys, which lock every
row they name: the penalty ones cost a full-scale sweep 5 of its 20 seconds at commit.
The rules hold all the same: a reminder's or an event's penalty exists (an event's is a
penalty of its incident), and a penalty they refer to cannot be deleted."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from breaches.choices import EventKind, ReminderTargetType
from breaches.models import IncidentEvent, Reminder
from tests.factories import IncidentFactory, PenaltyFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the statement triggers are PostgreSQL's; SQLite keeps its foreign keys",
    ),
]


def _reminder(penalty_id: int) -> Reminder:
    return Reminder.objects.create(
        target_type=ReminderTargetType.PENALTY,
        penalty_id=penalty_id,
        kind="overdue",
        level=1,
        due_on=date(2026, 11, 1),
        schedule_point=7,
        days_overdue=7,
        recipients=["a@supplier.example"],
    )


def test_no_foreign_key_locks_the_penalty_of_a_reminder_or_an_event():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
            "WHERE c.contype = 'f' AND a.attname = 'penalty_id'"
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert tables.isdisjoint({"breaches_reminder", "breaches_incidentevent"}), tables


def test_a_reminder_of_a_missing_penalty_is_refused():
    penalty = PenaltyFactory()
    assert _reminder(penalty.pk).penalty == penalty
    with pytest.raises(IntegrityError, match="missing plan or penalty"), transaction.atomic():
        _reminder(penalty.pk + 1000)


def test_an_event_of_a_penalty_of_another_incident_is_refused():
    penalty = PenaltyFactory()
    IncidentEvent.objects.create(
        incident=penalty.incident, penalty=penalty, kind=EventKind.PENALTY, message="issued"
    )
    other = IncidentFactory()
    refused = pytest.raises(IntegrityError, match="plan or penalty of another incident")
    with refused, transaction.atomic():
        IncidentEvent.objects.create(
            incident=other, penalty=penalty, kind=EventKind.PENALTY, message="issued"
        )
    refused = pytest.raises(IntegrityError, match="plan or penalty of another incident")
    with refused, transaction.atomic():
        IncidentEvent.objects.create(
            incident=other, penalty_id=penalty.pk + 1000, kind=EventKind.PENALTY, message="x"
        )


@pytest.mark.parametrize("referrer", ["reminder", "event"])
def test_a_penalty_a_reminder_or_event_refers_to_cannot_be_deleted(referrer):
    penalty = PenaltyFactory()
    if referrer == "reminder":
        _reminder(penalty.pk)
    else:
        IncidentEvent.objects.create(
            incident=penalty.incident, penalty=penalty, kind=EventKind.PENALTY, message="x"
        )
    refused = pytest.raises(IntegrityError, match="referred to by reminders or events")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM breaches_penalty WHERE id = %s", [penalty.pk])
    unreferenced = PenaltyFactory()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM breaches_penalty WHERE id = %s", [unreferenced.pk])
