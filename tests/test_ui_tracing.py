"""Leak-tracing pages: the trace form and result on the incident page (staff only), the
copies and their downloads on the supplier page, master upload and copy download from
the browser, and what a supplier user never sees there."""

from __future__ import annotations

from datetime import date

import cv2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bench import tracing_images as images
from tests.factories import DisclosureFactory, IncidentFactory
from tracing import services
from tracing.models import CopyDownload, DisclosureCopy, MasterFile, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def png():
    return cv2.imencode(".png", images.make_image(0, height=300, width=450))[1].tobytes()


@pytest.fixture
def own_disclosure(bumper_asset, tier1, tier1_nda):
    return DisclosureFactory(
        asset=bumper_asset, supplier=tier1, nda=tier1_nda, disclosed_on=date(2024, 11, 5)
    )


@pytest.fixture
def incident(tier1, subvendor, tier1_nda, bumper_asset):
    incident = IncidentFactory(
        source_supplier=subvendor, responsible_supplier=tier1, nda=tier1_nda, status="reported"
    )
    incident.assets.add(bumper_asset)
    return incident


def test_staff_upload_a_master_from_the_browser(client, compliance_user, bumper_asset, png):
    client.force_login(compliance_user)
    response = client.post(
        f"/assets/{bumper_asset.pk}/files/",
        {"file": SimpleUploadedFile("front.png", png), "next": "/"},
    )
    assert response.status_code == 302
    assert MasterFile.objects.get().filename == "front.png"
    refused = client.post(
        f"/assets/{bumper_asset.pk}/files/",
        {"file": SimpleUploadedFile("x.html", b"<html></html>"), "next": "/"},
        follow=True,
    )
    assert "Not uploaded" in refused.content.decode()
    assert MasterFile.objects.count() == 1


def test_the_incident_page_traces_a_leak_and_shows_the_result(
    client, compliance_user, incident, png
):
    client.force_login(compliance_user)
    page = client.get(f"/incidents/{incident.pk}/")
    assert "Trace a leaked copy" in page.content.decode()
    response = client.post(
        f"/incidents/{incident.pk}/traces/", {"file": SimpleUploadedFile("leak.png", png)}
    )
    assert response.status_code == 302
    trace = Trace.objects.get()
    assert trace.incident == incident
    pending = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Tracing..." in pending
    assert "trace-progress.js" in pending
    services.trace_run(trace_id=trace.pk)
    done = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "No match" in done  # no master: nothing to compare with
    assert "trace-progress.js" not in done


def test_a_supplier_user_sees_no_trace_panel_and_cannot_trace(client, supplier_user, incident, png):
    client.force_login(supplier_user)
    page = client.get(f"/incidents/{incident.pk}/")
    assert page.status_code == 200
    assert "Trace a leaked copy" not in page.content.decode()
    response = client.post(
        f"/incidents/{incident.pk}/traces/", {"file": SimpleUploadedFile("leak.png", png)}
    )
    assert response.status_code == 403
    assert not Trace.objects.exists()


def test_a_supplier_user_downloads_its_copy_from_its_supplier_page(
    client, compliance_user, supplier_user, own_disclosure, bumper_disclosure, bumper_asset, png
):
    master = services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=SimpleUploadedFile("front.png", png)
    )
    for copy in DisclosureCopy.objects.filter(master=master):
        services.copy_make(copy_id=copy.pk)
    own = DisclosureCopy.objects.get(disclosure=own_disclosure)
    sub = DisclosureCopy.objects.get(disclosure=bumper_disclosure)
    client.force_login(supplier_user)
    page = client.get(f"/suppliers/{own_disclosure.supplier_id}/").content.decode()
    assert f"/disclosures/{own_disclosure.pk}/copies/{own.pk}/download/" in page
    assert own_disclosure.fingerprint not in page
    assert "Master files" not in page
    download = client.get(f"/disclosures/{own_disclosure.pk}/copies/{own.pk}/download/")
    assert download.status_code == 200
    assert CopyDownload.objects.get().user == supplier_user
    logged = client.get(f"/suppliers/{own_disclosure.supplier_id}/")
    assert logged.status_code == 200
    assert "bmt-user" in logged.content.decode()
    other = client.get(f"/disclosures/{bumper_disclosure.pk}/copies/{sub.pk}/download/")
    assert other.status_code == 404
    assert client.get(f"/assets/{bumper_asset.pk}/files/{master.pk}/download/").status_code == 404


def test_the_master_files_panel_for_the_asset_page(
    rf, compliance_user, supplier_user, bumper_asset, png
):
    from django.template import Context, Template

    services.master_file_add(
        actor=compliance_user, asset=bumper_asset, upload=SimpleUploadedFile("front.png", png)
    )
    template = Template("{% load tracing_panels %}{% asset_master_files asset %}")

    def render(user):
        request = rf.get("/")
        request.user = user
        return template.render(Context({"request": request, "asset": bumper_asset}))

    staff = render(compliance_user)
    assert "front.png" in staff
    assert f"/assets/{bumper_asset.pk}/files/" in staff  # the upload form
    assert render(supplier_user).strip() == ""
