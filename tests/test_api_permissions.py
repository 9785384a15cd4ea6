"""The permission matrix of DESIGN section 7: every endpoint and method, for every role
(anonymous, admin, compliance, auditor, the liable supplier's user and an unrelated
supplier's user), with the exact status code; the unrelated user never sees the liable
world's ids in any list or detail; and who reads each internal or shared note and file,
for every kind of supplier user (the tier-1, its sub-vendor, a tier 3, an unrelated one)."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from breaches import services
from notifications import endpoints as notification_endpoints
from notifications import services as notifications
from notifications.fanout import fan_out
from suppliers import tokens
from suppliers.choices import Role
from tests.apiclients import build_world, client_for
from tests.factories import (
    AssetFactory,
    DisclosureFactory,
    NDAFactory,
    SupplierFactory,
    UserFactory,
    seed_bumper_asset,
    seed_other_supplier,
    seed_subvendor,
    seed_tier1,
    seed_tier1_nda,
)
from tracing import services as tracing
from tracing.models import DisclosureCopy

ROLES = ("anon", "admin", "compliance", "auditor", "liable", "other")


@pytest.fixture(scope="module")
def world_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media(settings, world_media):
    # The world's files (masters, copies, evidence) and each case's uploads: one place
    # for the module, since the world outlives a test.
    settings.MEDIA_ROOT = world_media


@pytest.fixture(scope="module")
def render_png():
    import cv2

    from bench import tracing_images

    image = tracing_images.make_image(4, height=120, width=180)
    return cv2.imencode(".png", image)[1].tobytes()


def _png(name, content):
    return SimpleUploadedFile(name, content, "application/octet-stream")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, render_png, world_media):
    """The two worlds every case reads, built once per module (and test worker) inside a
    transaction rolled back after the module. Each test runs in a savepoint of it
    (pytest-django's TestCase atomics), so what a case writes is undone before the next;
    built per case, the world took 160 s of a test run (720 cases)."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=world_media),
        transaction.atomic(),
    ):
        yield _build(render_png)
        transaction.set_rollback(True)


def _build(render_png):
    admin_user = UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    compliance_user = UserFactory(username="compliance", role=Role.COMPLIANCE)
    auditor_user = UserFactory(username="auditor", role=Role.AUDITOR)
    tier1 = seed_tier1()
    subvendor = seed_subvendor(tier1)
    tier1_nda = seed_tier1_nda(tier1)
    bumper_asset = seed_bumper_asset()
    supplier_user = UserFactory(username="bmt-user", role=Role.SUPPLIER, supplier=tier1)
    other_supplier = seed_other_supplier()
    other_supplier_user = UserFactory(
        username="glass-user", role=Role.SUPPLIER, supplier=other_supplier
    )
    liable = build_world(
        supplier=tier1,
        subvendor=subvendor,
        nda=tier1_nda,
        asset=bumper_asset,
        tag="bmt",
        actor=compliance_user,
    )
    unrelated = build_world(
        supplier=other_supplier,
        nda=NDAFactory(supplier=other_supplier, reference="NDA-GLASS-1"),
        asset=AssetFactory(code="GLASS-PANEL-1"),
        tag="glass",
        actor=compliance_user,
    )
    # build_world's evidence is a staff upload, internal by default: one each shared too.
    for one in (liable, unrelated):
        one.shared_evidence = services.incident_add_evidence(
            actor=compliance_user,
            incident=one.incident,
            upload=SimpleUploadedFile("shared.txt", b"shared with the supplier\n", "text/plain"),
            visibility="shared",
        )
    spare_user = UserFactory(username="spare", role="auditor")
    # A waiver asked by compliance, waiting for a second staff user (four eyes).
    services.penalty_transition(
        actor=other_supplier_user, penalty=unrelated.penalty, to="disputed", note="Not us."
    )
    review = services.penalty_transition(
        actor=compliance_user, penalty=unrelated.penalty, to="waived", note="Goodwill."
    ).review
    token, _ = tokens.issue_token(supplier_user)
    # Leak tracing: a master file on the liable asset, a ready copy for each disclosure
    # of it (the sub-vendor's, L.disclosure, and one to the liable supplier itself), and
    # a trace. Copies are made by a task after commit: made here directly.
    own_disclosure = DisclosureFactory(asset=liable.asset, supplier=tier1, nda=tier1_nda)
    master = tracing.master_file_add(
        actor=compliance_user, asset=liable.asset, upload=_png("front.png", render_png)
    )
    made = {
        copy.disclosure_id: tracing.copy_make(copy_id=copy.pk)
        for copy in DisclosureCopy.objects.filter(master=master)
    }
    trace = tracing.trace_create(actor=compliance_user, upload=_png("leak.png", render_png))
    # Notifications: one for the liable supplier's user (penalty issued to its supplier).
    event = notifications.announce("penalty.issued", actor=compliance_user, penalty=liable.penalty)
    fan_out(event.pk)
    notification = supplier_user.notifications.get(event=event)
    webhook = notification_endpoints.webhook_create(
        actor=admin_user,
        url="https://93.184.215.14/hooks/breach",
        secret="s3cret-shared-with-the-erp",
        events=["penalty.issued"],
    )
    return SimpleNamespace(
        L=liable,
        O=unrelated,
        spare_user=spare_user,
        review=review,
        token=token,
        own_disclosure=own_disclosure,
        master=master,
        copy=made[liable.disclosure.pk],
        own_copy=made[own_disclosure.pk],
        trace=trace,
        notification=notification,
        webhook=webhook,
        png=render_png,
        users={
            "anon": None,
            "admin": admin_user,
            "compliance": compliance_user,
            "auditor": auditor_user,
            "liable": supplier_user,
            "other": other_supplier_user,
        },
    )


