"""DESIGN section 11: every string people read is marked for translation, and the Chinese
catalogues translate every marked string, with nothing fuzzy, and are compiled as
committed. The scanners live in tests/i18n_audit.py (`python -m tests.i18n_audit` lists
what is left); their own tests below show that they catch what they are meant to.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

from tests.i18n_audit import (
    ROOT,
    python_files,
    python_findings,
    template_files,
    template_findings,
    unmarked_python_strings,
    unmarked_template_strings,
)

CATALOGUES = sorted(
    Path(path) / "zh_Hans" / "LC_MESSAGES" / "django.po" for path in settings.LOCALE_PATHS
)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\w*\}")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _read_po(path: Path):
    with path.open("rb") as source:
        return read_po(source, abort_invalid=True)


# --- The scanners catch what they must -------------------------------------------------


def test_the_template_scanner_finds_unmarked_text_and_attributes():
    source = (
        "{% load i18n %}<h1>{% translate 'Penalties' %}</h1><p>Amount due</p>"
        '<input placeholder="Search"><td data-label="{% translate "Supplier" %}">{{ x }}</td>'
        "{% blocktranslate with n=3 %}{{ n }} items{% endblocktranslate %}"
        "<script>const words = 'not for people';</script>"
    )
    found = [finding.text for finding in template_findings(source, "page.html")]
    assert found == ["Amount due", "Search"]


def test_the_template_scanner_reads_plain_text_emails_whole():
    source = "{% load i18n %}{% translate 'Hello,' %}\nYour plan is overdue.\n{{ url }}\n"
    assert [f.text for f in template_findings(source, "mail.txt")] == ["Your plan is overdue."]


def test_the_python_scanner_finds_unmarked_refusals_labels_and_choices():
    source = """
from django.utils.translation import gettext_lazy as _
class Severity(models.TextChoices):
    LOW = "low", "Low"
    HIGH = "high", _("High")
def refuse(name):
    raise ValidationError(f"No supplier called {name}.")
def fine():
    raise ValidationError(_("Marked."))
field = forms.CharField(label="Amount", help_text=_("Marked too."))
messages.success(request, "Saved.")
"""
    found = sorted(finding.text for finding in python_findings(source, "module.py"))
    assert found == sorted(["'Low'", "f'No supplier called {name}.'", "'Amount'", "'Saved.'"])


# --- The product ---------------------------------------------------------------------


def test_every_template_marks_what_people_read():
    findings = unmarked_template_strings()
    assert not findings, "unmarked text in templates:\n" + "\n".join(map(str, findings))


def test_every_refusal_message_and_label_in_python_is_marked():
    findings = unmarked_python_strings()
    assert not findings, "unmarked text in Python:\n" + "\n".join(map(str, findings))


def test_each_app_has_its_chinese_catalogue_compiled():
    assert CATALOGUES, "no locale paths"
    for po_path in CATALOGUES:
        assert po_path.is_file(), f"missing {po_path}"
        assert po_path.with_suffix(".mo").is_file(), f"not compiled: {po_path}"


@pytest.mark.parametrize("po_path", CATALOGUES, ids=_name)
def test_the_chinese_catalogue_translates_everything_with_nothing_fuzzy(po_path):
    catalogue = _read_po(po_path)
    untranslated, fuzzy, broken = [], [], []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
        # A plural's translation may use the count its English singular leaves out
        # ("One thing happened" against "%(counter)s things happened").
        sources = (message.id,) if isinstance(message.id, str) else message.id
        wanted = [set(PLACEHOLDER.findall(source)) for source in sources]
        if any(set(PLACEHOLDER.findall(text)) not in wanted for text in strings if text):
            broken.append(message.id)
    assert not untranslated, f"{_name(po_path)}: untranslated {untranslated}"
    assert not fuzzy, f"{_name(po_path)}: fuzzy {fuzzy}"
    assert not broken, f"{_name(po_path)}: placeholders differ in {broken}"


@pytest.mark.parametrize("po_path", CATALOGUES, ids=_name)
def test_the_compiled_catalogue_says_what_its_source_says(po_path):
    """The .mo files are committed (the product runs on Python alone); each must be the
    compilation of its .po as it is now (`python scripts/compile_messages.py`)."""

    def entries(messages) -> dict:
        # Plural forms come back as tuples from a .po and lists from a .mo.
        def plain(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        def context(value):  # bytes from a .mo
            return value.decode() if isinstance(value, bytes) else value

        return {(plain(m.id), context(m.context)): plain(m.string) for m in messages if m.id}

    # Untranslated and fuzzy entries are not compiled as translations (the test above
    # fails on them); every other entry must be in the compiled file as written, and
    # nothing else.
    catalogue = _read_po(po_path)
    unsure = {
        key
        for key, message in zip(entries(catalogue), (m for m in catalogue if m.id), strict=True)
        if message.fuzzy
        or not all(message.string if isinstance(message.string, tuple) else (message.string,))
    }
    source = {key: value for key, value in entries(catalogue).items() if key not in unsure}
    with po_path.with_suffix(".mo").open("rb") as compiled_file:
        compiled = {
            key: value
            for key, value in entries(read_mo(compiled_file)).items()
            if key not in unsure
        }
    assert compiled == source, f"{_name(po_path)} is stale: run `make messages`"


def _marked_strings() -> dict[tuple, str]:
    """Every (msgid, context) the code marks, from Python and templates, with where."""
    marked: dict[tuple, str] = {}
    sources: list[tuple[str, str]] = [
        (_name(path), path.read_text(encoding="utf-8")) for path in python_files()
    ]
    for path in template_files():
        # templatize keeps the template's layout as Python-looking lines; each gettext
        # call is on one line, so the indentation (which Python would judge) goes.
        python = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        sources.append((_name(path), "\n".join(line.lstrip() for line in python.splitlines())))
    for name, text in sources:
        found = extract(
            "python", io.BytesIO(text.encode("utf-8")), keywords=KEYWORDS, comment_tags=()
        )
        for lineno, message, _comments, context in found:
            key = (message, context)
            marked.setdefault(key, f"{name}:{lineno}")
    return marked


def test_every_marked_string_is_in_a_chinese_catalogue():
    translated = set()
    for po_path in CATALOGUES:
        translated |= {(m.id, m.context) for m in _read_po(po_path) if m.id}
    missing = {key: where for key, where in _marked_strings().items() if key not in translated}
    assert not missing, "marked but in no catalogue (run `make messages`):\n" + "\n".join(
        f"{where}: {key[0]!r}" for key, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_a_string_in_two_catalogues_reads_the_same_in_both():
    """Django merges every catalogue into one at run time and the first in LOCALE_PATHS
    wins: a msgid translated two ways would silently read one way everywhere. A word
    that means two things takes a context (pgettext)."""
    seen: dict[tuple, tuple[str, object]] = {}
    differing = []
    for po_path in CATALOGUES:
        for message in _read_po(po_path):
            if not message.id:
                continue
            key = (message.id, message.context)
            if key in seen and seen[key][1] != message.string:
                differing.append(f"{key[0]!r}: {seen[key]} / {_name(po_path)} {message.string!r}")
            seen.setdefault(key, (_name(po_path), message.string))
    assert not differing, "translated two ways:\n" + "\n".join(differing)
