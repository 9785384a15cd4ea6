"""Leak tracing services: master files (the evidence upload rules), the recipients'
copies, the decision rule, and a trace run in-process from a marked, attacked copy back
to its disclosure (the prime suspect on the incident's timeline)."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bench import tracing_images as images
from breaches.choices import EventKind
from breaches.selectors import events_visible_to
from notifications.choices import EventType
from notifications.models import Event as NotificationEvent
from tests.factories import DisclosureFactory, IncidentFactory, SupplierFactory
from tracing import decision, services, watermark
from tracing.choices import CopyStatus, TraceStatus, Verdict
from tracing.models import DisclosureCopy, MasterFile, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


@pytest.fixture(scope="module")
def render():
    return images.make_image(0, height=400, width=600)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/octet-stream")


# --- Master files -----------------------------------------------------------------------


def test_a_master_image_is_stored_with_its_facts_and_queues_a_copy_per_disclosure(
    compliance_user, bumper_asset, bumper_disclosure, render, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        master = services.master_file_add(
            actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
        )
    assert (master.content_type, master.width, master.height) == ("image/png", 600, 400)
    assert master.filename == "front.png"
    assert len(master.sha256) == 64
    copy = DisclosureCopy.objects.get(master=master)
    assert (copy.disclosure, copy.status) == (bumper_disclosure, CopyStatus.PENDING)
    assert len(callbacks) == 1  # one make_copy task, after commit


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.png", b"", "empty"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not accepted"),
        ("notes.txt", b"just some text", "not accepted"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "cannot be read"),
        ("broken.pdf", b"%PDF-1.4\n garbage", "cannot be read"),
    ],
)
def test_master_uploads_that_break_the_rules_are_refused_and_nothing_is_stored(
    compliance_user, bumper_asset, name, content, says
):
    with pytest.raises(ValidationError) as refused:
        services.master_file_add(
            actor=compliance_user, asset=bumper_asset, upload=upload(name, content)
        )
    assert says in str(refused.value.message_dict["file"])
    assert not MasterFile.objects.exists()


def test_only_compliance_staff_add_masters(auditor_user, supplier_user, bumper_asset, render):
    for actor in (auditor_user, supplier_user):
        with pytest.raises(PermissionDenied):
            services.master_file_add(
                actor=actor, asset=bumper_asset, upload=upload("a.png", png(render))
            )
    assert not MasterFile.objects.exists()


def test_a_disclosure_made_after_the_master_gets_its_copy(
    compliance_user, bumper_asset, render, tier1, tier1_nda, django_capture_on_commit_callbacks
):
    from suppliers.services import disclosure_create

    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    with django_capture_on_commit_callbacks() as callbacks:
        disclosure = disclosure_create(
            actor=compliance_user,
            asset=bumper_asset,
            supplier=tier1,
            nda=tier1_nda,
            disclosed_on=date(2024, 11, 5),
        )
    assert len(callbacks) == 1  # queue_disclosure_copies, by name
    ids = services.copies_queue_for_disclosure(disclosure=disclosure)
    assert DisclosureCopy.objects.get(pk__in=ids).master == master
    assert services.copies_queue_for_disclosure(disclosure=disclosure) == ids  # once per pair


# --- Copies ------------------------------------------------------------------------------


def test_an_image_copy_carries_the_disclosure_code_invisibly(
    compliance_user, bumper_asset, bumper_disclosure, render
):
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    copy = services.copy_make(copy_id=DisclosureCopy.objects.get(master=master).pk)
    assert copy.status == CopyStatus.READY, copy.error
    marked = cv2.imdecode(np.frombuffer(copy.file.read(), np.uint8), cv2.IMREAD_COLOR)
    mse = np.mean((marked.astype(float) - render) ** 2)
    assert 10 * np.log10(255**2 / mse) >= 38
    registration = watermark.register(watermark.features(marked), watermark.features(render))
    reading = watermark.read(marked, render, registration, services.tracing_key())
    assert np.array_equal(reading.bits, services.disclosure_code(bumper_disclosure))
    assert services.copy_make(copy_id=copy.pk).sha256 == copy.sha256  # twice: left alone


def test_a_pdf_copy_is_stamped_with_the_recipient_on_every_page(
    compliance_user, bumper_asset, bumper_disclosure
):
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("drafts.pdf", buffer.getvalue())
    )
    assert master.pages == 2
    copy = services.copy_make(copy_id=DisclosureCopy.objects.get(master=master).pk)
    assert copy.status == CopyStatus.READY, copy.error
    pages = PdfReader(copy.file.open("rb")).pages
    for page in pages:
        text = page.extract_text()
        assert bumper_disclosure.supplier.name in text
        assert f"D-{bumper_disclosure.pk}" in text


def test_a_pdf_copy_for_a_supplier_named_in_chinese_carries_its_name(
    compliance_user, bumper_asset, bumper_disclosure
):
    import io

    from pypdf import PdfReader, PdfWriter

    supplier = bumper_disclosure.supplier
    supplier.name = "河北精密模具工作室"
    supplier.save(update_fields=["name"])
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("drafts.pdf", buffer.getvalue())
    )
    copy = services.copy_make(copy_id=DisclosureCopy.objects.get(master=master).pk)
    assert copy.status == CopyStatus.READY, copy.error
    text = PdfReader(copy.file.open("rb")).pages[0].extract_text()
    assert "河北精密模具工作室" in text
    assert f"confidential - issued to 河北精密模具工作室 - D-{bumper_disclosure.pk}" in text


def test_a_traces_detail_is_kept_in_english_and_shown_in_the_viewers_language():
    from django.utils import translation

    kept = services.REGISTERED % {"file": "front.png", "points": 120, "covered": "87%"}
    assert kept == "Registered on master front.png (120 matching points, 87% covered)."
    with translation.override("zh-hans"):
        shown = services.detail_in_words(kept)
        assert shown.startswith("已与原件 front.png 配准")
        assert "120 个匹配点" in shown
        assert "87%" in shown
        assert services.detail_in_words(services.NO_DISCLOSURES) == "该保密资料没有资料披露记录。"
        assert services.detail_in_words("Something else.") == "Something else."
    with translation.override("en"):
        assert services.detail_in_words(kept) == kept


def test_a_copy_whose_master_is_unreadable_fails_with_its_reason(
    compliance_user, bumper_asset, bumper_disclosure, render
):
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    master.file.storage.delete(master.file.name)
    copy = services.copy_make(copy_id=DisclosureCopy.objects.get(master=master).pk)
    assert copy.status == CopyStatus.FAILED
    assert copy.error


def test_the_code_is_keyed_and_reveals_nothing_of_the_fingerprint(settings):
    fingerprint = "ab" * 16
    first = watermark.derive_code(fingerprint, b"key-one")
    assert first.shape == (watermark.CODE_BITS,)
    assert not np.array_equal(first, watermark.derive_code(fingerprint, b"key-two"))
    assert fingerprint not in watermark.code_hex(first)


# --- Decision rule -----------------------------------------------------------------------


def test_the_decision_rule_thresholds_follow_the_binomial_tail():
    assert decision.max_errors_for(1e-9, 128, 200) == 26
    assert decision.false_match_probability(26, 128, 200) < 1e-9
    assert decision.false_match_probability(27, 128, 200) >= 1e-9


def test_a_read_close_to_one_code_is_a_match_and_random_reads_never_are():
    rng = np.random.default_rng(7)
    codes = {i: rng.integers(0, 2, 128, dtype=np.uint8) for i in range(200)}
    read = codes[42].copy()
    read[:20] ^= 1  # 20 bit errors
    decided = decision.decide(read, codes)
    assert decided.verdict == "match"
    assert decided.candidates[0].key == 42
    assert decided.candidates[0].bit_errors == 20
    verdicts = {
        decision.decide(rng.integers(0, 2, 128, dtype=np.uint8), codes).verdict for _ in range(2000)
    }
    assert "match" not in verdicts


def test_between_the_thresholds_the_verdict_is_inconclusive():
    rng = np.random.default_rng(8)
    codes = {i: rng.integers(0, 2, 128, dtype=np.uint8) for i in range(200)}
    read = codes[3].copy()
    read[:32] ^= 1
    assert decision.decide(read, codes).verdict == "inconclusive"


# --- Traces ------------------------------------------------------------------------------


def _trace(actor, content, name="leak.jpg", **where):
    trace = services.trace_create(actor=actor, upload=upload(name, content), **where)
    return services.trace_run(trace_id=trace.pk)


def test_a_leaked_copy_names_its_disclosure_and_the_prime_suspect_goes_on_the_timeline(
    compliance_user, bumper_asset, bumper_disclosure, tier1, tier1_nda, render, supplier_user
):
    others = [
        DisclosureFactory(
            asset=bumper_asset, supplier=SupplierFactory(), disclosed_on=date(2024, 11, 6)
        )
        for _ in range(5)
    ]
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    for copy in DisclosureCopy.objects.filter(master=master):
        services.copy_make(copy_id=copy.pk)
    copy = DisclosureCopy.objects.get(master=master, disclosure=bumper_disclosure)
    marked = cv2.imdecode(np.frombuffer(copy.file.read(), np.uint8), cv2.IMREAD_COLOR)
    leak = images.jpeg(images.crop(images.rescale(marked, 0.6), 0.7, np.random.default_rng(1)), 50)
    incident = IncidentFactory(
        source_supplier=bumper_disclosure.supplier, responsible_supplier=tier1, nda=tier1_nda
    )
    incident.assets.add(bumper_asset)

    trace = _trace(compliance_user, cv2.imencode(".jpg", leak)[1].tobytes(), incident=incident)

    assert (trace.status, trace.verdict) == (TraceStatus.DONE, Verdict.MATCH), trace.detail
    best = trace.matches[0]
    assert best["disclosure"] == bumper_disclosure.pk
    assert best["supplier"] == bumper_disclosure.supplier_id
    assert best["bit_errors"] <= 26
    assert best["bits"] == 128
    assert all(m["disclosure"] not in {d.pk for d in others} for m in trace.matches)
    incident.refresh_from_db()
    assert incident.leak_fingerprint == bumper_disclosure.fingerprint
    event = incident.events.get(kind=EventKind.FINGERPRINT)
    assert f"disclosure {bumper_disclosure.pk}" in event.message
    assert not events_visible_to(supplier_user, incident.events.all()).filter(pk=event.pk).exists()
    # Compliance is told (DESIGN section 12), without the secret in the payload.
    told = NotificationEvent.objects.get(type=EventType.TRACE_MATCHED)
    assert (told.incident_id, told.data["disclosure"]) == (incident.pk, bumper_disclosure.pk)
    assert bumper_disclosure.fingerprint not in str(told.data)


def test_an_unmarked_image_and_a_foreign_image_give_no_match(
    compliance_user, bumper_asset, bumper_disclosure, render
):
    services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    unmarked = _trace(compliance_user, cv2.imencode(".jpg", render)[1].tobytes())
    assert (unmarked.status, unmarked.verdict) == (TraceStatus.DONE, Verdict.NO_MATCH)
    foreign = _trace(compliance_user, png(images.make_image(5, height=400, width=600)))
    assert (foreign.verdict, foreign.matches) == (Verdict.NO_MATCH, [])


def test_only_compliance_staff_trace(auditor_user, supplier_user, render):
    for actor in (auditor_user, supplier_user):
        with pytest.raises(PermissionDenied):
            services.trace_create(actor=actor, upload=upload("leak.png", png(render)))
    assert not Trace.objects.exists()


# --- Registration of smooth pictures ------------------------------------------------------


def test_a_smooth_render_shrunk_to_30_percent_registers_by_intensity_and_reads_its_code():
    # Bench image 12, a smooth render: SIFT finds too few distinctive points once it is
    # shrunk, so feature registration alone gave no_match (the 97.9% rows of the bench).
    master = images.make_image(12)
    key = b"test-key"
    code = watermark.derive_code("cd" * 16, key)
    leak = images.jpeg(images.rescale(watermark.embed(master, code, key), 0.3), 90)
    master_features = watermark.features(master)
    assert watermark.register(watermark.features(leak), master_features) is None
    found = watermark.locate(leak, watermark.features(leak), master, master_features)
    assert found is not None
    reading = watermark.read(leak, master, found, key)
    assert np.count_nonzero(reading.bits != code) <= 5
    # A foreign picture does not align with it by intensity.
    for index in range(10_000, 10_004):
        foreign = images.make_image(index, height=600, width=900)
        assert watermark.register_by_intensity(foreign, master) is None


# --- A master's features, computed once -------------------------------------------------


def _count_feature_runs(monkeypatch) -> list[tuple[int, int]]:
    shapes = []
    computed = watermark.features

    def counting(image):
        shapes.append(image.shape[:2])
        return computed(image)

    monkeypatch.setattr(watermark, "features", counting)
    return shapes


def _marked_leak(master: MasterFile, disclosure) -> bytes:
    copy = services.copy_make(
        copy_id=DisclosureCopy.objects.get(master=master, disclosure=disclosure).pk
    )
    marked = cv2.imdecode(np.frombuffer(copy.file.read(), np.uint8), cv2.IMREAD_COLOR)
    return cv2.imencode(".jpg", images.rescale(marked, 0.7))[1].tobytes()


def test_a_masters_features_are_computed_on_the_first_trace_and_then_read_from_storage(
    compliance_user, bumper_asset, bumper_disclosure, render, monkeypatch
):
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    leak = _marked_leak(master, bumper_disclosure)
    stored = services.features_name(master)
    assert not master.file.storage.exists(stored)
    shapes = _count_feature_runs(monkeypatch)

    first = _trace(compliance_user, leak)
    assert first.verdict == Verdict.MATCH, first.detail
    assert shapes.count(render.shape[:2]) == 1
    assert master.file.storage.exists(stored)

    second = _trace(compliance_user, leak)
    assert (second.verdict, second.matches) == (first.verdict, first.matches)
    assert shapes.count(render.shape[:2]) == 1  # the leak's own only, the master's read


@pytest.mark.parametrize("damage", ["corrupt", "missing", "other shape"])
def test_stored_features_that_are_unreadable_are_computed_again(
    compliance_user, bumper_asset, bumper_disclosure, render, monkeypatch, damage
):
    from django.core.files.base import ContentFile

    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    leak = _marked_leak(master, bumper_disclosure)
    assert _trace(compliance_user, leak).verdict == Verdict.MATCH
    storage, stored = master.file.storage, services.features_name(master)
    storage.delete(stored)
    if damage == "corrupt":
        storage.save(stored, ContentFile(b"PK\x03\x04 not a zip at all"))
    elif damage == "other shape":
        buffer = __import__("io").BytesIO()
        np.savez_compressed(
            buffer,
            keypoints0=np.zeros((0, 2), np.float32),
            descriptors0=np.zeros((0, 128), np.float32),
            shape0=np.array([10, 10]),
        )
        storage.save(stored, ContentFile(buffer.getvalue()))
    shapes = _count_feature_runs(monkeypatch)

    trace = _trace(compliance_user, leak)

    assert trace.verdict == Verdict.MATCH, trace.detail
    assert shapes.count(render.shape[:2]) == 1  # the master's, computed again
    refreshed = services.master_references(MasterFile.objects.get(pk=master.pk))
    assert len(refreshed[0].features.keypoints) > 100
    assert shapes.count(render.shape[:2]) == 1  # and stored again: read this time


# --- PDFs whose pages are pictures --------------------------------------------------------


def _pdf_embedding(picture: np.ndarray) -> bytes:
    """A one-page PDF laid out by reportlab: a title and the picture."""
    import io

    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=(595, 842))
    sheet.drawString(72, 780, "Front bumper, design freeze")
    rgb = Image.fromarray(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    sheet.drawImage(ImageReader(rgb), 72, 400, width=450, height=300)
    sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def test_a_pdf_copy_carries_the_mark_in_its_pictures_and_a_leak_of_it_traces(
    compliance_user, bumper_asset, bumper_disclosure, render, tier1, tier1_nda
):
    from bench.tracing import psnr
    from tracing import files

    others = [
        DisclosureFactory(
            asset=bumper_asset, supplier=SupplierFactory(), disclosed_on=date(2024, 11, 6)
        )
        for _ in range(3)
    ]
    master = services.master_file_add(
        actor=compliance_user,
        asset=bumper_asset,
        upload=upload("freeze.pdf", _pdf_embedding(render)),
    )
    copy = services.copy_make(
        copy_id=DisclosureCopy.objects.get(master=master, disclosure=bumper_disclosure).pk
    )
    assert copy.status == CopyStatus.READY, copy.error
    copy_pdf = copy.file.read()
    # The visible stamp is still there, and the picture carries the code invisibly.
    from pypdf import PdfReader

    assert f"D-{bumper_disclosure.pk}" in PdfReader(copy.file.open("rb")).pages[0].extract_text()
    [reference] = files.markable_pictures(master.file.open("rb").read())
    [carried] = files.markable_pictures(copy_pdf)
    assert psnr(carried, reference) >= 38
    registration = watermark.register(watermark.features(carried), watermark.features(reference))
    reading = watermark.read(carried, reference, registration, services.tracing_key())
    assert np.array_equal(reading.bits, services.disclosure_code(bumper_disclosure))

    incident = IncidentFactory(
        source_supplier=bumper_disclosure.supplier, responsible_supplier=tier1, nda=tier1_nda
    )
    incident.assets.add(bumper_asset)
    leaked_pdf = _trace(compliance_user, copy_pdf, name="leak.pdf", incident=incident)
    assert leaked_pdf.verdict == Verdict.MATCH, leaked_pdf.detail
    assert leaked_pdf.matches[0]["disclosure"] == bumper_disclosure.pk
    assert {m["disclosure"] for m in leaked_pdf.matches}.isdisjoint(d.pk for d in others)
    incident.refresh_from_db()
    assert incident.leak_fingerprint == bumper_disclosure.fingerprint

    # A screenshot of the page: the picture shown smaller on a white page with its
    # title, captured as a JPEG.
    page = np.full((700, 520, 3), 255, np.uint8)
    cv2.putText(page, "Front bumper", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 0), 2)
    page[120:420, 40:490] = cv2.resize(carried, (450, 300), interpolation=cv2.INTER_AREA)
    screenshot = _trace(
        compliance_user, cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    )
    assert screenshot.verdict == Verdict.MATCH, screenshot.detail
    assert screenshot.matches[0]["disclosure"] == bumper_disclosure.pk

    # The master itself (unmarked), as a PDF or a picture, names no one.
    unmarked = _trace(compliance_user, master.file.open("rb").read(), name="master.pdf")
    assert (unmarked.verdict, unmarked.matches) == (Verdict.NO_MATCH, [])


def test_a_pdf_picture_too_small_to_carry_the_mark_is_left_as_it_is(
    compliance_user, bumper_asset, bumper_disclosure
):
    from tracing import files

    thumbnail = images.make_image(3, height=120, width=180)
    data = _pdf_embedding(thumbnail)
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("thumb.pdf", data)
    )
    copy = services.copy_make(copy_id=DisclosureCopy.objects.get(master=master).pk)
    assert copy.status == CopyStatus.READY, copy.error
    assert files.markable_pictures(data) == []
    [kept] = files.images_in_pdf(copy.file.read())
    [original] = files.images_in_pdf(data)
    assert np.array_equal(kept, original)


# --- Work the broker lost -----------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        services, "publish_task", lambda name, **options: sent.append((name, options["args"][0]))
    )
    return sent


def test_copies_and_traces_left_pending_are_queued_again_and_finished_work_is_not(
    compliance_user,
    bumper_asset,
    bumper_disclosure,
    render,
    published,
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta

    from django.utils import timezone

    # The broker was down: the on-commit messages were lost.
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=upload("front.png", png(render))
    )
    trace = services.trace_create(actor=compliance_user, upload=upload("leak.png", png(render)))
    published.clear()
    copy = DisclosureCopy.objects.get(master=master)
    now = timezone.now()

    assert services.pending_work_requeue(as_of=now) == {"copies": 0, "traces": 0}
    assert published == []  # too recent: its message may still be on its way

    later = now + timedelta(minutes=16)
    assert services.pending_work_requeue(as_of=later) == {"copies": 1, "traces": 1}
    assert published == [
        ("tracing.tasks.make_copy", copy.pk),
        ("tracing.tasks.run_trace", trace.pk),
    ]
    # Twice (a second beat, or the first message was only late): the tasks are idempotent.
    services.pending_work_requeue(as_of=later)
    for name, pk in published:
        (
            services.copy_make(copy_id=pk)
            if name.endswith("make_copy")
            else services.trace_run(trace_id=pk)
        )
    copy.refresh_from_db()
    trace.refresh_from_db()
    assert (copy.status, trace.status) == (CopyStatus.READY, TraceStatus.DONE)
    assert DisclosureCopy.objects.count() == 1

    published.clear()
    assert services.pending_work_requeue(as_of=later) == {"copies": 0, "traces": 0}
    assert published == []


def test_the_requeue_delay_is_a_setting(compliance_user, render, published, settings):
    from datetime import timedelta

    from django.utils import timezone

    services.trace_create(actor=compliance_user, upload=upload("leak.png", png(render)))
    published.clear()
    settings.TRACING_REQUEUE_AFTER_MINUTES = 60
    assert services.pending_work_requeue(as_of=timezone.now() + timedelta(minutes=16)) == {
        "copies": 0,
        "traces": 0,
    }
    assert (
        services.pending_work_requeue(as_of=timezone.now() + timedelta(minutes=61))["traces"] == 1
    )


def test_a_broker_still_down_stops_the_requeue_without_failing(
    compliance_user, render, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    for name in ("a.png", "b.png"):
        services.trace_create(actor=compliance_user, upload=upload(name, png(render)))
    tried = []

    def refused(name, **options):
        tried.append(name)
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "publish_task", refused)
    later = timezone.now() + timedelta(minutes=30)
    assert services.pending_work_requeue(as_of=later) == {"copies": 0, "traces": 0}
    assert len(tried) == 1  # the next beat tries again
    assert Trace.objects.filter(status=TraceStatus.PENDING).count() == 2


def test_the_beat_requeues_lost_tracing_work_every_five_minutes(published):
    from django.conf import settings as django_settings

    from tracing import tasks

    entry = django_settings.CELERY_BEAT_SCHEDULE["tracing-requeue-pending"]
    assert entry["task"] == tasks.requeue_pending.name == "tracing.tasks.requeue_pending"
    assert entry["schedule"] == 300
    assert entry["options"]["expires"] <= entry["schedule"]
    assert tasks.requeue_pending() == {"copies": 0, "traces": 0}
