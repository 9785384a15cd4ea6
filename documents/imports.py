"""Imports of suppliers (with their parents), contacts and NDAs from CSV or XLSX
(DESIGN section 13), through suppliers.services, so that every rule of a form or the
API holds (unique names and references, ISO codes, no loops, tiers, date order).

One import is one transaction. Every row is run through its service in a savepoint of
its own; a row the service refuses is reported with its line and reason, and the rest
are still checked, so the report lists every bad row. Then:
- a dry run rolls everything back: it changes nothing, whatever the rows;
- an import with any bad row rolls everything back too (all or nothing);
- an import with no bad row commits.

File format: one kind per file (or per worksheet: a workbook may hold the sheets
`suppliers`, `contacts` and `ndas`), a header row, then one row per record. Suppliers,
contacts and NDAs name their supplier and parent by name; a parent is either already
registered or a row above its sub-vendors in the same file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.exceptions import Conflict
from suppliers import services
from suppliers.models import Supplier

KINDS = ("suppliers", "contacts", "ndas")
COLUMNS: dict[str, dict[str, bool]] = {  # column: required
    "suppliers": {"name": True, "country": True, "parent": False, "status": False},
    "contacts": {
        "supplier": True,
        "name": True,
        "email": True,
        "role": False,
        "receives_reminders": False,
    },
    "ndas": {
        "reference": True,
        "supplier": True,
        "signed_on": True,
        "effective_from": True,
        "expires_on": False,
        "covers_subvendors": False,
        "flow_down_required": False,
        "penalty_amount": True,
        "penalty_currency": False,
        "rectification_days": False,
    },
}
MAX_ROWS = 100_000
TRUE = frozenset({"true", "yes", "y", "1", "x"})
FALSE = frozenset({"false", "no", "n", "0", ""})


class RowError(Exception):
    """A cell that cannot be read (a date, an amount, a yes/no, a missing value)."""


@dataclass
class BadRow:
    line: int
    reasons: list[str]


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_rows and not self.file_errors

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run


# --- Reading files -------------------------------------------------------------------


def read_rows(content: bytes, filename: str, kind: str) -> Iterator[tuple[int, dict]]:
    """(line, {column: value}) of a CSV (UTF-8, a byte-order mark allowed, comma or
    semicolon) or XLSX file (the sheet named `kind`, else the first)."""
    if filename.lower().endswith(".xlsx"):
        yield from _xlsx_rows(content, kind)
    else:
        yield from _csv_rows(content)


def _clean_header(names) -> list[str]:
    return [str(name or "").strip().lower().replace(" ", "_") for name in names]


def _csv_rows(content: bytes) -> Iterator[tuple[int, dict]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RowError(_("The file is not UTF-8 text: save it as CSV UTF-8.")) from None
    sample = text[:4096]
    dialect = csv.excel
    if sample.count(";") > sample.count(","):
        dialect = type("Semicolon", (csv.excel,), {"delimiter": ";"})
    reader = csv.reader(io.StringIO(text), dialect)
    header = _clean_header(next(reader, []))
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        yield reader.line_num, dict(zip(header, values, strict=False))


def _xlsx_rows(content: bytes, kind: str) -> Iterator[tuple[int, dict]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a file that is not a workbook
        raise RowError(_("The file is not an XLSX workbook.")) from None
    sheet = book[kind] if kind in book.sheetnames else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = _clean_header(next(rows, ()))
    for line, values in enumerate(rows, start=2):
        if not any(value not in (None, "") for value in values):
            continue
        yield line, dict(zip(header, values, strict=False))
    book.close()


# --- Cells ---------------------------------------------------------------------------


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _required(row: dict, name: str) -> str:
    value = _text(row, name)
    if not value:
        raise RowError(_("%(column)s: a value is required.") % {"column": name})
    return value


def _bool(row: dict, name: str) -> bool:
    value = row.get(name)
    if isinstance(value, bool):
        return value
    text = _text(row, name).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(
        _("%(column)s: write yes or no, not %(value)r.") % {"column": name, "value": text}
    )


def _date(row: dict, name: str, *, required: bool) -> date | None:
    value = row.get(name)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(row, name)
    if not text:
        if required:
            raise RowError(_("%(column)s: a value is required.") % {"column": name})
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(
            _("%(column)s: write a date as YYYY-MM-DD, not %(value)r.")
            % {"column": name, "value": text}
        ) from None


def _money(row: dict, name: str) -> Decimal:
    text = _required(row, name).replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RowError(
            _("%(column)s: %(value)r is not an amount.") % {"column": name, "value": text}
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise RowError(_("%(column)s: an amount above zero is required.") % {"column": name})
    return amount.quantize(Decimal("0.01"))


def _int(row: dict, name: str, default: int) -> int:
    text = _text(row, name)
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise RowError(_("%(column)s: a whole number is required.") % {"column": name})
    return int(text)


# --- Rows through the services ---------------------------------------------------------


class _Suppliers:
    """Suppliers by name (case-insensitive): those of this file and those registered."""

    def __init__(self):
        self.by_name: dict[str, Supplier] = {}
        self.failed: set[str] = set()

    def get(self, name: str, column: str) -> Supplier:
        key = name.casefold()
        if key not in self.by_name:
            found = Supplier.objects.filter(name__iexact=name).select_related("parent").first()
            if found is None:
                if key in self.failed:
                    raise RowError(
                        _("%(column)s: %(name)r is on a row with errors above.")
                        % {"column": column, "name": name}
                    )
                raise RowError(
                    _(
                        "%(column)s: no supplier is named %(name)r (a parent goes on a row "
                        "above its sub-vendors)."
                    )
                    % {"column": column, "name": name}
                )
            self.by_name[key] = found
        return self.by_name[key]


def _supplier_row(actor, row: dict, suppliers: _Suppliers) -> None:
    name = _required(row, "name")
    parent_name = _text(row, "parent")
    try:
        parent = suppliers.get(parent_name, "parent") if parent_name else None
        supplier = services.supplier_create(
            actor=actor,
            name=name,
            country=_required(row, "country"),
            parent=parent,
            status=_text(row, "status").lower() or None,
            constraints_by_database=True,
        )
    except Exception:
        suppliers.failed.add(name.casefold())
        raise
    supplier.parent = parent
    suppliers.by_name[name.casefold()] = supplier


def _contact_row(actor, row: dict, suppliers: _Suppliers) -> None:
    services.contact_create(
        actor=actor,
        supplier=suppliers.get(_required(row, "supplier"), "supplier"),
        name=_required(row, "name"),
        email=_required(row, "email"),
        role=_text(row, "role").lower() or "other",
        receives_reminders=_bool(row, "receives_reminders"),
    )


def _nda_row(actor, row: dict, suppliers: _Suppliers) -> None:
    services.nda_create(
        actor=actor,
        reference=_required(row, "reference"),
        supplier=suppliers.get(_required(row, "supplier"), "supplier"),
        signed_on=_date(row, "signed_on", required=True),
        effective_from=_date(row, "effective_from", required=True),
        expires_on=_date(row, "expires_on", required=False),
        covers_subvendors=_bool(row, "covers_subvendors"),
        flow_down_required=_bool(row, "flow_down_required"),
        penalty_amount=_money(row, "penalty_amount"),
        penalty_currency=_text(row, "penalty_currency") or "CNY",
        rectification_days=_int(row, "rectification_days", 30),
    )


HANDLERS = {"suppliers": _supplier_row, "contacts": _contact_row, "ndas": _nda_row}


def _reasons(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [
                f"{name}: {message}" if name != "__all__" else message
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        return list(exc.messages)
    if isinstance(exc, Conflict):
        return [exc.message]
    return [str(exc)]


def _check_header(kind: str, header: set[str], report: ImportReport) -> None:
    expected = COLUMNS[kind]
    missing = [name for name, required in expected.items() if required and name not in header]
    unknown = sorted(header - set(expected) - {""})
    if missing:
        report.file_errors.append(_("Missing columns: %(names)s.") % {"names": ", ".join(missing)})
    if unknown:
        report.file_errors.append(
            _("Unknown columns: %(names)s (expected: %(expected)s).")
            % {"names": ", ".join(unknown), "expected": ", ".join(expected)}
        )


def import_rows(*, actor, kind: str, rows, dry_run: bool) -> ImportReport:
    """Run `rows` ((line, {column: value}) pairs) of `kind` through the services in one
    transaction, kept only when it is not a dry run and no row is bad."""
    if kind not in HANDLERS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    services.require_writer(actor)
    report = ImportReport(kind=kind, dry_run=dry_run)
    handler = HANDLERS[kind]
    suppliers = _Suppliers()
    with transaction.atomic():
        try:
            for line, row in rows:
                if report.rows == 0:
                    _check_header(kind, set(row), report)
                    if report.file_errors:
                        break
                report.rows += 1
                if report.rows > MAX_ROWS:
                    report.file_errors.append(
                        _("More than %(max)s rows: split the file.") % {"max": f"{MAX_ROWS:,}"}
                    )
                    break
                try:
                    with transaction.atomic():
                        handler(actor, row, suppliers)
                except (RowError, ValidationError, PermissionDenied, Conflict) as exc:
                    report.bad_rows.append(BadRow(line=line, reasons=_reasons(exc)))
                else:
                    report.created += 1
        except RowError as exc:  # the file itself cannot be read
            report.file_errors.append(str(exc))
        if report.rows == 0 and not report.file_errors:
            report.file_errors.append(_("The file holds no row."))
        if not report.committed:
            transaction.set_rollback(True)
    if not report.ok and not report.dry_run:
        report.created = 0
    return report


def import_file(*, actor, kind: str, content: bytes, filename: str, dry_run: bool) -> ImportReport:
    """import_rows over a CSV or XLSX file's content."""
    return import_rows(
        actor=actor, kind=kind, rows=read_rows(content, filename, kind), dry_run=dry_run
    )
