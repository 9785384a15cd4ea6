"""Browser actions of leak tracing: upload a master, download a master or a copy, start
a trace. The panels that show them are template tags (tracing_panels); every act is a
service call, and refusals come back as a message on the page the form was on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from breaches.selectors import incidents_visible_to
from config.security import client_address
from suppliers.models import ConfidentialAsset, Disclosure
from suppliers.selectors import assets_visible_to, disclosures_visible_to
from suppliers.ui import redirect_back

from . import services
from .models import DisclosureCopy
from .selectors import copies_visible_to, masters_visible_to


def _refusal(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(str(m) for errors in exc.message_dict.values() for m in errors)
    return " ".join(str(m) for m in exc.messages)


@login_required
@require_POST
def master_add(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(
        assets_visible_to(request.user, ConfidentialAsset.objects.all()), pk=pk
    )
    upload = request.FILES.get("file")
    fallback = reverse("dashboard")
    if upload is None:
        messages.error(request, _("Choose a file to upload; nothing changed."))
        return redirect_back(request, fallback)
    try:
        master = services.master_file_add(actor=request.user, asset=asset, upload=upload)
    except ValidationError as exc:
        messages.error(request, _("Not uploaded: %(why)s") % {"why": _refusal(exc)})
    else:
        messages.success(
            request,
            _("Master file %(name)s added; each recipient's copy is being made.")
            % {"name": master.filename},
        )
    return redirect_back(request, fallback)


@login_required
@require_GET
def master_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    master = get_object_or_404(masters_visible_to(request.user), asset=pk, pk=file_id)
    try:
        return services.master_file_response(master)
    except FileNotFoundError as exc:
        raise Http404 from exc


@login_required
@require_GET
def copy_download(request: HttpRequest, pk: int, copy_id: int) -> HttpResponse:
    disclosure = get_object_or_404(
        disclosures_visible_to(request.user, Disclosure.objects.all()), pk=pk
    )
    copy = get_object_or_404(
        copies_visible_to(request.user).select_related("master"), disclosure=disclosure, pk=copy_id
    )
    try:
        return services.copy_download(actor=request.user, copy=copy, ip=client_address(request))
    except (DisclosureCopy.DoesNotExist, FileNotFoundError) as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return redirect_back(request, reverse("dashboard"))


@login_required
@require_POST
def trace_create(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(incidents_visible_to(request.user), pk=pk)
    back = reverse("breaches:incident-detail", args=[incident.pk]) + "#traces"
    upload = request.FILES.get("file")
    asset = None
    asset_id = request.POST.get("asset", "")
    if asset_id:
        if not asset_id.isascii() or not asset_id.isdigit():
            messages.error(request, _("Choose an asset from the list; nothing changed."))
            return redirect_back(request, back)
        asset = incident.assets.filter(pk=int(asset_id)).first()
        if asset is None:
            messages.error(request, _("Choose an asset of this incident; nothing changed."))
            return redirect_back(request, back)
    if upload is None:
        messages.error(request, _("Choose the leaked file to trace; nothing changed."))
        return redirect_back(request, back)
    try:
        services.trace_create(actor=request.user, upload=upload, incident=incident, asset=asset)
    except ValidationError as exc:
        messages.error(request, _("Not traced: %(why)s") % {"why": _refusal(exc)})
    else:
        messages.success(request, _("Tracing started: the result appears below when it is in."))
    return redirect(back)
