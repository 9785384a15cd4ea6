"""The second factor: staff enrolment when STAFF_MFA_REQUIRED, the code after the
password on the pages and the Django admin, recovery codes (single use), the API token's
`otp`, voluntary enrolment and the account page (second factor and API tokens)."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from suppliers import mfa
from suppliers.models import ApiToken
from suppliers.tokens import digest
from tests.apiclients import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def mfa_required(settings):
    settings.STAFF_MFA_REQUIRED = True


@pytest.fixture(autouse=True)
def _no_code_throttle(settings):
    # django-otp slows a device down after a wrong code (1 s, then 2, 4...); the tests
    # of that turn it back on.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(key: bytes, *, step_offset: int = 0) -> str:
    """The TOTP code of `key` now (or that many 30-second steps later: a code is
    accepted once, and the next step's is accepted already)."""
    totp = TOTP(key)
    totp.time = time.time() + 30 * step_offset
    return f"{totp.token():06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """`user` with a confirmed authenticator and ten recovery codes."""
    device = mfa.pending_authenticator(user)
    return mfa.confirm_authenticator(user, code_for(device.bin_key))


def sign_in(username: str, password: str = PASSWORD, **extra) -> tuple[Client, object]:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": password, **extra}
    )
    return client, response


# --- Staff who must enrol ---------------------------------------------------------------


def test_staff_without_a_second_factor_are_led_to_enrolment_and_kept_there(
    mfa_required, compliance_user
):
    client, response = sign_in("compliance")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/enrol/?next=%2F"
    for url in ("/", "/incidents/", "/account/security/", "/accounts/verify/"):
        refused = client.get(url)
        assert refused.status_code == 302, url
        assert refused["Location"].startswith("/accounts/enrol/?next="), url
    api = client.get("/api/v1/incidents/")
    assert api.status_code == 403
    assert api.json()["code"] == "second_factor_enrolment_required"
    assert "browser" in api.json()["detail"]

    page = client.get("/accounts/enrol/?next=/incidents/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Staff must use a second factor" in text
    assert 'src="data:image/svg+xml;base64,' in text
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', text).group(1)
    key = b32decode(secret.replace(" ", ""))
    device = TOTPDevice.objects.get(user=compliance_user)
    assert key == device.bin_key
    assert not device.confirmed
    assert client.get("/accounts/enrol/").content.decode().count(secret) == 1  # same secret

    wrong = client.post("/accounts/enrol/", {"code": "000000", "next": "/incidents/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/").status_code == 302  # still owed

    done = client.post("/accounts/enrol/", {"code": code_for(key), "next": "/incidents/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10 == len(set(codes))
    assert 'href="/incidents/"' in done.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/incidents/").status_code == 200
    # Shown once: the account page tells how many are left, never the codes.
    security = client.get("/account/security/").content.decode()
    assert "10 recovery codes left" in security
    assert not any(code in security for code in codes)


@pytest.mark.parametrize("who", ["auditor_user", "supplier_user"])
def test_auditors_and_supplier_users_are_not_required_to_enrol(mfa_required, request, who):
    user = request.getfixturevalue(who)
    client, response = sign_in(user.username)
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_without_staff_mfa_required_staff_sign_in_with_the_password(compliance_user):
    client, response = sign_in("compliance")
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_staff_may_not_remove_a_required_second_factor(mfa_required, compliance_user):
    enrolled(compliance_user)
    client, _ = sign_in("compliance")
    client.post("/accounts/verify/", {"code": code_for(_key(compliance_user), step_offset=1)})
    response = client.post("/account/security/second-factor/remove/")
    assert response.status_code == 403
    assert "Staff must keep a second factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=compliance_user, confirmed=True).exists()


# --- The code after the password ---------------------------------------------------------


def _key(user) -> bytes:
    return TOTPDevice.objects.get(user=user, confirmed=True).bin_key


@pytest.mark.parametrize("required", [True, False], ids=["staff-mfa-required", "voluntary"])
def test_an_enrolled_user_is_asked_for_the_code_after_the_password(
    settings, compliance_user, required
):
    settings.STAFF_MFA_REQUIRED = required
    enrolled(compliance_user)
    client, response = sign_in("compliance", next="/incidents/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/verify/?next=%2Fincidents%2F"
    assert client.get("/incidents/")["Location"] == "/accounts/verify/?next=%2Fincidents%2F"
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get("/api/v1/incidents/").json()["code"] == "second_factor_required"

    wrong = client.post("/accounts/verify/", {"code": "123456", "next": "/incidents/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert client.get("/incidents/").status_code == 302

    code = code_for(_key(compliance_user), step_offset=1)  # the enrolment used this step's
    right = client.post("/accounts/verify/", {"code": code, "next": "/incidents/"})
    assert right.status_code == 302
    assert right["Location"] == "/incidents/"
    assert client.get("/incidents/").status_code == 200
    assert client.get("/api/v1/incidents/").status_code == 200


def test_a_code_is_accepted_once(compliance_user):
    enrolled(compliance_user)
    code = code_for(_key(compliance_user), step_offset=1)
    first, _ = sign_in("compliance")
    assert first.post("/accounts/verify/", {"code": code}).status_code == 302
    second, _ = sign_in("compliance")
    assert second.post("/accounts/verify/", {"code": code}).status_code == 400


def test_a_recovery_code_works_once(compliance_user):
    _device, codes = enrolled(compliance_user)
    first, _ = sign_in("compliance")
    assert first.post("/accounts/verify/", {"code": codes[3].upper()}).status_code == 302
    assert first.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=compliance_user).count() == 9
    second, _ = sign_in("compliance")
    again = second.post("/accounts/verify/", {"code": codes[3]})
    assert again.status_code == 400
    assert second.get("/").status_code == 302


def test_wrong_codes_slow_the_device_down(settings, compliance_user):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    enrolled(compliance_user)
    client, _ = sign_in("compliance")
    assert client.post("/accounts/verify/", {"code": "000000"}).status_code == 400
    code = code_for(_key(compliance_user), step_offset=1)
    refused = client.post("/accounts/verify/", {"code": code})  # within the second
    assert refused.status_code == 400
    assert "Too many wrong codes" in refused.content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        accepted = client.post("/accounts/verify/", {"code": code})
    assert accepted.status_code == 302


def test_the_django_admin_asks_for_the_code_too(admin_user):
    enrolled(admin_user)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    refused = client.get("/admin/")
    assert refused.status_code == 302
    assert refused["Location"] == "/accounts/verify/?next=%2Fadmin%2F"
    assert client.get("/admin/suppliers/user/").status_code == 302
    code = code_for(_key(admin_user), step_offset=1)
    assert client.post("/accounts/verify/", {"code": code, "next": "/admin/"})["Location"] == (
        "/admin/"
    )
    assert client.get("/admin/").status_code == 200


def test_the_verify_page_refuses_a_foreign_next(compliance_user):
    enrolled(compliance_user)
    client, _ = sign_in("compliance")
    code = code_for(_key(compliance_user), step_offset=1)
    response = client.post("/accounts/verify/", {"code": code, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_device_removed_by_an_admin_stops_asking(compliance_user):
    enrolled(compliance_user)
    client, _ = sign_in("compliance")
    TOTPDevice.objects.filter(user=compliance_user).delete()
    StaticDevice.objects.filter(user=compliance_user).delete()
    assert client.get("/")["Location"].startswith("/accounts/verify/")
    assert client.get("/accounts/verify/?next=/")["Location"] == "/"
    assert client.get("/").status_code == 200


# --- The API token ----------------------------------------------------------------------


def _token(payload: dict):
    return client_for().post(TOKEN_URL, payload, format="json")


def test_an_enrolled_user_needs_otp_for_a_token(compliance_user):
    _device, codes = enrolled(compliance_user)
    base = {"username": "compliance", "password": PASSWORD}
    missing = _token(base)
    assert missing.status_code == 400, missing.content
    assert list(missing.json()) == ["otp"]
    assert "code" in missing.json()["otp"][0]
    wrong = _token({**base, "otp": "000000"})
    assert wrong.status_code == 400
    assert wrong.json()["otp"] == [
        "That code is not right. Enter the current 6-digit code from your authenticator "
        "app, or one of your recovery codes."
    ]
    assert not ApiToken.objects.exists()
    code = code_for(_key(compliance_user), step_offset=1)
    issued = _token({**base, "otp": code})
    assert issued.status_code == 200, issued.content
    assert ApiToken.objects.get().digest == digest(issued.json()["token"])
    assert _token({**base, "otp": code}).status_code == 400  # used
    assert _token({**base, "otp": codes[0]}).status_code == 200  # a recovery code


def test_wrong_password_with_a_right_otp_is_still_wrong_credentials(compliance_user):
    enrolled(compliance_user)
    code = code_for(_key(compliance_user), step_offset=1)
    response = _token({"username": "compliance", "password": "nope", "otp": code})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_staff_who_must_enrol_get_no_token_until_they_have(mfa_required, compliance_user):
    response = _token({"username": "compliance", "password": PASSWORD})
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "second_factor_enrolment_required"
    assert "browser" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    enrolled(compliance_user)
    code = code_for(_key(compliance_user), step_offset=1)
    assert _token({"username": "compliance", "password": PASSWORD, "otp": code}).status_code == 200


def test_users_without_a_second_factor_need_no_otp(mfa_required, auditor_user):
    response = _token({"username": "auditor", "password": PASSWORD, "otp": "ignored"})
    assert response.status_code == 200, response.content


# --- Voluntary enrolment and the account page ----------------------------------------------


def test_a_supplier_user_enrols_from_the_account_page_and_removes_it(supplier_user):
    client = Client()
    client.force_login(supplier_user)
    page = client.get("/")
    assert 'href="/account/security/"' in page.content.decode()
    security = client.get("/account/security/").content.decode()
    assert "No second factor" in security
    enrol = client.get("/accounts/enrol/?next=/account/security/")
    assert enrol.status_code == 200
    assert "Staff must" not in enrol.content.decode()
    key = TOTPDevice.objects.get(user=supplier_user).bin_key
    done = client.post("/accounts/enrol/", {"code": code_for(key), "next": "/account/security/"})
    assert done.status_code == 200
    assert "Your recovery codes" in done.content.decode()
    assert "An authenticator app is set up" in client.get("/account/security/").content.decode()
    assert client.get("/").status_code == 200  # this session is verified by the enrolment
    # A new sign-in asks for the code.
    _other, response = sign_in(supplier_user.username)
    assert response["Location"].startswith("/accounts/verify/")
    # Removing it: the password alone signs in again.
    removed = client.post("/account/security/second-factor/remove/")
    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=supplier_user).exists()
    assert not StaticDevice.objects.filter(user=supplier_user).exists()
    _client, response = sign_in(supplier_user.username)
    assert response["Location"] == "/"


def test_new_recovery_codes_replace_the_old(compliance_user):
    _device, old = enrolled(compliance_user)
    client, _ = sign_in("compliance")
    client.post("/accounts/verify/", {"code": old[0]})
    response = client.post("/account/security/recovery-codes/")
    assert response.status_code == 200
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new) == 10
    tokens = set(StaticToken.objects.values_list("token", flat=True))
    assert tokens == set(new)
    assert not tokens & set(old[1:])


def test_setting_up_a_new_authenticator_replaces_the_old(compliance_user):
    old_device, _ = enrolled(compliance_user)
    client = Client()
    client.force_login(compliance_user)
    # force_login noted the device: the session must pass it first.
    client.post("/accounts/verify/", {"code": code_for(old_device.bin_key, step_offset=1)})
    assert client.get("/accounts/enrol/").status_code == 200
    new = TOTPDevice.objects.get(user=compliance_user, confirmed=False)
    assert client.post("/accounts/enrol/", {"code": code_for(new.bin_key)}).status_code == 200
    assert list(TOTPDevice.objects.filter(user=compliance_user)) == [new]


def test_the_account_page_lists_and_revokes_the_users_tokens(compliance_user, auditor_user):
    def issue(username):
        response = _token({"username": username, "password": PASSWORD})
        return response.json()["token"]

    mine, theirs = issue("compliance"), issue("auditor")
    client = Client()
    client.force_login(compliance_user)
    page = client.get("/account/security/").content.decode()
    assert mine[:8] in page
    assert theirs[:8] not in page
    assert mine not in page
    token = ApiToken.objects.get(user=compliance_user)
    their_token = ApiToken.objects.get(user=auditor_user)
    assert client.post(f"/account/security/tokens/{their_token.pk}/revoke/").status_code == 404
    assert client.get(f"/account/security/tokens/{token.pk}/revoke/").status_code == 405
    response = client.post(f"/account/security/tokens/{token.pk}/revoke/", follow=True)
    assert "was revoked" in response.content.decode()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert ApiToken.objects.filter(pk=their_token.pk).exists()
