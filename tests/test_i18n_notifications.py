"""Notifications in each person's language and time zone (DESIGN sections 11 and 12): the
event keeps the facts, and the words are made when it is shown. The batch mail is written
in its recipient's language with instants in the recipient's zone (a user's account, or
the supplier contact's own settings); the list and the API speak the viewer's language;
webhook bodies stay the same machine-readable facts whoever is configured how."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from breaches import services
from config.formats import format_money, zone_named
from notifications.choices import EventType
from notifications.models import Event
from notifications.webhooks import event_body
from tests.apiclients import client_for, results
from tests.factories import ContactFactory
from tests.notifying import deliver_everything
from tests.ui_cases import confirmed_incident

pytestmark = pytest.mark.django_db

CONTACT_ZONE = "America/New_York"


def _local(event: Event, zone: str) -> str:
    """The event's instant as the mail must print it for a reader in `zone`."""
    return f"{timezone.localtime(event.created_at, zone_named(zone)):%Y-%m-%d %H:%M} {zone}"


def _html(message) -> str:
    return next(content for content, kind in message.alternatives if kind == "text/html")


@pytest.fixture
def issued(compliance_user, supplier_user, tier1, subvendor, tier1_nda, bumper_asset):
    """A Chinese supplier user and an English reminder contact (another zone) of the
    liable tier-1; an incident confirmed against it and its penalty issued."""
    supplier_user.language = "zh-hans"
    supplier_user.time_zone = "Asia/Shanghai"
    supplier_user.save(update_fields=["language", "time_zone"])
    ContactFactory(
        supplier=tier1,
        email="security@bmt.example",
        receives_reminders=True,
        language="en",
        time_zone=CONTACT_ZONE,
    )
    deliver_everything()
    mail.outbox.clear()
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = incident.penalties.get()
    services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    deliver_everything()
    return {
        "penalty": penalty,
        "issued": Event.objects.get(type=EventType.PENALTY_ISSUED),
        "confirmed": Event.objects.get(type=EventType.INCIDENT_CONFIRMED),
    }


def test_a_chinese_users_mail_is_in_chinese_with_times_in_its_zone(issued, supplier_user):
    (message,) = [m for m in mail.outbox if supplier_user.email in m.to]
    penalty = issued["penalty"]
    assert "条新通知" in message.subject, message.subject
    for text in (message.body, _html(message)):
        assert "您好" in text
        assert "违约金已开具" in text  # the kind's title
        assert "泄密事件已确认" in text
        assert format_money(penalty.amount, penalty.currency, "zh-hans") in text
        assert _local(issued["issued"], "Asia/Shanghai") in text
        assert _local(issued["confirmed"], "Asia/Shanghai") in text
        assert "UTC" not in text
        assert "Hello," not in text
        assert "was issued to" not in text
    assert "查看\uff1a" in message.body  # "Open it:" in Chinese, with a full-width colon


def test_an_english_contacts_mail_stays_english_in_the_contacts_zone(issued):
    (message,) = [m for m in mail.outbox if "security@bmt.example" in m.to]
    penalty = issued["penalty"]
    assert message.subject == "Breach tracker: 2 new notifications"
    for text in (message.body, _html(message)):
        assert "Hello," in text
        assert "was issued to Beijing Molding Technology Co. Ltd" in text
        assert format_money(penalty.amount, penalty.currency, "en") in text
        assert _local(issued["issued"], CONTACT_ZONE) in text
        assert "您好" not in text
    assert message.body.count("Open it: http") == 2


def test_the_list_and_the_api_speak_the_viewers_language(issued, supplier_user):
    browser = Client()
    browser.force_login(supplier_user)  # the account says Chinese
    page = browser.get("/notifications/").content.decode()
    assert "已向 Beijing Molding Technology Co. Ltd 开具违约金" in page
    assert _local(issued["issued"], "Asia/Shanghai") in page
    api = client_for(supplier_user)
    chinese = results(api.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    english = results(api.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="en"))
    by_type = {row["type"]: row for row in chinese}
    assert by_type["penalty.issued"]["title"] == "违约金已开具"
    assert "开具违约金" in by_type["penalty.issued"]["text"]
    assert {row["type"]: row["title"] for row in english}["penalty.issued"] == "Penalty issued"
    # The facts are the same in either language: only the words differ.
    assert [row["data"] for row in chinese] == [row["data"] for row in english]


def test_webhook_bodies_stay_machine_readable_in_any_language(issued):
    event = issued["issued"]
    with translation.override("zh-hans"):
        chinese = event_body(event)
    assert chinese == event_body(event)
    payload = json.loads(chinese)
    assert payload["type"] == "penalty.issued"
    assert payload["data"]["currency"] == "CNY"
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["created_at"].endswith("Z")
