"""Leak tracing through the API (DESIGN section 10): who may upload masters, list and
download copies, and trace; what a supplier user sees (its own supplier's copies, never a
code or a fingerprint); upload refusals as 400s that store nothing."""

from __future__ import annotations

from datetime import date

import cv2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bench import tracing_images as images
from tests.apiclients import client_for
from tests.factories import DisclosureFactory, IncidentFactory
from tracing import services
from tracing.models import CopyDownload, DisclosureCopy, MasterFile, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(scope="module")
def render_png():
    return cv2.imencode(".png", images.make_image(4, height=300, width=450))[1].tobytes()


def _file(name, content):
    return SimpleUploadedFile(name, content, "application/octet-stream")


@pytest.fixture
def own_disclosure(bumper_asset, tier1, tier1_nda):
    return DisclosureFactory(
        asset=bumper_asset, supplier=tier1, nda=tier1_nda, disclosed_on=date(2024, 11, 5)
    )


@pytest.fixture
def copies(compliance_user, bumper_asset, own_disclosure, bumper_disclosure, render_png):
    """A master with a ready copy for the tier-1 and for its sub-vendor."""
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=_file("front.png", render_png)
    )
    return {
        copy.disclosure_id: services.copy_make(copy_id=copy.pk)
        for copy in DisclosureCopy.objects.filter(master=master)
    }


