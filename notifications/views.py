"""Browser pages: the user's notifications (mark read, open, mark all read) and the
mail settings. Only ever the user's own rows: another's id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from suppliers.ui import paginate

from . import services
from .choices import EventType
from .describe import describe
from .forms import PreferencesForm, kinds_for
from .models import NotificationPreference
from .selectors import notifications_for


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    queryset = notifications_for(request.user)
    if request.GET.get("unread") == "1":
        queryset = queryset.filter(read_at__isnull=True)
    page = paginate(request, queryset)
    rows = [{"notification": n, **describe(n.event, viewer=request.user)} for n in page]
    return render(
        request,
        "notifications/list.html",
        {"page": page, "rows": rows, "unread_only": request.GET.get("unread") == "1"},
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read and go to the object it is about."""
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    path = notification.event.path
    if not path or not url_has_allowed_host_and_scheme(path, allowed_hosts=None):
        path = "/notifications/"
    return HttpResponseRedirect(path)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d marked read.") % {"count": count})
    return redirect("notifications:list")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    kinds = [value for value, _label in kinds_for(request.user)]
    preference = NotificationPreference.objects.filter(user=request.user).first()
    email_off = set(preference.email_off) if preference else set()
    initial = {"email_on": [k for k in kinds if k not in email_off]}
    form = PreferencesForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = set(form.cleaned_data["email_on"])
        # Kinds not offered to this user keep what they were.
        off = (email_off - set(kinds)) | {k for k in kinds if k not in chosen}
        services.preferences_set(user=request.user, email_off=sorted(off))
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "has_email": bool(request.user.email), "kinds": EventType},
    )
