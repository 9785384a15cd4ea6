"""Exports and imports in a real headless Chromium: the Export button of a filtered list
downloads the filtered CSV; the import page checks a file and lists its bad rows.
Screenshots (desktop 1280, phone 390) go to docs/screenshots/ with DOCS_SCREENSHOTS=1."""

import csv
import io
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import PASSWORD
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def context(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _page(context):
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return page


def _login(page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _shots(page, name: str) -> None:
    if os.environ.get("DOCS_SCREENSHOTS") != "1":
        return
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_export_button_downloads_the_filtered_list(context, compliance_user, tier1):
    IncidentFactory(title="Reported leak", status="reported", source_supplier=tier1)
    IncidentFactory(title="Dismissed leak", status="dismissed", source_supplier=tier1)
    page = _page(context)
    _login(page, "compliance")
    page.goto("/incidents/?status=reported")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("incidents-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert [row["title"] for row in rows] == ["Reported leak"]
    _shots(page, "documents-export")
    assert page.csp_violations == []


def test_import_page_lists_bad_rows(context, compliance_user, tmp_path):
    from playwright.sync_api import expect

    from suppliers.models import Supplier

    path = tmp_path / "tree.csv"
    path.write_text(
        "name,country,parent\n"
        "Beijing Molding Technology Co. Ltd,CN,\n"
        "Hebei Precision Mould Studio,CN,Beijing Molding Technology Co. Ltd\n"
        "Atlantis Tooling,ZZ,\n"
        "Orphan Workshop,CN,Nobody Ltd\n"
    )
    page = _page(context)
    _login(page, "compliance")
    page.goto("/suppliers/")
    page.get_by_role("link", name="Import").click()
    page.select_option("#id_kind", "suppliers")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Check (dry run)").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("2 of 4 rows are bad")
    expect(report).to_contain_text("Nobody Ltd")
    _shots(page, "documents-import")
    assert not Supplier.objects.exists()
    assert page.csp_violations == []
