"""Content-Security-Policy (django-csp's middleware): the site policy on pages and the API
alike, no inline script anywhere, and the one page that widens it (the API docs, by
csp_update) gets exactly its style hash more."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from config.urls import SWAGGER_STYLE_HASH
from tests.apiclients import client_for

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _policy(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, (response.status_code, dict(response.headers))
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: set(sources) for name, *sources in directives}


def _site_policy() -> dict[str, set[str]]:
    return {
        name: set(sources)
        for name, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()
    }


def _signed_in(user):
    client = client_for()
    client.force_login(user)  # a session: pages and the API alike
    return client


@pytest.mark.parametrize(
    "path", ["/api/v1/incidents/", "/", "/suppliers/", "/api/v1/nowhere/", "/healthz"]
)
def test_pages_and_the_api_carry_the_site_policy(compliance_user, path):
    assert _policy(_signed_in(compliance_user).get(path)) == _site_policy()


def test_the_sign_in_page_carries_it_too():
    response = client_for().get("/accounts/login/")
    assert response.status_code == 200
    assert _policy(response) == _site_policy()


def test_no_inline_script_is_allowed_or_served(compliance_user):
    policy = _site_policy()
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    client = _signed_in(compliance_user)
    for path in ("/", "/suppliers/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not INLINE_SCRIPT.findall(response.content.decode()), path
    assert not INLINE_SCRIPT.findall(client_for().get("/accounts/login/").content.decode())


def test_the_api_docs_add_only_their_style_hash(compliance_user):
    """config.urls widens the docs page's policy with csp_update: one inline style."""
    response = _signed_in(compliance_user).get("/api/v1/docs/")
    assert response.status_code == 200
    expected = _site_policy()
    expected["style-src"] = {"'self'", SWAGGER_STYLE_HASH}
    assert _policy(response) == expected
