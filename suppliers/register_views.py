"""Browser pages of the registers: contacts, NDAs, confidential assets and disclosures.
Lists filter through the model's FilterSet (the API's), sort by a column, count at most
a bounded number of the rows they select and read a page in a constant number of
queries. Every read is scoped through suppliers.selectors (outside the user's world is a
404); every write goes through suppliers.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.history import history_entries
from config.uploads import attachment_response, download_name
from suppliers import services
from suppliers.filtersets import AssetFilter, ContactFilter, DisclosureFilter, NDAFilter
from suppliers.forms import (
    AssetForm,
    ContactForm,
    DisclosureCorrectionForm,
    NDAForm,
    NDATerminateForm,
    ReasonForm,
)
from suppliers.models import NDA, Supplier
from suppliers.selectors import (
    assets_visible_to,
    contacts_visible_to,
    disclosures_visible_to,
    may_see_fingerprints,
    may_see_nda,
    ndas_visible_to,
    suppliers_visible_to,
)
from suppliers.ui import capped_count, paginate, sort_queryset, submit_form


def _require_writer(request: HttpRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff may change supplier records."))


def _list_context(request: HttpRequest, filterset, columns, default) -> dict:
    """What every register list shows: the filter form, the sorted page, a bounded count."""
    queryset, sorting = sort_queryset(request, filterset.qs, columns, default)
    form = filterset.page_form()
    count, count_more = capped_count(filterset.qs)
    return {
        "filter_form": form,
        "page": paginate(request, queryset),
        "sorting": sorting,
        "count": count,
        "count_more": count_more,
        "is_filtered": any(k not in ("page", "sort") for k in request.GET),
    }


def _render_form(request, template: str, context: dict) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    return render(request, template, context, status=status)


# --- Contacts --------------------------------------------------------------------------

CONTACT_SORTS = {
    "name": ("name", "id"),
    "email": ("email", "id"),
    "supplier": ("supplier__name", "id"),
    "role": ("role", "id"),
    "created": ("created_at", "id"),
}


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    queryset = contacts_visible_to(request.user).select_related("supplier")
    contact_filter = ContactFilter(request.GET or None, queryset=queryset, request=request)
    context = _list_context(request, contact_filter, CONTACT_SORTS, ("-created_at", "-id"))
    return render(request, "suppliers/contact_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    supplier = None
    supplier_id = request.GET.get("supplier", "")
    if supplier_id.isdigit():
        supplier = suppliers_visible_to(request.user).filter(pk=int(supplier_id)).first()
    form = ContactForm(
        request.POST or None,
        user=request.user,
        initial={"supplier": supplier.pk if supplier else None},
    )
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.contact_create(actor=request.user, **data),
            success=lambda contact: (
                _("Contact %(name)s added to %(supplier)s.")
                % {"name": contact.name, "supplier": contact.supplier.name}
            ),
            detail_url=_contact_return_url(request, form),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/contact_form.html",
        {
            "form": form,
            "contact": None,
            "supplier": supplier,
            "back_to_supplier": _back_to_supplier(request),
        },
    )


def _back_to_supplier(request: HttpRequest) -> bool:
    """Whether the form was opened from the supplier page (and returns there)."""
    return "supplier" in (request.GET.get("back"), request.POST.get("back"))


def _contact_return_url(request: HttpRequest, form) -> str:
    supplier = form.cleaned_data.get("supplier") if form.is_valid() else None
    if supplier is not None and request.POST.get("back") == "supplier":
        return reverse("suppliers:detail", args=[supplier.pk])
    return reverse("suppliers:contact-list")


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(contacts_visible_to(request.user).select_related("supplier"), pk=pk)
    _require_writer(request)
    form = ContactForm(request.POST or None, user=request.user, instance=contact)
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.contact_update(actor=request.user, contact=contact, **data),
            success=lambda c: _("Contact %(name)s saved.") % {"name": c.name},
            detail_url=_contact_return_url(request, form),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/contact_form.html",
        {
            "form": form,
            "contact": contact,
            "supplier": contact.supplier,
            "back_to_supplier": _back_to_supplier(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(contacts_visible_to(request.user).select_related("supplier"), pk=pk)
    _require_writer(request)
    if request.method == "POST":
        supplier = contact.supplier
        services.contact_delete(actor=request.user, contact=contact)
        messages.success(
            request,
            _("Contact %(name)s removed from %(supplier)s.")
            % {"name": contact.name, "supplier": supplier.name},
        )
        if request.POST.get("back") == "supplier":
            return redirect("suppliers:detail", pk=supplier.pk)
        return redirect("suppliers:contact-list")
    return render(request, "suppliers/contact_delete.html", {"contact": contact})


# --- NDAs ------------------------------------------------------------------------------

NDA_SORTS = {
    "reference": ("reference", "id"),
    "supplier": ("supplier__name", "id"),
    "effective": ("effective_from", "id"),
    "expires": ("expires_on", "id"),
    "penalty": ("penalty_currency", "penalty_amount", "id"),
}


@login_required
def nda_list(request: HttpRequest) -> HttpResponse:
    queryset = ndas_visible_to(request.user).select_related("supplier")
    nda_filter = NDAFilter(request.GET or None, queryset=queryset, request=request)
    context = _list_context(request, nda_filter, NDA_SORTS, ("-created_at", "-id"))
    return render(request, "suppliers/nda_list.html", context)


def _scoped_nda(request: HttpRequest, pk: int) -> NDA:
    return get_object_or_404(ndas_visible_to(request.user).select_related("supplier"), pk=pk)


@login_required
def nda_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _nda_detail(request, pk)


def _nda_detail(request: HttpRequest, pk: int, *, terminate_form=None) -> HttpResponse:
    nda = _scoped_nda(request, pk)
    user = request.user
    disclosures = list(
        disclosures_visible_to(user)
        .filter(nda=nda)
        .select_related("asset", "supplier")
        .order_by("-disclosed_on", "-id")[:100]
    )
    context = {
        "nda": nda,
        "disclosures": disclosures,
        "history": history_entries(nda, hidden={"signed_document"}),
        "can_write": user.can_write,
        "terminate_form": (
            terminate_form or NDATerminateForm()
            if user.can_write and nda.terminated_on is None
            else None
        ),
    }
    return render(
        request,
        "suppliers/nda_detail.html",
        context,
        status=400 if terminate_form is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def nda_new(request: HttpRequest) -> HttpResponse:
    """An NDA for any supplier (the supplier page has its own button for its own)."""
    _require_writer(request)
    form = NDAForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.nda_create(actor=request.user, **data),
            success=lambda nda: (
                _("NDA %(reference)s recorded for %(supplier)s.")
                % {"reference": nda.reference, "supplier": nda.supplier.name}
            ),
            detail_url=lambda nda: reverse("suppliers:nda-detail", args=[nda.pk]),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/simple_form.html",
        {"form": form, "heading": _("New NDA"), "cancel_url": reverse("suppliers:nda-list")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def nda_edit(request: HttpRequest, pk: int) -> HttpResponse:
    nda = _scoped_nda(request, pk)
    _require_writer(request)
    if nda.terminated_on is not None:
        messages.error(
            request,
            _("This NDA was terminated on %(day)s; its terms are no longer changed.")
            % {"day": nda.terminated_on.isoformat()},
        )
        return redirect("suppliers:nda-detail", pk=nda.pk)
    form = NDAForm(request.POST or None, request.FILES or None, user=request.user, instance=nda)
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.nda_update(actor=request.user, nda=nda, **data),
            success=_("NDA %(reference)s saved.") % {"reference": nda.reference},
            detail_url=reverse("suppliers:nda-detail", args=[nda.pk]),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "heading": _("Edit NDA %(reference)s") % {"reference": nda.reference},
            "cancel_url": reverse("suppliers:nda-detail", args=[nda.pk]),
        },
    )


@login_required
@require_POST
def nda_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    nda = _scoped_nda(request, pk)
    _require_writer(request)
    form = NDATerminateForm(request.POST)
    done = submit_form(
        request,
        form,
        lambda data: services.nda_terminate(
            actor=request.user, nda=nda, terminated_on=data["terminated_on"], reason=data["reason"]
        ),
        success=lambda n: (
            _("NDA %(reference)s terminated as of %(day)s.")
            % {"reference": n.reference, "day": n.terminated_on.isoformat()}
        ),
        detail_url=reverse("suppliers:nda-detail", args=[nda.pk]),
    )
    if done is not None:
        return done
    return _nda_detail(request, pk, terminate_form=form)


@login_required
def nda_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed document, as an attachment under a generated name (config.uploads)."""
    nda = _scoped_nda(request, pk)
    if not nda.signed_document:
        raise Http404(_("This NDA has no signed document."))
    try:
        return attachment_response(
            nda.signed_document,
            filename=download_name(
                "nda",
                nda.pk,
                nda.signed_document_sha256,
                nda.signed_document_type,
                nda.signed_document_name,
            ),
            sha256=nda.signed_document_sha256,
        )
    except FileNotFoundError:
        raise Http404(_("The stored file is missing.")) from None


