"""Reading and writing the files of leak tracing: decoding images safely, marking an
image file, stamping a PDF, and pulling the images out of a leaked PDF."""

from __future__ import annotations

import io
from datetime import date

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import watermark
from .choices import PDF_TYPE

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


def stamp_pdf(data: bytes, *, recipient: str, disclosure: str, day: date) -> bytes:
    """Every page stamped visibly along its bottom edge: recipient, disclosure, date."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.colors import Color
    from reportlab.pdfgen import canvas

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
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


def images_in_pdf(data: bytes, limit: int = 12) -> list[np.ndarray]:
    """The largest raster images of a leaked PDF (a marked page survives as an image)."""
    from pypdf import PdfReader

    found = []
    try:
        for page in PdfReader(io.BytesIO(data)).pages[:50]:
            for picture in page.images:
                image = cv2.imdecode(np.frombuffer(picture.data, np.uint8), cv2.IMREAD_COLOR)
                if image is None:
                    try:
                        rgb = np.asarray(picture.image.convert("RGB"))
                    except Exception:  # noqa: S112 (an image pypdf cannot decode)
                        continue
                    image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                found.append(image)
    except Exception:
        return []
    found.sort(key=lambda im: -im.shape[0] * im.shape[1])
    return found[:limit]


def is_pdf(content_type: str) -> bool:
    return content_type == PDF_TYPE
