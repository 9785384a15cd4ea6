"""Two transactions racing the same workflow step on PostgreSQL end with exactly one
success and one refusal: the services lock the row (`select_for_update`) and re-check
the state once they hold it.

The race is made deterministic rather than left to luck: the first transaction is held
just after it has locked and read its row, the second is started and the test waits
until PostgreSQL reports it blocked on that lock, then the first is released. If the
service did not lock, the second would never block and the test fails.

These tests need real concurrent transactions. CI runs them on PostgreSQL (nothing is
skipped there); on SQLite, whose test database is an in-memory shared cache without row
locks, they are skipped with that reason, and only there. The embedded default (a file
SQLite database, writers serialised by IMMEDIATE transactions) is raced in a
subprocess on every database by the last test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections

from breaches import services
from breaches.choices import IncidentStatus, PenaltyStatus
from breaches.models import Incident, IncidentEvent, Payment, Penalty, RectificationPlan
from config.exceptions import TransitionNotAllowed
from suppliers.choices import Role

from .factories import IncidentFactory, NDAFactory, PenaltyFactory, SupplierFactory, UserFactory

WAIT_SECONDS = 15


@pytest.fixture
def _postgres_only():
    if connection.vendor == "sqlite":
        pytest.skip(
            "row-lock races need PostgreSQL; the SQLite test database is an in-memory shared "
            "cache without row locks (CI runs PostgreSQL; the embedded file database is "
            "raced by test_embedded_sqlite_serialises_racing_writers)"
        )
    assert connection.vendor == "postgresql", connection.vendor


def postgres_race(test):
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True),
        pytest.mark.usefixtures("_postgres_only"),
    ):
        test = mark(test)
    return test


class HeldAfterLock:
    """Wraps a function a service calls right after `select_for_update`: the first
    caller is held there (row locked) until released; later callers pass through."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.original = getattr(module, name)
        self.locked = threading.Event()
        self.release = threading.Event()
        self._first = True
        self._guard = threading.Lock()
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        with self._guard:
            first, self._first = self._first, False
        if first:
            self.locked.set()
            assert self.release.wait(WAIT_SECONDS), "never released"
        return self.original(*args, **kwargs)


def _blocked_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_until_blocked() -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if _blocked_on_a_lock():
            return
        time.sleep(0.02)
    pytest.fail("the second transaction never waited for the row lock")


def _run(work, outcomes: list, name: str):
    def target():
        try:
            work()
        except Exception as exc:
            outcomes.append((name, exc))
        else:
            outcomes.append((name, "ok"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _race(hold: HeldAfterLock, first, second) -> dict:
    outcomes: list = []
    a = _run(first, outcomes, "first")
    assert hold.locked.wait(WAIT_SECONDS), f"first never took the lock: {outcomes}"
    b = _run(second, outcomes, "second")
    try:
        _wait_until_blocked()
    finally:
        hold.release.set()
        a.join(WAIT_SECONDS)
        b.join(WAIT_SECONDS)
    assert not a.is_alive()
    assert not b.is_alive()
    return dict(outcomes)


@pytest.fixture
def seed_case():
    tier1 = SupplierFactory(name="Beijing Molding Technology Co. Ltd")
    sub = SupplierFactory(name="Hebei Precision Mould Studio", parent=tier1)
    nda = NDAFactory(supplier=tier1, covers_subvendors=True)
    return tier1, sub, nda


@postgres_race
def test_racing_confirmations_one_wins_one_is_refused(monkeypatch, seed_case):
    tier1, sub, nda = seed_case
    lead = UserFactory(role=Role.COMPLIANCE)
    second = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.INVESTIGATING,
        source_supplier=sub,
        responsible_supplier=tier1,
        nda=nda,
    )
    hold = HeldAfterLock(monkeypatch, services, "_refuse_unless_allowed")

    def confirm(actor):
        return lambda: services.incident_transition(
            actor=actor, incident=Incident(pk=incident.pk), to=IncidentStatus.CONFIRMED
        )

    outcomes = _race(hold, confirm(lead), confirm(second))
    assert outcomes["first"] == "ok", outcomes
    assert isinstance(outcomes["second"], TransitionNotAllowed), outcomes
    assert "from confirmed" in str(outcomes["second"])
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CONFIRMED
    # Confirmed once: one penalty, one plan, one transition event.
    assert incident.penalties.count() == 1
    assert incident.rectification_plans.count() == 1
    assert IncidentEvent.objects.filter(incident=incident, kind="transition").count() == 1


@postgres_race
def test_racing_different_transitions_of_the_same_incident(monkeypatch, seed_case):
    tier1, sub, nda = seed_case
    lead = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.INVESTIGATING,
        source_supplier=sub,
        responsible_supplier=tier1,
        nda=nda,
    )
    hold = HeldAfterLock(monkeypatch, services, "_refuse_unless_allowed")

    def move(to):
        return lambda: services.incident_transition(
            actor=lead, incident=Incident(pk=incident.pk), to=to
        )

    outcomes = _race(hold, move(IncidentStatus.DISMISSED), move(IncidentStatus.CONFIRMED))
    assert outcomes["first"] == "ok", outcomes
    assert isinstance(outcomes["second"], TransitionNotAllowed), outcomes
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISMISSED
    assert not incident.penalties.exists()
    assert not incident.rectification_plans.exists()


