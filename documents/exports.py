"""Exports of every API list as CSV or XLSX (DESIGN section 13): `?format=csv|xlsx` (or
`Accept: text/csv`, the XLSX media type) on any list under /api/v1/.

One mechanism for every list: ExportMixin, a base of the viewsets (config.rest). An
export is the list itself without its pages: the viewset's own queryset
(`filter_queryset(get_queryset())`: the caller's scope and the current filters and
ordering) and the viewset's own row shape (its list serializer, or the rows the
incident list reads), so the columns are the field names of the JSON list and nothing a
user may not see in the JSON (internal fields, fingerprints) reaches its file.

Memory stays constant whatever the size:
- CSV is streamed (StreamingHttpResponse) over `QuerySet.iterator(chunk_size=...)`: one
  chunk of rows is in memory at a time, and the first bytes leave after the first chunk.
  The rows are read in one transaction (in_one_transaction): outside one, Django
  declares PostgreSQL's server-side cursor WITH HOLD, and PostgreSQL materializes a held
  cursor's whole result when the statement's transaction commits, so a million rows
  were read before the first byte (docs/benchmarks.md).
- XLSX is written by XlsxWriter in its `constant_memory` mode (one row in memory, strings
  written inline) into an anonymous temporary file, which is then streamed in blocks
  (FileResponse). A ZIP's directory comes last, so the file is complete before its first
  byte; a list longer than a worksheet (1,048,575 rows) is refused with a 400 naming CSV.

Spreadsheet formulas: a CSV cell starting with = + - @ (or a tab or carriage return) is
prefixed with a quote, so that a spreadsheet shows it as text instead of running it
(CSV injection); XLSX cells are written as strings, never as formulas.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

import orjson
import xlsxwriter
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer

from config.iteration import batched
from suppliers.selectors import may_see_fingerprints

CHUNK_ROWS = 1000
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Field names that carry a fingerprint or a code derived from one (DESIGN section 7):
# left out of an empty export's header for those who may not see them, as the list
# serializers leave them out of each row.
FINGERPRINT_FIELDS = frozenset({"fingerprint", "leak_fingerprint"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Money that a spreadsheet's number (a double) still holds to the cent.
MAX_EXACT_DIGITS = 15


class ExportRenderer(BaseRenderer):
    """Selects an export by `?format=` or Accept for a list. The rows are written by
    ExportMixin, streamed; this renderer only ever renders an error (as JSON: see
    ExportMixin.handle_exception), so it is never called with a list."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return orjson.dumps(data, default=str)


class CSVRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(ExportRenderer):
    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None


EXPORT_RENDERERS = (CSVRenderer, XLSXRenderer)


def neutralise(text: str) -> str:
    """A cell a spreadsheet would read as a formula, made text (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(value) -> str:
    """A JSON list value as one cell: lists of ids joined, nested objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if all(isinstance(item, str | int) and not isinstance(item, bool) for item in value):
            return ", ".join(str(item) for item in value)
        return orjson.dumps(value, default=str).decode()
    if isinstance(value, dict):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def in_one_transaction(rows: Iterable) -> Iterator:
    """The rows, read inside one transaction that lasts until the last row or until the
    response is closed (a client that goes away closes the generator). A read of one
    consistent snapshot, and a server-side cursor that streams."""
    with transaction.atomic():
        yield from rows


