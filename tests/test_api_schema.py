"""The OpenAPI document: valid, complete (every contract endpoint and action, with
request and response bodies), and the interactive docs served from local files only."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = {
    ("/api/v1/suppliers/", "get"),
    ("/api/v1/suppliers/", "post"),
    ("/api/v1/suppliers/{id}/", "delete"),
    ("/api/v1/contacts/", "get"),
    ("/api/v1/ndas/", "get"),
    ("/api/v1/assets/", "get"),
    ("/api/v1/disclosures/", "get"),
    ("/api/v1/incidents/", "get"),
    ("/api/v1/incidents/{id}/", "patch"),
    ("/api/v1/incidents/{id}/transition/", "post"),
    ("/api/v1/incidents/{id}/events/", "get"),
    ("/api/v1/incidents/{id}/evidence/", "get"),
    ("/api/v1/incidents/{id}/evidence/", "post"),
    ("/api/v1/incidents/{id}/suspects/", "get"),
    ("/api/v1/incidents/{id}/notes/", "post"),
    ("/api/v1/incidents/{id}/liability/", "post"),
    ("/api/v1/evidence/{id}/download/", "get"),
    ("/api/v1/penalties/", "get"),
    ("/api/v1/penalties/{id}/transition/", "post"),
    ("/api/v1/penalties/{id}/payments/", "post"),
    ("/api/v1/penalties/{id}/acknowledge/", "post"),
    ("/api/v1/rectification-plans/", "get"),
    ("/api/v1/rectification-plans/{id}/transition/", "post"),
    ("/api/v1/rectification-actions/", "post"),
    ("/api/v1/rectification-actions/{id}/complete/", "post"),
    ("/api/v1/reminders/", "get"),
    ("/api/v1/users/", "get"),
    ("/api/v1/users/{id}/", "delete"),
    ("/api/v1/reports/coverage-gaps/", "get"),
    ("/api/v1/reports/summary/", "get"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/token/", "delete"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200, response.content
    return response.json()


def test_schema_is_valid_openapi(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document


def test_schema_documents_every_contract_endpoint(schema):
    documented = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    missing = CONTRACT_PATHS - documented
    assert not missing, sorted(missing)
    # Nothing writes to reminders, and plans are created by confirmation only.
    assert ("/api/v1/reminders/", "post") not in documented
    assert ("/api/v1/rectification-plans/", "post") not in documented


def _ref(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("path", "states"),
    [
        ("/api/v1/incidents/{id}/transition/", {"investigating", "confirmed", "closed"}),
        ("/api/v1/penalties/{id}/transition/", {"issued", "disputed", "waived"}),
        ("/api/v1/rectification-plans/{id}/transition/", {"submitted", "changes_requested"}),
    ],
)
def test_transitions_document_their_request_and_response(schema, path, states):
    op = schema["paths"][path]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    request = _ref(schema, body["$ref"])
    assert request["required"] == ["to"]
    to = request["properties"]["to"]
    enum = _ref(schema, to["$ref"])["enum"] if "$ref" in to else to["enum"]
    assert states <= set(enum)
    assert "note" in request["properties"]
    assert {"200", "409"} <= set(op["responses"])


def test_money_and_status_shapes(schema):
    penalty = schema["components"]["schemas"]["Penalty"]["properties"]
    for field in ("amount", "paid_amount", "outstanding"):
        assert penalty[field]["type"] == "string"
        assert penalty[field]["format"] == "decimal"
    assert penalty["status"]["readOnly"] is True
    assert schema["components"]["schemas"]["Supplier"]["properties"]["tier"]["readOnly"] is True
    disclosure = schema["components"]["schemas"]["Disclosure"]["properties"]
    assert disclosure["fingerprint"]["readOnly"] is True
    assert "password" not in schema["components"]["schemas"]["User"]["properties"]
    assert "password" in schema["components"]["schemas"]["UserRequest"]["properties"]


def test_evidence_upload_is_multipart(schema):
    op = schema["paths"]["/api/v1/incidents/{id}/evidence/"]["post"]
    assert set(op["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"201", "400", "413"} <= set(op["responses"])


def test_lists_are_cursor_paginated_with_page_size(schema):
    for path in ("/api/v1/incidents/", "/api/v1/penalties/", "/api/v1/reminders/"):
        params = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"cursor", "page_size", "status"} <= params, (path, params)


def test_spectacular_validates_without_warnings(tmp_path):
    # The same as `manage.py spectacular --validate --fail-on-warn`.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi:")


def test_docs_are_served_from_local_files_only(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200, response.content
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert url.startswith(("/static/", "/api/v1/")), url
    assert "<script>" not in html  # the initialiser is a file too (no inline script)
    # The single inline style is allowed by its hash in the page's CSP, nothing else.
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"'sha256-{digest}'" in csp, csp
    assert "unsafe-inline" not in csp
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
