"""django-csp's middleware with the site's own policy built once.

The library builds both headers (the policy and the report-only one) from the settings
on every response, each through a deep copy of its parts: 11% of the CPU a bare view
costs under load. A response that brings its own policy (`csp_update`, `csp_replace`, a
config of its own) or a request that used a nonce goes through the library as before;
every other response gets the two strings the library's own `build_policy` gave for the
settings, built on first use and again whenever a test changes those settings. The
rules for setting them are the library's (django-csp 4.0): not over a header already
there, not on an exempt response or an excluded path, not on DEBUG's 404 and 500 pages.
"""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# Response attributes set by django-csp's decorators: a policy of the response's own.
_OWN_POLICY = tuple(
    f"_csp_{part}{suffix}" for part in ("config", "update", "replace") for suffix in ("", "_ro")
)
_DEBUG_PAGES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")

# (header, policy, exempt attribute, excluded path prefixes), for the policy and the
# report-only one; None until first built.
_built: list[tuple[str, str, str, tuple[str, ...]]] | None = None


def _site_policies() -> list[tuple[str, str, str, tuple[str, ...]]]:
    global _built
    if _built is None:
        found = []
        for header, name, exempt, report_only in (
            (HEADER, _SETTINGS[0], "_csp_exempt", False),
            (HEADER_REPORT_ONLY, _SETTINGS[1], "_csp_exempt_ro", True),
        ):
            policy = build_policy(report_only=report_only)
            if policy:
                excluded = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
                found.append((header, policy, exempt, tuple(excluded or ())))
        _built = found
    return _built


@receiver(setting_changed)
def _forget_policies(setting, **kwargs):
    global _built
    if setting in _SETTINGS:
        _built = None


class CSPMiddleware(LibraryCSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_PAGES and settings.DEBUG:
            return response
        for header, policy, exempt, excluded in _site_policies():
            if (
                header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As the library does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
