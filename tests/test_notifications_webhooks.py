"""Webhooks (DESIGN section 12): admins register `{url, secret, events}`; each event is
POSTed signed, retried with backoff until it gets through (at least once), every attempt
recorded; private addresses are refused unless allowed; a worker that dies mid-delivery
loses nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from breaches import services
from notifications import webhooks
from notifications.choices import EventType
from notifications.fanout import fan_out, sweep
from notifications.models import Event, Notification, WebhookAttempt, WebhookDelivery
from tests.apiclients import client_for, results
from tests.notifying import deliver_everything
from tests.ui_cases import confirmed_incident

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-erp"


class Receiver:
    """A local webhook receiver: verifies every signature, answers from a script (500,
    a stall past the client's timeout, then 200), and keeps the events it accepted,
    deduplicated by id as receivers are told to."""

    def __init__(self, script=("ok",)):
        self.script = list(script)
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Breach-Timestamp"]
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers["X-Breach-Signature"])
                fresh = abs(time.time() - int(timestamp)) < 300
                step = receiver.script[min(len(receiver.requests), len(receiver.script) - 1)]
                receiver.requests.append(
                    {"valid": valid and fresh, "host": self.headers["Host"], "step": step}
                )
                if not (valid and fresh):
                    self._answer(401, b"bad signature")
                elif step == "500":
                    self._answer(500, b"x" * 5000)
                elif step == "stall":
                    time.sleep(1.5)  # the sender gave up after its read timeout
                else:
                    payload = json.loads(body)
                    receiver.accepted.setdefault(payload["id"], payload)
                    self._answer(200, b'{"ok": true}')

            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/breach"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_READ_TIMEOUT = 0.5
    settings.WEBHOOK_CONNECT_TIMEOUT = 1


@pytest.fixture
def receiver(allow_private):
    receiver = Receiver(script=("500", "stall", "ok"))
    yield receiver
    receiver.close()


def register(admin_user, url, events=("penalty.issued",)):
    response = client_for(admin_user).post(
        "/api/v1/webhooks/", {"url": url, "secret": SECRET, "events": list(events)}
    )
    assert response.status_code == 201, response.content
    assert "secret" not in response.json()
    return response.json()


def issue_a_penalty(compliance_user, subvendor, bumper_asset, title=""):
    incident = confirmed_incident(compliance_user, subvendor, [bumper_asset], title=title)
    return services.penalty_transition(
        actor=compliance_user, penalty=incident.penalties.get(), to="issued"
    )


def test_the_receiver_gets_each_event_once_after_a_500_and_a_timeout(
    receiver, admin_user, compliance_user, subvendor, tier1_nda, bumper_asset
):
    endpoint = register(admin_user, receiver.url)
    penalty = issue_a_penalty(compliance_user, subvendor, bumper_asset)
    event = Event.objects.get(type=EventType.PENALTY_ISSUED)
    fan_out(event.pk)
    delivery = WebhookDelivery.objects.get(event=event)
    assert WebhookDelivery.objects.count() == 1  # the confirmation was not subscribed

    now = timezone.now()
    assert webhooks.deliver(delivery_id=delivery.pk, now=now) == "retry"  # 500
    assert webhooks.deliver(delivery_id=delivery.pk, now=now) == "not_claimed"  # not due
    delivery.refresh_from_db()
    assert now + timedelta(seconds=14) < delivery.next_attempt_at < now + timedelta(seconds=31)
    now = delivery.next_attempt_at
    assert webhooks.deliver(delivery_id=delivery.pk, now=now) == "retry"  # read timeout
    delivery.refresh_from_db()
    result = sweep(now=delivery.next_attempt_at, inline=True)
    assert result.webhooks == [delivery.pk]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    # A redelivered task finds it done.
    assert webhooks.deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at) == (
        "not_claimed"
    )

    assert [r["step"] for r in receiver.requests] == ["500", "stall", "ok"]
    assert all(r["valid"] for r in receiver.requests), receiver.requests
    assert list(receiver.accepted) == [str(event.pk)]
    body = receiver.accepted[str(event.pk)]
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "penalty.issued"
    assert body["data"]["penalty"] == penalty.pk
    assert body["data"]["amount"] == "1000000.00"

    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, None, 200]
    assert len(attempts[0].response_excerpt) == 1024
    assert "Timeout" in attempts[1].error
    assert all(a.latency_ms >= 0 for a in attempts)
    listed = results(client_for(admin_user).get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/"))
    assert [a["status_code"] for a in listed[0]["attempt_log"]] == [200, None, 500]


def test_a_test_event_reaches_the_endpoint_it_was_sent_to(receiver, admin_user):
    receiver.script = ["ok"]
    endpoint = register(admin_user, receiver.url)
    response = client_for(admin_user).post(f"/api/v1/webhooks/{endpoint['id']}/test/")
    assert response.status_code == 202, response.content
    deliver_everything()
    (body,) = receiver.accepted.values()
    assert body["type"] == "webhook.test"
    assert Notification.objects.count() == 0  # nobody else hears of it


def test_only_admins_manage_webhooks(compliance_user, supplier_user, auditor_user, admin_user):
    payload = {"url": "https://erp.example.com/hook", "secret": SECRET, "events": ["penalty.paid"]}
    for user in (compliance_user, supplier_user, auditor_user):
        response = client_for(user).post("/api/v1/webhooks/", payload)
        assert response.status_code == 403, response.content
        assert client_for(user).get("/api/v1/webhooks/").status_code == 403


def test_bad_input_is_a_clear_400(admin_user, allow_private):
    client = client_for(admin_user)
    for payload, field in [
        ({"url": "ftp://erp.example.com/", "secret": SECRET, "events": ["penalty.paid"]}, "url"),
        ({"url": "https://erp.example.com/", "secret": "short", "events": ["penalty.paid"]},
         "secret"),
        ({"url": "https://erp.example.com/", "secret": SECRET, "events": ["penalty.eaten"]},
         "events"),
        ({"url": "https://erp.example.com/", "secret": SECRET, "events": []}, "events"),
    ]:  # fmt: skip
        response = client.post("/api/v1/webhooks/", payload)
        assert response.status_code == 400, response.content
        assert field in response.json(), response.content


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_a_private_address_is_refused_when_not_allowed(admin_user, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(admin_user).post(
        "/api/v1/webhooks/", {"url": url, "secret": SECRET, "events": ["penalty.issued"]}
    )
    assert response.status_code == 400, response.content
    assert "url" in response.json()


def test_a_name_that_turns_private_after_registration_is_refused_at_send_time(
    admin_user, compliance_user, subvendor, tier1_nda, bumper_asset, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    receiver = Receiver()
    answers = {"erp.example.com": "93.184.216.34"}
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    register(admin_user, f"http://erp.example.com:{receiver.port}/hook")  # public then
    answers["erp.example.com"] = "127.0.0.1"  # DNS rebinding
    issue_a_penalty(compliance_user, subvendor, bumper_asset)
    deliver_everything()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert "Refused" in attempt.error
    assert "127.0.0.1" in attempt.error
    assert receiver.requests == []
    receiver.close()


def test_the_connection_goes_to_the_checked_address_under_the_name(
    admin_user, compliance_user, subvendor, tier1_nda, bumper_asset, allow_private, monkeypatch
):
    receiver = Receiver()
    real = socket.getaddrinfo
    looked_up = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "erp.example.com":
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    register(admin_user, f"http://erp.example.com:{receiver.port}/hook")
    looked_up.clear()
    issue_a_penalty(compliance_user, subvendor, bumper_asset)
    deliver_everything()
    assert looked_up == ["erp.example.com"]  # resolved once, at send time
    assert receiver.requests[0]["host"] == f"erp.example.com:{receiver.port}"
    assert len(receiver.accepted) == 1
    receiver.close()


def test_a_worker_killed_mid_delivery_loses_nothing(
    receiver, admin_user, compliance_user, subvendor, tier1_nda, bumper_asset
):
    receiver.script = ["ok"]
    register(admin_user, receiver.url)
    issue_a_penalty(compliance_user, subvendor, bumper_asset)
    event = Event.objects.get(type=EventType.PENALTY_ISSUED)
    fan_out(event.pk)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    # A worker claimed the delivery and died before finishing.
    assert webhooks._claim(delivery.pk, now)
    assert sweep(now=now, inline=True).webhooks == []  # held by its lease
    assert receiver.requests == []
    later = now + webhooks.CLAIM_LEASE + timedelta(seconds=1)
    assert sweep(now=later, inline=True).webhooks == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert list(receiver.accepted) == [str(event.pk)]


def test_a_fan_out_cut_short_is_done_again_and_notifies_once(
    admin_user, compliance_user, supplier_user, subvendor, tier1_nda, bumper_asset, monkeypatch
):
    from notifications import fanout

    issue_a_penalty(compliance_user, subvendor, bumper_asset)
    event = Event.objects.get(type=EventType.PENALTY_ISSUED)

    def worker_killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(fanout, "create_deliveries", worker_killed)
    with pytest.raises(SystemExit):
        fan_out(event.pk)
    monkeypatch.undo()
    assert Notification.objects.filter(event=event).count() == 0  # rolled back whole
    event.refresh_from_db()
    assert event.fanned_out_at is None
    # The sweep takes the straggler once its task is overdue; twice is harmless.
    later = timezone.now() + timedelta(minutes=1)
    assert sweep(now=later, inline=True).fanned_out >= 1
    sweep(now=later, inline=True)
    fan_out(event.pk)
    assert Notification.objects.filter(event=event, user=supplier_user).count() == 1


def test_giving_up_after_the_retry_window_marks_the_endpoint_failing_and_tells_admins(
    admin_user, compliance_user, subvendor, tier1_nda, bumper_asset, allow_private
):
    receiver = Receiver(script=["500"])
    endpoint = register(admin_user, receiver.url)
    issue_a_penalty(compliance_user, subvendor, bumper_asset)
    event = Event.objects.get(type=EventType.PENALTY_ISSUED)
    fan_out(event.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.give_up_at - delivery.created_at >= timedelta(hours=24)
    now = delivery.give_up_at - timedelta(seconds=5)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now)
    assert webhooks.deliver(delivery_id=delivery.pk, now=now) == "failed"
    detail = client_for(admin_user).get(f"/api/v1/webhooks/{endpoint['id']}/").json()
    assert detail["failing"] is True
    failing = Event.objects.get(type=EventType.WEBHOOK_FAILING)
    fan_out(failing.pk)
    assert {n.user.username for n in Notification.objects.filter(event=failing)} == {"admin"}
    receiver.close()


def test_backoff_grows_with_jitter_up_to_an_hour():
    for attempts, low, high in [(1, 15, 30), (2, 30, 60), (5, 240, 480), (20, 1800, 3600)]:
        seen = {webhooks.backoff(attempts).total_seconds() for _ in range(50)}
        assert all(low <= s <= high for s in seen), (attempts, seen)
        assert len(seen) > 1  # jittered


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"1"}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhooks.signature("k" * 16, "1700000000", body) == f"sha256={expected}"


def test_an_admin_changes_and_removes_an_endpoint(admin_user, settings, monkeypatch):
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "erp.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = register(admin_user, "https://erp.example.com/hook")
    client = client_for(admin_user)
    url = f"/api/v1/webhooks/{endpoint['id']}/"
    response = client.patch(url, {"events": ["penalty.paid", "plan.submitted"]})
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["penalty.paid", "plan.submitted"]
    refused = client.patch(url, {"url": "http://169.254.169.254/latest/"})
    assert refused.status_code == 400, refused.content
    assert client.get(url).json()["url"] == "https://erp.example.com/hook"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
