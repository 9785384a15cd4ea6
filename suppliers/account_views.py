"""The signed-in user's own account pages: the second factor (verify after the
password, set up an authenticator, recovery codes) and its API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from . import mfa, tokens
from .models import ApiToken


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("one-time code", "Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    """Where to go afterwards: `next` if it stays on this site, else the dashboard."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dashboard")


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app, or a recovery
    code (used up)."""
    next_url = _next_url(request)
    if mfa.pending_step(request) != mfa.VERIFY:
        return redirect(next_url)
    if not mfa.has_device(request.user):  # removed meanwhile (by an admin)
        request.session[mfa.SESSION_HAS_DEVICE] = False
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                device = mfa.verify_code(request.user, form.cleaned_data["code"])
            except ValidationError as exc:
                form.add_error("code", exc)
            else:
                mfa.mark_verified(request, device)
                mfa.security_log.info(
                    "second factor verified user=%s device=%s",
                    request.user.username,
                    type(device).__name__,
                )
                return HttpResponseRedirect(next_url)
    return render(
        request, "registration/second_factor.html", {"form": form, "next": next_url}, status=status
    )


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its secret and QR code, then a code from it to
    confirm; the recovery codes are shown once, on the answer to that."""
    next_url = _next_url(request)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                device, codes = mfa.confirm_authenticator(request.user, form.cleaned_data["code"])
            except ValidationError as exc:
                form.add_error("code", exc)
            else:
                mfa.mark_verified(request, device)
                return render(
                    request, "registration/recovery_codes.html", {"codes": codes, "next": next_url}
                )
    device = mfa.pending_authenticator(request.user)
    context = {
        "form": form,
        "next": next_url,
        "secret": mfa.secret_of(device),
        "qr": mfa.qr_data_uri(device),
        "required": mfa.must_enrol(request.user) and not mfa.has_device(request.user),
        "replacing": mfa.authenticator_of(request.user) is not None,
    }
    return render(request, "registration/enrol.html", context, status=status)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The user's second factor and API tokens."""
    user = request.user
    context = {
        "authenticator": mfa.authenticator_of(user),
        "recovery_left": mfa.recovery_codes_left(user),
        "must_keep": mfa.must_enrol(user),
        "tokens": list(tokens.tokens_of(user)),
    }
    return render(request, "suppliers/account_security.html", context)


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = mfa.new_recovery_codes(request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("account-security")
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "next": reverse("account-security")},
    )


@login_required
@require_POST
def remove_second_factor(request: HttpRequest) -> HttpResponse:
    mfa.remove_second_factor(request)  # PermissionDenied (403 page) for staff who must keep it
    messages.success(request, _("Your second factor was removed."))
    return redirect("account-security")


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke_token(token)
    mfa.security_log.info("API token revoked by %s (%s…)", request.user.username, token.prefix)
    messages.success(request, _("Token %(prefix)s… was revoked.") % {"prefix": token.prefix})
    return redirect("account-security")
