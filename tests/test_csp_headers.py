"""config.headers.CSPMiddleware gives every response the headers django-csp's own
middleware gives it, building the site policy once."""

from __future__ import annotations

import pytest
from django.test import override_settings

from config import headers
from tests.apiclients import client_for

pytestmark = pytest.mark.django_db

LIBRARY = "csp.middleware.CSPMiddleware"
OURS = "config.headers.CSPMiddleware"
PATHS = ["/api/v1/incidents/", "/api/v1/docs/", "/", "/accounts/login/", "/api/v1/nowhere/"]


def _headers(settings, middleware: str, user, path: str) -> dict[str, str | None]:
    stack = [m if m != OURS else middleware for m in settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=stack):
        client = client_for()
        client.force_login(user)  # a session: pages and the API alike
        response = client.get(path)
    return {
        name: response.headers.get(name)
        for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
    }


@pytest.mark.parametrize("path", PATHS)
def test_headers_equal_the_librarys(settings, compliance_user, path):
    ours = _headers(settings, OURS, compliance_user, path)
    assert ours["Content-Security-Policy"], path
    assert ours == _headers(settings, LIBRARY, compliance_user, path)


def test_report_only_policy_and_exclusions_follow_the_settings(settings, compliance_user):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'none'"], "report-uri": "/csp-report/"},
        "EXCLUDE_URL_PREFIXES": ["/api/v1/suppliers/"],
    }
    for path in ("/api/v1/incidents/", "/api/v1/suppliers/"):
        ours = _headers(settings, OURS, compliance_user, path)
        assert ours == _headers(settings, LIBRARY, compliance_user, path)
    assert (
        _headers(settings, OURS, compliance_user, "/api/v1/incidents/")[
            "Content-Security-Policy-Report-Only"
        ]
        == "default-src 'none'; report-uri /csp-report/"
    )
    assert (
        _headers(settings, OURS, compliance_user, "/api/v1/suppliers/")[
            "Content-Security-Policy-Report-Only"
        ]
        is None
    )


def test_the_policy_is_built_once_until_the_settings_change(settings, compliance_user, monkeypatch):
    built = []
    original = headers.build_policy

    def counting(**kwargs):
        built.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(headers, "build_policy", counting)
    headers._built = None
    client = client_for(compliance_user, token=True)
    for _ in range(3):
        assert "default-src 'self'" in client.get("/api/v1/incidents/")["Content-Security-Policy"]
    assert len(built) == 2  # the policy and the report-only one, once
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/api/v1/incidents/")["Content-Security-Policy"] == "default-src 'none'"