class _Line:
    """csv.writer's file: hands back each written line instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(columns: list[str], rows: Iterable[dict]) -> Iterator[bytes]:
    """The CSV file, UTF-8 with a byte-order mark (so that a spreadsheet reads Chinese
    names right), one block of bytes per CHUNK_ROWS rows."""
    writer = csv.writer(_Line())
    yield ("\ufeff" + writer.writerow(columns)).encode()
    for chunk in batched(rows, CHUNK_ROWS):
        yield "".join(
            writer.writerow([neutralise(cell_text(row.get(name))) for name in columns])
            for row in chunk
        ).encode()


def _column_kinds(serializer_fields: dict, columns: list[str]) -> dict[str, str]:
    kinds = {}
    for name in columns:
        field = serializer_fields.get(name)
        if isinstance(field, serializers.DecimalField):
            kinds[name] = "money"
        elif isinstance(field, serializers.DateField):
            kinds[name] = "date"
    return kinds


def write_xlsx(
    file, columns: list[str], rows: Iterable[dict], kinds: dict[str, str], title: str
) -> int:
    """Write the rows to `file` as one worksheet (XlsxWriter, constant memory) and
    return how many there were. Money as numbers (to the cent), dates as dates, other
    text as text (never a formula)."""
    workbook = xlsxwriter.Workbook(
        file,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = workbook.add_worksheet(title[:31])
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.freeze_panes(1, 0)
    for index, name in enumerate(columns):
        sheet.set_column(index, index, max(10, min(40, len(name) + 2)))
    for index, name in enumerate(columns):
        sheet.write_string(0, index, name, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        if count > XLSX_MAX_ROWS:
            workbook.close()
            raise exceptions.ValidationError(
                {
                    "format": [
                        _(
                            "More rows than a worksheet holds (%(max)s): export as CSV or "
                            "narrow the filters."
                        )
                        % {"max": f"{XLSX_MAX_ROWS:,}"}
                    ]
                }
            )
        for index, name in enumerate(columns):
            value = row.get(name)
            kind = kinds.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_boolean(count, index, value)
            elif isinstance(value, int):
                sheet.write_number(count, index, value)
            elif kind == "money" and sum(c.isdigit() for c in str(value)) <= MAX_EXACT_DIGITS:
                sheet.write_number(count, index, float(value), money)
            elif kind == "date" and isinstance(value, str) and len(value) == 10:
                sheet.write_datetime(count, index, date.fromisoformat(value), day)
            else:
                sheet.write_string(count, index, cell_text(value))
    workbook.close()
    return count


def export_filename(request, extension: str) -> str:
    """`incidents-2026-12-04.csv`: the list's path segment and today's date."""
    name = request.path.rstrip("/").rsplit("/", 1)[-1] or "export"
    return f"{name}-{timezone.localdate().isoformat()}.{extension}"


class ExportMixin:
    """`?format=csv|xlsx` on a viewset's list: the whole list (no pages) as a file.

    A viewset whose list does not serialize its queryset (the incidents read plain rows)
    overrides `export_queryset` and `export_rows`; the rest need nothing."""

    export_chunk_rows = CHUNK_ROWS

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            renderers += [renderer() for renderer in EXPORT_RENDERERS]
        return renderers

    def handle_exception(self, exc):
        # An error (a bad filter, no credentials) is answered in JSON, not as a file.
        if isinstance(getattr(self.request, "accepted_renderer", None), ExportRenderer):
            from config.renderers import JSONRenderer

            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def export_requested(self, request) -> bool:
        return isinstance(getattr(request, "accepted_renderer", None), ExportRenderer)

    def list(self, request, *args, **kwargs):
        if self.export_requested(request):
            return self.export(request)
        return super().list(request, *args, **kwargs)

    # --- What is exported -------------------------------------------------------------

    def export_queryset(self):
        """The list's queryset: the caller's scope, the filters and the ordering."""
        return self.filter_queryset(self.get_queryset())

    def export_rows(self, queryset) -> Iterator[dict]:
        """The rows as the JSON list gives them, serialized a chunk at a time."""
        for chunk in batched(
            queryset.iterator(chunk_size=self.export_chunk_rows), self.export_chunk_rows
        ):
            yield from self.get_serializer(chunk, many=True).data

    def export_columns(self, first_row: dict | None) -> list[str]:
        """The JSON list's field names: those of the first row, or, with no row, the
        list serializer's readable fields less what the caller may not see."""
        if first_row is not None:
            return list(first_row)
        fields = self.get_serializer().fields
        hidden = set() if may_see_fingerprints(self.request.user) else FINGERPRINT_FIELDS
        return [
            name for name, field in fields.items() if not field.write_only and name not in hidden
        ]

    # --- The file ---------------------------------------------------------------------

    def _ordered(self, queryset):
        if not queryset.query.order_by:
            ordering = getattr(self.pagination_class, "ordering", None)
            if ordering:
                ordering = (ordering,) if isinstance(ordering, str) else ordering
                queryset = queryset.order_by(*ordering)
        return queryset

    def export(self, request):
        fmt = request.accepted_renderer.format
        if self.paginator is not None and hasattr(self.paginator, "get_page_size"):
            # The whole filtered list is exported, but a page size the list would refuse
            # is refused here too (the same 400), not silently ignored.
            self.paginator.get_page_size(request)
        queryset = self._ordered(self.export_queryset())
        rows = in_one_transaction(self.export_rows(queryset))
        first = next(rows, None)
        columns = self.export_columns(first)
        all_rows = itertools.chain([first], rows) if first is not None else iter(())
        filename = export_filename(request, fmt)
        if fmt == "csv":
            response = StreamingHttpResponse(
                csv_chunks(columns, all_rows), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
        try:
            kinds = _column_kinds(self.get_serializer().fields, columns)
            write_xlsx(file, columns, all_rows, kinds, title=filename.rsplit("-", 3)[0])
        except BaseException:
            file.close()
            raise
        file.seek(0)
        return FileResponse(
            file, as_attachment=True, filename=filename, content_type=XLSX_MEDIA_TYPE
        )
