"""DESIGN section 6 error contract: 400 naming each bad field, 404 outside scope, 409 for
invalid transitions and conflicts, and never a 500 for anything a client can send."""

from __future__ import annotations

import pytest

from breaches.models import Incident, Payment, RectificationAction
from suppliers.models import NDA, Supplier
from tests.apiclients import client_for
from tests.factories import IncidentFactory, PenaltyFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(compliance_user):
    return client_for(compliance_user)


def _nda_payload(supplier, **overrides):
    payload = {
        "reference": "NDA-E-1",
        "supplier": supplier.pk,
        "signed_on": "2025-01-01",
        "effective_from": "2025-01-02",
        "penalty_amount": "1000.00",
        "penalty_currency": "CNY",
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("NaN", "nan"),
        ("Infinity", "inf"),
        ("-Infinity", "-inf"),
        ("1e400", "huge exponent"),
        ("12345678901234567.00", "17 digits"),
        ("1.001", "three places"),
        ("-5.00", "negative"),
        ("0", "zero"),
        ("abc", "text"),
        ("", "blank"),
        (None, "null"),
        ([], "list"),
        ({"a": 1}, "object"),
        (True, "bool"),
        ("1_000", "digit separator"),
        ("+5", "plus sign"),
        ("1e3", "exponent"),
        ("".join(chr(0xFF10 + int(d)) for d in "1000"), "full-width digits"),
        ("".join(chr(0x0660 + int(d)) for d in "1000"), "Arabic-Indic digits"),
    ],
)
def test_bad_money_is_a_400_naming_the_field(staff, tier1, amount, why):
    response = staff.post(
        "/api/v1/ndas/", _nda_payload(tier1, penalty_amount=amount), format="json"
    )
    assert response.status_code == 400, (why, response.content)
    assert "penalty_amount" in response.json(), response.content
    assert not NDA.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "A", "country": "CN"',  # truncated
        b"not json",
        b'{"name": NaN, "country": "CN"}',
        b'{"name": Infinity}',
        b"[1, 2, 3]",
        b'"just a string"',
        b"\xff\xfe\x00",
        b'{"name": "A", "country": 1e400}',
        b"",
    ],
)
def test_malformed_bodies_are_400(staff, raw):
    response = staff.generic("POST", "/api/v1/suppliers/", raw, content_type="application/json")
    assert response.status_code == 400, (raw, response.content)
    assert not Supplier.objects.exists()


def test_huge_numbers_and_unknown_ids_are_400(staff, tier1):
    for parent in (10**30, -1, 0, 999999, "abc", 1.5, True, [1], {"id": 1}):
        response = staff.post(
            "/api/v1/suppliers/", {"name": "X", "country": "CN", "parent": parent}, format="json"
        )
        assert response.status_code == 400, (parent, response.content)
        assert "parent" in response.json(), response.content
    response = staff.post(
        "/api/v1/ndas/", _nda_payload(tier1, rectification_days=10**20), format="json"
    )
    assert response.status_code == 400, response.content
    assert "rectification_days" in response.json()


