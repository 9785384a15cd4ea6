"""The seed case walked in a real headless Chromium, as people would: staff report the
leak from the sub-vendor (the tier-1 comes out liable), investigate, confirm, issue the
penalty and record a payment; the supplier user sees only its world, drafts and submits
its plan; staff approve it; the supplier marks its action done."""

import re
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import PASSWORD
from tests.ui_cases import other_world_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
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


def logout(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def click_and_expect_flash(page, button: str, text: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".flash").first).to_contain_text(text)


def test_seed_case_in_the_browser(
    page,
    compliance_user,
    supplier_user,
    other_supplier,
    subvendor,
    tier1_nda,
    bumper_asset,
    bumper_disclosure,
):
    from playwright.sync_api import expect

    from breaches.models import Incident

    other = other_world_incident(compliance_user, other_supplier)

    # Staff report the leak from the sub-vendor and see the tier-1 resolved as liable.
    login(page, "compliance")
    page.get_by_role("link", name="Report incident").click()
    page.fill("#id_title", "MS11 bumper renders on social media")
    page.fill("#id_description", "Front and rear bumper renders of the MS11 on Weibo.")
    page.select_option("#id_source_supplier", label="Hebei Precision Mould Studio")
    page.select_option("#id_assets", label="MS11-BUMPER-FR")
    page.fill("#id_occurred_on", "2025-01-22")
    page.fill("#id_discovered_on", "2025-01-22")
    page.select_option("#id_channel", "social_media")
    page.select_option("#id_severity", "critical")
    expect(page.locator("#liability-preview")).to_contain_text(
        "Liable if saved: Beijing Molding Technology Co. Ltd under NDA-XM-2024-017"
    )
    page.get_by_role("button", name="Report incident").click()
    expect(page.locator(".flash")).to_contain_text("Liable: Beijing Molding Technology Co. Ltd")
    expect(page.locator("#source-supplier")).to_contain_text("Hebei Precision Mould Studio")
    expect(page.locator("#responsible-supplier")).to_contain_text(
        "Beijing Molding Technology Co. Ltd"
    )
    expect(page.locator("#incident-nda")).to_have_text("NDA-XM-2024-017")
    incident = Incident.objects.exclude(pk=other.pk).get()
    incident_url = f"/incidents/{incident.pk}/"

    # Investigate, then confirm: a proposed penalty and a requested plan appear.
    click_and_expect_flash(page, "Start investigating", "is under investigation")
    expect(page.locator(".page-head .badge").first).to_have_text("Investigating")
    click_and_expect_flash(page, "Confirm breach", "A penalty was proposed")
    expect(page.locator(".page-head .badge").first).to_have_text("Confirmed")
    penalty_panel = page.locator("section", has=page.get_by_role("heading", name="Penalty"))
    expect(penalty_panel).to_contain_text("CN¥1,000,000.00")
    expect(penalty_panel).to_contain_text("Proposed")
    plan_panel = page.locator("section", has=page.get_by_role("heading", name="Rectification plan"))
    expect(plan_panel).to_contain_text("Requested")
    expect(page.locator(".timeline")).to_contain_text("investigating → confirmed")

    # Issue the penalty and record a first payment.
    penalty_panel.get_by_role("link", name="CN¥1,000,000.00").click()
    expect(page.get_by_role("heading", name=re.compile("Penalty for"))).to_be_visible()
    click_and_expect_flash(page, "Issue the penalty", "Penalty is now issued.")
    page.fill("#id_amount", "400000.00")
    page.fill("#id_paid_on", "2025-03-01")
    page.fill("#id_reference", "CNAPS-0042")
    click_and_expect_flash(page, "Record payment", "Outstanding: CN¥600,000.00")
    expect(page.locator("#penalty-outstanding")).to_have_text("CN¥600,000.00")
    expect(page.locator("#penalty-paid")).to_have_text("CN¥400,000.00")
    logout(page)

    # The supplier user sees its own world only.
    login(page, "bmt-user")
    expect(page.locator("#open-incidents")).to_have_text("1")
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect(page.locator("table")).to_contain_text(incident.reference)
    expect(page.locator("main")).not_to_contain_text(other.reference)
    response = page.goto(f"/incidents/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto(incident_url)
    expect(page.locator("#responsible-supplier")).to_contain_text("Beijing Molding")

    # It drafts the plan: summary, one action, then submits.
    page.get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name=incident.reference).click()
    expect(page.locator(".page-head .badge").first).to_have_text("Requested")
    page.fill("#id_summary", "Upgrade security over drafts, including every sub-vendor.")
    click_and_expect_flash(page, "Save summary", "Plan summary saved.")
    due = (date.today() + timedelta(days=20)).isoformat()
    page.fill("#id_description", "Watermark every draft sent to sub-vendors")
    page.fill("#id_owner", "BMT security office")
    page.fill("#id_due_on", due)
    click_and_expect_flash(page, "Add action", "Action added to the plan.")
    expect(page.locator("#progress-text")).to_have_text("0 of 1 actions done (0%)")
    click_and_expect_flash(page, "Submit plan", "Plan submitted for review.")
    expect(page.locator(".page-head .badge").first).to_have_text("Submitted")
    expect(page.locator("#plan-summary")).to_contain_text("Upgrade security over drafts")
    plan_url = page.url
    logout(page)

    # Staff approve.
    login(page, "compliance")
    page.goto(plan_url)
    click_and_expect_flash(page, "Approve", "Plan approved.")
    expect(page.locator(".page-head .badge").first).to_have_text("Approved")
    logout(page)

    # The supplier marks the action done with an evidence note.
    login(page, "bmt-user")
    page.goto(plan_url)
    page.get_by_label("Evidence note").fill("Watermarking enabled in the PLM export, log attached.")
    click_and_expect_flash(page, "Mark done", "Action marked done.")
    expect(page.locator("#progress-text")).to_have_text("1 of 1 actions done (100%)")
    expect(page.locator("table")).to_contain_text("Done")
    expect(page.get_by_role("button", name="Mark completed")).to_be_visible()

    assert page.csp_violations == [], page.csp_violations


def test_phone_width_collapses_the_navigation(page, compliance_user):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 375, "height": 812})
    login(page, "compliance")
    nav_link = page.locator(".site-nav").get_by_role("link", name="Penalties")
    expect(nav_link).to_be_hidden()
    page.get_by_text("Menu").click()
    expect(nav_link).to_be_visible()
    nav_link.click()
    expect(page.get_by_role("heading", name="Penalties")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways at 375px"
    assert page.csp_violations == [], page.csp_violations
