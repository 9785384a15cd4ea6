"""Notification load bench: 10,000 events for 1,000 recipients.

100 suppliers, each with 9 supplier users and 1 reminder contact (1,000 recipients),
one issued penalty each; 10,000 `penalty.issued` events spread evenly over them (100 per
supplier, so 100 per recipient) and one webhook endpoint, a local HTTP receiver,
subscribed to them. Then the backlog is drained as the workers drain it, in this one
process: every event fanned out (notifications and webhook deliveries), one
notifications sweep (the mail batch), every batch mail sent, every webhook delivered.

Prints the time and rate of each stage and checks the promise: at most one mail per
recipient per batch, every person notified exactly once per event, every event
delivered to the endpoint. A throw-away SQLite database (in a temporary directory) and
in-memory mail; nothing else is touched.

    .venv/bin/python -m bench.notifications [--events 10000] [--suppliers 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def rate(count: int, seconds: float) -> str:
    return f"{count:>7,} in {seconds:7.2f} s = {count / seconds:>9,.0f}/s"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--suppliers", type=int, default=100)
    parser.add_argument("--users-per-supplier", type=int, default=9)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="notify-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["DJANGO_VAR_DIR"] = workdir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import transaction

    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    settings.WEBHOOK_SWEEP_LIMIT = args.events
    mail.outbox = []
    call_command("migrate", verbosity=0)

    from breaches.models import Incident, Penalty
    from notifications import endpoints, fanout, queue, services, webhooks
    from notifications import mail as notification_mail
    from notifications.choices import EventType
    from notifications.models import Event, Notification, NotificationMail, WebhookDelivery
    from suppliers.choices import Role
    from suppliers.models import Contact, Supplier, User

    received = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            received["count"] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # --- The data -----------------------------------------------------------------------
    started = time.monotonic()
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, email="")
    suppliers = Supplier.objects.bulk_create(
        [Supplier(name=f"Bench supplier {i:03d}", country="CN") for i in range(args.suppliers)]
    )
    User.objects.bulk_create(
        [
            User(
                username=f"s{s.pk}-u{u}",
                email=f"s{s.pk}-u{u}@supplier.example",
                role=Role.SUPPLIER,
                supplier=s,
            )
            for s in suppliers
            for u in range(args.users_per_supplier)
        ]
    )
    Contact.objects.bulk_create(
        [
            Contact(
                supplier=s,
                name="Security",
                email=f"security@s{s.pk}.example",
                receives_reminders=True,
            )
            for s in suppliers
        ]
    )
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                reference=f"INC-2026-{i + 1:04d}",
                title=f"Leak {i}",
                occurred_on="2026-01-22",
                discovered_on="2026-01-22",
                channel="social_media",
                responsible_supplier=s,
                status="confirmed",
            )
            for i, s in enumerate(suppliers)
        ]
    )
    penalties = Penalty.objects.bulk_create(
        [
            Penalty(
                incident=i,
                supplier=i.responsible_supplier,
                amount="1000000.00",
                currency="CNY",
                status="issued",
                proposed_on="2026-02-01",
                due_on="2026-03-01",
            )
            for i in incidents
        ]
    )
    penalties = list(Penalty.objects.select_related("incident", "supplier").order_by("pk"))
    endpoints.webhook_create(
        actor=admin,
        url=f"http://127.0.0.1:{server.server_address[1]}/hook",
        secret="bench-secret-0123456789",  # noqa: S106
        events=[EventType.PENALTY_ISSUED],
    )
    recipients = args.suppliers * (args.users_per_supplier + 1)
    print(f"Data: {args.suppliers} suppliers, {recipients:,} recipients "
          f"({time.monotonic() - started:.1f} s)")  # fmt: skip

    # --- Announce: the events, written by the acts (100 acts per transaction here) -----
    queue.publish = lambda *a, **k: None  # the broker: this process drains instead
    started = time.monotonic()
    for start in range(0, args.events, 100):
        with transaction.atomic():
            for n in range(start, min(start + 100, args.events)):
                services.announce(EventType.PENALTY_ISSUED, penalty=penalties[n % len(penalties)])
    announce_s = time.monotonic() - started

    # --- Drain -------------------------------------------------------------------------
    event_ids = list(Event.objects.order_by("created_at").values_list("pk", flat=True))
    started = time.monotonic()
    for event_id in event_ids:
        fanout.fan_out(event_id)
    fan_out_s = time.monotonic() - started
    notifications = Notification.objects.count()

    started = time.monotonic()
    mail_ids = notification_mail.create_batch(enqueue=False)
    batch_s = time.monotonic() - started
    started = time.monotonic()
    for mail_id in mail_ids:
        notification_mail.send_mail(mail_id=mail_id)
    send_s = time.monotonic() - started

    started = time.monotonic()
    delivery_ids = list(WebhookDelivery.objects.values_list("pk", flat=True))
    for delivery_id in delivery_ids:
        webhooks.deliver(delivery_id=delivery_id)
    webhook_s = time.monotonic() - started
    server.shutdown()

    # --- Report and checks --------------------------------------------------------------
    per_recipient = max(
        (len([1 for m in mail.outbox if address in m.to]) for address in
         {a for m in mail.outbox for a in m.to}),
        default=0,
    )  # fmt: skip
    total = announce_s + fan_out_s + batch_s + send_s + webhook_s
    print(f"Announce (written with the acts): {rate(args.events, announce_s)}")
    print(f"Fan-out (events):                 {rate(args.events, fan_out_s)}")
    print(f"   notifications created:         {rate(notifications, fan_out_s)}")
    print(f"Mail batch (one sweep):           {rate(len(mail_ids), batch_s)} mails")
    print(f"Mail send:                        {rate(len(mail.outbox), send_s)} mails")
    print(f"Webhook deliveries:               {rate(len(delivery_ids), webhook_s)}")
    drain = fan_out_s + batch_s + send_s + webhook_s
    print(f"Backlog drained: {args.events:,} events in {drain:.1f} s "
          f"= {args.events / drain:,.0f} events/s (one worker process, SQLite)")  # fmt: skip
    print(f"Mails: {len(mail.outbox):,} for {recipients:,} recipients; "
          f"at most {per_recipient} per recipient in this batch")  # fmt: skip
    checks = {
        "one mail per recipient per batch": per_recipient <= 1 and len(mail.outbox) <= recipients,
        "every recipient mailed": len(mail.outbox) == recipients,
        "each person once per event": notifications == args.events * recipients // args.suppliers,
        "every event delivered once": received["count"] == args.events
        and WebhookDelivery.objects.filter(state="delivered").count() == args.events,
        "nothing left pending": not NotificationMail.objects.filter(state="pending").exists(),
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    print(f"Total {total:.1f} s")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
