"""Middleware of our own."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from config.exceptions import Conflict
from config.formats import zone_named


class PrivateAnswersMiddleware:
    """An answer to a signed-in user (session or API token) is that user's alone: no
    shared cache, proxy or browser history may keep it (Cache-Control: private,
    no-store). A view that set its own Cache-Control keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # DRF sets request.user on the Django request once it has authenticated a token.
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        if (signed_in or "HTTP_AUTHORIZATION" in request.META) and not response.has_header(
            "Cache-Control"
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def process_exception(self, request, exception):
        """A conflict a page did not handle itself (two people creating the same
        reference at once) is a 409 page naming it, not a server error."""
        if isinstance(exception, Conflict) and not request.path.startswith("/api/"):
            return render(request, "409.html", {"reason": exception.message}, status=409)
        return None


class PersonalLocaleMiddleware:
    """A page speaks the signed-in person's language and shows instants in its time zone
    (DESIGN section 11). It runs after LocaleMiddleware, which has chosen the language of
    the language switch's cookie or the browser's Accept-Language, and after
    authentication; before sign-in, pages show DEFAULT_USER_TIME_ZONE.

    The API is left alone: its messages follow Accept-Language (LocaleMiddleware) and its
    instants stay ISO 8601 in UTC, whoever asks, so that integrations read one format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        if signed_in and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        # Before sign-in, and for a zone that left the tz database: the default zone.
        timezone.activate(zone_named(user.time_zone if signed_in else None))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SiteNotFoundPageMiddleware:
    """With DEBUG on (`make run`), Django answers a 404 with its technical page (the URL
    patterns, the settings module) instead of the site's handler404. This middleware,
    installed only when DEBUG and SITE_ERROR_PAGES are on, answers every non-API 404
    with the site's own page, as production does. 403 already uses handler403 under
    DEBUG, and a 500 keeps the traceback a developer needs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and not request.path.startswith(("/api/", "/static/")):
            from config.views import not_found

            return not_found(request, None)
        return response
