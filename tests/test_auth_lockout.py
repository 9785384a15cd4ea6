"""Sign-in lockout per address as well as per user name and address, Retry-After on
every 429, and the client's address taken through TRUSTED_PROXY_COUNT proxies, the same
for django-axes and DRF's throttles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client

from suppliers.models import ApiToken
from tests.apiclients import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"
COOL_OFF = str(15 * 60)


def _login(client, username, password, **meta):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **meta)


def _behind_proxies(settings, count: int) -> None:
    """What settings.py derives from TRUSTED_PROXY_COUNT, for one test."""
    settings.TRUSTED_PROXY_COUNT = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def test_fifteen_user_names_from_one_address_are_locked_out(settings, compliance_user):
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == 15
    spray = Client(REMOTE_ADDR="198.51.100.23")
    for i in range(14):  # below the limit: each name fails once, nothing is locked
        assert _login(spray, f"nobody{i}", "guess").status_code == 200
    locked = _login(spray, "nobody14", "guess")
    assert locked.status_code == 429, locked.content[:500]
    assert locked["Retry-After"] == COOL_OFF
    assert b"Account locked" in locked.content
    # The whole address is locked, whatever the name, even with the right password.
    right = _login(spray, "compliance", PASSWORD)
    assert right.status_code == 429
    assert right["Retry-After"] == COOL_OFF
    # The token endpoint refuses that address too, with Retry-After.
    api = client_for()
    response = api.post(
        TOKEN_URL,
        {"username": "compliance", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "locked_out"
    assert response["Retry-After"] == COOL_OFF
    assert not ApiToken.objects.exists()
    # Another address signs in.
    assert _login(Client(REMOTE_ADDR="198.51.100.99"), "compliance", PASSWORD).status_code == 302


def test_one_user_name_is_locked_out_after_five_failures_from_one_address(compliance_user):
    client = Client(REMOTE_ADDR="198.51.100.30")
    codes = [_login(client, "compliance", "wrong").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429], codes
    # Another name from that address is not locked by it (below the address limit).
    assert _login(client, "auditor-nobody", "wrong").status_code == 200


def test_a_success_does_not_reset_the_addresss_count(settings, compliance_user):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 4
    client = Client(REMOTE_ADDR="198.51.100.31")
    for name in ("a", "b", "c"):
        assert _login(client, name, "x").status_code == 200
    assert _login(Client(REMOTE_ADDR="198.51.100.31"), "compliance", PASSWORD).status_code == 302
    assert _login(client, "d", "x").status_code == 429


def test_every_429_of_the_api_carries_retry_after(settings, compliance_user):
    # The throttles (DRF) and the lockout (axes): both say when to come back.
    client = client_for()
    responses = [
        client.post(TOKEN_URL, {"username": f"x{i}", "password": "y"}, format="json")
        for i in range(11)
    ]
    assert responses[-1].status_code == 429
    assert int(responses[-1]["Retry-After"]) > 0


def test_a_forged_forwarded_for_cannot_lock_out_admin_from_another_address(admin_user):
    # Behind no proxy (TRUSTED_PROXY_COUNT=0), X-Forwarded-For is the client's own words.
    attacker = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.10")
    for _ in range(6):
        attacker.post(LOGIN_URL, {"username": "admin", "password": "guess"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
    admin = Client(REMOTE_ADDR="192.0.2.10")
    assert _login(admin, "admin", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_does_not_dodge_the_token_throttle(db):
    client = client_for()
    codes = [
        client.post(
            TOKEN_URL,
            {"username": f"nobody{i}", "password": "x"},
            format="json",
            REMOTE_ADDR="203.0.113.67",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        ).status_code
        for i in range(12)
    ]
    assert codes[10:] == [429, 429], codes


def test_behind_one_proxy_the_forwarded_address_is_the_clients(settings, compliance_user):
    _behind_proxies(settings, 1)
    proxy = "10.0.0.2"
    # The client wrote a forged address; the proxy appended the one it saw.
    first = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10, 198.51.100.4")
    codes = [_login(first, "compliance", "wrong").status_code for _ in range(5)]
    assert codes[-1] == 429, codes
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.4"}
    # Another client behind the same proxy is not locked out.
    second = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert _login(second, "compliance", PASSWORD).status_code == 302
    # Nor is the address the first client forged.
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert _login(forged, "compliance", PASSWORD).status_code == 302


def test_behind_one_proxy_the_token_throttle_counts_per_client(settings, db):
    _behind_proxies(settings, 1)
    client = client_for()

    def attempt(address: str, i: int) -> int:
        return client.post(
            TOKEN_URL,
            {"username": f"nobody{i}", "password": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.1, {address}",
        ).status_code

    assert [attempt("198.51.100.4", i) for i in range(11)][-1] == 429
    assert attempt("198.51.100.5", 99) == 400  # another client: its own count


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_peer(settings, rf):
    from config.security import client_address

    _behind_proxies(settings, 1)
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_address(request) == "10.0.0.2"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:db8::1")
    assert client_address(request) == "2001:db8::1"
    _behind_proxies(settings, 2)
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.7, 10.0.0.2"
    )
    assert client_address(request) == "192.0.2.7"


def test_trusted_proxy_count_sets_drfs_num_proxies():
    root = Path(__file__).resolve().parent.parent
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.TRUSTED_PROXY_COUNT, settings.REST_FRAMEWORK['NUM_PROXIES']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TRUSTED_PROXY_COUNT": "2",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [2, 2]
