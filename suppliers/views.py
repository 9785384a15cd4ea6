"""Browser pages of the suppliers app. Every read is scoped through the selectors
(anything outside the user's world is a 404); every write goes through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from suppliers import services
from suppliers.filtersets import SupplierFilter
from suppliers.forms import AssetForm, DisclosureForm, NDAForm, SupplierForm
from suppliers.models import Supplier
from suppliers.register_views import supplier_contacts
from suppliers.selectors import (
    coverage_gaps,
    descendant_ids,
    disclosures_visible_to,
    may_see_nda,
    ndas_visible_to,
    subtree_ids,
    suppliers_visible_to,
)
from suppliers.ui import add_service_errors, capped_count, paginate, sort_queryset


def _require_writer(request: HttpRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff may change supplier records."))


def _subvendor_tree(user, supplier: Supplier) -> list[tuple[Supplier, int]]:
    """The visible sub-vendors of `supplier` in depth-first order, with their depth."""
    ids = descendant_ids(supplier.pk)
    if not ids:
        return []
    nodes = list(suppliers_visible_to(user).filter(pk__in=ids).order_by("name"))
    children: dict[int, list[Supplier]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[tuple[Supplier, int]] = []

    def walk(parent_id: int, depth: int) -> None:
        for child in children.get(parent_id, []):
            ordered.append((child, depth))
            walk(child.pk, depth + 1)

    walk(supplier.pk, 1)
    return ordered


SUPPLIER_SORTS = {
    "name": ("name", "id"),
    "country": ("country", "name", "id"),
    "tier": ("tier", "name", "id"),
    "parent": ("parent__name", "name", "id"),
    "status": ("status", "name", "id"),
}


@login_required
def supplier_list(request: HttpRequest) -> HttpResponse:
    queryset = suppliers_visible_to(request.user).select_related("parent")
    supplier_filter = SupplierFilter(request.GET or None, queryset=queryset, request=request)
    ordered, sorting = sort_queryset(request, supplier_filter.qs, SUPPLIER_SORTS, ("name", "id"))
    count, count_more = capped_count(supplier_filter.qs)
    return render(
        request,
        "suppliers/supplier_list.html",
        {
            "filter_form": supplier_filter.page_form(),
            "page": paginate(request, ordered),
            "sorting": sorting,
            "count": count,
            "count_more": count_more,
            "is_filtered": any(k not in ("page", "sort") for k in request.GET),
        },
    )


@login_required
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    supplier = get_object_or_404(suppliers_visible_to(user).select_related("parent"), pk=pk)
    parent_visible = (
        supplier.parent_id is not None
        and suppliers_visible_to(user).filter(pk=supplier.parent_id).exists()
    )
    disclosures = list(
        disclosures_visible_to(user)
        .filter(supplier=supplier)
        .select_related("asset", "nda")
        .order_by("-disclosed_on", "-id")
    )
    for disclosure in disclosures:
        # A sub-vendor's user does not see the parent's agreement it received under.
        nda = disclosure.nda
        disclosure.nda_shown = (
            nda if nda is not None and may_see_nda(user, nda.supplier_id) else None
        )
    context = {
        "supplier": supplier,
        "parent_visible": parent_visible,
        "tree": _subvendor_tree(user, supplier),
        "ndas": ndas_visible_to(user).filter(supplier=supplier).order_by("-effective_from"),
        "disclosures": disclosures,
        # The watermark fingerprint is the buyer's secret: a recipient that knows its mark
        # knows what to strip.
        "show_fingerprints": user.is_buyer_staff,
        "can_write": user.can_write,
        "contacts": supplier_contacts(user, supplier),
    }
    if user.is_buyer_staff:
        # Gaps name parents' agreements, so only the buyer's staff see them.
        subtree = Supplier.objects.filter(pk__in=subtree_ids(supplier.pk))
        context["gaps"] = coverage_gaps(suppliers=subtree)
    return render(request, "suppliers/supplier_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def supplier_create(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    form = SupplierForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Supplier %(name)s registered (tier %(tier)s). Add its contacts below so "
                    "that its reminders reach them."
                )
                % {"name": supplier.name, "tier": supplier.tier},
            )
            return redirect("suppliers:detail", pk=supplier.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "suppliers/supplier_form.html", {"form": form, "supplier": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(suppliers_visible_to(request.user), pk=pk)
    _require_writer(request)
    form = SupplierForm(request.POST or None, user=request.user, instance=supplier)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_update(
                actor=request.user, supplier=supplier, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Supplier %(name)s saved.") % {"name": supplier.name})
            return redirect("suppliers:detail", pk=supplier.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/supplier_form.html",
        {"form": form, "supplier": supplier},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def nda_create(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(suppliers_visible_to(request.user), pk=pk)
    _require_writer(request)
    form = NDAForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            nda = services.nda_create(actor=request.user, supplier=supplier, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("NDA %(reference)s recorded for %(supplier)s.")
                % {"reference": nda.reference, "supplier": supplier.name},
            )
            return redirect("suppliers:nda-detail", pk=nda.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "supplier": supplier,
            "heading": _("New NDA for %(supplier)s") % {"supplier": supplier.name},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_create(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(suppliers_visible_to(request.user), pk=pk)
    _require_writer(request)
    form = DisclosureForm(request.POST or None, user=request.user, supplier=supplier)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = services.disclosure_create(
                actor=request.user, supplier=supplier, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Disclosure of %(asset)s recorded; watermark the copy with fingerprint "
                    "%(fingerprint)s."
                )
                % {"asset": disclosure.asset.code, "fingerprint": disclosure.fingerprint},
            )
            return redirect("suppliers:detail", pk=supplier.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "supplier": supplier,
            "heading": _("New disclosure to %(supplier)s") % {"supplier": supplier.name},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def asset_create(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    form = AssetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            asset = services.asset_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Confidential asset %(code)s registered.") % {"code": asset.code}
            )
            return redirect("suppliers:asset-detail", pk=asset.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/simple_form.html",
        {"form": form, "supplier": None, "heading": _("New confidential asset")},
        status=status,
    )
