"""The staff page of imports: upload a CSV or XLSX file, check it (a dry run listing
every bad row), then import it (all or nothing). Same module as the command
(documents.imports), same services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .forms import ImportForm
from .imports import COLUMNS, ImportReport, import_file


def outcome_text(report: ImportReport) -> str:
    """What a clean check or import did, in one sentence (one per kind: the kind is a
    word of the sentence, which a translator places and inflects)."""
    count = report.created
    if report.committed:
        texts = {
            "suppliers": ngettext(
                "%(count)s supplier imported.", "%(count)s suppliers imported.", count
            ),
            "contacts": ngettext(
                "%(count)s contact imported.", "%(count)s contacts imported.", count
            ),
            "ndas": ngettext("%(count)s NDA imported.", "%(count)s NDAs imported.", count),
        }
    else:
        texts = {
            "suppliers": ngettext(
                "%(count)s supplier would be imported. Choose the same file and press Import.",
                "%(count)s suppliers would be imported. Choose the same file and press Import.",
                count,
            ),
            "contacts": ngettext(
                "%(count)s contact would be imported. Choose the same file and press Import.",
                "%(count)s contacts would be imported. Choose the same file and press Import.",
                count,
            ),
            "ndas": ngettext(
                "%(count)s NDA would be imported. Choose the same file and press Import.",
                "%(count)s NDAs would be imported. Choose the same file and press Import.",
                count,
            ),
        }
    return texts[report.kind] % {"count": count}


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff import suppliers."))
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            report = import_file(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                content=upload.read(),
                filename=upload.name,
                dry_run=request.POST.get("action") != "import",
            )
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        "documents/import.html",
        {
            "form": form,
            "report": report,
            "outcome": outcome_text(report) if report is not None and report.ok else "",
            "columns": COLUMNS,
        },
        status=status,
    )
