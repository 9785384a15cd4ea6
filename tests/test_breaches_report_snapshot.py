"""The staff report snapshot (breaches.report_snapshot): its figures are the live ones for
any day, staff requests read it instead of aggregating big tables, a missing one is
computed once, a stale one is served while one refresh is queued, and beat, the task and
the command keep it. Report caching is off in tests: each test here switches it on."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from breaches import report_snapshot, reports, tasks
from breaches.api.serializers import SummarySerializer
from breaches.choices import (
    OPEN_INCIDENT_STATUSES,
    PLAN_AWAITING_SUPPLIER,
    ActionStatus,
    PenaltyStatus,
    PlanStatus,
)
from breaches.models import (
    Incident,
    Penalty,
    RectificationAction,
    RectificationPlan,
    ReportSnapshot,
)
from breaches.reports import EVERYONE, ScopeFigures
from suppliers.choices import Role
from suppliers.models import Supplier
from tests.apiclients import client_for
from tests.factories import IncidentFactory, PenaltyFactory, SupplierFactory, UserFactory
from tests.sqlaudit import AGGREGATE, get_ok, on_big_tables

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(r'value="[A-Za-z0-9]{64}"')
SUMMARY = "/api/v1/reports/summary/"


@pytest.fixture
def seeded(db):
    today = timezone.localdate()
    call_command("seed_scale", incidents=150, suppliers=12, seed=3, as_of=today, verbosity=0)
    # The seed bills in CNY only: a second currency, partly paid and waived.
    _penalties(
        [
            ("70000.50", "EUR", PenaltyStatus.ISSUED, "20000.25"),
            ("1500.00", "EUR", PenaltyStatus.WAIVED, "0.00"),
        ]
    )
    return {
        "admin": UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
        "auditor": UserFactory(role=Role.AUDITOR),
        "supplier": UserFactory(
            role=Role.SUPPLIER,
            supplier_id=Penalty.objects.order_by("id").values_list("supplier", flat=True)[0],
        ),
        "today": today,
    }


@pytest.fixture(autouse=True)
def every_supplier_kept(settings):
    """Every supplier with an incident gets a row here (production keeps the worlds of
    REPORT_SNAPSHOT_MIN_INCIDENTS incidents or more; test_only_big_worlds_get_a_row)."""
    settings.REPORT_SNAPSHOT_MIN_INCIDENTS = 1


@pytest.fixture
def caching_on(settings):
    settings.REPORT_CACHE_SECONDS = 60
    settings.REPORT_SNAPSHOT_MAX_AGE = 600
    return settings


def _days_around_due_dates(today):
    """Days before, on and after the due dates the overdue counts turn on."""
    plan_days = RectificationPlan.objects.filter(status__in=PLAN_AWAITING_SUPPLIER).values_list(
        "due_on", flat=True
    )
    action_days = RectificationAction.objects.filter(
        status=ActionStatus.OPEN, plan__status=PlanStatus.APPROVED
    ).values_list("due_on", flat=True)
    due = sorted(set(plan_days) | set(action_days))
    assert len(due) > 5, "the seed should spread due dates"
    middle = due[len(due) // 2]
    days = {today, today + timedelta(days=45), today - timedelta(days=40)}
    for day in (due[0], middle, due[-1]):
        days |= {day - timedelta(days=1), day, day + timedelta(days=1)}
    days |= {due[0] - timedelta(days=400), due[-1] + timedelta(days=400)}
    return sorted(days)


def _page(client, user):
    client.force_login(user)
    response, queries = get_ok(client, "/")
    return CSRF_TOKEN.sub("", response.content.decode()), response.context, queries


# --- The snapshot's figures are the live figures -------------------------------------------


def test_seed_covers_what_the_figures_distinguish(seeded):
    """Guard for the comparisons below: every penalty status, several currencies, and
    both kinds of overdue target exist, so that equal figures mean something."""
    assert set(Penalty.objects.values_list("status", flat=True)) == set(PenaltyStatus.values)
    assert len(set(Penalty.objects.values_list("currency", flat=True))) >= 2
    assert RectificationPlan.objects.filter(status__in=PLAN_AWAITING_SUPPLIER).exists()
    assert RectificationAction.objects.filter(
        status=ActionStatus.OPEN, plan__status=PlanStatus.APPROVED
    ).exists()


def test_summary_from_the_snapshot_is_byte_identical_to_the_live_summary(seeded, settings):
    api = client_for(seeded["admin"], token=True)
    report_snapshot.refresh()
    days = _days_around_due_dates(seeded["today"])
    overdue_seen = set()
    for day in days:
        url = f"{SUMMARY}?as_of={day.isoformat()}"
        settings.REPORT_CACHE_SECONDS = 0
        live, live_queries = get_ok(api, url)
        settings.REPORT_CACHE_SECONDS = 60
        served, served_queries = get_ok(api, url)
        assert on_big_tables(live_queries, AGGREGATE), "the live path aggregates"
        assert on_big_tables(served_queries) == [], day
        assert served.content == live.content, (day, served.json(), live.json())
        overdue = live.json()["overdue"]
        overdue_seen.add((overdue["plans"], overdue["actions"]))
    # The days chosen move the overdue counts: from none at all to every target.
    assert (0, 0) in overdue_seen
    assert len(overdue_seen) >= 4, overdue_seen


def test_dashboard_figures_from_the_snapshot_equal_the_live_ones_on_any_day(seeded):
    """Any day the overdue counts turn on, up to the month chart's window (the chart's
    twelve months up to the day must lie in the thirteen the snapshot keeps)."""
    report_snapshot.refresh()
    figures = report_snapshot.figures_for(seeded["admin"])
    window = reports.month_starts(seeded["today"], 13)[0]
    days = [
        d for d in _days_around_due_dates(seeded["today"]) if reports.month_starts(d)[0] >= window
    ]
    assert len(days) >= 2, days
    for day in days:
        live = reports.live_dashboard(seeded["admin"], day)
        assert figures.dashboard(day) == live, day
    assert any(reports.live_dashboard(seeded["admin"], day)["month_chart"]["total"] for day in days)


def test_dashboard_page_renders_the_same_from_the_snapshot(seeded, client, settings):
    live_html, live_context, _ = _page(client, seeded["admin"])
    settings.REPORT_CACHE_SECONDS = 60
    report_snapshot.refresh()
    served_html, served_context, queries = _page(client, seeded["admin"])
    assert on_big_tables(queries, AGGREGATE) == []
    assert served_html == live_html
    assert served_context["overdue_plans_count"] == live_context["overdue_plans_count"] > 0
    assert served_context["money"] == live_context["money"]


def _penalties(rows):
    supplier = SupplierFactory()
    for amount, currency, status, paid in rows:
        penalty = PenaltyFactory(supplier=supplier, amount=Decimal(amount), currency=currency)
        Penalty.objects.filter(pk=penalty.pk).update(status=status, paid_amount=Decimal(paid))


def test_money_reads_the_same_from_the_snapshot(db, settings, client):
    """Cents in every currency, a currency only waived, one with nothing outstanding:
    the same decimal strings in the summary and the same rendered amounts on the page."""
    _penalties(
        [
            ("1000000.05", "CNY", PenaltyStatus.ISSUED, "250.25"),
            ("999.99", "CNY", PenaltyStatus.DISPUTED, "0.00"),
            ("0.01", "CNY", PenaltyStatus.PROPOSED, "0.00"),
            ("1234.56", "CNY", PenaltyStatus.PAID, "1234.56"),
            ("5000.00", "EUR", PenaltyStatus.WAIVED, "10.10"),
            ("0.10", "USD", PenaltyStatus.PROPOSED, "0.00"),
        ]
    )
    staff = UserFactory(role=Role.COMPLIANCE)
    api = client_for(staff, token=True)
    live_summary = api.get(SUMMARY).content
    live_html, live_context, _ = _page(client, staff)

    settings.REPORT_CACHE_SECONDS = 60
    report_snapshot.refresh()
    stored = ReportSnapshot.objects.get(name=report_snapshot.STAFF).payload
    assert json.loads(json.dumps(stored)) == stored, "plain JSON, no Decimal objects"
    assert api.get(SUMMARY).content == live_summary
    served_html, served_context, _ = _page(client, staff)
    assert served_html == live_html
    assert served_context["money"] == live_context["money"]
    assert 'data-money="outstanding-CNY">CN¥1,000,749.79<' in served_html
    totals = {row["currency"]: row for row in json.loads(live_summary)["penalty_totals"]}
    assert totals["EUR"] == {
        "currency": "EUR",
        "count": 1,
        "amount": "0.00",
        "paid": "10.10",
        "outstanding": "0.00",
        "waived": "5000.00",
    }


def test_money_beyond_float_precision_stays_exact(db, settings):
    """Sums of 16-digit amounts to the cent. (SQLite, the embedded default, sums
    decimals as floats, so its live figures are compared only on PostgreSQL.)"""
    _penalties(
        [
            ("9999999999999.99", "CNY", PenaltyStatus.ISSUED, "0.01"),
            ("9999999999999.99", "CNY", PenaltyStatus.DISPUTED, "0.00"),
            ("0.01", "CNY", PenaltyStatus.PROPOSED, "0.00"),
            ("1234.56", "CNY", PenaltyStatus.PAID, "1234.56"),
        ]
    )
    staff = UserFactory(role=Role.COMPLIANCE)
    today = timezone.localdate()
    report_snapshot.refresh()
    figures = report_snapshot.figures_for(staff)
    summary = dict(SummarySerializer(figures.summary(today)).data)
    assert dict(summary["penalty_totals"][0]) == {
        "currency": "CNY",
        "count": 4,
        "amount": "20000000001234.55",
        "paid": "1234.57",
        "outstanding": "19999999999999.98",
        "waived": "0.00",
    }
    money = figures.dashboard(today)["money"]
    assert money == [
        {
            "currency": "CNY",
            "outstanding": Decimal("19999999999999.97"),
            "collected": Decimal("1234.57"),
            "proposed": Decimal("0.01"),
        }
    ]
    if connection.vendor == "postgresql":
        settings.REPORT_CACHE_SECONDS = 0
        assert summary == dict(SummarySerializer(reports.live_summary(staff, today)).data)
        assert money == reports.live_dashboard(staff, today)["money"]


# --- Staff requests read the snapshot ----------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "auditor"])
def test_staff_requests_read_one_row_and_aggregate_nothing(seeded, caching_on, client, who):
    report_snapshot.refresh()
    api = client_for(seeded[who], token=True)
    api.get("/api/v1/incidents/?page_size=1")  # token and scope lookups out of the way
    _response, queries = get_ok(api, SUMMARY)
    assert on_big_tables(queries) == []
    assert [q for q in queries if "breaches_reportsnapshot" in q["sql"]], "reads the snapshot"
    _html, _context, page_queries = _page(client, seeded[who])
    # The overdue lists (ten rows each) still read the big tables, but never aggregate.
    assert on_big_tables(page_queries, AGGREGATE) == []


def test_staff_see_the_snapshot_until_it_is_refreshed(seeded, caching_on, client):
    report_snapshot.refresh()
    api = client_for(seeded["admin"], token=True)
    before = api.get(SUMMARY).json()["incidents"]["total"]
    IncidentFactory()
    assert api.get(SUMMARY).json()["incidents"]["total"] == before
    live_counts = reports.live_dashboard(seeded["admin"], seeded["today"])["status_counts"]
    live_open = sum(live_counts.get(status, 0) for status in OPEN_INCIDENT_STATUSES)
    assert _page(client, seeded["admin"])[1]["open_total"] == live_open - 1
    call_command("refresh_reports", stdout=StringIO())
    assert api.get(SUMMARY).json()["incidents"]["total"] == before + 1 == Incident.objects.count()


def _supplier_users():
    """A user for every supplier of the seed: tier-1s whose world holds sub-vendors'
    incidents, sub-vendors, suppliers with penalties and plans and some without."""
    return [
        UserFactory(role=Role.SUPPLIER, supplier=supplier) for supplier in Supplier.objects.all()
    ]


def test_every_suppliers_figures_from_the_snapshot_equal_its_live_ones(seeded, settings):
    """The fold of compute_all is the selectors' scope rule: an incident counts for each
    supplier whose world holds its source or its liable supplier; money, plans and
    actions for their own supplier only."""
    report_snapshot.refresh()
    days = _days_around_due_dates(seeded["today"])[::3]
    users = _supplier_users()
    with_rows = 0
    nested = Incident.objects.exclude(source_supplier=F("responsible_supplier")).exclude(
        responsible_supplier=None
    )
    assert nested.exists(), "the seed should have sub-vendors' leaks billed to a parent"
    for user in users:
        figures = report_snapshot.figures_for(user)
        if figures is None:  # nothing to count at the refresh: its live figures are empty
            assert reports.live_summary(user, seeded["today"])["incidents"]["total"] == 0
            continue
        with_rows += 1
        for day in days:
            settings.REPORT_CACHE_SECONDS = 0
            live = dict(SummarySerializer(reports.live_summary(user, day)).data)
            served = dict(SummarySerializer(figures.summary(day)).data)
            assert json.dumps(served) == json.dumps(live), (user.supplier, day)
        today = seeded["today"]
        assert figures.dashboard(today) == reports.live_dashboard(user, today), user.supplier
    assert with_rows >= len(users) // 2, "most of the seed's suppliers have something to count"


def test_supplier_users_read_their_own_row_and_aggregate_nothing(seeded, caching_on, client):
    report_snapshot.refresh()
    user = seeded["supplier"]
    name = reports.supplier_scope_name(user.supplier_id)
    api = client_for(user, token=True)
    api.get("/api/v1/incidents/?page_size=1")
    response, queries = get_ok(api, SUMMARY)
    assert on_big_tables(queries) == [], "one row read, nothing counted"
    assert [q for q in queries if f"'{name}'" in q["sql"]], "reads its supplier's row"
    everyone = ScopeFigures.compute_all(timezone.localdate())[EVERYONE].summary(seeded["today"])
    assert 0 < response.json()["incidents"]["total"] < everyone["incidents"]["total"]
    _html, _context, page_queries = _page(client, user)
    assert on_big_tables(page_queries, AGGREGATE) == []


def test_a_supplier_without_a_row_gets_its_live_figures(seeded, caching_on):
    report_snapshot.refresh()
    newcomer = SupplierFactory()
    IncidentFactory(source_supplier=newcomer, responsible_supplier=newcomer)
    user = UserFactory(role=Role.SUPPLIER, supplier=newcomer)
    api = client_for(user, token=True)
    response, queries = get_ok(api, SUMMARY)
    assert on_big_tables(queries, AGGREGATE), "counted live: it had nothing at the refresh"
    assert response.json()["incidents"]["total"] == 1
    call_command("refresh_reports", stdout=StringIO())
    assert ReportSnapshot.objects.filter(name=reports.supplier_scope_name(newcomer.pk)).exists()


def test_only_big_worlds_get_a_row(seeded, caching_on):
    """REPORT_SNAPSHOT_MIN_INCIDENTS: a supplier whose world holds fewer incidents is
    counted live (cheap); the others read their row."""
    caching_on.REPORT_SNAPSHOT_MIN_INCIDENTS = 20
    report_snapshot.refresh()
    users = _supplier_users()
    sizes = {u.pk: reports.live_summary(u, seeded["today"])["incidents"]["total"] for u in users}
    kept = {
        u.pk
        for u in users
        if ReportSnapshot.objects.filter(name=reports.supplier_scope_name(u.supplier_id))
    }
    assert kept == {u.pk for u in users if sizes[u.pk] >= 20}
    assert 0 < len(kept) < len(users), sizes
    small = next(u for u in users if u.pk not in kept and sizes[u.pk])
    response, queries = get_ok(client_for(small, token=True), SUMMARY)
    assert on_big_tables(queries, AGGREGATE), "counted live"
    assert response.json()["incidents"]["total"] == sizes[small.pk]


def test_a_supplier_with_nothing_left_loses_its_row(seeded):
    newcomer = SupplierFactory()
    incident = IncidentFactory(source_supplier=newcomer, responsible_supplier=newcomer)
    name = reports.supplier_scope_name(newcomer.pk)
    report_snapshot.refresh()
    assert ReportSnapshot.objects.filter(name=name).exists()
    incident.events.all().delete()
    incident.delete()
    report_snapshot.refresh()
    assert not ReportSnapshot.objects.filter(name=name).exists()
    assert ReportSnapshot.objects.filter(name=EVERYONE).exists()


def test_with_caching_off_staff_figures_stay_live(seeded, settings):
    settings.REPORT_CACHE_SECONDS = 0
    api = client_for(seeded["admin"], token=True)
    _response, queries = get_ok(api, SUMMARY)
    assert on_big_tables(queries, AGGREGATE)
    assert not ReportSnapshot.objects.exists(), "no snapshot written or read when caching is off"


# --- Missing, stale, outdated -------------------------------------------------------------


def test_a_missing_snapshot_is_computed_once_by_the_first_request(seeded, caching_on):
    assert not ReportSnapshot.objects.exists()
    api = client_for(seeded["admin"], token=True)
    api.get("/api/v1/incidents/?page_size=1")
    first, first_queries = get_ok(api, SUMMARY)
    assert on_big_tables(first_queries, AGGREGATE), "the bootstrap computes the figures"
    snapshot = ReportSnapshot.objects.get(name=EVERYONE)
    second, second_queries = get_ok(api, SUMMARY)
    assert on_big_tables(second_queries) == []
    assert second.content == first.content
    assert ReportSnapshot.objects.get(name=EVERYONE).computed_at == snapshot.computed_at


def test_a_stale_snapshot_is_served_and_one_refresh_queued(seeded, caching_on, monkeypatch):
    queued = []
    monkeypatch.setattr(
        tasks.refresh_report_snapshot, "apply_async", lambda **kw: queued.append(kw)
    )
    report_snapshot.refresh()
    stale_at = timezone.now() - timedelta(seconds=caching_on.REPORT_SNAPSHOT_MAX_AGE + 5)
    ReportSnapshot.objects.update(computed_at=stale_at)
    IncidentFactory()  # live figures would now differ from the snapshot's
    api = client_for(seeded["admin"], token=True)
    api.get("/api/v1/incidents/?page_size=1")
    for _ in range(3):
        response, queries = get_ok(api, SUMMARY)
        assert response.json()["incidents"]["total"] == Incident.objects.count() - 1
        assert on_big_tables(queries) == []
    assert queued == [{"retry": False, "expires": caching_on.REPORT_SNAPSHOT_MAX_AGE}]
    assert ReportSnapshot.objects.get(name=EVERYONE).computed_at == stale_at, (
        "the request did not recount"
    )

    tasks.refresh_report_snapshot.apply().get()  # what the worker does with it
    assert api.get(SUMMARY).json()["incidents"]["total"] == Incident.objects.count()
    ReportSnapshot.objects.update(computed_at=stale_at)
    api.get(SUMMARY)
    assert len(queued) == 2, "once refreshed, the next staleness queues again"


def test_a_fresh_snapshot_queues_nothing(seeded, caching_on, monkeypatch):
    queued = []
    monkeypatch.setattr(
        tasks.refresh_report_snapshot, "apply_async", lambda **kw: queued.append(kw)
    )
    report_snapshot.refresh()
    ReportSnapshot.objects.update(
        computed_at=timezone.now() - timedelta(seconds=caching_on.REPORT_SNAPSHOT_MAX_AGE - 30)
    )
    client_for(seeded["admin"], token=True).get(SUMMARY)
    assert queued == []


def test_a_broker_that_is_down_costs_a_log_line_not_an_error(
    seeded, caching_on, client, monkeypatch, caplog
):
    calls = []

    def broker_down(**kwargs):
        calls.append(kwargs)
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.refresh_report_snapshot, "apply_async", broker_down)
    report_snapshot.refresh()
    ReportSnapshot.objects.update(computed_at=timezone.now() - timedelta(days=1))
    api = client_for(seeded["admin"], token=True)
    with caplog.at_level(logging.WARNING, logger="breaches.report_snapshot"):
        assert api.get(SUMMARY).status_code == 200
        _html, context, _queries = _page(client, seeded["admin"])
    assert context["month_chart"]["bars"]
    assert len(calls) == 1, "one try per period, not one per request"
    assert any("Could not queue a refresh" in r.getMessage() for r in caplog.records)


def test_a_snapshot_of_another_payload_version_is_recomputed(seeded, caching_on):
    ReportSnapshot.objects.create(
        name=report_snapshot.STAFF, payload={"version": 0}, computed_at=timezone.now()
    )
    response = client_for(seeded["admin"], token=True).get(SUMMARY)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["incidents"]["total"] == Incident.objects.count()
    assert ReportSnapshot.objects.get(name=EVERYONE).payload["version"] == ScopeFigures.VERSION


def test_an_older_refresh_never_replaces_newer_figures(seeded):
    report_snapshot.refresh()
    later = timezone.now() + timedelta(minutes=5)
    ReportSnapshot.objects.update(computed_at=later, payload={"version": 1, "marker": True})
    report_snapshot.refresh()  # started before `later`: it must not win
    snapshot = ReportSnapshot.objects.get(name=EVERYONE)
    assert (snapshot.computed_at, snapshot.payload.get("marker")) == (later, True)
    ReportSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=5))
    report_snapshot.refresh()
    assert "marker" not in ReportSnapshot.objects.get(name=EVERYONE).payload


# --- Beat, task, command ------------------------------------------------------------------


def test_beat_refreshes_the_snapshot_every_minute():
    from config.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["report-snapshot"]
    assert entry["task"] == "breaches.tasks.refresh_report_snapshot"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60
    assert entry["options"]["expires"] <= entry["schedule"]


def test_the_task_writes_the_snapshot(seeded):
    computed_at = tasks.refresh_report_snapshot.apply().get()
    snapshot = ReportSnapshot.objects.get(name=report_snapshot.STAFF)
    assert snapshot.computed_at.isoformat() == computed_at
    assert snapshot.payload == ScopeFigures.compute_all(timezone.localdate())[EVERYONE].to_payload()


def test_the_command_writes_the_snapshot(seeded):
    out = StringIO()
    call_command("refresh_reports", stdout=out)
    snapshot = ReportSnapshot.objects.get(name=report_snapshot.STAFF)
    assert "computed at" in out.getvalue()
    figures = ScopeFigures.from_payload(snapshot.payload)
    assert figures.summary(seeded["today"])["incidents"]["total"] == Incident.objects.count()
    assert figures.summary(seeded["today"])["penalties"]["total"] == Penalty.objects.count()


def test_the_admin_shows_the_snapshot_read_only(seeded, client):
    snapshot = report_snapshot.refresh()
    client.force_login(seeded["admin"])
    listing = client.get("/admin/breaches/reportsnapshot/")
    assert listing.status_code == 200, listing.content[:500]
    row = ReportSnapshot.objects.get(name=EVERYONE)
    page = client.get(f"/admin/breaches/reportsnapshot/{row.pk}/change/")
    assert page.status_code == 200, page.content[:500]
    assert b'name="_save"' not in page.content
    assert snapshot.computed_at == row.computed_at
