"""Notifications in a real headless Chromium: compliance issues a penalty; the supplier
user signs in, sees the bell's count and the notification, opens it (it lands on the
penalty), and the count goes down. With SCREENSHOTS=1 it also saves the bell and the
list at desktop and phone widths to docs/screenshots/."""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import PASSWORD
from tests.ui_cases import confirmed_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def eager_tasks():
    """The tasks queued on commit run at once, in the process that commits (as a worker
    would, a moment later)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda msg: (
            page.problems.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
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


def shoot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_the_supplier_sees_its_new_penalty_and_the_count_goes_down(
    page, eager_tasks, compliance_user, supplier_user, subvendor, tier1_nda, bumper_asset
):
    from playwright.sync_api import expect

    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = incident.penalties.get()

    login(page, "compliance")
    expect(page.locator(".bell-count")).to_have_text("0")  # staff heard nothing of it
    page.goto(f"/penalties/{penalty.pk}/")
    page.get_by_role("button", name="Issue the penalty", exact=True).click()
    expect(page.locator(".flash").first).to_contain_text("Penalty is now issued.")
    page.get_by_role("button", name="Log out").click()

    login(page, "bmt-user")
    bell = page.locator("a.bell")
    expect(bell.locator(".bell-count")).to_have_text("2")  # confirmed, then issued
    shoot(page, "notifications-bell-desktop")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    issued = page.get_by_role("button", name="a penalty of CN¥1,000,000.00 was issued")
    expect(issued).to_be_visible()
    expect(page.locator(".notification-list li.unread")).to_have_count(2)
    shoot(page, "notifications-list-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "notifications-list-phone")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the list scrolls sideways at 390px"
    page.set_viewport_size({"width": 1280, "height": 800})

    issued.click()
    expect(page).to_have_url(re.compile(f"/penalties/{penalty.pk}/$"))
    expect(page.locator("a.bell .bell-count")).to_have_text("1")
    page.goto("/notifications/")
    expect(page.locator(".notification-list li.unread")).to_have_count(1)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("a.bell .bell-count")).to_have_text("0")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    shoot(page, "notifications-bell-phone")

    # Mail per kind: the supplier's kinds offered, all on until turned off.
    page.goto("/notifications/settings/")
    issued_box = page.get_by_label("Penalty issued")
    expect(issued_box).to_be_checked()
    shoot(page, "notifications-settings-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "notifications-settings-desktop")
    issued_box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash").first).to_contain_text("saved")
    expect(page.get_by_label("Penalty issued")).not_to_be_checked()
    assert page.problems == [], page.problems
