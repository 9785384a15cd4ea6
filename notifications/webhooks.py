"""Webhooks out: the signed POST, the address checks (SSRF), retries and the record.

Body: `{"id", "type", "created_at", "data"}` (JSON, UTF-8). Headers:
`X-Breach-Timestamp: <unix seconds>` and `X-Breach-Signature: sha256=<hex>`, the
HMAC-SHA256 of `"<timestamp>.<body>"` with the endpoint's secret.

Only http(s) URLs, and none that resolve to a loopback, link-local, private or otherwise
non-public address unless WEBHOOK_ALLOW_PRIVATE: checked when the endpoint is registered
and again at each send, where the name is resolved once and the connection made to that
checked address (the Host header and, for https, SNI and the certificate check keep the
name), so a DNS answer that changes between check and connect (rebinding) cannot steer
the request inside. No redirects are followed; connect and read are timed out.

At least once: a delivery is retried with exponential backoff and full jitter until its
`give_up_at` (WEBHOOK_RETRY_HOURS after the event, 24 by default); then it fails, the
endpoint is marked failing and the admins are told. Receivers deduplicate by `id`."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import EventType, WebhookState
from .models import Event, WebhookAttempt, WebhookDelivery
from .services import announce

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT_BYTES = 1024
# A send holds its delivery this long (well above the timeouts); a worker that dies
# mid-send leaves it to the sweep once the lease ends.
CLAIM_LEASE = timedelta(minutes=2)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
USER_AGENT = "breach-tracker-webhooks/1"


class UnsafeAddress(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


# --- Body and signature ----------------------------------------------------------------


def event_body(event: Event) -> bytes:
    """The exact bytes POSTed (and signed) for `event`."""
    payload = {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --- Addresses -------------------------------------------------------------------------


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, each checked: UnsafeAddress when any is not
    public (unless WEBHOOK_ALLOW_PRIVATE) or when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(_("%(host)s does not resolve.") % {"host": host}) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeAddress(_("%(host)s does not resolve.") % {"host": host})
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise UnsafeAddress(
                _(
                    "%(host)s resolves to %(addresses)s: loopback, link-local and private "
                    "addresses are refused (WEBHOOK_ALLOW_PRIVATE is off)."
                )
                % {"host": host, "addresses": ", ".join(refused)}
            )
    return addresses


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str) -> Target:
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress(_("Only http and https URLs with a host are accepted."))
    if parts.username or parts.password:
        raise UnsafeAddress(_("Credentials in the URL are not accepted: sign with the secret."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeAddress(_("The port is not a number from 1 to 65535.")) from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path)


def check_url(url: str) -> str:
    """The URL, if webhooks may be sent to it now; else a ValidationError saying why."""
    try:
        target = _target(url)
        resolve(target.host, target.port)
    except UnsafeAddress as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url.strip()


# --- Sending ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, secret: str, body: bytes) -> Outcome:
    """POST `body` to `url`, signed, to a checked address, no redirects, timed out."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = _target(url)
        address = resolve(target.host, target.port)[0]
    except UnsafeAddress as exc:
        return Outcome(None, took(), "", f"Refused: {exc}")
    timestamp = str(int(time.time()))
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port not in (80, 443):
        host_header += f":{target.port}"
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Breach-Timestamp": timestamp,
        "X-Breach-Signature": signature(secret, timestamp, body),
    }
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT
    )
    pool_kwargs = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **pool_kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **pool_kwargs)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES, decode_content=True)
        finally:
            response.release_conn()
        return Outcome(
            response.status, took(), excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace"), ""
        )
    except Exception as exc:  # timeouts, refusals, TLS: recorded, retried
        return Outcome(None, took(), "", f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        pool.close()


def backoff(attempts: int) -> timedelta:
    """Exponential (30 s, 1 min, 2 min, ... capped at 1 h) with full jitter: a random
    delay between half and the whole step, so that endpoints back up out of step."""
    step = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    return timedelta(seconds=step * (0.5 + random.random() / 2))  # noqa: S311


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, state=WebhookState.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    )


def deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """One attempt at a due delivery: delivered, retry (at its next time), failed (gave
    up: endpoint marked failing, admins told), or not_claimed (not due, done, or held)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "not_claimed"
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    outcome = post(endpoint.url, endpoint.secret, event_body(delivery.event))
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error or ("" if outcome.ok else f"HTTP {outcome.status_code}"),
        )
        if outcome.ok:
            WebhookDelivery.objects.filter(pk=delivery_id).update(
                state=WebhookState.DELIVERED, delivered_at=timezone.now(), claimed_until=None
            )
            if endpoint.failing_since is not None:
                type(endpoint).objects.filter(pk=endpoint.pk).update(failing_since=None)
            return "delivered"
        next_at = now + backoff(delivery.attempts)
        if next_at > delivery.give_up_at:
            WebhookDelivery.objects.filter(pk=delivery_id).update(
                state=WebhookState.FAILED, claimed_until=None
            )
            _mark_failing(endpoint, now)
            return "failed"
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            next_attempt_at=next_at, claimed_until=None
        )
        return "retry"


def _mark_failing(endpoint, now: datetime) -> None:
    """The first delivery that gives up marks the endpoint failing and tells the admins
    (once, until a delivery succeeds again)."""
    marked = (
        type(endpoint)
        .objects.filter(pk=endpoint.pk, failing_since__isnull=True)
        .update(failing_since=now)
    )
    if marked:
        logger.error("Webhook endpoint %s is failing: a delivery gave up", endpoint.url)
        announce(
            EventType.WEBHOOK_FAILING,
            data={"endpoint": endpoint.pk, "url": endpoint.url},
            path=f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/",
        )
