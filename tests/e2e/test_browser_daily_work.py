"""Each role's daily work on the breaches side, in a real headless Chromium: compliance
corrects an incident fact and sees it in the change history, edits and removes actions,
and finds the overdue penalty on the dashboard and the deadlines page; the supplier user
sees its to-do list, attaches a file to its action and acknowledges its penalty once.
Fails on any console error or Content-Security-Policy violation. Screenshots of the new
and changed pages at desktop and phone width go to docs/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import DESKTOP, PASSWORD, shoot
from tests.ui_cases import approved_plan_with_action, confirmed_incident, other_world_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.problems = []

    def on_console(msg):
        # The browser's own request for /favicon.ico (no page asks for it) is not the page's.
        if msg.location.get("url", "").endswith("/favicon.ico"):
            return
        if msg.type == "error" or "Content Security Policy" in msg.text:
            page.problems.append(f"console {msg.type}: {msg.text} at {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda r: page.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    yield page
    context.close()


def login(page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def logout(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def flash(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".flash").first).to_contain_text(text)


@pytest.fixture
def world(
    compliance_user,
    supplier_user,
    subvendor,
    tier1_nda,
    bumper_asset,
    bumper_disclosure,
    other_supplier,
):
    """The seed incident confirmed: its penalty issued, 40 days past due with 600,000 CNY
    outstanding; its plan approved with one action. Another supplier's incident with a
    plan still drafted, holding an action staff will remove."""
    from breaches import services
    from breaches.models import Penalty

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
    plan, action = approved_plan_with_action(compliance_user, supplier_user, seed)
    other = other_world_incident(compliance_user, other_supplier)
    draft = other.rectification_plans.get()
    services.action_create(
        actor=compliance_user,
        plan=draft,
        description="Duplicate line entered by mistake",
        due_on=draft.due_on,
    )
    return {"seed": seed, "penalty": penalty, "plan": plan, "action": action, "draft": draft}


def test_compliance_daily_work(page, world):
    from playwright.sync_api import expect

    seed, penalty = world["seed"], world["penalty"]
    login(page, "compliance")
    overdue = page.locator("section", has=page.get_by_role("heading", name="Overdue penalties"))
    expect(overdue).to_contain_text(seed.reference)
    expect(overdue).to_contain_text("CN¥600,000.00")
    shoot(page, "dashboard-compliance")

    # Correct a fact of the incident; the change shows in its history.
    page.goto(f"/incidents/{seed.pk}/")
    page.get_by_role("link", name="Correct the facts").click()
    expect(page.get_by_role("heading", name=re.compile("Correct the facts"))).to_be_visible()
    shoot(page, "incident-edit")
    page.select_option("#id_severity", label="High")
    page.get_by_role("button", name="Save the corrections").click()
    flash(page, "Incident updated.")
    page.locator("#change-history summary").click()
    row = page.locator("#change-history tr[data-field='severity']")
    expect(row).to_contain_text("Critical")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("compliance")
    shoot(page, "incident-detail-history")

    # Edit an action of the approved plan, remove one of a drafted plan.
    page.goto(f"/plans/{world['plan'].pk}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("#id_description", "Watermark every draft and log its recipient")
    page.get_by_role("button", name="Save the action").click()
    flash(page, "Action saved.")
    expect(page.locator("#actions-h + .progress-row + .table-wrap")).to_contain_text(
        "log its recipient"
    )
    page.goto(f"/plans/{world['draft'].pk}/")
    page.locator("summary", has_text="Remove").click()
    page.get_by_role("button", name="Remove the action").click()
    flash(page, "Action removed from the plan.")
    expect(page.get_by_text("Duplicate line entered by mistake")).to_have_count(1)  # timeline

    # The overdue penalty on the penalty list, its page and the deadlines page.
    page.goto("/penalties/?overdue=true")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Overdue 40 d")
    shoot(page, "penalty-list")
    page.goto(f"/penalties/{penalty.pk}/")
    expect(page.locator("#penalty-overdue")).to_have_text("Overdue by 40 days")
    shoot(page, "penalty-detail")
    page.get_by_role("link", name="Deadlines", exact=True).click()
    overdue = page.locator("#deadlines-overdue")
    expect(overdue.locator("tr[data-kind='penalty']")).to_contain_text("CN¥600,000.00")
    expect(overdue.locator("tr[data-kind='penalty']")).to_contain_text("40 days late")
    shoot(page, "deadlines")
    assert page.problems == [], page.problems


def test_supplier_daily_work(page, world, tmp_path):
    from playwright.sync_api import expect

    seed, penalty = world["seed"], world["penalty"]
    login(page, "bmt-user")
    todo = page.locator("#todo")
    expect(todo).to_contain_text(f"Pay CN¥600,000.00 for {seed.reference}")
    expect(todo).to_contain_text(f"Acknowledge the penalty for {seed.reference}")
    shoot(page, "dashboard-supplier")

    # Attach a file to its action.
    page.goto(f"/plans/{world['plan'].pk}/")
    page.locator("summary", has_text="Attach a file").click()
    report = tmp_path / "training-attendance.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    page.locator("input[type=file]").set_input_files(str(report))
    page.get_by_role("button", name="Attach the file").click()
    flash(page, "Evidence training-attendance.pdf attached to the action")
    expect(page.locator(".action-files")).to_contain_text("training-attendance.pdf")
    shoot(page, "plan-detail-action-evidence")

    # Acknowledge the penalty, once.
    page.goto(f"/penalties/{penalty.pk}/")
    page.get_by_role("button", name="Acknowledge the penalty").click()
    flash(page, "Penalty acknowledged.")
    expect(page.locator("#penalty-acknowledged")).to_contain_text("bmt-user")
    expect(page.get_by_role("button", name="Acknowledge the penalty")).to_have_count(0)
    shoot(page, "penalty-detail-supplier")
    page.goto("/")
    expect(page.locator("#todo")).not_to_contain_text("Acknowledge the penalty")
    page.get_by_role("link", name="Deadlines", exact=True).click()
    expect(page.locator("#deadlines-overdue")).to_contain_text(seed.reference)
    shoot(page, "deadlines-supplier")
    logout(page)
    assert page.problems == [], page.problems