@postgres_race
def test_racing_penalty_issue_and_waiver(monkeypatch, seed_case):
    tier1, sub, nda = seed_case
    issuer = UserFactory(role=Role.COMPLIANCE)
    waiver = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.CONFIRMED, source_supplier=sub, responsible_supplier=tier1, nda=nda
    )
    penalty = PenaltyFactory(incident=incident, supplier=tier1)
    # Four eyes: a third user asked for the waiver; the waiver user's act carries it out.
    asked = services.penalty_transition(
        actor=UserFactory(role=Role.COMPLIANCE), penalty=penalty, to=PenaltyStatus.WAIVED
    )
    assert isinstance(asked, services.ReviewRequested)
    hold = HeldAfterLock(monkeypatch, services, "_refuse_unless_allowed")

    def move(actor, to):
        return lambda: services.penalty_transition(
            actor=actor, penalty=Penalty(pk=penalty.pk), to=to
        )

    outcomes = _race(hold, move(waiver, PenaltyStatus.WAIVED), move(issuer, PenaltyStatus.ISSUED))
    assert outcomes["first"] == "ok", outcomes
    assert isinstance(outcomes["second"], TransitionNotAllowed), outcomes
    penalty.refresh_from_db()
    assert (penalty.status, penalty.issued_by) == (PenaltyStatus.WAIVED, None)
    assert IncidentEvent.objects.filter(penalty=penalty).exclude(to_status="").count() == 1


@postgres_race
def test_racing_plan_approval_and_change_request(monkeypatch, seed_case):
    from breaches.choices import PlanStatus

    from .factories import PlanFactory

    tier1, sub, nda = seed_case
    reviewer = UserFactory(role=Role.COMPLIANCE)
    other = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.CONFIRMED, source_supplier=sub, responsible_supplier=tier1, nda=nda
    )
    plan = PlanFactory(incident=incident, supplier=tier1, status=PlanStatus.SUBMITTED)
    hold = HeldAfterLock(monkeypatch, services, "_refuse_unless_allowed")

    def move(actor, to):
        return lambda: services.plan_transition(
            actor=actor, plan=RectificationPlan(pk=plan.pk), to=to, note="Add an audit."
        )

    outcomes = _race(
        hold, move(reviewer, PlanStatus.APPROVED), move(other, PlanStatus.CHANGES_REQUESTED)
    )
    assert outcomes["first"] == "ok", outcomes
    assert isinstance(outcomes["second"], TransitionNotAllowed), outcomes
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert plan.changes_requested_reason == ""


