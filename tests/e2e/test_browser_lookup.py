"""A picker with more rows than a page writes (config.widgets.LookupSelect), used in
headless Chromium as a person would: typing asks the API, a result is picked and
filtered by, a search that finds nothing says so, and an empty box brings the page's
rows back. Any console error or CSP violation fails it."""

import pytest

from tests.e2e.conftest import open_watched_page
from tests.e2e.test_browser_registers import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_supplier_is_found_by_typing_and_filtered_by(
    browser, live_server, monkeypatch, compliance_user
):
    from playwright.sync_api import expect

    from config import widgets
    from tests.factories import SupplierFactory

    monkeypatch.setattr(widgets, "LOOKUP_ROWS", 3)
    suppliers = {letter: SupplierFactory(name=f"Works {letter}") for letter in "ABCDEF"}
    page = open_watched_page(browser, live_server.url)
    login(page, "compliance")
    page.goto("/incidents/")
    select = page.locator("select[name=supplier]")
    box = select.locator("xpath=preceding-sibling::input[1]")
    expect(select.locator("option")).to_have_count(4)  # Any and the first three

    box.fill("works f")
    expect(select.locator("option", has_text="Works F")).to_have_count(1)
    page.select_option("select[name=supplier]", label="Works F")
    page.get_by_role("button", name="Filter").click()
    assert f"supplier={suppliers['F'].pk}" in page.url
    chosen = page.locator("select[name=supplier] option:checked")
    expect(chosen).to_have_text("Works F")

    box = page.locator("select[name=supplier]").locator("xpath=preceding-sibling::input[1]")
    box.fill("no such works")
    nothing = page.locator("select[name=supplier] option", has_text="Nothing matches")
    expect(nothing).to_be_disabled()
    expect(page.locator("select[name=supplier] option:checked")).to_have_text("Works F")

    box.fill("")
    box.dispatch_event("input")
    expect(page.locator("select[name=supplier] option")).to_have_text(
        ["Any", "Works A", "Works B", "Works C", "Works F"]
    )
    assert not page.problems, page.problems
