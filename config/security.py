"""Authentication security: the client's address, django-axes' lockout (per address
and per user name and address, each with its own limit) and its response (JSON for API
clients, axes' plain message elsewhere, always with Retry-After; the login page renders
its own notice), and the log of authentication events."""

from __future__ import annotations

import ipaddress
import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

# --- The client's address ---------------------------------------------------------------


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies that each
    append the address they saw to X-Forwarded-For, the one that many places from its
    right (what the outermost trusted proxy saw). Whatever the client wrote to the left
    of that is ignored. DRF's throttles apply the same rule (NUM_PROXIES is set to the
    same count); a value that is no address falls back to REMOTE_ADDR.

    django-axes could get this from django-ipware (AXES_IPWARE_*); one function of ours,
    used by axes (AXES_CLIENT_IP_CALLABLE) and the security log, keeps the rule identical
    to DRF's without another dependency."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if count > 0 and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        candidate = addresses[-min(count, len(addresses))]
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote
        return candidate
    return remote


# --- Lockout ----------------------------------------------------------------------------


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per lockout parameter: an address alone
    (AXES_LOCKOUT_PARAMETERS' "ip_address") is locked out after
    AXES_ADDRESS_FAILURE_LIMIT failures whatever the user names, a user name from an
    address after AXES_FAILURE_LIMIT. axes compares one count with one limit, so the
    count returned is the pairs' unless the address has reached its own limit.

    A successful sign-in clears that user name's failures from that address only, never
    the whole address's: one valid account must not reset the count of a spray."""

    ADDRESS = "ip_address"

    def get_failures(self, request, credentials=None) -> int:
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, attempts_list, strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            if parameter == self.ADDRESS:
                if failures >= settings.AXES_ADDRESS_FAILURE_LIMIT:
                    return max(failures, get_failure_limit(request, credentials))
                continue
            worst = max(worst, failures)
        return worst

    def reset_user_attempts(self, request, credentials=None) -> int:
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.filter_user_attempts(request, credentials)
        count = 0
        for parameter, attempts in zip(parameters, attempts_list, strict=True):
            if parameter != self.ADDRESS:
                count += attempts.delete()[0]
        return count


def lockout_seconds(request=None) -> int:
    """How long a lockout lasts from now: the whole cool-off, since every attempt made
    while locked out starts it again (axes' AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""
    cool_off = get_cool_off(request)
    return max(int(cool_off.total_seconds()), 1) if cool_off else 3600


def lockout_detail(request=None) -> str:
    minutes = max(lockout_seconds(request) // 60, 1)
    return str(
        _(
            "Too many failed sign-in attempts for this user name or from this address: "
            "signing in is locked for %(minutes)d minutes."
        )
        % {"minutes": minutes}
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    retry_after = str(lockout_seconds(request))
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": lockout_detail(request), "code": "locked_out"}, status=429
        )
    else:
        response = HttpResponse(lockout_detail(request), status=429, content_type="text/plain")
    response["Retry-After"] = retry_after
    return response


# --- The security log -------------------------------------------------------------------

security_log = logging.getLogger("breaches.security")


def _client_address(request) -> str:
    return (client_address(request) or "-") if request is not None else "-"


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


def revoke_tokens_on_password_change(sender, instance, created, **kwargs) -> None:
    """A new password revokes the user's API tokens (its other browser sessions end by
    Django's session hash). `_password` is set by set_password() until the save; a
    hasher upgrade at sign-in clears it first, and is no change."""
    if created or getattr(instance, "_password", None) is None:
        return
    from suppliers.tokens import revoke_user_tokens

    if revoke_user_tokens(instance):
        security_log.info("API tokens revoked: password changed user=%s", instance.username)


def keep_switched_language(sender, request, user, **kwargs) -> None:
    """The language chosen with the switch before signing in stays the person's."""
    from django.conf import settings

    from suppliers.services import user_keep_switched_language

    if request is not None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        user_keep_switched_language(user=user, language=language)


def connect_auth_logging() -> None:
    """Authentication events go to the `breaches.security` log (DESIGN section 8); a
    password change revokes API tokens; the second factor's session state starts afresh
    at each sign-in."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import post_save

    from suppliers import mfa

    user_logged_in.connect(log_login, dispatch_uid="security-log-login")
    user_login_failed.connect(log_login_failed, dispatch_uid="security-log-login-failed")
    user_logged_out.connect(log_logout, dispatch_uid="security-log-logout")
    user_logged_in.connect(mfa.remember_session_state, dispatch_uid="mfa-session-state")
    user_logged_in.connect(keep_switched_language, dispatch_uid="keep-switched-language")
    post_save.connect(
        revoke_tokens_on_password_change,
        sender=get_user_model(),
        dispatch_uid="revoke-tokens-on-password-change",
    )