def test_each_bad_field_is_named(staff):
    response = staff.post(
        "/api/v1/incidents/",
        {
            "title": "",
            "occurred_on": "2025-02-30",
            "discovered_on": "yesterday",
            "channel": "carrier pigeon",
            "severity": None,
            "assets": [10**25],
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    for field in ("title", "occurred_on", "discovered_on", "channel", "severity", "assets"):
        assert field in body, (field, body)
    assert not Incident.objects.exists()


def test_discovered_before_occurred_is_a_field_error(staff):
    response = staff.post(
        "/api/v1/incidents/",
        {
            "title": "x",
            "occurred_on": "2025-02-02",
            "discovered_on": "2025-02-01",
            "channel": "press",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "discovered_on" in response.json()


@pytest.mark.parametrize(
    "name", ["\x00nul", "\\ud800 lone surrogate", "名字" * 200, "   ", "🚗 MS11 Ltd"]
)
def test_unicode_is_handled(staff, name):
    # Sent as raw JSON so that escapes such as a lone surrogate reach the parser as is.
    escaped = name.replace("\x00", "\\u0000")
    body = '{"name": "' + escaped + '", "country": "CN"}'
    response = staff.generic(
        "POST", "/api/v1/suppliers/", body.encode(), content_type="application/json"
    )
    if name == "🚗 MS11 Ltd":
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 400, response.content
        assert "name" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "status=nonsense",
        "incident=abc",
        "incident=99999999999999999999999",
        "incident=-3",
        "due_on_after=2025-13-45",
        "created_before=tomorrow",
        "overdue=maybe",
        "page_size=abc",
        "page_size=0",
        "page_size=-1",
        "cursor=%%%garbage",
        "cursor=cD0yMDI1",
        "ordering=amount",
        "ordering=-created_at,id",
    ],
)
def test_invalid_list_parameters_are_400(staff, query):
    response = staff.get(f"/api/v1/rectification-plans/?{query}")
    assert response.status_code == 400, (query, response.content)


def test_page_size_is_capped(staff, tier1):
    for _ in range(3):
        PlanFactory(supplier=tier1)
    response = staff.get("/api/v1/rectification-plans/?page_size=100000")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 3


def test_unknown_ids_in_urls_are_404(staff):
    for url in (
        "/api/v1/incidents/999999/",
        "/api/v1/incidents/99999999999999999999999999/",
        "/api/v1/penalties/abc/",
        "/api/v1/evidence/999/download/",
    ):
        response = staff.get(url)
        assert response.status_code == 404, (url, response.content)


def test_invalid_transition_is_409_and_changes_nothing(staff, tier1):
    incident = IncidentFactory(responsible_supplier=tier1)
    response = staff.post(
        f"/api/v1/incidents/{incident.pk}/transition/", {"to": "closed"}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    incident.refresh_from_db()
    assert incident.status == "reported"
    response = staff.post(
        f"/api/v1/incidents/{incident.pk}/transition/", {"to": "flying"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "to" in response.json()


def test_deleting_supplier_with_history_is_409(staff, tier1, subvendor):
    response = staff.delete(f"/api/v1/suppliers/{tier1.pk}/")
    assert response.status_code == 409, response.content
    assert Supplier.objects.filter(pk=tier1.pk).exists()
    response = staff.delete(f"/api/v1/suppliers/{subvendor.pk}/")
    assert response.status_code == 204, response.content


def test_overpayment_and_payment_on_proposed_penalty(staff, tier1):
    penalty = PenaltyFactory(supplier=tier1, status="issued")
    response = staff.post(
        f"/api/v1/penalties/{penalty.pk}/payments/",
        {"amount": "1000000.01", "paid_on": "2025-03-01"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "amount" in response.json()
    proposed = PenaltyFactory(supplier=tier1)
    response = staff.post(
        f"/api/v1/penalties/{proposed.pk}/payments/",
        {"amount": "1.00", "paid_on": "2025-03-01"},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert not Payment.objects.exists()


def test_mass_assignment_of_invisible_plan_creates_nothing(other_supplier_user, tier1):
    plan = PlanFactory(supplier=tier1)
    response = client_for(other_supplier_user).post(
        "/api/v1/rectification-actions/",
        {"plan": plan.pk, "description": "sneaky", "due_on": "2099-01-01"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "plan" in response.json()
    assert not RectificationAction.objects.exists()


def test_read_only_fields_are_ignored(staff, tier1):
    response = staff.post(
        "/api/v1/suppliers/",
        {"name": "Ro", "country": "CN", "tier": 7, "id": 555},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["tier"] == 1
    assert response.json()["id"] != 555


def test_wrong_content_type_is_415(staff):
    response = staff.generic("POST", "/api/v1/suppliers/", b"name=x", content_type="text/csv")
    assert response.status_code == 415, response.content


@pytest.mark.parametrize("path", ["/api/v1/rectification-plans/", "/api/v1/incidents/"])
@pytest.mark.parametrize("position", ["p=not-a-date", "p=2025-01-01%00", "o=-5", "o=abc&p=x"])
def test_crafted_cursors_are_400(staff, tier1, position, path):
    import base64
    from urllib.parse import quote

    PlanFactory(supplier=tier1)
    cursor = quote(base64.b64encode(position.encode()).decode())
    response = staff.get(f"{path}?cursor={cursor}")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("fingerprint", ["ab\x00", "not-hex" * 6, "a" * 65, "zz"])
def test_suspects_refuse_malformed_fingerprints(staff, fingerprint):
    incident = IncidentFactory()
    response = staff.get(f"/api/v1/incidents/{incident.pk}/suspects/", {"fingerprint": fingerprint})
    assert response.status_code == 400, response.content
    assert "fingerprint" in response.json()


def test_oversized_json_body_is_413(staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"name": "' + b"x" * 2048 + b'", "country": "CN"}'
    response = staff.generic("POST", "/api/v1/suppliers/", body, content_type="application/json")
    assert response.status_code == 413, response.content
    assert not Supplier.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/incidents/"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_json_nested_too_deeply_is_a_400_and_creates_nothing(compliance_user, path, signed_in):
    client = client_for(compliance_user if signed_in else None)
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        body = opener * 1000 + "1" + closer * 1000
        response = client.post(path, data=body, content_type="application/json")
        expected = 400 if signed_in or path.endswith("token/") else 401
        assert response.status_code == expected, (path, response.status_code, response.content)
        if expected == 400:
            assert "nested too deeply" in response.json()["detail"], response.content
    assert not Incident.objects.exists()


@pytest.mark.parametrize("who", ["compliance_user", "supplier_user"])
def test_an_action_is_created_with_the_schemas_evidence_note(who, request, tier1):
    """The schema lists evidence_note as writable; creating an action with it answered 500."""
    plan = PlanFactory(supplier=tier1, incident=IncidentFactory(responsible_supplier=tier1))
    client = client_for(request.getfixturevalue(who))
    response = client.post(
        "/api/v1/rectification-actions/",
        {
            "plan": plan.pk,
            "description": "Bind the sub-vendor by a written NDA",
            "due_on": "2030-01-31",
            "evidence_note": "Draft sent to their legal team.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    action = RectificationAction.objects.get(pk=response.json()["id"])
    assert action.evidence_note == "Draft sent to their legal team."


@pytest.mark.parametrize(
    ("paid_on", "why"),
    [
        ("0001-01-01", "year one"),
        ("1989-12-31", "before 1990"),
        ("9999-12-31", "far future"),
        ("".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in "2025-03-01"), "full-width"),
        ("2025-3-1", "not zero-padded"),
        ("20250301", "no dashes"),
    ],
)
def test_a_payment_date_is_a_real_business_date(staff, tier1, paid_on, why):
    penalty = PenaltyFactory(supplier=tier1, status="issued")
    response = staff.post(
        f"/api/v1/penalties/{penalty.pk}/payments/",
        {"amount": "10.00", "paid_on": paid_on, "reference": "W-1"},
        format="json",
    )
    assert response.status_code == 400, (why, response.content)
    assert "paid_on" in response.json(), response.content
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "digits",
    [lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)), lambda n: f"%2B{n}"],
    ids=["full-width", "plus-sign"],
)
def test_a_filter_by_id_takes_ascii_digits_only(staff, tier1, digits):
    IncidentFactory(responsible_supplier=tier1)
    assert staff.get(f"/api/v1/incidents/?responsible_supplier={tier1.pk}").json()["results"]
    response = staff.get(f"/api/v1/incidents/?responsible_supplier={digits(tier1.pk)}")
    assert response.status_code == 400, response.content
    assert "responsible_supplier" in response.json(), response.content


def test_the_nda_window_is_ten_years_ahead_at_most(staff, tier1):
    from datetime import timedelta

    from django.utils import timezone

    far = (timezone.localdate() + timedelta(days=11 * 366)).isoformat()
    response = staff.post("/api/v1/ndas/", _nda_payload(tier1, expires_on=far), format="json")
    assert response.status_code == 400, response.content
    assert "expires_on" in response.json(), response.content
    near = (timezone.localdate() + timedelta(days=5 * 365)).isoformat()
    response = staff.post("/api/v1/ndas/", _nda_payload(tier1, expires_on=near), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/assets/", {"code": "A-1", "name": "Bumper", "project": 0}, "project"),
        ("/api/v1/suppliers/", {"name": 12, "country": "CN"}, "name"),
        ("/api/v1/contacts/", {"name": "Li", "email": 5, "supplier": None}, "email"),
    ],
)
def test_a_number_where_text_belongs_is_a_400(staff, tier1, path, body, field):
    # Found by schemathesis' negative data: DRF's CharField turned 0 into "0".
    body = {**body, "supplier": tier1.pk} if "supplier" in body else body
    before = (Supplier.objects.count(), NDA.objects.count())
    response = staff.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert (Supplier.objects.count(), NDA.objects.count()) == before


def test_a_list_of_ids_must_be_a_list(staff, subvendor, bumper_asset):
    # Found by schemathesis' negative data: {"assets": {}} passed as an empty list.
    body = {
        "title": "Renders on Weibo",
        "occurred_on": "2025-01-20",
        "discovered_on": "2025-01-22",
        "channel": "social_media",
        "severity": "high",
        "source_supplier": subvendor.pk,
    }
    for assets in ({}, {"1": bumper_asset.pk}, "1", bumper_asset.pk):
        response = staff.post("/api/v1/incidents/", {**body, "assets": assets}, format="json")
        assert response.status_code == 400, (assets, response.content)
        assert "assets" in response.json()
    assert not Incident.objects.exists()
    response = staff.post(
        "/api/v1/incidents/", {**body, "assets": [bumper_asset.pk]}, format="json"
    )
    assert response.status_code == 201, response.content