def _day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# Expected codes, in ROLES order.
LIST = (401, 200, 200, 200, 200, 200)
READ = (401, 200, 200, 200, 200, 404)  # a detail in the liable supplier's world
STAFF_READ = (401, 200, 200, 200, 404, 404)  # kept internal by staff
CREATE = (401, 201, 201, 403, 403, 403)
ADMIN_ONLY = (401, 200, 403, 403, 403, 403)


def staff(code: int) -> tuple:
    """A staff-only act on an object of the liable world."""
    return (401, code, code, 403, 403, 404)


def with_supplier(code: int, supplier_code: int | None = None) -> tuple:
    """An act the liable supplier's user may attempt too."""
    return (401, code, code, 403, code if supplier_code is None else supplier_code, 404)


CASES = [
    # suppliers
    ("GET", lambda w: "/api/v1/suppliers/", None, LIST),
    ("POST", lambda w: "/api/v1/suppliers/", lambda w: {"name": "New Co", "country": "DE"}, CREATE),
    ("GET", lambda w: f"/api/v1/suppliers/{w.L.subvendor.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/suppliers/{w.L.subvendor.pk}/",
        lambda w: {"name": "Hebei Mould", "country": "CN", "parent": w.L.supplier.pk},
        staff(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/suppliers/{w.L.subvendor.pk}/",
        lambda w: {"status": "suspended"},
        staff(200),
    ),
    ("DELETE", lambda w: f"/api/v1/suppliers/{w.L.supplier.pk}/", None, staff(409)),
    # contacts
    ("GET", lambda w: "/api/v1/contacts/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/contacts/",
        lambda w: {"supplier": w.L.supplier.pk, "name": "Li", "email": "li@bmt.example"},
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/contacts/{w.L.contact.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/contacts/{w.L.contact.pk}/",
        lambda w: {"supplier": w.L.supplier.pk, "name": "Wang", "email": "wang@bmt.example"},
        staff(200),
    ),
    ("PATCH", lambda w: f"/api/v1/contacts/{w.L.contact.pk}/", lambda w: {"name": "Z"}, staff(200)),
    ("DELETE", lambda w: f"/api/v1/contacts/{w.L.contact.pk}/", None, staff(204)),
    # NDAs
    ("GET", lambda w: "/api/v1/ndas/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/ndas/",
        lambda w: {
            "reference": "NDA-NEW-1",
            "supplier": w.L.subvendor.pk,
            "signed_on": "2025-01-01",
            "effective_from": "2025-01-02",
            "penalty_amount": "50000.00",
            "penalty_currency": "CNY",
        },
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/ndas/{w.L.nda.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/ndas/{w.L.nda.pk}/",
        lambda w: {
            "reference": w.L.nda.reference,
            "supplier": w.L.supplier.pk,
            "signed_on": "2024-02-20",
            "effective_from": "2024-03-01",
            "expires_on": "2027-03-01",
            "covers_subvendors": True,
            "penalty_amount": "1000000.00",
            "penalty_currency": "CNY",
        },
        staff(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/ndas/{w.L.nda.pk}/",
        lambda w: {"rectification_days": 45},
        staff(200),
    ),
    ("DELETE", lambda w: f"/api/v1/ndas/{w.L.nda.pk}/", None, staff(409)),
    (
        "POST",
        lambda w: f"/api/v1/ndas/{w.L.nda.pk}/terminate/",
        lambda w: {"terminated_on": _day(0), "reason": "The programme ended."},
        staff(200),
    ),
    # assets
    ("GET", lambda w: "/api/v1/assets/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/assets/",
        lambda w: {"code": "MS11-DOOR-L", "name": "Left door"},
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/assets/{w.L.asset.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/assets/{w.L.asset.pk}/",
        lambda w: {"code": w.L.asset.code, "name": "Front bumper", "classification": "secret"},
        staff(200),
    ),
    ("PATCH", lambda w: f"/api/v1/assets/{w.L.asset.pk}/", lambda w: {"name": "FB"}, staff(200)),
    ("DELETE", lambda w: f"/api/v1/assets/{w.L.asset.pk}/", None, staff(409)),
    # master files (DESIGN 10): the buyer's staff only; the liable user sees the asset but
    # not that it has masters (404, like a master's download)
    (
        "GET",
        lambda w: f"/api/v1/assets/{w.L.asset.pk}/files/",
        None,
        STAFF_READ,
    ),
    (
        "POST",
        lambda w: f"/api/v1/assets/{w.L.asset.pk}/files/",
        lambda w: {"file": _png("side.png", w.png)},
        with_supplier(201, 404),
    ),
    (
        "GET",
        lambda w: f"/api/v1/assets/{w.L.asset.pk}/files/{w.master.pk}/download/",
        None,
        STAFF_READ,
    ),
    # disclosures
    ("GET", lambda w: "/api/v1/disclosures/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/disclosures/",
        lambda w: {
            "asset": w.L.asset.pk,
            "supplier": w.L.supplier.pk,
            "nda": w.L.nda.pk,
            "disclosed_on": "2025-01-05",
        },
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/",
        lambda w: {
            "asset": w.L.asset.pk,
            "supplier": w.L.subvendor.pk,
            "nda": w.L.nda.pk,
            "disclosed_on": "2024-11-06",
            "version": "v4",
        },
        staff(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/",
        lambda w: {"version": "v9"},
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/revoke/",
        lambda w: {"reason": "The drafts were withdrawn."},
        staff(200),
    ),
    # recipients' copies (DESIGN 10): a supplier user downloads its own supplier's only
    # (w.copy is the sub-vendor's, on L.disclosure; w.own_copy the liable supplier's)
    ("GET", lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/copies/", None, READ),
    (
        "GET",
        lambda w: f"/api/v1/disclosures/{w.L.disclosure.pk}/copies/{w.copy.pk}/download/",
        None,
        STAFF_READ,
    ),
    (
        "GET",
        lambda w: f"/api/v1/disclosures/{w.own_disclosure.pk}/copies/{w.own_copy.pk}/download/",
        None,
        READ,
    ),
    ("GET", lambda w: f"/api/v1/disclosures/{w.own_disclosure.pk}/downloads/", None, READ),
    # incidents
    ("GET", lambda w: "/api/v1/incidents/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/incidents/",
        lambda w: {
            "title": "Another leak",
            "occurred_on": "2025-02-01",
            "discovered_on": "2025-02-03",
            "channel": "press",
            "source_supplier": w.L.subvendor.pk,
        },
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/incidents/{w.L.incident.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/",
        lambda w: {
            "title": "Renamed",
            "occurred_on": "2025-01-22",
            "discovered_on": "2025-01-23",
            "channel": "social_media",
            "source_supplier": w.L.subvendor.pk,
            "assets": [w.L.asset.pk],
        },
        staff(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/",
        lambda w: {"severity": "critical"},
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/transition/",
        lambda w: {"to": "dismissed", "note": "A false alarm."},
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/liability/",
        lambda w: {
            "responsible_supplier": w.L.supplier.pk,
            "nda": w.L.nda.pk,
            "reason": "Confirmed by the contract team.",
        },
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/fingerprint/",
        lambda w: {"fingerprint": w.L.disclosure.fingerprint},
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/notes/",
        lambda w: {"message": "Called the supplier."},
        with_supplier(201),
    ),
    ("GET", lambda w: f"/api/v1/incidents/{w.L.incident.pk}/events/", None, READ),
    ("GET", lambda w: f"/api/v1/incidents/{w.L.incident.pk}/evidence/", None, READ),
    (
        "POST",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/evidence/",
        lambda w: {
            "file": SimpleUploadedFile("scan.txt", b"screenshot transcript\n", "text/plain"),
            "description": "Transcript",
        },
        with_supplier(201),
    ),
    (
        "GET",
        lambda w: f"/api/v1/incidents/{w.L.incident.pk}/suspects/",
        None,
        (401, 200, 200, 200, 403, 404),
    ),
    ("GET", lambda w: f"/api/v1/incidents/{w.L.incident.pk}/dossier.pdf", None, READ),
    # evidence (w.L.evidence: a staff file kept internal)
    ("GET", lambda w: "/api/v1/evidence/", None, LIST),
    ("GET", lambda w: f"/api/v1/evidence/{w.L.evidence.pk}/", None, STAFF_READ),
    ("GET", lambda w: f"/api/v1/evidence/{w.L.evidence.pk}/download/", None, STAFF_READ),
    ("GET", lambda w: f"/api/v1/evidence/{w.L.shared_evidence.pk}/", None, READ),
    ("GET", lambda w: f"/api/v1/evidence/{w.L.shared_evidence.pk}/download/", None, READ),
    # penalties
    ("GET", lambda w: "/api/v1/penalties/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/penalties/",
        lambda w: {"incident": w.L.confirmed.pk, "amount": "5000.00", "currency": "CNY"},
        CREATE,
    ),
    ("GET", lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/",
        lambda w: {
            "incident": w.L.confirmed.pk,
            "amount": "1000000.00",
            "currency": "CNY",
            "due_on": "2026-12-31",
        },
        staff(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/",
        lambda w: {"due_on": "2026-12-31"},
        staff(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/transition/",
        lambda w: {"to": "disputed", "note": "The leak was not ours."},
        with_supplier(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/payments/",
        lambda w: {"amount": "100.00", "paid_on": "2025-03-01", "reference": "W-1"},
        staff(201),
    ),
    (
        "POST",
        lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/acknowledge/",
        lambda w: {"note": "Received."},
        (401, 403, 403, 403, 201, 404),
    ),
    ("GET", lambda w: f"/api/v1/penalties/{w.L.penalty.pk}/notice.pdf", None, READ),
    # rectification plans
    ("GET", lambda w: "/api/v1/rectification-plans/", None, LIST),
    ("GET", lambda w: f"/api/v1/rectification-plans/{w.L.plan.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/rectification-plans/{w.L.plan.pk}/",
        lambda w: {"summary": "Full rewrite", "due_on": w.L.plan.due_on.isoformat()},
        with_supplier(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/rectification-plans/{w.L.plan.pk}/",
        lambda w: {"summary": "Watermark every draft."},
        with_supplier(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/rectification-plans/{w.L.plan.pk}/transition/",
        lambda w: {"to": "submitted"},
        # Suppliers submit (admins may stand in); compliance staff do not.
        (401, 200, 403, 403, 200, 404),
    ),
    # rectification actions
    ("GET", lambda w: "/api/v1/rectification-actions/", None, LIST),
    (
        "POST",
        lambda w: "/api/v1/rectification-actions/",
        lambda w: {"plan": w.L.plan.pk, "description": "Audit sub-vendors", "due_on": _day(10)},
        # The unrelated user names a plan it cannot see: a field error, nothing created.
        (401, 201, 201, 403, 201, 400),
    ),
    ("GET", lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/", None, READ),
    (
        "PUT",
        lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/",
        lambda w: {
            "plan": w.L.plan.pk,
            "description": "Encrypt drafts at rest",
            "owner": "CISO",
            "due_on": w.L.action.due_on.isoformat(),
        },
        with_supplier(200),
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/",
        lambda w: {"owner": "CISO"},
        with_supplier(200),
    ),
    (
        "DELETE",
        lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/",
        None,
        with_supplier(204),
    ),
    (
        "POST",
        lambda w: f"/api/v1/rectification-actions/{w.L.approved_action.pk}/complete/",
        lambda w: {"evidence_note": "Policy signed."},
        with_supplier(200),
    ),
    (
        "POST",
        lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/reopen/",
        lambda w: {"message": "Not convincing."},
        # Allowed to staff, refused by the state (the action is still open).
        (401, 409, 409, 403, 403, 404),
    ),
    ("GET", lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/evidence/", None, READ),
    (
        "POST",
        lambda w: f"/api/v1/rectification-actions/{w.L.action.pk}/evidence/",
        lambda w: {
            "file": SimpleUploadedFile("policy.txt", b"signed policy\n", "text/plain"),
            "description": "Policy",
        },
        with_supplier(201),
    ),
    # reminders
    ("GET", lambda w: "/api/v1/reminders/", None, LIST),
    ("GET", lambda w: f"/api/v1/reminders/{w.L.reminder.pk}/", None, READ),
    # traces (DESIGN 10): staff; a supplier user has none
    ("GET", lambda w: "/api/v1/traces/", None, (401, 200, 200, 200, 403, 403)),
    ("POST", lambda w: "/api/v1/traces/", lambda w: {"file": _png("leak.png", w.png)}, CREATE),
    ("GET", lambda w: f"/api/v1/traces/{w.trace.pk}/", None, STAFF_READ),
    # notifications (DESIGN 12): each user its own (w.notification is the liable user's)
    ("GET", lambda w: "/api/v1/notifications/", None, LIST),
    (
        "GET",
        lambda w: f"/api/v1/notifications/{w.notification.pk}/",
        None,
        (401, 404, 404, 404, 200, 404),
    ),
    (
        "POST",
        lambda w: f"/api/v1/notifications/{w.notification.pk}/read/",
        None,
        (401, 404, 404, 404, 200, 404),
    ),
    ("POST", lambda w: "/api/v1/notifications/read-all/", None, (401,) + (200,) * 5),
    # webhooks (DESIGN 12): admins only
    ("GET", lambda w: "/api/v1/webhooks/", None, ADMIN_ONLY),
    (
        "POST",
        lambda w: "/api/v1/webhooks/",
        lambda w: {
            "url": "https://93.184.215.14/hooks/other",
            "secret": "another-long-shared-secret",
            "events": ["plan.submitted"],
        },
        (401, 201, 403, 403, 403, 403),
    ),
    ("GET", lambda w: "/api/v1/webhooks/event-schema/", None, ADMIN_ONLY),
    ("GET", lambda w: f"/api/v1/webhooks/{w.webhook.pk}/", None, ADMIN_ONLY),
    (
        "PUT",
        lambda w: f"/api/v1/webhooks/{w.webhook.pk}/",
        lambda w: {
            "url": "https://93.184.215.14/hooks/breach",
            "secret": "a-new-long-shared-secret",
            "events": ["penalty.issued", "penalty.paid"],
            "is_active": True,
        },
        ADMIN_ONLY,
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/webhooks/{w.webhook.pk}/",
        lambda w: {"is_active": False},
        ADMIN_ONLY,
    ),
    (
        "DELETE",
        lambda w: f"/api/v1/webhooks/{w.webhook.pk}/",
        None,
        (401, 204, 403, 403, 403, 403),
    ),
    ("GET", lambda w: f"/api/v1/webhooks/{w.webhook.pk}/deliveries/", None, ADMIN_ONLY),
    (
        "POST",
        lambda w: f"/api/v1/webhooks/{w.webhook.pk}/test/",
        None,
        (401, 202, 403, 403, 403, 403),
    ),
    # users (admin only)
    ("GET", lambda w: "/api/v1/users/", None, ADMIN_ONLY),
    (
        "POST",
        lambda w: "/api/v1/users/",
        lambda w: {"username": "newbie", "password": "Correct-Horse-42!", "role": "auditor"},
        (401, 201, 403, 403, 403, 403),
    ),
    ("GET", lambda w: f"/api/v1/users/{w.spare_user.pk}/", None, ADMIN_ONLY),
    (
        "PUT",
        lambda w: f"/api/v1/users/{w.spare_user.pk}/",
        lambda w: {"username": "spare", "email": "spare@example.com", "role": "compliance"},
        ADMIN_ONLY,
    ),
    (
        "PATCH",
        lambda w: f"/api/v1/users/{w.spare_user.pk}/",
        lambda w: {"is_active": False},
        ADMIN_ONLY,
    ),
    ("DELETE", lambda w: f"/api/v1/users/{w.spare_user.pk}/", None, (401, 204, 403, 403, 403, 403)),
    # a person's own language and time zone (DESIGN 11): everyone signed in, for itself
    ("GET", lambda w: "/api/v1/users/me/", None, LIST),
    ("PATCH", lambda w: "/api/v1/users/me/", lambda w: {"time_zone": "Europe/Berlin"}, LIST),
    # four eyes: the waiver compliance asked for waits for another staff user
    ("GET", lambda w: "/api/v1/penalty-reviews/", None, LIST),
    ("GET", lambda w: f"/api/v1/penalty-reviews/{w.review.pk}/", None, STAFF_READ),
    (
        "POST",
        lambda w: f"/api/v1/penalty-reviews/{w.review.pk}/decide/",
        lambda w: {"approve": True},
        (401, 200, 403, 403, 404, 404),
    ),
    # reports
    ("GET", lambda w: "/api/v1/reports/coverage-gaps/", None, LIST),
    ("GET", lambda w: "/api/v1/reports/summary/", None, LIST),
    # auth and documentation
    (
        "POST",
        lambda w: "/api/v1/auth/token/",
        lambda w: {"username": "nobody", "password": "wrong"},
        (400, 400, 400, 400, 400, 400),
    ),
    ("DELETE", lambda w: "/api/v1/auth/token/", None, (401, 204, 204, 204, 204, 204)),
    # each user's own tokens; another's is a 404 (the token is the liable user's)
    ("GET", lambda w: "/api/v1/auth/tokens/", None, LIST),
    ("GET", lambda w: f"/api/v1/auth/tokens/{w.token.pk}/", None, (401, 404, 404, 404, 200, 404)),
    (
        "DELETE",
        lambda w: f"/api/v1/auth/tokens/{w.token.pk}/",
        None,
        (401, 404, 404, 404, 204, 404),
    ),
    ("GET", lambda w: "/api/v1/", None, LIST),
    ("GET", lambda w: "/api/v1/schema/", None, (200,) * 6),
    ("GET", lambda w: "/api/v1/docs/", None, (200,) * 6),
]


def _case_id(case) -> str:
    method, url, _, _ = case
    fake = SimpleNamespace(
        **{
            name: SimpleNamespace(
                **{
                    f: SimpleNamespace(pk="{shared id}" if f.startswith("shared_") else "{id}")
                    for f in _WORLD_FIELDS
                }
            )
            for name in ("L", "O")
        },
        spare_user=SimpleNamespace(pk="{id}"),
        review=SimpleNamespace(pk="{id}"),
        token=SimpleNamespace(pk="{id}"),
        **{
            name: SimpleNamespace(pk="{id}")
            for name in (
                "own_disclosure",
                "master",
                "copy",
                "own_copy",
                "trace",
                "notification",
                "webhook",
            )
        },
    )
    fake.L.plan.due_on = fake.L.action.due_on = None
    return f"{method} {url(fake)}"


_WORLD_FIELDS = [
    "supplier",
    "subvendor",
    "nda",
    "asset",
    "disclosure",
    "contact",
    "incident",
    "confirmed",
    "penalty",
    "plan",
    "action",
    "approved_plan",
    "approved_action",
    "reminder",
    "event",
    "evidence",
    "shared_evidence",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_permission_matrix(world, role, case):
    method, url_of, payload_of, expected_codes = case
    expected = expected_codes[ROLES.index(role)]
    client = client_for(world.users[role])
    url = url_of(world)
    payload = payload_of(world) if payload_of else None
    fmt = "multipart" if payload and any(hasattr(v, "read") for v in payload.values()) else "json"
    response = getattr(client, method.lower())(url, payload, format=fmt)
    assert response.status_code == expected, (
        f"{role} {method} {url}: {response.status_code} {response.content[:400]!r}"
    )
    if role == "anon" and expected == 401:
        assert response.headers.get("WWW-Authenticate", "").startswith("Token")


def _ids(client, url) -> set[int]:
    ids: set[int] = set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        body = response.json()
        rows = body["results"] if isinstance(body, dict) else body
        ids |= {row["id"] for row in rows}
        url = body.get("next") if isinstance(body, dict) else None
    return ids


LISTS = {
    "suppliers": lambda w: {w.supplier.pk} | ({w.subvendor.pk} if w.subvendor else set()),
    "contacts": lambda w: {w.contact.pk},
    "ndas": lambda w: {w.nda.pk},
    "assets": lambda w: {w.asset.pk},
    "disclosures": lambda w: {w.disclosure.pk},
    "incidents": lambda w: {w.incident.pk, w.confirmed.pk},
    "evidence": lambda w: {w.shared_evidence.pk},
    "penalties": lambda w: {w.penalty.pk},
    "rectification-plans": lambda w: {w.plan.pk, w.approved_plan.pk},
    "rectification-actions": lambda w: {w.action.pk, w.approved_action.pk},
    "reminders": lambda w: {w.reminder.pk},
}


@pytest.mark.django_db
@pytest.mark.parametrize("resource", sorted(LISTS))
def test_supplier_users_see_only_their_world(world, resource):
    own_ids, foreign_ids = LISTS[resource](world.L), LISTS[resource](world.O)
    liable = client_for(world.users["liable"])
    other = client_for(world.users["other"])
    seen_by_liable = _ids(liable, f"/api/v1/{resource}/?page_size=2")
    seen_by_other = _ids(other, f"/api/v1/{resource}/?page_size=2")
    assert own_ids <= seen_by_liable, (resource, own_ids, seen_by_liable)
    assert not (foreign_ids & seen_by_liable), (resource, seen_by_liable)
    assert foreign_ids <= seen_by_other, (resource, foreign_ids, seen_by_other)
    assert not (own_ids & seen_by_other), (resource, seen_by_other)
    for pk in own_ids:
        response = other.get(f"/api/v1/{resource}/{pk}/")
        assert response.status_code == 404, (resource, pk, response.content)
    staff_ids = _ids(client_for(world.users["auditor"]), f"/api/v1/{resource}/?page_size=200")
    assert own_ids | foreign_ids <= staff_ids


@pytest.mark.django_db
def test_sub_vendor_user_does_not_see_parent_nda_or_penalty(world):
    sub_user = UserFactory(username="hebei", role="supplier", supplier=world.L.subvendor)
    client = client_for(sub_user)
    assert world.L.nda.pk not in _ids(client, "/api/v1/ndas/")
    assert world.L.penalty.pk not in _ids(client, "/api/v1/penalties/")
    assert client.get(f"/api/v1/penalties/{world.L.penalty.pk}/").status_code == 404
    # It sees the incident its own company leaked, without the parent's agreement.
    response = client.get(f"/api/v1/incidents/{world.L.incident.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["nda"] is None
    assert response.json()["nda_reference"] is None
    events = client.get(f"/api/v1/incidents/{world.L.confirmed.pk}/events/").json()["results"]
    assert all(e["penalty"] is None for e in events)
    # Timeline messages do not name the parent's agreement either.
    from breaches import services

    services.incident_set_liability(
        actor=world.users["compliance"],
        incident=world.L.incident,
        responsible_supplier=world.L.supplier,
        nda=world.L.nda,
        reason=f"Confirmed under {world.L.nda.reference}",
    )
    events = client.get(f"/api/v1/incidents/{world.L.incident.pk}/events/").json()["results"]
    assert events
    assert all(world.L.nda.reference not in e["message"] for e in events), events
    staff_events = client_for(world.users["auditor"]).get(
        f"/api/v1/incidents/{world.L.incident.pk}/events/"
    )
    assert any(world.L.nda.reference in e["message"] for e in staff_events.json()["results"])


@pytest.mark.django_db
def test_refused_authorisation_is_logged(world, caplog):
    client = client_for(world.users["auditor"])
    with caplog.at_level("WARNING", logger="breaches.security"):
        response = client.post("/api/v1/suppliers/", {"name": "X", "country": "CN"}, format="json")
    assert response.status_code == 403
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused" in m and "auditor" in m for m in messages), messages


# --- Internal and shared notes and files -------------------------------------------------

VISIBILITY_ROLES = ("admin", "compliance", "auditor", "tier-1", "sub-vendor", "tier-3", "unrelated")
# Who reads each note and file on the liable world's incident (its source is the
# sub-vendor, the tier-1 is liable; the tier 3 and the unrelated user do not see it).
VISIBILITY = {
    "staff note, internal (the default)": (1, 1, 1, 0, 0, 0, 0),
    "staff note, shared": (1, 1, 1, 1, 1, 0, 0),
    "sub-vendor's note, asked internal": (1, 1, 1, 1, 1, 0, 0),
    "staff file, internal (the default)": (1, 1, 1, 0, 0, 0, 0),
    "staff file, shared": (1, 1, 1, 1, 1, 0, 0),
    "tier-1's file": (1, 1, 1, 1, 0, 0, 0),
    "sub-vendor's file, asked internal": (1, 1, 1, 0, 1, 0, 0),
}


@pytest.fixture
def written(world):
    """The liable incident with one note or file of each kind, and a user per role."""
    L = world.L
    tier3 = SupplierFactory(name="Langfang Render Farm", parent=L.subvendor)
    users = {
        **{role: world.users[role] for role in ("admin", "compliance", "auditor")},
        "tier-1": world.users["liable"],
        "sub-vendor": UserFactory(role="supplier", supplier=L.subvendor),
        "tier-3": UserFactory(role="supplier", supplier=tier3),
        "unrelated": world.users["other"],
    }
    staff, sub = users["compliance"], users["sub-vendor"]

    def note(actor, message, **kwargs):
        services.incident_add_note(actor=actor, incident=L.incident, message=message, **kwargs)
        return message

    def upload(actor, name, **kwargs):
        content = SimpleUploadedFile(name, f"{name}\n".encode(), "text/plain")
        return services.incident_add_evidence(
            actor=actor, incident=L.incident, upload=content, **kwargs
        )

    items = {
        "staff note, internal (the default)": note(staff, "Staff only: check the intern."),
        "staff note, shared": note(staff, "To all: send logs.", visibility="shared"),
        "sub-vendor's note, asked internal": note(sub, "Logs sent.", visibility="internal"),
        "staff file, internal (the default)": upload(staff, "staff-memo.txt"),
        "staff file, shared": upload(staff, "staff-brief.txt", visibility="shared"),
        "tier-1's file": upload(users["tier-1"], "tier1-audit.txt"),
        "sub-vendor's file, asked internal": upload(sub, "sub-logs.txt", visibility="internal"),
    }
    return SimpleNamespace(incident=L.incident, users=users, items=items)


@pytest.mark.django_db
@pytest.mark.parametrize("role", VISIBILITY_ROLES)
@pytest.mark.parametrize("item", list(VISIBILITY))
def test_who_reads_each_note_and_file(written, role, item):
    seen = bool(VISIBILITY[item][VISIBILITY_ROLES.index(role)])
    sees_incident = role not in ("tier-3", "unrelated")
    client = client_for(written.users[role])
    incident = written.incident
    events = client.get(f"/api/v1/incidents/{incident.pk}/events/?page_size=200")
    assert events.status_code == (200 if sees_incident else 404)
    messages = " ".join(e["message"] for e in events.json().get("results", []))
    thing = written.items[item]
    if isinstance(thing, str):  # a note
        assert (thing in messages) == seen, (role, item, messages)
        return
    # A file: its detail, its download, both lists and its upload on the timeline agree.
    code = 200 if seen else 404
    assert client.get(f"/api/v1/evidence/{thing.pk}/").status_code == code
    assert client.get(f"/api/v1/evidence/{thing.pk}/download/").status_code == code
    assert (thing.pk in _ids(client, "/api/v1/evidence/?page_size=200")) == seen
    listed = client.get(f"/api/v1/incidents/{incident.pk}/evidence/?page_size=200")
    assert listed.status_code == (200 if sees_incident else 404)
    assert (thing.pk in {e["id"] for e in listed.json().get("results", [])}) == seen
    assert (thing.original_name in messages) == seen, (role, item, messages)


# --- Every route has a row ---------------------------------------------------------------

_GROUP = re.compile(r"\(\?P<[^>]+>[^)]*\)|<[^>]+>")


def _api_routes() -> set[str]:
    """Every method and path the URL map serves under /api/v1/, as "GET /api/v1/x/{id}/"
    (format-suffix twins and the browsable API's HEAD/OPTIONS left out)."""
    found: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
                continue
            if not route.startswith("api/v1/") or "format>" in route:
                continue
            path = "/" + _GROUP.sub("{id}", route).replace("\\.", ".")
            view = entry.callback
            cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
            if cls is None:  # a plain function view (the docs page) reads
                methods = {"get"}
            elif getattr(view, "actions", None):  # a viewset route: minus what it turns off
                methods = set(view.actions) & set(cls.http_method_names)
            else:
                methods = {m for m in cls.http_method_names if hasattr(cls, m)}
            for method in methods - {"head", "options"}:
                found.add(f"{method.upper()} {path}")

    walk(get_resolver().url_patterns, "")
    return found


def _case_route(case) -> str:
    method, path = _case_id(case).split(" ", 1)
    return f"{method} {path.split('?', 1)[0].replace('{shared id}', '{id}')}"


def test_every_api_route_has_a_row_in_the_matrix():
    # A new endpoint or method without a row above fails here: say who may call it.
    missing = _api_routes() - {_case_route(case) for case in CASES}
    assert not missing, "no permission-matrix row for:\n" + "\n".join(sorted(missing))