def test_staff_upload_a_master_and_list_it(compliance_user, bumper_asset, render_png):
    client = client_for(compliance_user)
    response = client.post(
        f"/api/v1/assets/{bumper_asset.pk}/files/",
        {"file": _file("front.png", render_png)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("asset", "filename", "content_type", "width", "height")} == {
        "asset": bumper_asset.pk,
        "filename": "front.png",
        "content_type": "image/png",
        "width": 300,  # image 4 is a portrait
        "height": 450,
    }
    assert set(body) >= {"id", "size", "sha256", "pages"}
    listed = client.get(f"/api/v1/assets/{bumper_asset.pk}/files/")
    assert [row["id"] for row in listed.json()] == [body["id"]], listed.content
    download = client.get(f"/api/v1/assets/{bumper_asset.pk}/files/{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == render_png


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><body>hi</body></html>"),
        ("empty.png", b""),
        ("report.png.html", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        ("notes.txt", b"plain words"),
    ],
)
def test_a_refused_master_upload_is_a_400_naming_the_file_and_stores_nothing(
    compliance_user, bumper_asset, name, content
):
    response = client_for(compliance_user).post(
        f"/api/v1/assets/{bumper_asset.pk}/files/",
        {"file": _file(name, content)},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert not MasterFile.objects.exists()


def test_who_may_upload_masters(
    auditor_user, supplier_user, bumper_asset, own_disclosure, render_png
):
    url = f"/api/v1/assets/{bumper_asset.pk}/files/"
    assert (
        client_for(auditor_user)
        .post(url, {"file": _file("a.png", render_png)}, format="multipart")
        .status_code
        == 403
    )
    # The supplier sees the asset (a disclosure to it) but never the masters, nor that
    # there are any: the list is a 404 like a master's download.
    assert client_for(supplier_user).get(url).status_code == 404
    assert (
        client_for(supplier_user)
        .post(url, {"file": _file("a.png", render_png)}, format="multipart")
        .status_code
        == 404
    )
    assert client_for(None).get(url).status_code == 401
    assert client_for(auditor_user).get("/api/v1/assets/999999999999/files/").status_code == 404
    assert not MasterFile.objects.exists()


def test_a_supplier_user_downloads_its_own_copy_and_the_download_is_logged(
    supplier_user, compliance_user, own_disclosure, copies
):
    copy = copies[own_disclosure.pk]
    client = client_for(supplier_user)
    listed = client.get(f"/api/v1/disclosures/{own_disclosure.pk}/copies/")
    assert listed.status_code == 200, listed.content
    (row,) = listed.json()
    assert set(row) == {"id", "file", "filename", "status", "error", "sha256", "created_at"}
    assert row["status"] == "ready"
    assert "fingerprint" not in listed.content.decode()
    download = client.get(
        f"/api/v1/disclosures/{own_disclosure.pk}/copies/{copy.pk}/download/",
        REMOTE_ADDR="203.0.113.9",
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"
    b"".join(download.streaming_content)
    logged = CopyDownload.objects.get()
    assert (logged.copy, logged.user, logged.ip) == (copy, supplier_user, "203.0.113.9")
    log = client_for(compliance_user).get(f"/api/v1/disclosures/{own_disclosure.pk}/downloads/")
    assert [(r["user"], r["ip"]) for r in log.json()] == [("bmt-user", "203.0.113.9")]


def test_a_supplier_user_cannot_download_another_suppliers_copy(
    supplier_user, other_supplier_user, bumper_disclosure, own_disclosure, copies
):
    # The sub-vendor's disclosure is in the tier-1's world, but its copy is the sub-vendor's.
    sub_copy = copies[bumper_disclosure.pk]
    own_copy = copies[own_disclosure.pk]
    client = client_for(supplier_user)
    url = f"/api/v1/disclosures/{bumper_disclosure.pk}/copies/"
    assert client.get(url).json() == []
    assert client.get(f"{url}{sub_copy.pk}/download/").status_code == 404
    # A copy id under a disclosure it does not belong to.
    wrong = f"/api/v1/disclosures/{own_disclosure.pk}/copies/{sub_copy.pk}/download/"
    assert client.get(wrong).status_code == 404
    # Another supplier's user: neither the disclosure nor its copies exist for it.
    other = client_for(other_supplier_user)
    own_url = f"/api/v1/disclosures/{own_disclosure.pk}/copies/"
    assert other.get(own_url).status_code == 404
    assert other.get(f"{own_url}{own_copy.pk}/download/").status_code == 404
    assert not CopyDownload.objects.exists()


def test_a_pending_copy_is_not_served(
    supplier_user, compliance_user, own_disclosure, render_png, bumper_asset
):
    services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=_file("front.png", render_png)
    )
    copy = DisclosureCopy.objects.get(disclosure=own_disclosure)
    response = client_for(supplier_user).get(
        f"/api/v1/disclosures/{own_disclosure.pk}/copies/{copy.pk}/download/"
    )
    assert response.status_code == 400, response.content
    assert not CopyDownload.objects.exists()


def test_traces_are_for_staff(
    compliance_user, auditor_user, supplier_user, render_png, tier1, tier1_nda
):
    incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1, nda=tier1_nda)
    for user, expected in ((supplier_user, 403), (auditor_user, 403)):
        response = client_for(user).post(
            "/api/v1/traces/", {"file": _file("l.png", render_png)}, format="multipart"
        )
        assert response.status_code == expected, response.content
    assert not Trace.objects.exists()
    created = client_for(compliance_user).post(
        "/api/v1/traces/",
        {"file": _file("leak.png", render_png), "incident": incident.pk},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["verdict"], body["matches"], body["incident"]) == (
        "pending",
        "",
        [],
        incident.pk,
    )
    url = f"/api/v1/traces/{body['id']}/"
    assert client_for(auditor_user).get(url).status_code == 200
    assert client_for(supplier_user).get(url).status_code == 404
    assert client_for(supplier_user).get("/api/v1/traces/").status_code == 403
    bad = client_for(compliance_user).post(
        "/api/v1/traces/",
        {"file": _file("leak.png", render_png), "incident": 99999},
        format="multipart",
    )
    assert bad.status_code == 400
    assert "incident" in bad.json()


def test_the_apis_refusals_follow_accept_language(supplier_user, compliance_user):
    refused = client_for(supplier_user).get("/api/v1/traces/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "原件和溯源记录仅限采购方员工使用。"
    english = client_for(supplier_user).get("/api/v1/traces/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "Master files and traces are the buyer's staff's only."
    bad = client_for(compliance_user).get(
        "/api/v1/traces/?incident=x", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert bad.status_code == 400
    assert bad.json()["incident"] == ["请提供泄密事件 ID。"]
