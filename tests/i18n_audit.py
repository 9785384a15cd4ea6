"""Find strings people read that are not marked for translation (DESIGN section 11).

Two scanners, used by tests/test_i18n.py and runnable by hand
(`python -m tests.i18n_audit`) to list what is left:

- templates: every template of the project's apps, read with Django's own lexer. Text
  outside template tags, and the values of the attributes people read (title,
  placeholder, aria-label, alt, data-label: the label a phone-width table shows beside
  each value), must not hold words once the tags and the blocks that translate
  (`{% blocktranslate %}`) are taken out. Plain-text email templates are read whole.
- Python: the places a refusal or a label is written. A string literal or an f-string
  given as the message of an exception the API or a page shows (ValidationError,
  PermissionDenied, Conflict ...), of `messages.*`, or as `label`, `help_text`,
  `verbose_name`, `empty_label`, `violation_error_message`, or a TextChoices label, must
  be wrapped in gettext (f-strings can never be translated: their text changes).

Both are heuristics for our own code: the aim is a test that fails the day someone writes
`raise ValidationError("...")` or `<th>Amount</th>`, not a parser of every possible text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("breaches", "suppliers", "notifications", "tracing", "documents", "config")
TEMPLATE_DIRS = (ROOT / "templates", *(ROOT / app / "templates" for app in APPS))

# Text that reads the same in every language: codes, units, formats, brand names.
NEUTRAL = re.compile(
    r"^(?:CSV|XLSX|PDF|API|JSON|REST|URL|ISO|CNY|USD|EUR|IANA|HMAC|SHA-256|TOTP|QR|MFA|"
    r"OpenAPI|Swagger|ReDoc|YYYY-MM-DD|HH:MM|PNG|JPEG|TIFF|ZIP|ID|px|MB|KB|GB|"
    r"admin|django|https?|www|e\.g)$",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label"}
PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.replace(PLACEHOLDER, " ")) if not NEUTRAL.match(w)]


def template_files() -> Iterator[Path]:
    for directory in TEMPLATE_DIRS:
        if directory.is_dir():
            yield from sorted(p for p in directory.rglob("*") if p.suffix in {".html", ".txt"})


def _template_text(source: str) -> str:
    """The template's source with every tag and variable replaced by a placeholder, and
    what translate blocks, comments, scripts and styles hold taken out."""
    from django.template.base import Lexer, TokenType

    pieces: list[str] = []
    skipping: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if skipping:
                if name == skipping:
                    skipping = None
            elif name in {"blocktranslate", "blocktrans"}:
                skipping = "endblocktranslate" if name == "blocktranslate" else "endblocktrans"
            elif name == "comment":
                skipping = "endcomment"
            # Keep the line count so that findings point at the right line.
            pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
            continue
        if skipping:
            pieces.append("\n" * token.contents.count("\n"))
            continue
        if token.token_type == TokenType.TEXT:
            pieces.append(token.contents)
        else:
            pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
    return "".join(pieces)


class _ReadText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and _words(value):
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and _words(data):
            self.found.append((self.getpos()[0], data.strip()))


def template_findings(source: str, name: str) -> list[Finding]:
    """Unmarked text in one template's source (`name` ending in .txt: a plain-text one)."""
    text = _template_text(source)
    if name.endswith(".txt"):
        return [
            Finding(name, number, line.strip().replace(PLACEHOLDER, "…"))
            for number, line in enumerate(text.splitlines(), start=1)
            if _words(line)
        ]
    parser = _ReadText()
    parser.feed(text)
    parser.close()
    return [Finding(name, line, value.replace(PLACEHOLDER, "…")) for line, value in parser.found]


def unmarked_template_strings() -> list[Finding]:
    findings = []
    for path in template_files():
        relative = str(path.relative_to(ROOT))
        findings.extend(template_findings(path.read_text(encoding="utf-8"), relative))
    return findings


# --- Python ------------------------------------------------------------------------------

REFUSALS = {
    "ValidationError",
    "PermissionDenied",
    "NotFound",
    "ParseError",
    "AuthenticationFailed",
    "NotAuthenticated",
    "Http404",
    "Conflict",
    "TransitionNotAllowed",
    "RowError",
    "SuspiciousOperation",
}
MESSAGE_FUNCTIONS = {"success", "info", "warning", "error", "debug", "add_message"}
LABEL_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "empty_label",
    "violation_error_message",
    "message",
    "detail",
}
TRANSLATORS = {
    "_",
    "gettext",
    "gettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "format_lazy",
}


def python_files() -> Iterator[Path]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            yield path


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_read_text(node: ast.expr | None) -> bool:
    """A literal with words, an f-string, or a concatenation or % of them: text that is
    not marked (a call to gettext is marked; a variable is judged where it was written)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _words(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _is_read_text(node.left)
    if isinstance(node, ast.Call) and _name(node.func) == "format":
        return _is_read_text(node.func.value) if isinstance(node.func, ast.Attribute) else False
    return False


def _is_text_choices(node: ast.ClassDef) -> bool:
    return any(_name(base) in {"TextChoices", "IntegerChoices", "Choices"} for base in node.bases)


def unmarked_python_strings() -> list[Finding]:
    findings = []
    for path in python_files():
        relative = str(path.relative_to(ROOT))
        findings.extend(python_findings(path.read_text(encoding="utf-8"), relative))
    return findings


def python_findings(source: str, name: str) -> list[Finding]:
    """Unmarked refusals, messages and labels in one Python module's source."""
    findings: list[Finding] = []
    tree = ast.parse(source, filename=name)

    def flag(node: ast.expr) -> None:
        findings.append(Finding(name, node.lineno, ast.unparse(node)[:120]))

    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and _is_text_choices(node):
            for statement in node.body:
                value = getattr(statement, "value", None)
                if isinstance(value, ast.Tuple) and len(value.elts) >= 2:
                    label = value.elts[-1]
                    if isinstance(label, ast.Constant) and isinstance(label.value, str):
                        flag(label)
        if not isinstance(node, ast.Call):
            continue
        called = _name(node.func)
        if called in TRANSLATORS:
            continue
        if called in REFUSALS or (
            called in MESSAGE_FUNCTIONS
            and isinstance(node.func, ast.Attribute)
            and _name(node.func.value) == "messages"
        ):
            arguments = node.args[1:] if called in MESSAGE_FUNCTIONS else node.args[:1]
            for argument in arguments:
                if _is_read_text(argument):
                    flag(argument)
                if isinstance(argument, ast.Dict):
                    for value in argument.values:
                        if _is_read_text(value):
                            flag(value)
        for keyword in node.keywords:
            if keyword.arg in LABEL_KEYWORDS and _is_read_text(keyword.value):
                flag(keyword.value)
    return findings


if __name__ == "__main__":  # pragma: no cover - a developer's listing
    import os
    import sys

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    django.setup()
    found = unmarked_template_strings() + unmarked_python_strings()
    for finding in found:
        print(finding)
    print(f"{len(found)} unmarked", file=sys.stderr)
