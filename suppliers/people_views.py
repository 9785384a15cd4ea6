"""People: the accounts compliance staff manage (supplier users; admins every account),
and each person's own settings (password, language, time zone). Writes go through
suppliers.services; mail goes through Django's password-reset machinery."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import i18n as i18n_views
from django.views.decorators.http import require_http_methods, require_POST

from suppliers import services
from suppliers.choices import Language, Role
from suppliers.filtersets import UserFilter
from suppliers.forms import InviteForm, SettingsForm
from suppliers.models import User
from suppliers.ui import capped_count, error_text, paginate, sort_queryset, submit_form

USER_SORTS = {
    "username": ("username", "id"),
    "email": ("email", "id"),
    "supplier": ("supplier__name", "username", "id"),
    "role": ("role", "username", "id"),
    "joined": ("date_joined", "id"),
    "last_login": ("last_login", "id"),
}


def accounts_managed_by(user) -> QuerySet:
    """The accounts `user` may manage: every one for an admin, supplier users' for
    compliance staff, none for anyone else (services.require_account_manager)."""
    if user.is_active and user.role == Role.ADMIN:
        return User.objects.all()
    if user.can_write:
        return User.objects.filter(role=Role.SUPPLIER)
    raise PermissionDenied(_("Only administrators and compliance staff manage accounts."))


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    queryset = accounts_managed_by(request.user).select_related("supplier")
    user_filter = UserFilter(request.GET or None, queryset=queryset, request=request)
    ordered, sorting = sort_queryset(request, user_filter.qs, USER_SORTS, ("-date_joined", "-id"))
    count, count_more = capped_count(user_filter.qs)
    return render(
        request,
        "suppliers/user_list.html",
        {
            "filter_form": user_filter.page_form(),
            "page": paginate(request, ordered),
            "sorting": sorting,
            "count": count,
            "count_more": count_more,
            "is_filtered": any(k not in ("page", "sort") for k in request.GET),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    accounts_managed_by(request.user)  # 403 for anyone who manages none
    # The invitation's language: the one this page is shown in, unless the inviter picks
    # another; a form sent without it takes the browser's (DESIGN 11).
    initial = {"language": services.language_from_header(translation.get_language())}
    supplier_id = request.GET.get("supplier", "")
    if supplier_id.isdigit():
        initial["supplier"] = int(supplier_id)
    form = InviteForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        browser = services.language_from_header(request.headers.get("Accept-Language"))
        done = submit_form(
            request,
            form,
            lambda data: services.user_invite(
                actor=request.user, **{**data, "language": data.get("language") or browser}
            ),
            success=lambda user: (
                _(
                    "Account %(username)s created; an invitation to set a password went to "
                    "%(email)s."
                )
                % {"username": user.username, "email": user.email}
            ),
            detail_url=lambda user: reverse("suppliers:user-detail", args=[user.pk]),
        )
        if done is not None:
            return done
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/simple_form.html",
        {
            "form": form,
            "heading": _("Invite a user"),
            "intro": _(
                "The person gets an email with a link to choose a password; the link works "
                "once and expires after three days."
            ),
            "cancel_url": reverse("suppliers:user-list"),
            "submit_label": _("Send invitation"),
        },
        status=status,
    )


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(accounts_managed_by(request.user).select_related("supplier"), pk=pk)
    return render(
        request,
        "suppliers/user_detail.html",
        {"account": account, "is_self": account.pk == request.user.pk},
    )


@login_required
@require_POST
def user_reset(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    try:
        services.user_send_password_reset(actor=request.user, user=account)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("A link to choose a new password went to %(email)s.") % {"email": account.email},
        )
    return redirect("suppliers:user-detail", pk=account.pk)


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    active = request.POST.get("active") == "true"
    try:
        services.user_set_active(actor=request.user, user=account, active=active)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if active:
            message = _("%(username)s can sign in again.")
        else:
            message = _("%(username)s is deactivated: its sessions and API tokens ended.")
        messages.success(request, message % {"username": account.username})
    return redirect("suppliers:user-detail", pk=account.pk)


def _remember_language(response: HttpResponse, language: str) -> None:
    """The language cookie, as set_language writes it: after signing out, the sign-in
    page still speaks the person's language."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _in_language(language: str, message: str) -> str:
    with translation.override(language):
        return _(message)


@login_required
@require_http_methods(["GET", "POST"])
def my_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in person's language, time zone and password."""
    user = request.user
    settings_form = SettingsForm(
        request.POST if request.POST.get("form") == "settings" else None,
        initial={"language": user.language, "time_zone": user.time_zone},
    )
    password_form = PasswordChangeForm(
        user, request.POST if request.POST.get("form") == "password" else None
    )
    # Django's form takes the focus to the old password; this page opens on both forms.
    password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    if request.method == "POST":
        if settings_form.is_bound:
            done = submit_form(
                request,
                settings_form,
                lambda data: services.user_update_settings(actor=user, user=user, **data),
                # Said in the language just chosen, which the next page speaks.
                success=lambda saved: _in_language(
                    saved.language, gettext_noop("Your settings were saved.")
                ),
                detail_url=reverse("suppliers:my-settings"),
            )
            if done is not None:
                if done.status_code == 302:
                    _remember_language(done, settings_form.cleaned_data["language"])
                return done
        elif password_form.is_valid():
            password_form.save()
            # This session stays signed in; the others end (the hash changed) and the
            # API tokens are revoked (config.security).
            update_session_auth_hash(request, password_form.user)
            messages.success(request, _("Your password was changed."))
            return redirect("suppliers:my-settings")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "suppliers/my_settings.html",
        {"settings_form": settings_form, "password_form": password_form},
        status=status,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's set_language (the language cookie, then back to
    `next`), and for a signed-in person its `language` too, which pages follow
    (config.middleware.PersonalLocaleMiddleware would otherwise put the old one back)."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in Language.values and language != user.language:
        services.user_update_settings(
            actor=user, user=user, language=language, time_zone=user.time_zone
        )
    return response
