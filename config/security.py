"""Authentication security: django-axes' lockout response (JSON for API clients, axes'
plain message elsewhere; the login page renders its own notice) and the log of
authentication events."""

import logging

from axes.helpers import get_cool_off, get_lockout_message
from django.http import HttpResponse, JsonResponse


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    if request.path.startswith("/api/"):
        detail = "Too many failed sign-in attempts: this account is locked"
        detail += f" for {minutes} minutes." if minutes else "."
        return JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    return HttpResponse(get_lockout_message(), status=429, content_type="text/plain")


security_log = logging.getLogger("breaches.security")


def _client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "-") if request is not None else "-"


def log_login(sender, request, user, **kwargs) -> None:
    security_log.info(
        "login succeeded user=%s role=%s from=%s",
        user.username,
        user.role,
        _client_address(request),
    )


def log_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Never log the password: only the name that was tried.
    security_log.warning(
        "login failed username=%s from=%s",
        credentials.get("username", "?"),
        _client_address(request),
    )


def log_logout(sender, request, user, **kwargs) -> None:
    security_log.info(
        "logout user=%s from=%s", getattr(user, "username", "?"), _client_address(request)
    )


def connect_auth_logging() -> None:
    """Authentication events go to the `breaches.security` log (DESIGN section 8)."""
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(log_login, dispatch_uid="security-log-login")
    user_login_failed.connect(log_login_failed, dispatch_uid="security-log-login-failed")
    user_logged_out.connect(log_logout, dispatch_uid="security-log-logout")
