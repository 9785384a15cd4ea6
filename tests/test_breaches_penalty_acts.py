"""Penalties in the browser and the API: each button says what it does, only the acts the
viewer may make are offered (by the rules the services apply), acknowledgement is made
once and shown, and an overdue penalty (issued, money outstanding past due) is flagged on
the penalty, the list, the dashboard and in the API."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from breaches import services
from breaches.choices import PenaltyStatus
from breaches.models import IncidentEvent, Penalty
from breaches.selectors import penalty_is_overdue, penalty_overdue_q
from config.exceptions import TransitionNotAllowed
from tests.ui_cases import confirmed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(compliance_user, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    return confirmed_incident(compliance_user, subvendor, [bumper_asset])


@pytest.fixture
def issued(seed, compliance_user):
    return services.penalty_transition(
        actor=compliance_user, penalty=seed.penalties.get(), to="issued"
    )


@pytest.fixture
def disputed(issued, supplier_user):
    return services.penalty_transition(
        actor=supplier_user, penalty=issued, to="disputed", note="The sub-vendor leaked"
    )


def _buttons(html: str) -> list[str]:
    """The text of each workflow button (the transition forms post `to`)."""
    forms = re.findall(r'<form[^>]*class="transition-form".*?</form>', html, re.S)
    return [re.search(r"<button[^>]*>(.*?)</button>", f, re.S).group(1).strip() for f in forms]


def test_disputed_penalty_buttons_say_what_they_do(client, disputed, second_compliance_user):
    client.force_login(second_compliance_user)  # not the issuer: may uphold and waive
    page = client.get(reverse("breaches:penalty-detail", args=[disputed.pk]))
    transitions = {t["to"]: t for t in page.context["transitions"]}
    assert set(transitions) == {"issued", "waived"}
    buttons = _buttons(page.content.decode())
    assert buttons == ["Uphold the penalty", "Waive the penalty"], buttons
    # The waiver's form is the one under "Reason for the waiver", and it waives.
    assert transitions["waived"]["form"].fields["note"].label == "Reason for the waiver"
    assert "amount" in transitions["issued"]["form"].fields  # may reduce on appeal


def test_issuer_is_offered_no_act_that_ends_on_not_allowed(client, disputed, compliance_user):
    client.force_login(compliance_user)  # the issuer: no waiver, no reduction (four eyes)
    detail = reverse("breaches:penalty-detail", args=[disputed.pk])
    page = client.get(detail)
    transitions = page.context["transitions"]
    assert [t["to"] for t in transitions] == ["issued"]
    assert "amount" not in transitions[0]["form"].fields
    assert "amount" not in page.context["edit_form"].fields  # only the due date
    assert b"Reduced amount" not in page.content
    # Every form offered is accepted, none refused with a 403.
    response = client.post(
        reverse("breaches:penalty-edit", args=[disputed.pk]),
        {"due_on": (timezone.localdate() + timedelta(days=60)).isoformat()},
    )
    assert response.status_code == 302, response.content[:300]
    response = client.post(
        reverse("breaches:penalty-transition", args=[disputed.pk]),
        {"to": "issued", "t-issued-note": "Upheld"},
    )
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert disputed.status == PenaltyStatus.ISSUED


def test_requester_of_a_waiver_is_not_offered_it_again(
    client, disputed, second_compliance_user, admin_user
):
    asked = services.penalty_transition(
        actor=second_compliance_user, penalty=disputed, to="waived", note="Goodwill"
    )
    assert isinstance(asked, services.ReviewRequested)
    client.force_login(second_compliance_user)
    page = client.get(reverse("breaches:penalty-detail", args=[disputed.pk]))
    assert [t["to"] for t in page.context["transitions"]] == ["issued"]
    client.force_login(admin_user)  # a third staff user may approve by the same act
    page = client.get(reverse("breaches:penalty-detail", args=[disputed.pk]))
    assert "waived" in [t["to"] for t in page.context["transitions"]]


def test_acknowledged_once_and_shown(client, issued, supplier_user):
    client.force_login(supplier_user)
    detail = reverse("breaches:penalty-detail", args=[issued.pk])
    assert client.get(detail).context["can_acknowledge"]
    client.post(reverse("breaches:penalty-acknowledge", args=[issued.pk]), {"note": "ok"})
    issued.refresh_from_db()
    assert issued.acknowledged_by == supplier_user
    assert issued.acknowledged_at is not None
    page = client.get(detail)
    assert not page.context["can_acknowledge"]
    assert b"Acknowledge the penalty" not in page.content
    assert "bmt-user" in page.content.decode().split('id="penalty-acknowledged"')[1][:300]
    events = IncidentEvent.objects.filter(penalty=issued, message__startswith="Acknowledged")
    assert events.count() == 1
    with pytest.raises(TransitionNotAllowed, match="acknowledged already"):
        services.penalty_acknowledge(actor=supplier_user, penalty=issued)
    response = client.post(reverse("breaches:penalty-acknowledge", args=[issued.pk]))
    assert response.status_code == 302
    assert events.count() == 1


def test_api_second_acknowledgement_is_a_409(client, issued, supplier_user):
    client.force_login(supplier_user)
    url = f"/api/v1/penalties/{issued.pk}/acknowledge/"
    first = client.post(url, {}, content_type="application/json")
    assert first.status_code == 201, first.content
    second = client.post(url, {}, content_type="application/json")
    assert second.status_code == 409, second.content
    assert "acknowledged already" in second.content.decode()
    body = client.get(f"/api/v1/penalties/{issued.pk}/").json()
    assert body["acknowledged_by"] == supplier_user.pk
    assert body["acknowledged_at"]


def _make_overdue(penalty: Penalty, days: int = 40) -> Penalty:
    today = timezone.localdate()
    Penalty.objects.filter(pk=penalty.pk).update(
        proposed_on=today - timedelta(days=days + 30), due_on=today - timedelta(days=days)
    )
    penalty.refresh_from_db()
    return penalty


def test_overdue_rule_q_and_predicate_agree(issued, compliance_user):
    today = timezone.localdate()
    assert not penalty_is_overdue(issued, today)
    penalty = _make_overdue(issued)
    assert penalty_is_overdue(penalty, today)
    assert list(Penalty.objects.filter(penalty_overdue_q(today))) == [penalty]
    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount="400000", paid_on=today
    )
    penalty.refresh_from_db()
    assert penalty_is_overdue(penalty, today)  # 600,000 still outstanding
    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount="600000", paid_on=today
    )
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.PAID
    assert not penalty_is_overdue(penalty, today)
    assert not Penalty.objects.filter(penalty_overdue_q(today)).exists()


def test_overdue_penalty_flagged_everywhere(client, issued, compliance_user, supplier_user):
    penalty = _make_overdue(issued)
    for user in (compliance_user, supplier_user):
        client.force_login(user)
        dashboard = client.get(reverse("dashboard"))
        assert [p.pk for p in dashboard.context["overdue_penalties"]] == [penalty.pk]
        assert b"Overdue penalties" in dashboard.content
        listing = client.get(reverse("breaches:penalty-list"))
        assert b"Overdue 40 d" in listing.content
        only = client.get(reverse("breaches:penalty-list") + "?overdue=true")
        assert [p.pk for p in only.context["page"]] == [penalty.pk]
        detail = client.get(reverse("breaches:penalty-detail", args=[penalty.pk]))
        assert b'id="penalty-overdue"' in detail.content
        api = client.get(f"/api/v1/penalties/{penalty.pk}/").json()
        assert api["overdue"] is True
        assert client.get("/api/v1/penalties/?overdue=true").json()["results"][0]["id"] == (
            penalty.pk
        )
    assert Decimal(api["outstanding"]) == Decimal("1000000.00")
