"""Leak tracing: master files of confidential assets, the recipients' marked copies, the
log of their downloads, and the traces of leaked copies (DESIGN section 10)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suppliers.models import ConfidentialAsset, Disclosure

from .choices import CopyStatus, TraceStatus, Verdict


def _generated_name(folder: str) -> str:
    # Stored under a generated name: the client's file name never reaches the disk.
    return f"tracing/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def master_upload_to(instance, filename: str) -> str:
    return _generated_name("masters")


def copy_upload_to(instance, filename: str) -> str:
    return _generated_name("copies")


def trace_upload_to(instance, filename: str) -> str:
    return _generated_name("traces")


class MasterFile(models.Model):
    """A file of a confidential asset as the buyer holds it (an image or a PDF). Every
    disclosure of the asset gets its own marked copy of it; a leak is registered against
    it to read the mark back."""

    asset = models.ForeignKey(
        ConfidentialAsset,
        on_delete=models.PROTECT,
        related_name="master_files",
        verbose_name=_("asset"),
    )
    file = models.FileField(upload_to=master_upload_to, max_length=255, verbose_name=_("file"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("height"))
    pages = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("pages"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("master file")
        verbose_name_plural = _("master files")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="master_sha256_format"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="master_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class DisclosureCopy(models.Model):
    """One recipient's copy of one master file: marked with the disclosure's code (images)
    or stamped with the recipient (PDFs). Made by a task; `status` tells how far."""

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, related_name="copies", verbose_name=_("disclosure")
    )
    master = models.ForeignKey(
        MasterFile, on_delete=models.PROTECT, related_name="copies", verbose_name=_("master")
    )
    file = models.FileField(
        upload_to=copy_upload_to, max_length=255, blank=True, verbose_name=_("file")
    )
    status = models.CharField(
        max_length=8,
        choices=CopyStatus.choices,
        default=CopyStatus.PENDING,
        verbose_name=_("status"),
    )
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))
    sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("SHA-256"))
    size = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("size"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("disclosure copy")
        verbose_name_plural = _("disclosure copies")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure", "master"], name="copy_one_per_disclosure_master"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CopyStatus.values), name="copy_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.master.filename} for disclosure {self.disclosure_id}"


class CopyDownload(models.Model):
    """A download of a recipient's copy: who, when, from which address. Kept for good."""

    copy = models.ForeignKey(
        DisclosureCopy, on_delete=models.PROTECT, related_name="downloads", verbose_name=_("copy")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    downloaded_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("downloaded at")
    )
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP"))

    class Meta:
        verbose_name = _("copy download")
        verbose_name_plural = _("copy downloads")
        ordering = ["-downloaded_at", "-id"]

    def __str__(self) -> str:
        return f"Copy {self.copy_id} downloaded at {self.downloaded_at:%Y-%m-%d %H:%M}"


class Trace(models.Model):
    """A leaked file staff want traced, optionally for an incident and an asset: a task
    registers it against the candidate masters, reads the mark and answers a verdict
    with the matching disclosures (`matches`, best first)."""

    file = models.FileField(upload_to=trace_upload_to, max_length=255, verbose_name=_("file"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    incident = models.ForeignKey(
        "breaches.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="traces",
        verbose_name=_("incident"),
    )
    asset = models.ForeignKey(
        ConfidentialAsset,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="traces",
        verbose_name=_("asset"),
    )
    status = models.CharField(
        max_length=8,
        choices=TraceStatus.choices,
        default=TraceStatus.PENDING,
        verbose_name=_("status"),
    )
    verdict = models.CharField(
        max_length=16, choices=Verdict.choices, blank=True, verbose_name=_("verdict")
    )
    matches = models.JSONField(default=list, blank=True, verbose_name=_("matches"))
    detail = models.CharField(max_length=500, blank=True, verbose_name=_("detail"))
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))
    master = models.ForeignKey(
        MasterFile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("master"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("trace")
        verbose_name_plural = _("traces")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TraceStatus.values), name="trace_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=[*Verdict.values, ""]), name="trace_verdict_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Trace {self.pk} of {self.filename}"
