"""Every change of leak tracing (DESIGN section 10): master files added, copies queued
and made, downloads recorded, traces started and run. The API, the pages and the tasks
all call these; the tasks are thin."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from breaches.models import Incident
from breaches.services import incident_record_trace_match
from config.queueing import publish_task
from config.uploads import check_upload
from notifications.choices import EventType
from notifications.services import announce
from suppliers.models import ConfidentialAsset, Disclosure, User
from suppliers.services import require_writer, save_checked

from . import decision, files, watermark
from .choices import MASTER_TYPES, PDF_TYPE, CopyStatus, TraceStatus, Verdict
from .models import CopyDownload, DisclosureCopy, MasterFile, Trace
from .selectors import copies_visible_to

log = logging.getLogger(__name__)

# The tasks, published by name (tracing.tasks imports this module).
MAKE_COPY_TASK = "tracing.tasks.make_copy"
RUN_TRACE_TASK = "tracing.tasks.run_trace"

MASTER_ACCEPTED = _("Accepted: PNG, JPEG, TIFF or WebP images; PDF documents.")
TRACE_ACCEPTED = _("Accepted: PNG, JPEG, TIFF or WebP images; PDF documents.")

# A trace's `detail` is stored in English, whoever's request ran the task (the API gives
# it as stored); a page shows it in the viewer's language (detail_in_words).
NO_IMAGE_MASTER = gettext_noop("No image master file to compare with.")
NO_IMAGE_IN_FILE = gettext_noop("The file holds no image to trace.")
NO_MASTER_SHOWN = gettext_noop("The file does not show any master of these assets.")
NO_DISCLOSURES = gettext_noop("The asset has no disclosures.")
REGISTERED = gettext_noop(
    "Registered on master %(file)s (%(points)s matching points, %(covered)s covered)."
)
_REGISTERED_READ = re.compile(
    r"^Registered on master (?P<file>.*) \((?P<points>\d+) matching points, "
    r"(?P<covered>\d+%) covered\)\.$",
    re.DOTALL,
)


def detail_in_words(detail: str) -> str:
    """A trace's stored (English) detail in the active language."""
    if not detail:
        return ""
    found = _REGISTERED_READ.match(detail)
    if found:
        return gettext(REGISTERED) % found.groupdict()
    if detail in (NO_IMAGE_MASTER, NO_IMAGE_IN_FILE, NO_MASTER_SHOWN, NO_DISCLOSURES):
        return gettext(detail)
    return detail


def tracing_key() -> bytes:
    """The key of every code derivation and cell layout: TRACING_KEY, or else one derived
    from SECRET_KEY (never the secret key itself)."""
    if settings.TRACING_KEY:
        return hashlib.sha256(b"tracing-key:" + settings.TRACING_KEY.encode()).digest()
    return hmac.new(settings.SECRET_KEY.encode(), b"tracing-key", hashlib.sha256).digest()


def disclosure_code(disclosure: Disclosure) -> np.ndarray:
    """The bits marked in this disclosure's copies: a keyed derivation of its secret
    fingerprint (the code alone reveals neither the fingerprint nor another code)."""
    return watermark.derive_code(disclosure.fingerprint, tracing_key())


# --- Master files ----------------------------------------------------------------------


def _checked_file(upload: UploadedFile, accepted) -> tuple:
    checked = check_upload(
        upload,
        allowed_types=frozenset(MASTER_TYPES),
        max_bytes=settings.TRACING_MAX_BYTES,
        accepted=accepted,
    )
    data = upload.read()
    upload.seek(0)
    width = height = pages = None
    if checked.content_type == PDF_TYPE:
        pages = files.pdf_pages(data)
    else:
        width, height = files.image_size(data)
        files.decode_image(data)
    return checked, data, width, height, pages


@transaction.atomic
def master_file_add(*, actor: User, asset: ConfidentialAsset, upload: UploadedFile) -> MasterFile:
    """Attach a master file to an asset (the evidence upload rules, images and PDFs only,
    and it must decode). A pending copy is queued for every disclosure of the asset."""
    require_writer(actor)
    checked, data, width, height, pages = _checked_file(upload, MASTER_ACCEPTED)
    master = MasterFile(
        asset=asset,
        filename=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        width=width,
        height=height,
        pages=pages,
        uploaded_by=actor,
    )
    master.file.save("master", ContentFile(data), save=False)
    save_checked(master)
    _queue_copies(DisclosureCopy.objects.filter(pk__in=_ensure_copies(asset=asset, master=master)))
    return master


