"""`load_demo`: the seed case as data, built through the services, idempotent."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from breaches.choices import IncidentStatus, PenaltyStatus, PlanStatus
from breaches.management.commands.load_demo import DEMO_LOGINS, LEAK_DAYS_AGO, TIER1_NAME
from breaches.models import (
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    RectificationPlan,
    Reminder,
)
from suppliers.models import Supplier, User
from suppliers.selectors import coverage_gaps, incident_suspects

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("suppliers", "breaches")
        for model in apps.get_app_config(app).get_models()
    }


def _load(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def test_running_twice_changes_nothing():
    first = _load()
    assert "loaded" in first, first
    counts = _counts()
    assert counts["suppliers.Supplier"] >= 4, counts
    assert counts["breaches.Incident"] >= 5, counts
    second = _load()
    assert "already loaded" in second, second
    assert _counts() == counts


def test_seed_case_liability_penalty_and_plan():
    _load()
    tier1 = Supplier.objects.get(name=TIER1_NAME)
    assert (tier1.country, tier1.tier, tier1.parent) == ("CN", 1, None)
    assert tier1.contacts.filter(receives_reminders=True).exists()
    nda = tier1.ndas.get(covers_subvendors=True)
    assert (nda.penalty_amount, nda.penalty_currency) == (Decimal("1000000.00"), "CNY")
    assert nda.covers_subvendors
    assert nda.flow_down_required
    assert nda.rectification_days == 30

    leak = Incident.objects.get(occurred_on=timezone.localdate() - timedelta(days=LEAK_DAYS_AGO))
    assert leak.source_supplier.parent == tier1
    assert not leak.source_supplier.ndas.exists(), "the leaking sub-vendor has no NDA"
    assert (leak.responsible_supplier, leak.nda) == (tier1, nda)
    assert leak.status == IncidentStatus.CONFIRMED
    assert set(leak.assets.values_list("code", flat=True)) >= {"MS11-BUMPER-FR", "MS11-BUMPER-RR"}

    penalty = leak.penalties.get()
    assert (penalty.amount, penalty.currency) == (Decimal("1000000.00"), "CNY")
    assert penalty.status == PenaltyStatus.ISSUED
    assert Decimal(0) < penalty.paid_amount < penalty.amount

    plan = leak.rectification_plans.get()
    assert plan.supplier == tier1
    assert plan.status in (PlanStatus.SUBMITTED, PlanStatus.APPROVED)
    assert plan.actions.count() >= 3
    today = timezone.localdate()
    assert plan.actions.filter(status="open", due_on__lt=today).exists(), "nothing overdue"

    # The watermark on the leaked copy points at the sub-vendor's disclosure.
    prime = incident_suspects(leak)[0]
    assert prime.fingerprint_match
    assert prime.recipient == leak.source_supplier
    assert prime.liability.responsible_supplier == tier1

    kinds = set(IncidentEvent.objects.filter(incident=leak).values_list("kind", flat=True))
    assert {"created", "transition", "penalty", "payment", "plan"} <= kinds, kinds


def test_other_incidents_cover_other_states_and_gaps():
    _load()
    statuses = set(Incident.objects.values_list("status", flat=True))
    assert {"reported", "investigating", "confirmed", "dismissed"} <= statuses, statuses
    assert Incident.objects.filter(no_nda_coverage=True, source_supplier__isnull=False).exists()
    assert Supplier.objects.exclude(country="CN").exists(), "no foreign supplier"
    reasons = {gap.reason for gap in coverage_gaps()}
    assert reasons == {"no_nda_reach", "flow_down_missing"}, reasons


def test_demo_logins_work():
    _load()
    request = RequestFactory().post("/login/")
    for login in DEMO_LOGINS:
        user = authenticate(request, username=login.username, password=login.password)
        assert user is not None, login.username
        assert user.role == login.role
    assert (
        User.objects.get(username="compliance").groups.filter(name="compliance managers").exists()
    )
    assert User.objects.get(username="bmt-supplier").supplier.name == TIER1_NAME


def test_print_logins_only_prints():
    _load()
    counts = _counts()
    out = _load("--print-logins")
    for login in DEMO_LOGINS:
        assert login.username in out, out
        assert login.password in out, out
    assert "[not loaded]" not in out
    assert _counts() == counts


def test_print_logins_before_loading_creates_nothing():
    out = _load("--print-logins")
    assert "[not loaded]" in out, out
    assert User.objects.count() == 0


def test_an_existing_account_of_a_demo_name_is_reused_untouched():
    own = User.objects.create_superuser("admin", "me@example.com", "my-own-secret-passphrase")
    _load()
    own.refresh_from_db()
    assert own.check_password("my-own-secret-passphrase")
    assert own.email == "me@example.com"
    assert Incident.objects.exists()


@pytest.mark.parametrize(
    "load_day",
    [None, date(2027, 3, 1), date(2028, 2, 29), date(2030, 1, 2)],
    ids=["today", "2027-03-01", "leap-day", "new-year"],
)
def test_the_demo_tells_one_time_line_relative_to_the_day_it_is_loaded(load_day, time_machine):
    if load_day is not None:
        time_machine.move_to(f"{load_day.isoformat()} 09:30:00+00:00", tick=False)
    _load()
    today = timezone.localdate()
    now = timezone.now()

    for incident in Incident.objects.all():
        assert incident.occurred_on <= incident.discovered_on <= today, incident
        assert incident.discovered_on <= incident.created_at.date(), incident
        if incident.confirmed_at:
            assert incident.created_at < incident.confirmed_at <= now, incident
        events = list(incident.events.order_by("id"))
        stamps = [event.created_at for event in events]
        assert stamps == sorted(stamps), [(e.kind, e.created_at) for e in events]
        assert stamps[0] == incident.created_at, incident
        assert stamps[-1] <= now, incident

    for penalty in Penalty.objects.select_related("incident"):
        confirmed_at = penalty.incident.confirmed_at
        assert penalty.proposed_on == confirmed_at.date(), penalty
        if penalty.issued_at:
            assert penalty.issued_at > confirmed_at, penalty
            assert penalty.due_on > penalty.issued_at.date(), penalty
        for payment in penalty.payments.all():
            assert penalty.issued_at.date() <= payment.paid_on <= today, payment
    assert Payment.objects.exists()

    for plan in RectificationPlan.objects.select_related("incident"):
        assert plan.requested_on == plan.incident.confirmed_at.date(), plan
        if plan.submitted_at:
            assert plan.submitted_at.date() <= plan.due_on, plan
            assert plan.incident.confirmed_at < plan.submitted_at < plan.approved_at <= now
        start = plan.approved_at.date() if plan.approved_at else plan.requested_on
        for action in plan.actions.all():
            assert action.due_on > start, (plan, action.due_on, start)
            if action.completed_on:
                assert start < action.completed_on <= today, action

    # Some work is late today, and the first sweep has already recorded its reminders.
    seed_plan = RectificationPlan.objects.get(supplier__name=TIER1_NAME)
    assert seed_plan.actions.filter(status="open", due_on__lt=today).exists()
    late_penalty = Penalty.objects.get(supplier__name=TIER1_NAME)
    assert late_penalty.due_on < today
    assert late_penalty.outstanding > 0
    levels = set(Reminder.objects.values_list("level", flat=True))
    assert {1, 2} <= levels, levels
    assert Reminder.objects.filter(kind="due_soon").exists()
