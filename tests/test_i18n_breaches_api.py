"""The API refuses in the language its client asks for (Accept-Language, DESIGN section
11): a workflow's refusals and the serializers' own, in Chinese for zh-hans, and in
English, word for word as before, otherwise. Codes stay codes in every language."""

# Chinese is written with its full-width punctuation, which is what is checked.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from tests.apiclients import client_for
from tests.factories import IncidentFactory, PenaltyFactory

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def staff(compliance_user):
    return client_for(compliance_user)


def test_a_refused_transition_is_explained_in_the_clients_language(staff, tier1):
    incident = IncidentFactory(responsible_supplier=tier1)
    url = f"/api/v1/incidents/{incident.pk}/transition/"

    chinese = staff.post(url, {"to": "closed"}, format="json", **CHINESE)
    english = staff.post(url, {"to": "closed"}, format="json")

    assert chinese.status_code == english.status_code == 409
    assert chinese.json()["code"] == english.json()["code"] == "invalid_transition"
    assert chinese.json()["detail"] == (
        "泄密事件不能从“已上报”变为“已关闭”（“已上报”状态下可变为：调查中）。"
    )
    assert english.json()["detail"] == (
        "An incident cannot go from reported to closed (allowed from reported: investigating)."
    )


def test_a_refused_payment_names_the_field_in_the_clients_language(staff, tier1):
    penalty = PenaltyFactory(supplier=tier1, status="issued")
    url = f"/api/v1/penalties/{penalty.pk}/payments/"
    payload = {"amount": "1000000.01", "paid_on": "2025-03-01"}

    chinese = staff.post(url, payload, format="json", **CHINESE)
    english = staff.post(url, payload, format="json")

    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["amount"] == ["将超过违约金金额：未付金额为 1000000.00 CNY。"]
    assert english.json()["amount"] == [
        "This would exceed the penalty: 1000000.00 CNY is outstanding."
    ]


def test_a_serializers_own_refusal_follows_the_language_too(staff, tier1):
    penalty = PenaltyFactory(supplier=tier1)
    other = IncidentFactory(responsible_supplier=tier1)
    url = f"/api/v1/penalties/{penalty.pk}/"

    chinese = staff.patch(url, {"incident": other.pk}, format="json", **CHINESE)
    english = staff.patch(url, {"incident": other.pk}, format="json")

    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["incident"] == ["违约金不能转移到其他泄密事件。"]
    assert english.json()["incident"] == ["A penalty cannot move to another incident."]
