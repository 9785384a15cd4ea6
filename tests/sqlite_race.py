"""Races on the embedded default: a file SQLite database, as `make run` uses it, where
two connections (a web process and a worker) write at once. Run as a script by
tests/test_breaches_concurrency.py with DATABASE_URL pointing at a fresh file:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 DJANGO_DEBUG=1 python -m tests.sqlite_race

It prints one JSON object: each scenario's outcome per racer. SQLite has no row locks,
but every transaction opens IMMEDIATE (settings), so the second writer waits for the
first to commit and then re-reads the row: the same one-success-one-refusal as on
PostgreSQL. The first racer is held just after its locked read while the second starts.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import date
from decimal import Decimal


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run_scenarios()))


class HeldAfterLock:
    def __init__(self, module, name: str) -> None:
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.locked = threading.Event()
        self.release = threading.Event()
        self._first = True
        self._guard = threading.Lock()

    def __enter__(self):
        setattr(self.module, self.name, self)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.original)

    def __call__(self, *args, **kwargs):
        with self._guard:
            first, self._first = self._first, False
        if first:
            self.locked.set()
            self.release.wait(30)
        return self.original(*args, **kwargs)


def race(hold: HeldAfterLock, first, second) -> dict[str, str]:
    from django.db import connections

    outcomes: dict[str, str] = {}
    second_started = threading.Event()

    def run(name, work, started=None):
        try:
            if started is not None:
                started.set()
            work()
            outcomes[name] = "ok"
        except Exception as exc:
            outcomes[name] = f"{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()

    a = threading.Thread(target=run, args=("first", first))
    a.start()
    hold.locked.wait(30)
    b = threading.Thread(target=run, args=("second", second, second_started))
    b.start()
    second_started.wait(30)
    # SQLite cannot report a waiting writer; give the second one time to reach BEGIN.
    time.sleep(0.3)
    hold.release.set()
    a.join(60)
    b.join(60)
    return outcomes


def run_scenarios() -> dict:
    from breaches import services
    from breaches.models import Incident, Penalty
    from tests.factories import (
        IncidentFactory,
        NDAFactory,
        PenaltyFactory,
        SupplierFactory,
        UserFactory,
    )

    tier1 = SupplierFactory()
    sub = SupplierFactory(parent=tier1)
    nda = NDAFactory(supplier=tier1, covers_subvendors=True)
    lead = UserFactory(role="compliance", password=None)
    results = {}

    incident = IncidentFactory(
        status="investigating", source_supplier=sub, responsible_supplier=tier1, nda=nda
    )

    def confirm():
        services.incident_transition(actor=lead, incident=Incident(pk=incident.pk), to="confirmed")

    with HeldAfterLock(services, "_refuse_unless_allowed") as hold:
        results["confirm"] = race(hold, confirm, confirm)
    incident.refresh_from_db()
    results["confirm_state"] = {
        "status": incident.status,
        "penalties": incident.penalties.count(),
        "plans": incident.rectification_plans.count(),
        "transition_events": incident.events.filter(kind="transition").count(),
    }

    paid = IncidentFactory(
        status="confirmed", source_supplier=sub, responsible_supplier=tier1, nda=nda
    )
    penalty = PenaltyFactory(
        incident=paid, supplier=tier1, amount=Decimal("100.00"), status="issued"
    )

    def pay():
        services.penalty_record_payment(
            actor=lead, penalty=Penalty(pk=penalty.pk), amount="60.00", paid_on=date(2025, 3, 1)
        )

    with HeldAfterLock(services, "_to_decimal") as hold:
        results["pay"] = race(hold, pay, pay)
    penalty.refresh_from_db()
    results["pay_state"] = {
        "paid_amount": str(penalty.paid_amount),
        "status": penalty.status,
        "payments": penalty.payments.count(),
    }
    return results


if __name__ == "__main__":
    sys.exit(main())