def _ensure_copies(*, asset, master=None, disclosure=None) -> list[int]:
    """The pending copies missing for these masters and disclosures, created (the unique
    constraint keeps one per pair, whoever runs twice); their ids and the pending ones."""
    masters = [master] if master else list(MasterFile.objects.filter(asset=asset))
    disclosures = [disclosure] if disclosure else list(Disclosure.objects.filter(asset=asset))
    DisclosureCopy.objects.bulk_create(
        [DisclosureCopy(disclosure=d, master=m) for d in disclosures for m in masters],
        ignore_conflicts=True,
    )
    return list(
        DisclosureCopy.objects.filter(
            master__in=masters, disclosure__in=disclosures, status=CopyStatus.PENDING
        ).values_list("pk", flat=True)
    )


def _queue_copies(copies) -> None:
    ids = list(copies.values_list("pk", flat=True))
    for pk in ids:
        transaction.on_commit(lambda pk=pk: publish_task(MAKE_COPY_TASK, args=[pk]), robust=True)


@transaction.atomic
def copies_queue_for_disclosure(*, disclosure: Disclosure) -> list[int]:
    """Queue the copies of a disclosure (after it commits): one per master of its asset."""
    ids = _ensure_copies(asset=disclosure.asset, disclosure=disclosure)
    _queue_copies(DisclosureCopy.objects.filter(pk__in=ids))
    return ids


