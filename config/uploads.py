"""The rules every stored upload shares (incident evidence, signed NDAs, action evidence):
a file is typed from its bytes (the client's type is ignored) and must be one of the
kinds below. What a browser could run or render as a page (HTML, SVG, XML, scripts) is
refused, whether its bytes or its name say so. Whatever was accepted leaves the server
one way only (attachment_response): an attachment of type application/octet-stream under
a generated name, never sniffed, sandboxed. Neutral ground: both apps import it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# Each accepted type, with the extensions its download may carry (the first when the
# upload's own does not fit its type).
EVIDENCE_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/zip": (".zip",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "text/plain": (".txt", ".log", ".md"),
    "text/csv": (".csv",),
}
ALLOWED_EVIDENCE_TYPES = frozenset(EVIDENCE_TYPES)
EVIDENCE_ACCEPTED = _(
    "Accepted: PDF; PNG, JPEG, GIF or WebP images; Word, Excel or PowerPoint documents "
    "(.docx, .xlsx, .pptx); ZIP archives; plain text or CSV."
)
# Names a browser or a desktop would open as a page or a script, wherever they appear
# in the name (`report.pdf.html`, `notes.html.txt`).
ACTIVE_EXTENSIONS = frozenset(
    {
        "htm", "html", "xhtml", "xht", "shtml", "shtm", "mht", "mhtml", "hta",
        "svg", "svgz", "xml", "xsl", "xslt", "xul", "rss", "atom",
        "js", "mjs", "cjs", "jsx", "jse", "vbs", "vbe", "wsf", "wsh", "swf",
        "php", "phtml", "asp", "aspx", "jsp", "cgi",
    }
)  # fmt: skip
# Markup a browser would render (as HTML, SVG or XML) if it ever read the file as a page:
# a document that starts with a tag, or one of these tags anywhere in it.
_MARKUP_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<[a-z!?/]", re.IGNORECASE)
ACTIVE_MARKUP = re.compile(
    rb"<(?:!doctype|!--|!\[cdata\[|\?xml|\?php|/?(?:html|head|body|script|svg|iframe|frame"
    rb"|frameset|object|embed|applet|style|link|meta|base|form|img|math|template"
    rb"|foreignobject|xsl:[a-z-]+)(?=[\s/>]))",
    re.IGNORECASE,
)
MARKUP_OVERLAP = 32  # bytes kept between chunks so that a tag cut in two is still seen
_SVG = re.compile(rb"<svg(?=[\s/>])", re.IGNORECASE)
_XML = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml", re.IGNORECASE)


def _markup_type(text: bytes) -> str | None:
    """The type a browser would give this text as a page, or None for plain text."""
    if not (_MARKUP_START.match(text) or ACTIVE_MARKUP.search(text)):
        return None
    if _SVG.search(text):
        return "image/svg+xml"
    return "application/xml" if _XML.match(text) else "text/html"


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None if not recognised. Text
    carrying markup is named for what it is (text/html, image/svg+xml, application/xml),
    never text/plain."""
    import filetype

    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if not head or b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return None
    return _markup_type(head) or "text/plain"


def clean_upload_name(name: str | None) -> str:
    """The client's file name, as shown (never used on disk or in a header): its last
    path part, without control or formatting characters (a right-to-left override
    turns `report\u202egpj.html` into what reads as `reportlmth.jpg`)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return name.strip()[-255:] or "evidence"


def name_extensions(name: str) -> list[str]:
    """Every dotted part after the first: `report.pdf.html` -> ["pdf", "html"]."""
    return [part.strip(" .").split(":")[0] for part in name.lower().split(".")[1:]]


def refuse_upload(message, accepted=EVIDENCE_ACCEPTED) -> None:
    raise ValidationError({"file": format_lazy("{} {}", message, accepted)})


def check_upload_name(name: str, accepted=EVIDENCE_ACCEPTED) -> None:
    active = [ext for ext in name_extensions(name) if ext in ACTIVE_EXTENSIONS]
    if active:
        refuse_upload(
            format_lazy(
                _("Files named .{} are not accepted: HTML, SVG, XML and scripts never are."),
                active[-1],
            ),
            accepted,
        )


def check_upload_type(
    content_type: str | None,
    allowed_types: frozenset[str] = ALLOWED_EVIDENCE_TYPES,
    accepted=EVIDENCE_ACCEPTED,
) -> None:
    if content_type in allowed_types:
        return
    if content_type in ("text/html", "image/svg+xml", "application/xml"):
        refuse_upload(
            _("This file holds HTML, SVG or XML markup, which is not accepted."), accepted
        )
    refuse_upload(_("This type of file is not accepted."), accepted)


@dataclass(frozen=True)
class CheckedUpload:
    """What the checks learnt of an accepted upload."""

    original_name: str
    content_type: str
    size: int
    sha256: str


def check_upload(
    upload: UploadedFile,
    *,
    max_bytes: int,
    field: str = "file",
    allowed_types: frozenset[str] = ALLOWED_EVIDENCE_TYPES,
    accepted=EVIDENCE_ACCEPTED,
) -> CheckedUpload:
    """Size-limit, type from its bytes (one of `allowed_types`, which `accepted` names to
    the person) and refuse an active file (by its bytes or its name); ValidationError on
    `field` saying why. The upload is rewound for saving."""
    try:
        size = upload.size or 0
        if size <= 0:
            raise ValidationError(_("The file is empty."))
        if size > max_bytes:
            raise ValidationError(format_lazy(_("The file is larger than {} bytes."), max_bytes))
        original_name = clean_upload_name(upload.name)
        check_upload_name(original_name, accepted)
        upload.seek(0)
        content_type = sniff_content_type(upload.read(8192))
        check_upload_type(content_type, allowed_types, accepted)
        if content_type == "text/plain" and name_extensions(original_name)[-1:] == ["csv"]:
            content_type = "text/csv"
        text = content_type.startswith("text/")
        digest = hashlib.sha256()
        upload.seek(0)
        tail = b""
        for chunk in upload.chunks():
            digest.update(chunk)
            if text:
                # Markup past the sniffed head is refused too.
                if ACTIVE_MARKUP.search(tail + chunk):
                    check_upload_type("text/html", allowed_types, accepted)
                tail = chunk[-MARKUP_OVERLAP:]
        upload.seek(0)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError({field: exc.error_dict.get("file", exc.messages)}) from None
        raise ValidationError({field: exc.messages}) from None
    return CheckedUpload(
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


def download_name(prefix: str, pk: int, sha256: str, content_type: str, original_name: str) -> str:
    """`<prefix>-<id>-<sha256 prefix>.<ext>`: safe in any header and file system, with the
    extension of its checked type (the upload's own when it fits that type)."""
    extensions = EVIDENCE_TYPES.get(content_type, (".bin",))
    own = name_extensions(original_name)[-1:]
    extension = f".{own[0]}" if own and f".{own[0]}" in extensions else extensions[0]
    return f"{prefix}-{pk}-{sha256[:12]}{extension}"


def attachment_response(file, *, filename: str, sha256: str) -> FileResponse:
    """The one way a stored upload leaves the server: an attachment of type
    application/octet-stream under a generated name, never sniffed (nosniff) and
    sandboxed should anything render it. FileNotFoundError when the file is missing."""
    response = FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Evidence-SHA256"] = sha256
    return response
