"""The second factor (django-otp): a TOTP authenticator app, with ten single-use
recovery codes, enrolled by the user.

Anyone may enrol; admins and compliance staff must when STAFF_MFA_REQUIRED is on. After
the password, a session of a user with a second factor is not yet verified: until it is
(the verify page), and, for staff who must enrol and have not, until they have (the
enrolment page), SecondFactorMiddleware lets it reach nothing else, the Django admin and
the API (by session) included. API tokens ask for the code when they are issued
(suppliers.api.views.AuthTokenView).
"""

from __future__ import annotations

import base64
import logging
from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .choices import Role

security_log = logging.getLogger("breaches.security")

# Whether the signed-in user has a second factor, kept in its session from sign-in on so
# that pages ask no more queries than before.
SESSION_HAS_DEVICE = "mfa_has_device"
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
MUST_ENROL_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE})

VERIFY = "verify"
ENROL = "enrol"

WRONG_CODE = _(
    "That code is not right. Enter the current 6-digit code from your authenticator app, "
    "or one of your recovery codes."
)
TOO_MANY = _("Too many wrong codes: wait a minute, then try again.")
NO_CODE = _("Enter the 6-digit code from your authenticator app, or a recovery code.")
ENROL_FIRST = _(
    "Staff must set up a second factor before using the API: sign in to the pages in a "
    "browser and follow the set-up first."
)


def must_enrol(user) -> bool:
    """Admins and compliance staff must have a second factor when STAFF_MFA_REQUIRED."""
    return bool(settings.STAFF_MFA_REQUIRED and user.role in MUST_ENROL_ROLES)


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def authenticator_of(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- The session ------------------------------------------------------------------------


def remember_session_state(sender, request, user, **kwargs) -> None:
    """At sign-in (user_logged_in): note in the session whether the user has a second
    factor."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_HAS_DEVICE] = has_device(user)


def session_has_device(request: HttpRequest) -> bool:
    cached = request.session.get(SESSION_HAS_DEVICE)
    if cached is None:  # a session from before the second factor existed
        cached = request.session[SESSION_HAS_DEVICE] = has_device(request.user)
    return cached


def is_verified(request: HttpRequest) -> bool:
    check = getattr(request.user, "is_verified", None)
    return bool(check()) if check is not None else False


def pending_step(request: HttpRequest) -> str | None:
    """What the signed-in session still owes: VERIFY (the code), ENROL (staff who must
    set up a second factor), or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if session_has_device(request):
        return None if is_verified(request) else VERIFY
    return ENROL if must_enrol(user) else None


def step_url(step: str, next_url: str | None = None) -> str:
    url = reverse("mfa-verify" if step == VERIFY else "mfa-enrol")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def mark_verified(request: HttpRequest, device) -> None:
    """The session has passed its second factor with `device`."""
    request.session.cycle_key()  # a new session key with the raised privilege
    otp_login(request, device)
    request.session[SESSION_HAS_DEVICE] = True


class SecondFactorMiddleware:
    """A session that owes its second factor reaches only the verify page, sign-out and the
    language switch; one of staff who must enrol reaches only the enrolment page, sign-out
    and the language switch. Pages are
    redirected there (and back afterwards); the API (by session) answers 403. Requests
    with an Authorization header are the API token's business, not the session's."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open = None

    def _open_paths(self) -> dict[str, set[str]]:
        if self._open is None:
            # Signing out and the language switch stay open to a session half signed in.
            logout = {reverse("logout"), reverse("admin:logout"), reverse("set_language")}
            self._open = {
                VERIFY: {reverse("mfa-verify"), *logout},
                ENROL: {reverse("mfa-enrol"), *logout},
            }
        return self._open

    def __call__(self, request):
        if "HTTP_AUTHORIZATION" not in request.META:
            step = pending_step(request)
            if step is not None and request.path not in self._open_paths()[step]:
                return self.refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def refuse(request, step: str):
        if request.path.startswith("/api/"):
            if step == VERIFY:
                detail = _("Finish signing in: enter the code of your second factor first.")
                code = "second_factor_required"
            else:
                detail = _("Set up a second factor in the browser before going on.")
                code = "second_factor_enrolment_required"
            return JsonResponse({"detail": str(detail), "code": code}, status=403)
        next_url = request.get_full_path() if request.method == "GET" else None
        return redirect(step_url(step, next_url))


# --- Verification -----------------------------------------------------------------------


def verify_code(user, code: str):
    """The device that accepts `code` (a TOTP code, or a recovery code, which is then
    used up), or ValidationError saying why not. Wrong codes slow the device down
    (django-otp's throttling: 1, 2, 4... seconds)."""
    code = "".join((code or "").split()).lower()
    if not code:
        raise ValidationError(NO_CODE, code="required")
    throttled = False
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:
            devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        else:
            devices = StaticDevice.objects.filter(user=user, confirmed=True)
        for device in devices.select_for_update():
            if not device.verify_is_allowed()[0]:
                throttled = True
                continue
            if device.verify_token(code):
                return device
    security_log.warning("second factor refused user=%s", user.username)
    raise ValidationError(TOO_MANY if throttled else WRONG_CODE, code="invalid")


# --- Enrolment --------------------------------------------------------------------------


def pending_authenticator(user) -> TOTPDevice:
    """The authenticator being set up (unconfirmed): the same secret on every visit
    until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret, in groups of four, to type into an authenticator app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as a QR code: an SVG image in a data: URI (the CSP allows
    images from data:, and an <img> runs nothing)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def confirm_authenticator(user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code from it: it replaces any earlier
    one, and ten new recovery codes replace the old. Returns the device and the codes
    (shown once)."""
    code = "".join((code or "").split())
    if not code:
        raise ValidationError(NO_CODE, code="required")
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            raise ValidationError(
                _("This set-up has expired: reload the page and scan the new code."),
                code="invalid",
            )
        allowed = device.verify_is_allowed()[0]
        accepted = allowed and device.verify_token(code)
        if accepted:
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _replace_recovery_codes(user)
    if not accepted:
        raise ValidationError(TOO_MANY if not allowed else WRONG_CODE, code="invalid")
    security_log.info("second factor enrolled user=%s", user.username)
    return device, codes


def new_recovery_codes(user) -> list[str]:
    """Ten new recovery codes for a user with an authenticator; the old ones stop working."""
    if authenticator_of(user) is None:
        raise ValidationError(_("Set up an authenticator app first."), code="invalid")
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
    security_log.info("recovery codes replaced user=%s", user.username)
    return codes


def _replace_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return codes


def remove_second_factor(request: HttpRequest) -> None:
    """Remove the user's authenticator and recovery codes; refused (PermissionDenied) to
    staff who must keep one."""
    from django.core.exceptions import PermissionDenied

    user = request.user
    if must_enrol(user):
        raise PermissionDenied(
            _("Staff must keep a second factor. To change phones, set up a new authenticator.")
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[SESSION_HAS_DEVICE] = False
    security_log.info("second factor removed user=%s", user.username)