# --- Assets ----------------------------------------------------------------------------

ASSET_SORTS = {
    "code": ("code", "id"),
    "name": ("name", "id"),
    "project": ("project", "id"),
    "classification": ("classification", "id"),
    "created": ("created_at", "id"),
}


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    queryset = assets_visible_to(request.user)
    asset_filter = AssetFilter(request.GET or None, queryset=queryset, request=request)
    context = _list_context(request, asset_filter, ASSET_SORTS, ("-created_at", "-id"))
    return render(request, "suppliers/asset_list.html", context)


@login_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    asset = get_object_or_404(assets_visible_to(user), pk=pk)
    disclosures = _shown_disclosures(
        user,
        disclosures_visible_to(user)
        .filter(asset=asset)
        .select_related("supplier", "nda")
        .order_by("-disclosed_on", "-id")[:200],
    )
    return render(
        request,
        "suppliers/asset_detail.html",
        {
            "asset": asset,
            "disclosures": disclosures,
            "can_write": user.can_write,
            "show_fingerprints": may_see_fingerprints(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def asset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(assets_visible_to(request.user), pk=pk)
    _require_writer(request)
    form = AssetForm(
        request.POST or None,
        initial={
            "code": asset.code,
            "name": asset.name,
            "project": asset.project,
            "classification": asset.classification,
        },
    )
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.asset_update(actor=request.user, asset=asset, **data),
            success=lambda a: _("Asset %(code)s saved.") % {"code": a.code},
            detail_url=reverse("suppliers:asset-detail", args=[asset.pk]),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "heading": _("Edit asset %(code)s") % {"code": asset.code},
            "cancel_url": reverse("suppliers:asset-detail", args=[asset.pk]),
        },
    )


# --- Disclosures -----------------------------------------------------------------------

DISCLOSURE_SORTS = {
    "asset": ("asset__code", "id"),
    "supplier": ("supplier__name", "id"),
    "disclosed": ("disclosed_on", "id"),
    "version": ("version", "id"),
}


def _shown_disclosures(user, disclosures) -> list:
    """Each disclosure with the NDA the viewer may see (a sub-vendor's user does not see
    the parent's agreement it received under)."""
    shown = list(disclosures)
    for disclosure in shown:
        nda = disclosure.nda
        disclosure.nda_shown = (
            nda if nda is not None and may_see_nda(user, nda.supplier_id) else None
        )
    return shown


@login_required
def disclosure_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    queryset = disclosures_visible_to(user).select_related("asset", "supplier", "nda")
    disclosure_filter = DisclosureFilter(request.GET or None, queryset=queryset, request=request)
    context = _list_context(request, disclosure_filter, DISCLOSURE_SORTS, ("-disclosed_on", "-id"))
    context["page"].object_list = _shown_disclosures(user, context["page"].object_list)
    context["show_fingerprints"] = may_see_fingerprints(user)
    return render(request, "suppliers/disclosure_list.html", context)


def _scoped_disclosure(request: HttpRequest, pk: int):
    return get_object_or_404(
        disclosures_visible_to(request.user).select_related(
            "asset", "supplier", "nda", "revoked_by__supplier"
        ),
        pk=pk,
    )


@login_required
def disclosure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _disclosure_detail(request, pk)


def _disclosure_detail(request: HttpRequest, pk: int, *, revoke_form=None) -> HttpResponse:
    user = request.user
    disclosure = _shown_disclosures(user, [_scoped_disclosure(request, pk)])[0]
    # Who revoked is shown as a person (person_shown); the NDA of a correction only to
    # those who may see NDAs of the parent chain.
    hidden = {"revoked_by"}
    if not may_see_fingerprints(user):
        hidden.add("nda")
    context = {
        "disclosure": disclosure,
        "history": history_entries(disclosure, hidden=hidden),
        "show_fingerprints": may_see_fingerprints(user),
        "can_write": user.can_write and not disclosure.is_revoked,
        "revoke_form": revoke_form or ReasonForm(),
    }
    return render(
        request,
        "suppliers/disclosure_detail.html",
        context,
        status=400 if revoke_form is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = _scoped_disclosure(request, pk)
    _require_writer(request)
    if disclosure.is_revoked:
        messages.error(request, _("This disclosure was revoked; it is no longer corrected."))
        return redirect("suppliers:disclosure-detail", pk=disclosure.pk)
    form = DisclosureCorrectionForm(request.POST or None, user=request.user, disclosure=disclosure)
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.disclosure_update(
                actor=request.user, disclosure=disclosure, **data
            ),
            success=_("Disclosure corrected; the change is kept on its history."),
            detail_url=reverse("suppliers:disclosure-detail", args=[disclosure.pk]),
        )
        if done is not None:
            return done
    return _render_form(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "heading": _("Correct the disclosure of %(asset)s to %(supplier)s")
            % {"asset": disclosure.asset.code, "supplier": disclosure.supplier.name},
            "cancel_url": reverse("suppliers:disclosure-detail", args=[disclosure.pk]),
        },
    )


@login_required
@require_POST
def disclosure_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = _scoped_disclosure(request, pk)
    _require_writer(request)
    form = ReasonForm(request.POST)
    done = submit_form(
        request,
        form,
        lambda data: services.disclosure_revoke(
            actor=request.user, disclosure=disclosure, reason=data["reason"]
        ),
        success=_("Disclosure revoked; it stays listed, marked revoked."),
        detail_url=reverse("suppliers:disclosure-detail", args=[disclosure.pk]),
    )
    if done is not None:
        return done
    return _disclosure_detail(request, pk, revoke_form=form)


def supplier_contacts(user, supplier: Supplier) -> list:
    """The contacts panel of a supplier page."""
    return list(contacts_visible_to(user).filter(supplier=supplier).order_by("name", "id"))
