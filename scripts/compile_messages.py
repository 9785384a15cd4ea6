"""Compile every translation catalogue (`*/locale/*/LC_MESSAGES/django.po`) into its
`.mo` with Babel: pure Python, so no GNU gettext is needed to build or run the product.
The compiled catalogues are committed; tests/test_i18n.py checks that each one says what
its `.po` says. Run by `make messages` after extraction.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def catalogues() -> list[Path]:
    return sorted(
        path
        for path in ROOT.glob("**/locale/*/LC_MESSAGES/django.po")
        if ".venv" not in path.parts and "var" not in path.parts
    )


def compile_catalogue(po_path: Path) -> Path:
    with po_path.open("rb") as source:
        catalogue = read_po(source, abort_invalid=True)
    mo_path = po_path.with_suffix(".mo")
    with mo_path.open("wb") as target:
        # Fuzzy entries are left out, as msgfmt does: an unsure translation is no translation.
        write_mo(target, catalogue, use_fuzzy=False)
    return mo_path


def main() -> int:
    for po_path in catalogues():
        print(f"compiled {compile_catalogue(po_path).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
