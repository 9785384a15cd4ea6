"""Evidence through the API: multipart upload checked by content and size, stored under
a generated name with its sha256, listed, and downloaded only as an attachment by those
who may see the incident."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from breaches.models import Evidence
from tests.apiclients import client_for
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def incident(tier1, subvendor, tier1_nda):
    return IncidentFactory(
        source_supplier=subvendor, responsible_supplier=tier1, nda=tier1_nda, status="reported"
    )


def _upload(client, incident, name, content, content_type="application/octet-stream", **extra):
    return client.post(
        f"/api/v1/incidents/{incident.pk}/evidence/",
        {"file": SimpleUploadedFile(name, content, content_type), **extra},
        format="multipart",
    )


def test_upload_list_and_download(compliance_user, supplier_user, incident):
    staff = client_for(compliance_user)
    # The client claims text/html with an .html name: the type is taken from the bytes.
    response = _upload(staff, incident, "render.html", PNG, "text/html", description="Render")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["size"] == len(PNG)
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert body["description"] == "Render"
    stored = Evidence.objects.get(pk=body["id"])
    assert "render" not in stored.file.name  # a generated name on disk

    listed = staff.get(f"/api/v1/incidents/{incident.pk}/evidence/").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]

    for client in (staff, client_for(supplier_user)):
        download = client.get(body["download_url"])
        assert download.status_code == 200
        assert download["Content-Disposition"].startswith("attachment")
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Type"] == "application/octet-stream"
        assert b"".join(download.streaming_content) == PNG


def test_supplier_user_uploads_on_a_visible_incident(supplier_user, incident):
    response = _upload(client_for(supplier_user), incident, "notes.txt", b"our findings\n")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "text/plain"
    events = incident.events.filter(kind="evidence")
    assert events.count() == 1
    assert events.get().actor == supplier_user


def test_unrelated_user_neither_uploads_nor_downloads(
    compliance_user, other_supplier_user, incident
):
    evidence_id = _upload(client_for(compliance_user), incident, "a.txt", b"text\n").json()["id"]
    other = client_for(other_supplier_user)
    assert _upload(other, incident, "b.txt", b"text\n").status_code == 404
    assert other.get(f"/api/v1/evidence/{evidence_id}/download/").status_code == 404
    assert other.get(f"/api/v1/evidence/{evidence_id}/").status_code == 404
    assert Evidence.objects.count() == 1


def test_auditor_cannot_upload(auditor_user, incident):
    assert _upload(client_for(auditor_user), incident, "a.txt", b"text\n").status_code == 403


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
        ("run.elf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64),
        ("blob.bin", bytes(range(256)) * 4),
    ],
)
def test_refused_types_are_400(compliance_user, incident, name, content):
    response = _upload(client_for(compliance_user), incident, name, content)
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert not Evidence.objects.exists()


def test_oversized_upload_is_refused(settings, compliance_user, incident):
    settings.EVIDENCE_MAX_BYTES = 16
    response = _upload(client_for(compliance_user), incident, "big.txt", b"x" * 17)
    assert response.status_code in (400, 413), response.content
    assert "file" in response.json()
    assert not Evidence.objects.exists()


def test_missing_or_empty_file_is_400(compliance_user, incident):
    staff = client_for(compliance_user)
    response = staff.post(
        f"/api/v1/incidents/{incident.pk}/evidence/", {"description": "x"}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert _upload(staff, incident, "empty.txt", b"").status_code == 400
    response = staff.post(
        f"/api/v1/incidents/{incident.pk}/evidence/", {"file": "text"}, format="json"
    )
    assert response.status_code == 415, response.content
