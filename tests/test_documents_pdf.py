"""The breach notice and the incident dossier (DESIGN section 13): the seed case's, read
back from the PDF (pypdf), in English and under Chinese; scope as the JSON detail; a
Chinese supplier name printed with the embedded font. The pages go through pdftoppm
(poppler-utils) into PNGs: docs/screenshots/ when DOCS_SCREENSHOTS=1."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone, translation

from breaches import services
from breaches.management.commands.load_demo import LEAK_DAYS_AGO, TIER1_NAME
from breaches.models import Incident
from config.formats import format_money
from suppliers import services as supplier_services
from suppliers.choices import Role
from suppliers.models import Supplier, User
from tests.apiclients import client_for
from tests.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
EVIDENCE_BYTES = b"Screenshot of the post with the MS11 bumper renders, 2025-01-22.\n"


def pdf_text(content: bytes) -> str:
    """The PDF's text with all white space removed (glyph runs come back spaced)."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def money(amount, language: str, currency: str = "CNY") -> str:
    """An amount as the document prints it in `language` (config.formats.format_money:
    CN¥1,000,000.00 in English, ¥1,000,000.00 in Chinese)."""
    return squeeze(format_money(amount, currency, language))


# What the documents say in each language, as the PDF's text reads it back (no spaces).
SAYS = {
    "en": {
        "page": "Page1of",
        "terms_cover": "whosetermscoveritssub-vendors",
        "liable_for_sub": "liableforitssub-vendor",
        "match": "MATCH",
        "answers_for_any": "answersforanyleakbyitssub-vendors",
    },
    "zh-hans": {
        "page": "第1页",
        "terms_cover": "其条款涵盖其分包商",
        "liable_for_sub": "须对其分包商的违约承担责任",
        "match": "首要嫌疑方",
        "answers_for_any": "须对其分包商的任何泄密承担责任",
    },
}


@pytest.fixture
def seed(compliance_user):
    call_command("load_demo", stdout=StringIO())
    leak = Incident.objects.get(occurred_on=timezone.localdate() - timedelta(days=LEAK_DAYS_AGO))
    lead = User.objects.get(username="compliance")
    evidence = services.incident_add_evidence(
        actor=lead,
        incident=leak,
        upload=SimpleUploadedFile("weibo-post.txt", EVIDENCE_BYTES, "text/plain"),
        description="The post on social media",
        visibility="shared",
    )
    internal = services.incident_add_evidence(
        actor=lead,
        incident=leak,
        upload=SimpleUploadedFile("legal-memo.txt", b"internal assessment\n", "text/plain"),
        description="Internal legal assessment",
    )
    return {
        "leak": leak,
        "penalty": leak.penalties.get(),
        "evidence": evidence,
        "internal": internal,
        "tier1": Supplier.objects.get(name=TIER1_NAME),
        "staff": lead,
    }


def _get_pdf(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"%PDF")
    return response.content