def copy_make(*, copy_id: int) -> DisclosureCopy:
    """Make one copy: images marked with the disclosure's code, PDFs stamped with the
    recipient and the pictures they embed marked. Safe to run twice (a ready copy is left
    alone); a failure is recorded on the copy with its reason."""
    copy = DisclosureCopy.objects.select_related("master", "disclosure__supplier").get(pk=copy_id)
    if copy.status == CopyStatus.READY:
        return copy
    master, disclosure = copy.master, copy.disclosure
    try:
        with master.file.open("rb") as handle:
            data = handle.read()
        if master.content_type == PDF_TYPE:
            output = files.stamp_pdf(
                data,
                recipient=disclosure.supplier.name,
                disclosure=f"D-{disclosure.pk}",
                day=timezone.now().date(),
                code=disclosure_code(disclosure),
                key=tracing_key(),
            )
        else:
            output = files.mark_image(
                data, master.content_type, disclosure_code(disclosure), tracing_key()
            )
    except Exception as exc:
        log.exception("Copy %s of master %s failed", copy.pk, master.pk)
        DisclosureCopy.objects.filter(pk=copy.pk).exclude(status=CopyStatus.READY).update(
            status=CopyStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        copy.refresh_from_db()
        return copy
    name = copy.file.field.generate_filename(copy, "copy")
    stored = copy.file.storage.save(name, ContentFile(output))
    updated = (
        DisclosureCopy.objects.filter(pk=copy.pk)
        .exclude(status=CopyStatus.READY)
        .update(
            status=CopyStatus.READY,
            file=stored,
            sha256=hashlib.sha256(output).hexdigest(),
            size=len(output),
            error="",
            finished_at=timezone.now(),
        )
    )
    if not updated:  # another run finished first
        copy.file.storage.delete(stored)
    copy.refresh_from_db()
    return copy


COPY_EXTENSIONS = MASTER_TYPES


def _attachment(handle, filename: str) -> FileResponse:
    """As evidence leaves the server: an octet-stream attachment, never sniffed, sandboxed."""
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def master_file_response(master: MasterFile) -> FileResponse:
    """A master file for the buyer's staff (the caller checks masters_visible_to)."""
    extension = COPY_EXTENSIONS.get(master.content_type, ".bin")
    return _attachment(
        master.file.open("rb"), f"asset-{master.asset_id}-master-{master.pk}{extension}"
    )


def copy_download(*, actor: User, copy: DisclosureCopy, ip: str | None) -> FileResponse:
    """Serve a ready copy as an attachment and record who took it, when, from where.
    A copy outside the actor's scope does not exist for it (the caller answers 404)."""
    if not copies_visible_to(actor).filter(pk=copy.pk).exists():
        raise DisclosureCopy.DoesNotExist
    if copy.status != CopyStatus.READY:
        raise ValidationError(
            {
                "status": _("This copy is not ready: it is %(status)s.")
                % {"status": str(CopyStatus(copy.status).label).lower()}
            }
        )
    handle = copy.file.open("rb")
    CopyDownload.objects.create(copy=copy, user=actor, ip=ip or None)
    extension = COPY_EXTENSIONS.get(copy.master.content_type, ".bin")
    return _attachment(handle, f"disclosure-{copy.disclosure_id}-copy-{copy.pk}{extension}")


# --- Traces ----------------------------------------------------------------------------


@transaction.atomic
def trace_create(
    *,
    actor: User,
    upload: UploadedFile,
    incident: Incident | None = None,
    asset: ConfidentialAsset | None = None,
) -> Trace:
    """Start tracing a leaked file (staff). The work is done by a task after commit."""
    require_writer(actor)
    checked, data, *_ = _checked_file(upload, TRACE_ACCEPTED)
    trace = Trace(
        filename=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        incident=incident,
        asset=asset,
        created_by=actor,
    )
    trace.file.save("leak", ContentFile(data), save=False)
    save_checked(trace)
    transaction.on_commit(lambda: publish_task(RUN_TRACE_TASK, args=[trace.pk]), robust=True)
    return trace


@dataclass
class Outcome:
    verdict: str
    matches: list[dict]
    detail: str
    master: MasterFile | None = None


def _candidate_masters(trace: Trace):
    masters = MasterFile.objects.all()
    if trace.asset_id:
        return masters.filter(asset=trace.asset_id)
    if trace.incident_id:
        return masters.filter(asset__in=trace.incident.assets.all())
    return masters


def _pictures(field_file, content_type: str, pictures_of_pdf) -> list[np.ndarray]:
    """The pictures of a stored image or PDF (`pictures_of_pdf` picks a PDF's), in
    colour without alpha."""
    with field_file.open("rb") as handle:
        data = handle.read()
    if content_type == PDF_TYPE:
        return pictures_of_pdf(data)
    image = files.decode_image(data)
    return [image[..., :3] if image.ndim == 3 else image]


def _leak_images(trace: Trace) -> list[np.ndarray]:
    return _pictures(trace.file, trace.content_type, files.images_in_pdf)


# --- The registration masters and their features, computed once per master --------------

# Part of the stored features' name: computed with other detector settings, they are
# computed again rather than read.
FEATURES_VERSION = (
    f"sift-1-{watermark.FEATURE_LONG}-{watermark.FEATURE_COUNT}-{watermark.FEATURE_CONTRAST}"
)


@dataclass
class Reference:
    """One picture a leak may be laid onto: an image master, or a picture a PDF master
    embeds (its copies carry the mark there)."""

    master: MasterFile
    image: np.ndarray
    features: watermark.Features


def _reference_images(master: MasterFile) -> list[np.ndarray]:
    return _pictures(master.file, master.content_type, files.markable_pictures)


def features_name(master: MasterFile) -> str:
    """Where a master's features are kept: beside it, through the same storage."""
    return f"{master.file.name}.{FEATURES_VERSION}.npz"


def _load_features(master: MasterFile, count: int) -> list[watermark.Features] | None:
    storage, name = master.file.storage, features_name(master)
    try:
        if not storage.exists(name):
            return None
        with storage.open(name, "rb") as handle:
            stored = np.load(io.BytesIO(handle.read()), allow_pickle=False)
            loaded = []
            for index in range(count):
                descriptors = stored[f"descriptors{index}"]
                loaded.append(
                    watermark.Features(
                        stored[f"keypoints{index}"].astype(np.float32).reshape(-1, 2),
                        descriptors.astype(np.float32) if len(descriptors) else None,
                        tuple(int(v) for v in stored[f"shape{index}"]),
                    )
                )
            return loaded
    except Exception:  # missing, truncated or foreign: computed again
        log.warning("Stored features of master %s unreadable; recomputed", master.pk)
        return None


def _store_features(master: MasterFile, computed: list[watermark.Features]) -> None:
    arrays = {}
    for index, found in enumerate(computed):
        arrays[f"keypoints{index}"] = found.keypoints
        # SIFT descriptors are whole numbers from 0 to 255: a byte each, a quarter the size.
        arrays[f"descriptors{index}"] = (
            found.descriptors.astype(np.uint8)
            if found.descriptors is not None
            else np.zeros((0, 128), np.uint8)
        )
        arrays[f"shape{index}"] = np.array(found.shape, dtype=np.int64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    storage, name = master.file.storage, features_name(master)
    try:
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(buffer.getvalue()))
    except Exception:  # a cache: tracing goes on without it
        log.warning("Features of master %s not stored", master.pk, exc_info=True)


def master_references(master: MasterFile) -> list[Reference]:
    """The pictures of a master a leak may be registered on, with their SIFT features:
    read from beside the master when stored, else computed and stored for the next trace
    (SIFT on the master is the costly half of registration; docs/leak-tracing.md)."""
    images = _reference_images(master)
    computed = _load_features(master, len(images))
    if computed is None or any(
        f.shape != im.shape[:2] for f, im in zip(computed, images, strict=True)
    ):
        computed = [watermark.features(image) for image in images]
        _store_features(master, computed)
    return [Reference(master, image, found) for image, found in zip(images, computed, strict=True)]


def trace_analyse(trace: Trace) -> Outcome:
    """Register the leak on each candidate master (best first by inliers), read the mark
    and decide against the codes of the disclosures of that master's asset."""
    key = tracing_key()
    masters = list(_candidate_masters(trace).select_related("asset"))
    if not masters:
        return Outcome(Verdict.NO_MATCH, [], NO_IMAGE_MASTER)
    leaks = _leak_images(trace)
    if not leaks:
        return Outcome(Verdict.NO_MATCH, [], NO_IMAGE_IN_FILE)
    references = [reference for master in masters for reference in master_references(master)]
    if not references:
        return Outcome(Verdict.NO_MATCH, [], NO_IMAGE_MASTER)
    registrations = []
    for leak_index, leak in enumerate(leaks):
        leak_features = watermark.features(leak)
        for reference in references:
            found = watermark.locate(leak, leak_features, reference.image, reference.features)
            if found is not None:
                registrations.append((found.inliers, leak_index, reference, found))
    if not registrations:
        return Outcome(Verdict.NO_MATCH, [], NO_MASTER_SHOWN)
    registrations.sort(key=lambda r: -r[0])
    best: Outcome | None = None
    # The registrations read (three at most) are often of one asset: its disclosures and
    # their codes are read and derived once.
    by_asset: dict[int, tuple[dict[int, Disclosure], dict[int, np.ndarray]]] = {}
    for _inliers, leak_index, reference, found in registrations[:3]:
        master = reference.master
        reading = watermark.read(leaks[leak_index], reference.image, found, key)
        if master.asset_id not in by_asset:
            by_id = Disclosure.objects.filter(asset=master.asset_id).in_bulk()
            by_asset[master.asset_id] = (by_id, {pk: disclosure_code(d) for pk, d in by_id.items()})
        by_id, codes = by_asset[master.asset_id]
        if not codes:
            outcome = Outcome(Verdict.NO_MATCH, [], NO_DISCLOSURES, master)
        else:
            decided = decision.decide(reading.bits, codes)
            matches = [
                {
                    "disclosure": c.key,
                    "supplier": by_id[c.key].supplier_id,
                    "asset": master.asset_id,
                    "confidence": round(c.confidence, 12),
                    "bit_errors": c.bit_errors,
                    "bits": decided.bits,
                }
                for c in decided.candidates
            ]
            outcome = Outcome(
                decided.verdict,
                matches,
                REGISTERED
                % {
                    "file": master.filename,
                    "points": found.inliers,
                    "covered": f"{reading.coverage:.0%}",
                },
                master,
            )
        rank = {Verdict.MATCH: 2, Verdict.INCONCLUSIVE: 1, Verdict.NO_MATCH: 0}
        if best is None or rank[outcome.verdict] > rank[best.verdict]:
            best = outcome
        if best.verdict == Verdict.MATCH:
            break
    return best


def _announce_match(trace: Trace, suspect: Disclosure, best: dict) -> None:
    """Compliance is told that a trace matched (DESIGN section 12); the payload names the
    disclosure, never its fingerprint or code."""
    announce(
        EventType.TRACE_MATCHED,
        actor=trace.created_by,
        incident_id=trace.incident_id,
        supplier_id=suspect.supplier_id,
        path=f"/incidents/{trace.incident_id}/" if trace.incident_id else "",
        data={
            "trace": trace.pk,
            "incident": trace.incident_id,
            "incident_reference": trace.incident.reference if trace.incident_id else None,
            "disclosure": suspect.pk,
            "supplier": suspect.supplier_id,
            "supplier_name": suspect.supplier.name,
            "asset": suspect.asset_id,
            "confidence": best["confidence"],
        },
    )


def trace_run(*, trace_id: int) -> Trace:
    """Run a pending trace and record its verdict; a match on an incident names the prime
    suspect on its timeline. Safe to run twice: a finished trace is left alone."""
    trace = Trace.objects.select_related("incident", "asset", "created_by").get(pk=trace_id)
    if trace.status != TraceStatus.PENDING:
        return trace
    try:
        outcome = trace_analyse(trace)
    except Exception as exc:
        log.exception("Trace %s failed", trace.pk)
        Trace.objects.filter(pk=trace.pk, status=TraceStatus.PENDING).update(
            status=TraceStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        trace.refresh_from_db()
        return trace
    with transaction.atomic():
        updated = Trace.objects.filter(pk=trace.pk, status=TraceStatus.PENDING).update(
            status=TraceStatus.DONE,
            verdict=outcome.verdict,
            matches=outcome.matches,
            detail=outcome.detail[:500],
            master=outcome.master,
            finished_at=timezone.now(),
        )
        if updated and outcome.verdict == Verdict.MATCH:
            best = outcome.matches[0]
            suspect = Disclosure.objects.select_related("supplier", "asset").get(
                pk=best["disclosure"]
            )
            _announce_match(trace, suspect, best)
        if updated and outcome.verdict == Verdict.MATCH and trace.incident_id:
            incident_record_trace_match(
                incident=trace.incident,
                actor=trace.created_by,
                fingerprint=suspect.fingerprint,
                # A timeline record, written once in English like the incident's other
                # timeline messages (breaches.services), whoever's request ran the task.
                summary=(
                    "Trace {trace}: the leaked copy {file} carries the mark of disclosure "
                    "{disclosure} ({asset} to {supplier}), {errors} of {bits} bits wrong; "
                    "prime suspect."
                ).format(
                    trace=trace.pk,
                    file=trace.filename,
                    disclosure=suspect.pk,
                    asset=suspect.asset.code,
                    supplier=suspect.supplier.name,
                    errors=best["bit_errors"],
                    bits=best["bits"],
                ),
            )
    trace.refresh_from_db()
    return trace


# --- Work the broker lost -------------------------------------------------------------


def requeue_after() -> timedelta:
    """A copy or a trace is queued on commit; if the broker was down then, it stays
    pending until this long has passed and the beat's requeue publishes it again."""
    return timedelta(minutes=settings.TRACING_REQUEUE_AFTER_MINUTES)


def pending_work_requeue(*, as_of: datetime | None = None) -> dict[str, int]:
    """Publish again the copies and traces still pending `requeue_after()` after they were
    created (their message was lost, e.g. the broker was down on commit). Safe to run
    twice, and safe if the first message was only late: copy_make and trace_run leave
    finished work alone. Stops at the first refusal of the broker (the next run retries)."""
    cutoff = (as_of or timezone.now()) - requeue_after()
    work = [
        (kind, task, pk)
        for kind, task, model, pending in (
            ("copies", MAKE_COPY_TASK, DisclosureCopy, CopyStatus.PENDING),
            ("traces", RUN_TRACE_TASK, Trace, TraceStatus.PENDING),
        )
        for pk in model.objects.filter(status=pending, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    ]
    published = {"copies": 0, "traces": 0}
    for kind, task, pk in work:
        try:
            publish_task(task, args=[pk])
        except Exception:
            log.exception("Requeue of %s %s failed; the next run retries", task, pk)
            break
        published[kind] += 1
    return published


def require_tracer(actor: User) -> None:
    if actor is None or not actor.can_write:
        raise PermissionDenied(_("Only compliance staff may trace a leaked copy."))
