"""Domain errors raised by services, and the API's mapping of them to HTTP statuses.

Services raise Django's ValidationError (400) and PermissionDenied (403), or the
conflicts below (409). Views never translate errors themselves.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(Exception):
    """The request is well formed but clashes with the current state (HTTP 409)."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransitionNotAllowed(Conflict):
    """A workflow transition that the current state or the rules refuse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_transition")


def validation_error_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): [str(m) for m in messages]
            for key, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


security_log = logging.getLogger("breaches.security")


def _log_refusal(exc, context) -> None:
    request = context.get("request")
    user = getattr(request, "user", None)
    security_log.warning(
        "%s %s refused (%s) for %s (role %s)",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        type(exc).__name__,
        getattr(user, "username", None) or "anonymous",
        getattr(user, "role", None) or "-",
    )


def api_exception_handler(exc, context):
    """DRF exception handler: domain errors become 400/403/409 with a JSON body, and
    nothing a client can send becomes a 500."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": _("The request body is too large."), "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation) and not isinstance(exc, PermissionDenied):
        return Response(
            {"detail": str(exc) or _("Bad request.")}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, OverflowError):
        return Response(
            {"detail": _("A number in the request is out of range.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(
        exc,
        PermissionDenied
        | drf_exceptions.PermissionDenied
        | drf_exceptions.NotAuthenticated
        | drf_exceptions.AuthenticationFailed,
    ):
        _log_refusal(exc, context)
    if isinstance(exc, DataError):
        # A value the database cannot hold (e.g. a NUL character) that validation let by.
        return Response(
            {"detail": _("The request contains a value that cannot be stored or searched.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": _("The change conflicts with existing data."), "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