@postgres_race
def test_racing_payments_that_together_would_overpay(monkeypatch, seed_case):
    tier1, sub, nda = seed_case
    clerk = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.CONFIRMED,
        source_supplier=sub,
        responsible_supplier=tier1,
        nda=nda,
    )
    penalty = PenaltyFactory(
        incident=incident, supplier=tier1, amount=Decimal("100.00"), status=PenaltyStatus.ISSUED
    )
    hold = HeldAfterLock(monkeypatch, services, "_to_decimal")

    def pay(reference):
        return lambda: services.penalty_record_payment(
            actor=clerk,
            penalty=Penalty(pk=penalty.pk),
            amount="60.00",
            paid_on=date(2025, 3, 1),
            reference=reference,
        )

    outcomes = _race(hold, pay("W-1"), pay("W-2"))
    assert outcomes["first"] == "ok", outcomes
    refusal = outcomes["second"]
    assert not isinstance(refusal, str), outcomes
    assert "exceed" in str(refusal), refusal
    penalty.refresh_from_db()
    assert (penalty.paid_amount, penalty.status) == (Decimal("60.00"), PenaltyStatus.ISSUED)
    assert list(Payment.objects.values_list("reference", flat=True)) == ["W-1"]


@postgres_race
def test_racing_payments_that_together_settle_it_exactly(monkeypatch, seed_case):
    tier1, sub, nda = seed_case
    clerk = UserFactory(role=Role.COMPLIANCE)
    incident = IncidentFactory(
        status=IncidentStatus.CONFIRMED,
        source_supplier=sub,
        responsible_supplier=tier1,
        nda=nda,
    )
    penalty = PenaltyFactory(
        incident=incident, supplier=tier1, amount=Decimal("100.00"), status=PenaltyStatus.ISSUED
    )
    hold = HeldAfterLock(monkeypatch, services, "_to_decimal")

    def pay(amount):
        return lambda: services.penalty_record_payment(
            actor=clerk, penalty=Penalty(pk=penalty.pk), amount=amount, paid_on=date(2025, 3, 1)
        )

    outcomes = _race(hold, pay("40.00"), pay("60.00"))
    assert outcomes == {"first": "ok", "second": "ok"}, outcomes
    penalty.refresh_from_db()
    assert (penalty.paid_amount, penalty.status) == (Decimal("100.00"), PenaltyStatus.PAID)


@postgres_race
def test_concurrent_incident_creation_numbers_without_duplicates(seed_case):
    _, sub, _ = seed_case
    lead = UserFactory(role=Role.COMPLIANCE)
    barrier = threading.Barrier(4)
    outcomes: list = []

    def create():
        barrier.wait(WAIT_SECONDS)
        services.incident_create(
            actor=lead,
            title="Leak",
            occurred_on=date(2025, 1, 22),
            discovered_on=date(2025, 1, 22),
            channel="press",
            source_supplier=sub,
        )

    threads = [_run(create, outcomes, f"t{i}") for i in range(4)]
    for thread in threads:
        thread.join(WAIT_SECONDS * 2)
    assert sorted(o for _, o in outcomes) == ["ok"] * 4, outcomes
    references = list(Incident.objects.values_list("reference", flat=True))
    assert len(set(references)) == 4, references


def test_embedded_sqlite_serialises_racing_writers(tmp_path):
    """`make run` serves web, worker and beat from one SQLite file: two writers racing
    the same confirmation or overpaying payments end with one success and one refusal
    there too (tests/sqlite_race.py, run against a fresh file database)."""
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_race"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["confirm"]["first"] == "ok", results
    assert results["confirm"]["second"].startswith("TransitionNotAllowed"), results
    assert results["confirm_state"] == {
        "status": "confirmed",
        "penalties": 1,
        "plans": 1,
        "transition_events": 1,
    }, results
    assert results["pay"]["first"] == "ok", results
    assert "exceed" in results["pay"]["second"], results
    assert results["pay_state"] == {"paid_amount": "60.00", "status": "issued", "payments": 1}
