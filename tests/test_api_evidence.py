"""Evidence through the API: multipart upload checked by content, name and size (active
content refused), stored under a generated name with its sha256, listed, and downloaded
only as an octet-stream attachment under a generated name by those who may see it."""

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
    # The client claims text/html: the type is taken from the bytes.
    response = _upload(
        staff, incident, "render.png", PNG, "text/html", description="Render", visibility="shared"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["visibility"] == "shared"
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
        assert "sandbox" in download["Content-Security-Policy"]
        assert (
            f'filename="evidence-{body["id"]}-{body["sha256"][:12]}.png"'
            in (download["Content-Disposition"])
        )
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


# --- Active content ----------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
XML = b'<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?><report/>'
ACTIVE = [
    # Named and sniffed as what it is.
    ("page.html", HTML),
    ("drawing.svg", SVG),
    ("data.xml", XML),
    ("app.js", b"fetch('/api/v1/incidents/').then(r => r.text())\n"),
    # Markup under a harmless name (it used to pass as text/plain).
    ("report.txt", HTML),
    ("report.pdf", b"\xef\xbb\xbf  <svg onload=alert(1)>"),
    ("notes.csv", b"a,b\n1,<script>alert(1)</script>\n"),
    ("log.txt", b"line\n" * 3000 + b"<iframe src=//evil.example>"),  # past the sniffed head
    # Harmless bytes under an active name, wherever the extension sits.
    ("report.pdf.html", b"%PDF-1.4\n" + b"x" * 100),
    ("render.png.svg", PNG),
    ("notes.html.txt", b"plain words\n"),
    ("REPORT.HTM", b"plain words\n"),
]


@pytest.mark.parametrize(("name", "content"), ACTIVE, ids=[name for name, _ in ACTIVE])
def test_active_content_is_refused_naming_what_is_accepted(
    compliance_user, incident, name, content
):
    response = _upload(client_for(compliance_user), incident, name, content, "text/plain")
    assert response.status_code == 400, response.content
    message = " ".join(response.json()["file"])
    assert "Accepted: PDF" in message, message
    assert not Evidence.objects.exists()
    assert not incident.events.filter(kind="evidence").exists()


def test_text_that_merely_mentions_angle_brackets_is_accepted(compliance_user, incident):
    text = b"threshold <= 5 days; x<y; a -> b; <5% of drafts\n"
    response = _upload(client_for(compliance_user), incident, "thresholds.txt", text)
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "text/plain"


def test_download_name_is_generated_and_the_shown_name_cleaned(compliance_user, incident):
    staff = client_for(compliance_user)
    # A right-to-left override, a newline and quotes in the client's name.
    name = 'inv"oice\n\u202egnp.txt'
    body = _upload(staff, incident, name, b"plain words\n").json()
    assert body["original_name"] == 'inv"oicegnp.txt'
    download = staff.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="evidence-{body["id"]}-{body["sha256"][:12]}.txt"'
    )


# --- Who sees what --------------------------------------------------------------------------


def test_staff_evidence_is_internal_unless_shared(compliance_user, supplier_user, incident):
    staff = client_for(compliance_user)
    internal = _upload(staff, incident, "internal.txt", b"internal\n").json()
    shared = _upload(staff, incident, "shared.txt", b"shared\n", visibility="shared").json()
    assert (internal["visibility"], shared["visibility"]) == ("internal", "shared")
    supplier = client_for(supplier_user)
    listed = supplier.get(f"/api/v1/incidents/{incident.pk}/evidence/").json()["results"]
    assert [e["id"] for e in listed] == [shared["id"]]
    assert [e["id"] for e in supplier.get("/api/v1/evidence/").json()["results"]] == [shared["id"]]
    assert supplier.get(f"/api/v1/evidence/{internal['id']}/").status_code == 404
    assert supplier.get(internal["download_url"]).status_code == 404
    assert supplier.get(shared["download_url"]).status_code == 200
    # The upload's timeline entry follows its file.
    events = supplier.get(f"/api/v1/incidents/{incident.pk}/events/").json()["results"]
    messages = " ".join(e["message"] for e in events)
    assert "shared.txt" in messages
    assert "internal.txt" not in messages
    staff_ids = {e["id"] for e in staff.get("/api/v1/evidence/").json()["results"]}
    assert staff_ids == {internal["id"], shared["id"]}


def test_a_supplier_users_upload_is_shared_even_if_it_asks_internal(supplier_user, incident):
    response = _upload(
        client_for(supplier_user), incident, "ours.txt", b"ours\n", visibility="internal"
    )
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "shared"
    assert incident.events.get(kind="evidence").visibility == "shared"


def test_a_bad_visibility_is_400(compliance_user, incident):
    response = _upload(client_for(compliance_user), incident, "a.txt", b"a\n", visibility="public")
    assert response.status_code == 400, response.content
    assert "visibility" in response.json()
    assert not Evidence.objects.exists()
