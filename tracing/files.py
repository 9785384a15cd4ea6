"""Reading and writing the files of leak tracing: decoding images safely, marking an
image file, stamping a PDF, and pulling the images out of a leaked PDF."""

from __future__ import annotations

import io
import logging
from datetime import date

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import watermark
from .choices import PDF_TYPE

log = logging.getLogger(__name__)

# A decompression bomb (a small PNG of 100,000 x 100,000 pixels) is refused from its
# header, before any pixel is decoded.
MAX_PIXELS = 80_000_000

ENCODE = {
    "image/png": (".png", [cv2.IMWRITE_PNG_COMPRESSION, 6]),
    "image/jpeg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    "image/tiff": (".tif", []),
    "image/webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # > 100: lossless
}


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header; ValidationError if it is not a readable image or
    is too large to decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValidationError({"file": _("This image cannot be read.")}) from exc
    if width * height > MAX_PIXELS:
        raise ValidationError(
            {"file": _("The image is larger than %(n)s pixels.") % {"n": f"{MAX_PIXELS:,}"}}
        )
    return width, height


def decode_image(data: bytes) -> np.ndarray:
    """uint8 BGR (or BGRA when the image has transparency)."""
    image_size(data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValidationError({"file": _("This image cannot be read.")})
    if image.dtype != np.uint8 or image.ndim == 2 or image.shape[2] not in (3, 4):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return image


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError({"file": _("This PDF cannot be read.")}) from exc


def mark_image(data: bytes, content_type: str, code: np.ndarray, key: bytes) -> bytes:
    image = decode_image(data)
    if image.ndim == 3 and image.shape[2] == 4:
        marked = np.dstack([watermark.embed(image[..., :3], code, key), image[..., 3]])
    else:
        marked = watermark.embed(image, code, key)
    extension, options = ENCODE[content_type]
    ok, encoded = cv2.imencode(extension, marked, options)
    if not ok:
        raise ValueError(f"OpenCV could not encode {content_type}")
    return encoded.tobytes()


CJK_FONT = "STSong-Light"  # one of reportlab's CID fonts: nothing to embed or ship


def _stamp_fonts(text: str) -> tuple[str, str]:
    """(regular, bold) fonts that can set `text`: Helvetica for Latin text, else a CJK
    font (Helvetica has no glyph for 北京)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT, CJK_FONT
    return "Helvetica", "Helvetica-Bold"


def stamp_pdf(
    data: bytes,
    *,
    recipient: str,
    disclosure: str,
    day: date,
    code: np.ndarray | None = None,
    key: bytes | None = None,
) -> bytes:
    """Every page stamped visibly along its bottom edge: recipient, disclosure, date; with
    `code`, the pictures the pages embed (markable_pictures) carry it invisibly too."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.colors import Color
    from reportlab.pdfgen import canvas

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    if code is not None:
        _mark_pdf_pictures(writer, code, key)
    # The stamp is part of the copy, made once for a recipient whoever downloads it: one
    # wording (English, like the copy's file name), never the language of the request
    # that happened to run the task. A recipient's name in Chinese is set in a CJK font.
    text = (
        f"{settings.BUYER_NAME} confidential - issued to {recipient} - {disclosure} - "
        f"{day.isoformat()}"
    )
    regular, bold = _stamp_fonts(text)
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        overlay = io.BytesIO()
        sheet = canvas.Canvas(overlay, pagesize=(width, height))
        sheet.setFillColor(Color(0.75, 0.05, 0.05, alpha=0.85))
        size = max(6.0, min(9.0, width / 80))
        sheet.setFont(regular, size)
        sheet.drawCentredString(width / 2, size * 1.2, text)
        sheet.saveState()
        sheet.setFillColor(Color(0.75, 0.05, 0.05, alpha=0.12))
        sheet.setFont(bold, max(12.0, width / 30))
        sheet.translate(width / 2, height / 2)
        sheet.rotate(35)
        sheet.drawCentredString(0, 0, recipient)
        sheet.restoreState()
        sheet.save()
        page.merge_page(PdfReader(io.BytesIO(overlay.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# A picture a PDF page embeds carries the mark when it is this large (the mark's grid has
# 128 cells along the long side) and opaque (replacing it would drop its transparency).
MIN_MARK_SIDE = 200
MAX_PDF_PAGES = 50


def _picture_array(picture) -> np.ndarray | None:
    """A picture embedded in a PDF as uint8 BGR, decoded one way for the master, the copy
    and the leak; None when neither OpenCV nor pypdf can decode it."""
    image = cv2.imdecode(np.frombuffer(picture.data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        try:
            rgb = np.asarray(picture.image.convert("RGB"))
        except Exception:
            return None
        image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return image


def _markable(picture, image: np.ndarray | None) -> bool:
    if image is None or picture.indirect_reference is None:
        return False
    stream = picture.indirect_reference.get_object()
    if "/SMask" in stream or "/Mask" in stream or stream.get("/ImageMask"):
        return False
    height, width = image.shape[:2]
    return min(height, width) >= MIN_MARK_SIDE and height * width <= MAX_PIXELS


def _pictures(pages):
    """Each picture object of these pages once (a picture shown on two pages is one),
    in document order, with its decoded pixels."""
    seen = set()
    for page in pages[:MAX_PDF_PAGES]:
        for picture in page.images:
            ref = picture.indirect_reference
            if ref is not None:
                if ref.idnum in seen:
                    continue
                seen.add(ref.idnum)
            yield picture, _picture_array(picture)


def markable_pictures(data: bytes) -> list[np.ndarray]:
    """The pictures of a master PDF that its copies carry the mark in: the registration
    masters of a leaked copy of it (or of a screenshot of one of its pages)."""
    from pypdf import PdfReader

    try:
        pages = PdfReader(io.BytesIO(data)).pages
        return [image for picture, image in _pictures(pages) if _markable(picture, image)]
    except Exception:
        log.warning("The pictures of a master PDF could not be read", exc_info=True)
        return []


def _mark_pdf_pictures(writer, code: np.ndarray, key: bytes) -> int:
    """Replace each markable picture of the copy by its marked version, as a JPEG (what
    pypdf's replace writes for colour). The count marked."""
    from PIL import Image

    marked = 0
    for picture, image in list(_pictures(writer.pages)):
        if not _markable(picture, image):
            continue
        carrying = watermark.embed(image, code, key)
        # Full-resolution colour (no 4:2:0) at quality 98: the JPEG adds about a tenth of
        # the mark's own change, so the copy stays near its 40 dB PSNR.
        picture.replace(
            Image.fromarray(cv2.cvtColor(carrying, cv2.COLOR_BGR2RGB)), quality=98, subsampling=0
        )
        marked += 1
    return marked


def images_in_pdf(data: bytes, limit: int = 12) -> list[np.ndarray]:
    """The largest raster images of a leaked PDF (a marked page survives as an image)."""
    from pypdf import PdfReader

    try:
        found = [image for _, image in _pictures(PdfReader(io.BytesIO(data)).pages)]
    except Exception:
        return []
    found = [image for image in found if image is not None]
    found.sort(key=lambda im: -im.shape[0] * im.shape[1])
    return found[:limit]


def is_pdf(content_type: str) -> bool:
    return content_type == PDF_TYPE
