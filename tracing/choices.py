from django.db import models
from django.utils.translation import gettext_lazy as _


class CopyStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class TraceStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Verdict(models.TextChoices):
    MATCH = "match", _("Match")
    NO_MATCH = "no_match", _("No match")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


# Master files: the images and documents the buyer hands over (DESIGN section 10).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/webp"})
PDF_TYPE = "application/pdf"
MASTER_TYPES: dict[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
