"""Leak tracing in a real headless Chromium: staff trace a leaked copy from the incident
page, watch it pending and see the page refresh itself with the match (the progress
script polls the API, under the page's CSP); the supplier user downloads its copy from
its supplier page and sees no trace, code or master. Screenshots of both pages at
desktop and phone widths go to docs/screenshots/."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bench import tracing_images as images
from tests.e2e.test_browser_seed_walk import login
from tests.factories import DisclosureFactory, IncidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def context_for(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    contexts = []

    def make(width: int):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, base_url=live_server.url
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console",
            lambda msg: (
                page.csp_violations.append(msg.text)
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def test_trace_from_the_incident_page_and_download_a_copy(
    context_for, compliance_user, supplier_user, tier1, subvendor, tier1_nda, bumper_asset
):
    from playwright.sync_api import expect

    from tracing import services
    from tracing.models import CopyDownload, DisclosureCopy, Trace

    own = DisclosureFactory(
        asset=bumper_asset, supplier=tier1, nda=tier1_nda, disclosed_on=date(2024, 11, 5)
    )
    DisclosureFactory(
        asset=bumper_asset, supplier=subvendor, nda=tier1_nda, disclosed_on=date(2024, 11, 6)
    )
    master_image = images.make_image(0, height=500, width=750)
    master = services.master_file_add(
        actor=compliance_user,
        asset=bumper_asset,
        upload=SimpleUploadedFile(
            "ms11-front.png", cv2.imencode(".png", master_image)[1].tobytes()
        ),
    )
    for copy in DisclosureCopy.objects.filter(master=master):
        services.copy_make(copy_id=copy.pk)
    copy = DisclosureCopy.objects.get(disclosure=own)
    marked = cv2.imdecode(np.frombuffer(copy.file.read(), np.uint8), cv2.IMREAD_COLOR)
    leak = images.jpeg(images.rescale(marked, 0.7), 60)
    leak_path = Path(master.file.path).parent / "leak.jpg"
    cv2.imwrite(str(leak_path), leak)
    incident = IncidentFactory(
        title="MS11 bumper renders on social media",
        source_supplier=subvendor,
        responsible_supplier=tier1,
        nda=tier1_nda,
        status="investigating",
    )
    incident.assets.add(bumper_asset)

    page = context_for(1280)
    login(page, "compliance")
    page.goto(f"/incidents/{incident.pk}/")
    panel = page.locator("#traces")
    panel.locator("#trace-file").set_input_files(str(leak_path))
    panel.get_by_role("button", name="Trace").click()
    expect(page.locator(".flash")).to_contain_text("Tracing started")
    expect(panel).to_contain_text("Tracing...")
    services.trace_run(trace_id=Trace.objects.get().pk)  # the worker's part
    expect(panel.locator(".badge-match")).to_have_text("Match", timeout=30_000)
    expect(panel).to_contain_text(tier1.name)
    expect(page.locator(".timeline")).to_contain_text("prime suspect")
    panel.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tracing-incident-desktop.png"), full_page=True)
    phone = context_for(390)
    login(phone, "compliance")
    phone.goto(f"/incidents/{incident.pk}/#traces")
    phone.screenshot(path=str(SHOTS / "tracing-incident-phone.png"), full_page=True)
    assert page.csp_violations == [], page.csp_violations

    supplier = context_for(1280)
    login(supplier, "bmt-user")
    supplier.goto(f"/incidents/{incident.pk}/")
    expect(supplier.locator("body")).not_to_contain_text("Trace a leaked copy")
    expect(supplier.locator(".timeline")).not_to_contain_text("prime suspect")
    supplier.goto(f"/suppliers/{tier1.pk}/")
    copies = supplier.locator(
        "section", has=supplier.get_by_role("heading", name="Recipients' copies")
    )
    expect(copies).to_contain_text("ms11-front.png")
    with supplier.expect_download() as download:
        copies.get_by_role("link", name="ms11-front.png").click()
    assert download.value.suggested_filename.startswith(f"disclosure-{own.pk}-copy-")
    assert CopyDownload.objects.get().user == supplier_user
    supplier.reload()
    expect(copies).to_contain_text("bmt-user")
    html = supplier.content()
    assert own.fingerprint not in html
    assert "Master files" not in html
    supplier.screenshot(path=str(SHOTS / "tracing-supplier-copies-desktop.png"), full_page=True)
    supplier_phone = context_for(390)
    login(supplier_phone, "bmt-user")
    supplier_phone.goto(f"/suppliers/{tier1.pk}/")
    supplier_phone.screenshot(path=str(SHOTS / "tracing-supplier-copies-phone.png"), full_page=True)
    assert supplier.csp_violations == [], supplier.csp_violations
