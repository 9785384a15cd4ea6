"""The staff page of imports: upload a CSV or XLSX file, check it (a dry run listing
every bad row), then import it (all or nothing). Same module as the command
(documents.imports), same services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .forms import ImportForm
from .imports import COLUMNS, import_file


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
        {"form": form, "report": report, "columns": COLUMNS},
        status=status,
    )
