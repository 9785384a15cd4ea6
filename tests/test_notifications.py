"""Notifications (DESIGN section 12): each kind of event reaches exactly the people the
design names and nobody else, once in their in-app list and in one grouped mail per
batch; each user chooses mail per kind; the list, the bell and the API show a user its
own notifications only."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from breaches import services
from notifications.choices import EventType
from notifications.fanout import fan_out
from notifications.models import Event, Notification
from notifications.services import announce
from suppliers.choices import Role
from tests.apiclients import client_for, results
from tests.factories import ContactFactory, UserFactory
from tests.notifying import deliver_everything
from tests.ui_cases import confirmed_incident, other_world_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    compliance_user,
    second_compliance_user,
    admin_user,
    auditor_user,
    supplier_user,
    other_supplier_user,
    tier1,
    subvendor,
    other_supplier,
    tier1_nda,
    bumper_asset,
):
    """The seed case with someone on every side who must not hear of the others."""
    ContactFactory(supplier=tier1, email="security@bmt.example", receives_reminders=True)
    ContactFactory(supplier=tier1, email="sales@bmt.example", receives_reminders=False)
    ContactFactory(supplier=subvendor, email="owner@hebei.example", receives_reminders=True)
    ContactFactory(supplier=other_supplier, email="it@glass.example", receives_reminders=True)
    sub_user = UserFactory(username="hebei-user", role=Role.SUPPLIER, supplier=subvendor)
    UserFactory(username="bmt-gone", role=Role.SUPPLIER, supplier=tier1, is_active=False)
    other_world_incident(compliance_user, other_supplier)  # the other supplier's own case
    deliver_everything()
    mail.outbox.clear()
    return sub_user


def told(event: Event) -> set[str]:
    """Who got `event`: user names, and the addresses of contacts (mail only)."""
    return {
        n.user.username if n.user_id else n.email
        for n in Notification.objects.filter(event=event).select_related("user")
    }


def last(kind: str) -> Event:
    return Event.objects.filter(type=kind).order_by("-created_at").first()


SUPPLIER_SIDE = {"bmt-user", "security@bmt.example"}
STAFF = {"compliance", "compliance2", "admin"}


def test_each_kind_reaches_exactly_the_people_the_design_names(
    world, compliance_user, second_compliance_user, admin_user, supplier_user, subvendor,
    bumper_asset,
):  # fmt: skip
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    deliver_everything()
    # Against the tier-1 (liable for its sub-vendor): its users and reminder contacts.
    assert told(last(EventType.INCIDENT_CONFIRMED)) == SUPPLIER_SIDE
    penalty = incident.penalties.get()
    plan = incident.rectification_plans.get()

    services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    deliver_everything()
    assert told(last(EventType.PENALTY_ISSUED)) == SUPPLIER_SIDE

    services.penalty_transition(actor=supplier_user, penalty=penalty, to="disputed", note="No")
    deliver_everything()
    assert told(last(EventType.PENALTY_DISPUTED)) == STAFF  # the compliance staff act

    # A reduction by someone other than the issuer waits for a second reviewer: neither
    # the requester nor the issuer may decide it, so only the admin is told.
    services.penalty_transition(
        actor=second_compliance_user, penalty=penalty, to="issued", amount="400000.00"
    )
    deliver_everything()
    assert told(last(EventType.REVIEW_REQUESTED)) == {"admin"}
    services.penalty_transition(actor=admin_user, penalty=penalty, to="issued", amount="400000")
    deliver_everything()
    reduced = last(EventType.PENALTY_REDUCED)
    assert told(reduced) == SUPPLIER_SIDE
    assert reduced.data["amount"] == "400000.00"

    services.penalty_record_payment(
        actor=compliance_user, penalty=penalty, amount="400000.00", paid_on=date(2025, 3, 1)
    )
    deliver_everything()
    assert told(last(EventType.PENALTY_PAID)) == SUPPLIER_SIDE | {"compliance2", "admin"}

    services.plan_update(actor=supplier_user, plan=plan, summary="Watermark every draft")
    services.action_create(
        actor=supplier_user, plan=plan, description="Watermarks", due_on=plan.due_on
    )
    services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    deliver_everything()
    assert told(last(EventType.PLAN_SUBMITTED)) == STAFF
    services.plan_transition(actor=compliance_user, plan=plan, to="changes_requested", note="X")
    deliver_everything()
    assert told(last(EventType.PLAN_CHANGES_REQUESTED)) == SUPPLIER_SIDE
    services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    services.plan_transition(actor=compliance_user, plan=plan, to="approved")
    deliver_everything()
    assert told(last(EventType.PLAN_APPROVED)) == SUPPLIER_SIDE

    # Isolation: the sub-vendor, the unrelated supplier, the auditor and inactive users
    # heard nothing of this case (the other supplier only of its own).
    case_events = Event.objects.filter(incident_id=incident.pk)
    outsiders = Notification.objects.filter(event__in=case_events).filter(
        user__username__in=["hebei-user", "glass-user", "auditor", "bmt-gone"]
    )
    assert list(outsiders) == []
    addresses = set(
        Notification.objects.filter(event__in=case_events).values_list("email", flat=True)
    )
    assert not addresses & {"owner@hebei.example", "it@glass.example", "sales@bmt.example"}
    glass = Notification.objects.filter(user__username="glass-user")
    assert {n.event.supplier.name for n in glass} == {"Unrelated Glass Works"}
    assert not any("glass" in address for m in mail.outbox for address in m.to), (
        "no mail of this case to the other supplier"
    )


def test_a_waiver_waits_for_the_second_reviewers_then_tells_the_supplier(
    world, compliance_user, second_compliance_user, subvendor, bumper_asset
):
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = incident.penalties.get()
    services.penalty_transition(actor=compliance_user, penalty=penalty, to="waived")
    deliver_everything()
    assert told(last(EventType.REVIEW_REQUESTED)) == {"compliance2", "admin"}
    services.penalty_transition(actor=second_compliance_user, penalty=penalty, to="waived")
    deliver_everything()
    assert told(last(EventType.PENALTY_WAIVED)) == SUPPLIER_SIDE


def test_a_trace_that_matched_tells_the_compliance_staff_only(world, compliance_user):
    event = announce(
        EventType.TRACE_MATCHED,
        actor=None,
        data={"trace": 7, "incident": None, "supplier_name": "Hebei Precision Mould Studio"},
        path="/incidents/",
    )
    fan_out(event.pk)
    assert told(event) == STAFF


def test_a_review_decided_before_the_fan_out_tells_nobody(
    world, compliance_user, second_compliance_user, subvendor, bumper_asset
):
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    penalty = incident.penalties.get()
    services.penalty_transition(actor=compliance_user, penalty=penalty, to="waived")
    services.penalty_transition(actor=second_compliance_user, penalty=penalty, to="waived")
    deliver_everything()
    assert told(last(EventType.REVIEW_REQUESTED)) == set()


def test_the_event_is_written_with_the_act_or_not_at_all(
    world, compliance_user, subvendor, monkeypatch
):
    from breaches.models import Penalty

    incident = confirmed_incident(compliance_user, subvendor)
    penalty = incident.penalties.get()
    before = Event.objects.count()
    real = services.announce_penalty

    def announce_then_fail(**kwargs):
        real(**kwargs)
        assert Event.objects.count() == before + 1  # written in the act's transaction
        raise RuntimeError("the act fails after its event was written")

    monkeypatch.setattr(services, "announce_penalty", announce_then_fail)
    with pytest.raises(RuntimeError):
        services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    assert Event.objects.count() == before
    assert Penalty.objects.get(pk=penalty.pk).status == "proposed"


def test_fan_out_twice_notifies_once_and_mail_is_one_per_recipient_per_batch(
    world, compliance_user, supplier_user, subvendor, bumper_asset
):
    incidents = [
        confirmed_incident(compliance_user, subvendor, [bumper_asset], title=f"Leak {i}")
        for i in range(3)
    ]
    for incident in incidents:
        services.penalty_transition(
            actor=compliance_user, penalty=incident.penalties.get(), to="issued"
        )
    events = list(Event.objects.filter(fanned_out_at__isnull=True))
    assert len(events) == 6  # three confirmations, three penalties
    for event in events:
        fan_out(event.pk)
        fan_out(event.pk)  # a redelivered task
    assert Notification.objects.filter(user=supplier_user, event__in=events).count() == 6
    result = deliver_everything()
    assert len(result.mails) == 2  # the supplier user and its contact: one mail each
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == ["bmt-user@example.com", "security@bmt.example"]
    body = mail.outbox[0].body
    assert body.count("Open it:") == 6, body
    # The next batch has nothing to send: nothing mailed twice.
    assert deliver_everything().mails == []
    assert len(mail.outbox) == 2
    # A send task run twice mails once.
    from notifications.mail import send_mail

    assert send_mail(mail_id=result.mails[0]) == "not_claimed"


def test_a_user_chooses_mail_per_kind_and_keeps_the_in_app_list(
    world, compliance_user, supplier_user, subvendor, bumper_asset
):
    page = client_for(supplier_user)
    from django.test import Client

    browser = Client()
    browser.force_login(supplier_user)
    response = browser.get("/notifications/settings/")
    assert response.status_code == 200
    assert b"penalty.issued" in response.content
    assert b"plan.submitted" not in response.content  # a staff kind, not offered
    response = browser.post(
        "/notifications/settings/", {"email_on": ["incident.confirmed"]}, follow=True
    )
    assert response.status_code == 200
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    services.penalty_transition(
        actor=compliance_user, penalty=incident.penalties.get(), to="issued"
    )
    deliver_everything()
    mine = [m for m in mail.outbox if supplier_user.email in m.to]
    assert len(mine) == 1
    assert "confirmed" in mine[0].body
    assert "was issued" not in mine[0].body
    listed = results(page.get("/api/v1/notifications/"))
    assert {row["type"] for row in listed} == {"incident.confirmed", "penalty.issued"}


def test_the_api_shows_only_ones_own_and_marks_read(
    world, compliance_user, supplier_user, other_supplier_user, subvendor, bumper_asset
):
    confirmed_incident(compliance_user, subvendor, [bumper_asset])
    deliver_everything()
    mine = results(client_for(supplier_user).get("/api/v1/notifications/"))
    assert [row["type"] for row in mine] == ["incident.confirmed"]
    row = mine[0]
    assert row["read"] is False
    assert row["url"].startswith("/incidents/")
    other = client_for(other_supplier_user)
    assert other.get(f"/api/v1/notifications/{row['id']}/").status_code == 404
    assert other.post(f"/api/v1/notifications/{row['id']}/read/").status_code == 404
    assert Notification.objects.get(pk=row["id"]).read_at is None
    response = client_for(supplier_user).post(f"/api/v1/notifications/{row['id']}/read/")
    assert response.status_code == 200, response.content
    assert response.json()["read"] is True
    assert client_for(None).get("/api/v1/notifications/").status_code == 401


def test_the_bell_counts_unread_and_opening_one_marks_it_read(
    world, compliance_user, supplier_user, subvendor, bumper_asset
):
    from django.test import Client

    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset])
    services.penalty_transition(
        actor=compliance_user, penalty=incident.penalties.get(), to="issued"
    )
    deliver_everything()
    browser = Client()
    browser.force_login(supplier_user)
    page = browser.get("/notifications/")
    assert page.status_code == 200
    assert b'data-unread="2"' in page.content
    assert b"was issued to Beijing Molding" in page.content
    first = Notification.objects.filter(user=supplier_user).order_by("-created_at").first()
    response = browser.post(f"/notifications/{first.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == first.event.path
    assert b'data-unread="1"' in browser.get("/penalties/").content
    browser.post("/notifications/read-all/")
    assert b'data-unread="0"' in browser.get("/notifications/").content
    # Someone else's notification is a 404, and stays unread.
    other = Notification.objects.exclude(user=supplier_user).exclude(user=None).first()
    assert browser.post(f"/notifications/{other.pk}/open/").status_code == 404


def test_the_bell_costs_one_query(supplier_user, django_assert_num_queries):
    from notifications.selectors import unread_count

    with django_assert_num_queries(1):
        assert unread_count(supplier_user) == 0
        assert unread_count(supplier_user) == 0  # cached for the request


def test_the_command_sends_the_waiting_mail(world, compliance_user, subvendor, bumper_asset):
    from io import StringIO

    from django.core.management import call_command

    confirmed_incident(compliance_user, subvendor, [bumper_asset])
    for event in Event.objects.filter(fanned_out_at__isnull=True):
        fan_out(event.pk)
    out = StringIO()
    call_command("send_notifications", "--inline", stdout=out)
    assert "2 mail(s)" in out.getvalue()
    assert sorted(a for m in mail.outbox for a in m.to) == [
        "bmt-user@example.com",
        "security@bmt.example",
    ]


def test_a_mail_worker_killed_before_the_hand_over_is_sent_later_after_it_never_twice(
    world, compliance_user, subvendor, bumper_asset
):
    from datetime import timedelta

    from django.utils import timezone

    from notifications import mail as notification_mail
    from notifications.models import NotificationMail

    confirmed_incident(compliance_user, subvendor, [bumper_asset])
    for event in Event.objects.filter(fanned_out_at__isnull=True):
        fan_out(event.pk)
    before_send, after_send = notification_mail.create_batch(enqueue=False)
    now = timezone.now()
    # Both claimed by workers that died; the second had begun handing its mail over.
    assert notification_mail._claim(before_send, now)
    assert notification_mail._claim(after_send, now)
    NotificationMail.objects.filter(pk=after_send).update(send_started_at=now)
    assert notification_mail.send_mail(mail_id=before_send, now=now) == "not_claimed"
    later = now + notification_mail.REQUEUE_AFTER + timedelta(minutes=1)
    assert deliver_everything(now=later).mails == []  # no new batch: nothing new waits
    assert NotificationMail.objects.get(pk=before_send).state == "sent"
    assert NotificationMail.objects.get(pk=after_send).state == "unknown"
    assert len(mail.outbox) == 1
