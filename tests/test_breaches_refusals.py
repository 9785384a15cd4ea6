"""Refusals that explain: a payment dated in the future, a close blocked by an unpaid
penalty and an unverified plan, a fingerprint that matches no disclosure, and one of a
disclosure of an asset the incident does not name (never the prime suspect)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from breaches import services
from breaches.choices import EventKind
from breaches.models import IncidentEvent, Payment
from config.exceptions import TransitionNotAllowed
from suppliers.selectors import incident_suspects
from tests.factories import AssetFactory, DisclosureFactory
from tests.ui_cases import confirmed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seed(compliance_user, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    return confirmed_incident(compliance_user, subvendor, [bumper_asset])


@pytest.fixture
def issued(seed, compliance_user):
    return services.penalty_transition(
        actor=compliance_user, penalty=seed.penalties.get(), to="issued"
    )


def test_payment_dated_in_the_future_is_refused_everywhere(client, issued, compliance_user):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        services.penalty_record_payment(
            actor=compliance_user, penalty=issued, amount="10", paid_on=tomorrow
        )
    assert "future" in str(excinfo.value.message_dict["paid_on"])
    client.force_login(compliance_user)
    api = client.post(
        f"/api/v1/penalties/{issued.pk}/payments/",
        {"amount": "10.00", "paid_on": tomorrow.isoformat()},
        content_type="application/json",
    )
    assert api.status_code == 400, api.content
    assert "future" in api.json()["paid_on"][0]
    page = client.post(
        reverse("breaches:penalty-payment", args=[issued.pk]),
        {"amount": "10.00", "paid_on": tomorrow.isoformat()},
    )
    assert page.status_code == 400
    assert "future" in str(page.context["payment_form"].errors["paid_on"])
    assert not Payment.objects.exists()
    services.penalty_record_payment(
        actor=compliance_user, penalty=issued, amount="10", paid_on=timezone.localdate()
    )
    assert Payment.objects.count() == 1


def test_the_reason_a_close_is_blocked_is_shown_and_refused_with(client, issued, compliance_user):
    incident = issued.incident
    services.incident_transition(actor=compliance_user, incident=incident, to="resolved")
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:incident-detail", args=[incident.pk]))
    blockers = page.context["close_blockers"]
    assert len(blockers) == 2, blockers
    assert "1000000.00 CNY" in blockers[0]
    assert "paid or waived" in blockers[0]
    assert "requested: closing needs it verified" in blockers[1]
    assert b'id="close-blockers"' in page.content
    assert [t["to"] for t in page.context["transitions"]] == []
    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.incident_transition(actor=compliance_user, incident=incident, to="closed")
    assert excinfo.value.message == " ".join(blockers)  # the same rule, the same words


def test_fingerprint_matching_no_disclosure_is_refused(client, seed, compliance_user):
    unknown = "ab" * 16
    with pytest.raises(ValidationError, match="matches no disclosure"):
        services.incident_report_fingerprint(
            actor=compliance_user, incident=seed, fingerprint=unknown
        )
    seed.refresh_from_db()
    assert seed.leak_fingerprint == ""
    client.force_login(compliance_user)
    response = client.post(
        reverse("breaches:incident-fingerprint", args=[seed.pk]), {"fingerprint": unknown}
    )
    assert response.status_code == 400
    assert "matches no disclosure" in str(response.context["fingerprint_form"].errors)
    page = client.get(reverse("breaches:incident-detail", args=[seed.pk]), {"fingerprint": unknown})
    assert b"matches no disclosure" in page.content


def test_fingerprint_of_an_unrelated_asset_is_not_the_prime_suspect(
    client, seed, compliance_user, tier1, tier1_nda, bumper_disclosure
):
    other_asset = AssetFactory(code="MS12-DASH", name="MS12 dashboard")
    unrelated = DisclosureFactory(asset=other_asset, supplier=tier1, nda=tier1_nda)
    services.incident_report_fingerprint(
        actor=compliance_user, incident=seed, fingerprint=unrelated.fingerprint
    )
    seed.refresh_from_db()
    suspects = incident_suspects(seed)
    listed = {s.disclosure.pk: s for s in suspects}
    assert listed[unrelated.pk].fingerprint_match
    assert not listed[unrelated.pk].asset_named
    assert not listed[unrelated.pk].prime
    assert not any(s.prime for s in suspects)
    assert suspects[0].disclosure == bumper_disclosure  # the leaked asset's recipient first
    event = IncidentEvent.objects.filter(incident=seed, kind=EventKind.FINGERPRINT).get()
    assert "does not name" in event.message
    client.force_login(compliance_user)
    page = client.get(reverse("breaches:incident-detail", args=[seed.pk]))
    assert b"Prime suspect" not in page.content
    assert b"not a suspect" in page.content
    api = client.get(f"/api/v1/incidents/{seed.pk}/suspects/").json()
    row = next(r for r in api if r["disclosure"] == unrelated.pk)
    assert row["fingerprint_match"] is True
    assert row["prime_suspect"] is False
    assert row["asset_named"] is False
    # Its own asset's fingerprint is the prime suspect.
    services.incident_report_fingerprint(
        actor=compliance_user, incident=seed, fingerprint=bumper_disclosure.fingerprint
    )
    seed.refresh_from_db()
    assert incident_suspects(seed)[0].prime