def _screenshots(content: bytes, name: str, tmp_path: Path) -> list[Path]:
    """The PDF's pages as PNGs (pdftoppm); copied to docs/screenshots/ on request."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return []
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(content)
    subprocess.run([pdftoppm, "-r", "80", "-png", str(source), str(tmp_path / name)], check=True)
    pages = sorted(tmp_path.glob(f"{name}-*.png"))
    assert pages, "pdftoppm made no page"
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        for page in pages:
            shutil.copy(page, SCREENSHOTS / f"documents-{page.name}")
    return pages


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_seed_dossier_reads_as_legal_wants(seed, tmp_path, language):
    leak, penalty = seed["leak"], seed["penalty"]
    seed["staff"].language = language  # the viewer's language, kept on the account
    seed["staff"].save(update_fields=["language"])
    client = client_for(seed["staff"])
    with translation.override(language):
        content = _get_pdf(client, f"/api/v1/incidents/{leak.pk}/dossier.pdf")
    text = pdf_text(content)
    for expected in (
        leak.reference,
        TIER1_NAME,
        "Hebei Precision Mould Studio",
        leak.nda.reference,
        money(penalty.amount, language),
        seed["evidence"].sha256,
        seed["internal"].sha256,  # staff get the internal file too
        "MS11-BUMPER-FR",
        SAYS[language]["page"],
    ):
        assert squeeze(expected) in text, (expected, text[:2000])
    # Why the tier-1 is liable: the sub-vendor had no NDA, the tier-1's covers sub-vendors.
    assert SAYS[language]["terms_cover"] in text
    assert SAYS[language]["liable_for_sub"] in text
    # Suspects and the fingerprint are the buyer's.
    assert leak.leak_fingerprint
    assert leak.leak_fingerprint in text
    assert SAYS[language]["match"] in text
    plan = leak.rectification_plans.get()
    for action in plan.actions.all():
        assert squeeze(action.description)[:30] in text
    for payment in penalty.payments.all():
        assert money(payment.amount, language) in text
    if language == "en":
        _screenshots(content, "dossier", tmp_path)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_seed_notice_names_the_clause_amount_and_deadlines(seed, tmp_path, language):
    penalty = seed["penalty"]
    plan = seed["leak"].rectification_plans.get()
    seed["staff"].language = language  # the viewer's language, kept on the account
    seed["staff"].save(update_fields=["language"])
    client = client_for(seed["staff"])
    with translation.override(language):
        content = _get_pdf(client, f"/api/v1/penalties/{penalty.pk}/notice.pdf")
    text = pdf_text(content)
    for expected in (
        TIER1_NAME,
        seed["leak"].reference,
        seed["leak"].nda.reference,
        money(penalty.amount, language),
        "Hebei Precision Mould Studio",
        SAYS[language]["page"],
    ):
        assert squeeze(expected) in text, (expected, text[:2000])
    with translation.override(language):
        from django.utils.formats import date_format

        assert squeeze(date_format(penalty.due_on, "DATE_FORMAT")) in text
        assert squeeze(date_format(plan.due_on, "DATE_FORMAT")) in text
    assert SAYS[language]["answers_for_any"] in text
    if language == "en":
        _screenshots(content, "notice", tmp_path)


def test_pdftoppm_turns_the_dossier_into_pages(seed, tmp_path):
    if shutil.which("pdftoppm") is None and (
        os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES") == "1"
    ):
        pytest.fail("pdftoppm (poppler-utils) is missing in CI: .ci/run installs it")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    content = _get_pdf(
        client_for(seed["staff"]), f"/api/v1/incidents/{seed['leak'].pk}/dossier.pdf"
    )
    pages = _screenshots(content, "check", tmp_path)
    assert len(pages) == len(pypdf.PdfReader(io.BytesIO(content)).pages) >= 2


def test_supplier_user_gets_its_own_without_internal_files_or_fingerprints(seed):
    leak, penalty = seed["leak"], seed["penalty"]
    bmt = client_for(User.objects.get(supplier=seed["tier1"], role=Role.SUPPLIER))
    text = pdf_text(_get_pdf(bmt, f"/api/v1/incidents/{leak.pk}/dossier.pdf"))
    assert seed["evidence"].sha256 in text
    assert seed["internal"].sha256 not in text
    assert "legal-memo" not in text
    assert leak.leak_fingerprint not in text
    assert "Suspects" not in text
    for disclosure in leak.assets.first().disclosures.all():
        assert disclosure.fingerprint not in text
        assert disclosure.fingerprint[:12] not in text
    notice = pdf_text(_get_pdf(bmt, f"/api/v1/penalties/{penalty.pk}/notice.pdf"))
    assert "CN¥1,000,000.00" in notice  # the supplier user reads English


def test_outside_the_scope_is_a_404(seed):
    leak, penalty = seed["leak"], seed["penalty"]
    stranger = UserFactory(role=Role.SUPPLIER, supplier=SupplierFactory(name="Unrelated Co"))
    client = client_for(stranger)
    for url in (
        f"/api/v1/incidents/{leak.pk}/dossier.pdf",
        f"/api/v1/penalties/{penalty.pk}/notice.pdf",
        "/api/v1/incidents/999999/dossier.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
    # The leaking sub-vendor sees the incident, but the penalty is its parent's.
    hebei = client_for(User.objects.get(supplier__name="Hebei Precision Mould Studio"))
    assert hebei.get(f"/api/v1/penalties/{penalty.pk}/notice.pdf").status_code == 404
    dossier = pdf_text(_get_pdf(hebei, f"/api/v1/incidents/{leak.pk}/dossier.pdf"))
    assert leak.nda.reference not in dossier, "a sub-vendor does not see its parent's NDA"
    assert "1,000,000.00" not in dossier, "nor its parent's penalty"
    assert client_for(None).get(f"/api/v1/incidents/{leak.pk}/dossier.pdf").status_code == 401


def test_a_chinese_supplier_name_prints(seed, tmp_path):
    admin = User.objects.get(username="admin")
    supplier_services.supplier_update(
        actor=admin, supplier=seed["tier1"], name="北京模塑科技有限公司"
    )
    hebei = Supplier.objects.get(name="Hebei Precision Mould Studio")
    supplier_services.supplier_update(actor=admin, supplier=hebei, name="河北精密模具工作室")
    client = client_for(seed["staff"])
    with translation.override("zh-hans"):
        notice = _get_pdf(client, f"/api/v1/penalties/{seed['penalty'].pk}/notice.pdf")
        dossier = _get_pdf(client, f"/api/v1/incidents/{seed['leak'].pk}/dossier.pdf")
    for content in (notice, dossier):
        text = pdf_text(content)
        assert "北京模塑科技有限公司" in text
        assert "河北精密模具工作室" in text
    _screenshots(notice, "notice-zh", tmp_path)
    _screenshots(dossier, "dossier-zh", tmp_path)


def test_pages_link_the_documents(client, seed):
    client.force_login(seed["staff"])
    leak, penalty = seed["leak"], seed["penalty"]
    incident_page = client.get(f"/incidents/{leak.pk}/").content.decode()
    assert f'href="/api/v1/incidents/{leak.pk}/dossier.pdf"' in incident_page
    penalty_page = client.get(f"/penalties/{penalty.pk}/").content.decode()
    assert f'href="/api/v1/penalties/{penalty.pk}/notice.pdf"' in penalty_page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_dossier_lists_the_incidents_traces_with_their_suspect(
    seed, settings, tmp_path, language
):
    """DESIGN 13: "suspects and traces". A real trace of the prime suspect's marked copy
    (JPEG-compressed) is in the staff dossier: the leaked file's SHA-256, the verdict and
    the recipient it names; a supplier user's dossier has no trace."""
    import cv2

    from bench import tracing_images
    from suppliers.models import Disclosure
    from tracing import services as tracing

    settings.MEDIA_ROOT = tmp_path
    leak, staff = seed["leak"], seed["staff"]
    suspect = Disclosure.objects.select_related("supplier", "asset").get(
        fingerprint=leak.leak_fingerprint
    )
    render = tracing_images.make_image(0, height=400, width=600)
    master = tracing.master_file_add(
        actor=staff,
        asset=suspect.asset,
        upload=SimpleUploadedFile("front.png", cv2.imencode(".png", render)[1].tobytes()),
    )
    copy = tracing.copy_make(copy_id=master.copies.get(disclosure=suspect).pk)
    marked = cv2.imdecode(np.frombuffer(copy.file.read(), np.uint8), cv2.IMREAD_COLOR)
    leaked = cv2.imencode(".jpg", marked, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()
    trace = tracing.trace_create(
        actor=staff, incident=leak, upload=SimpleUploadedFile("weibo-bumper.jpg", leaked)
    )
    trace = tracing.trace_run(trace_id=trace.pk)
    assert trace.verdict == "match", (trace.verdict, trace.detail)

    staff.language = language
    staff.save(update_fields=["language"])
    with translation.override(language):
        content = _get_pdf(client_for(staff), f"/api/v1/incidents/{leak.pk}/dossier.pdf")
    _screenshots(
        content, {"en": "dossier-traced", "zh-hans": "dossier-traced-zh"}[language], tmp_path
    )
    text = pdf_text(content)
    traced = text[text.index("weibo-bumper.jpg") :]
    assert trace.sha256 in traced
    assert squeeze(suspect.supplier.name) in traced
    assert SAYS[language]["match"] in traced
    assert {"en": "Match", "zh-hans": "匹配"}[language] in traced

    bmt = client_for(User.objects.get(supplier=seed["tier1"], role=Role.SUPPLIER))
    supplier_text = pdf_text(_get_pdf(bmt, f"/api/v1/incidents/{leak.pk}/dossier.pdf"))
    assert "weibo-bumper" not in supplier_text
    assert trace.sha256 not in supplier_text
