"""Authentication: tokens and sessions, 401 with WWW-Authenticate, revocation,
deactivation ending sessions and tokens, throttling and the axes lockout."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token

from tests.apiclients import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password
TOKEN_URL = "/api/v1/auth/token/"


def _token(client, username, password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_token_is_issued_and_used(compliance_user):
    client = client_for()
    response = _token(client, "compliance")
    assert response.status_code == 200, response.content
    key = response.json()["token"]
    assert Token.objects.get(user=compliance_user).key == key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/incidents/").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "compliance", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "compliance"},
        {},
        {"username": ["compliance"], "password": {"x": 1}},
        {"username": "x" * 10000, "password": "y"},
    ],
)
def test_bad_credentials_are_400_with_a_clear_message(compliance_user, payload):
    response = client_for().post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert not Token.objects.exists()


def test_wrong_password_message(compliance_user):
    response = _token(client_for(), "compliance", "wrong")
    assert response.json() == {
        "non_field_errors": ["Unable to log in with the provided credentials."]
    }


def test_inactive_user_gets_no_token(db):
    UserFactory(username="gone", is_active=False)
    assert _token(client_for(), "gone").status_code == 400


def test_missing_or_bad_credentials_are_401():
    anonymous = client_for()
    response = anonymous.get("/api/v1/suppliers/")
    assert response.status_code == 401, response.content
    assert response.headers["WWW-Authenticate"] == "Token"
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anonymous.get("/api/v1/suppliers/").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token")
    assert anonymous.get("/api/v1/suppliers/").status_code == 401


def test_token_of_a_user_deactivated_in_the_database_is_401(compliance_user):
    client = client_for(compliance_user, token=True)
    assert client.get("/api/v1/suppliers/").status_code == 200
    type(compliance_user).objects.filter(pk=compliance_user.pk).update(is_active=False)
    response = client.get("/api/v1/suppliers/")
    assert response.status_code == 401, response.content
    assert response.json()["detail"] == "User inactive or deleted."


def test_unknown_token_is_401_invalid_token(compliance_user):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/suppliers/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_delete_revokes_the_callers_token(compliance_user):
    client = client_for(compliance_user, token=True)
    assert client.delete(TOKEN_URL).status_code == 204
    assert not Token.objects.filter(user=compliance_user).exists()
    assert client.get("/api/v1/suppliers/").status_code == 401


def test_session_authentication_for_browsers(compliance_user):
    client = client_for()
    client.force_login(compliance_user)
    assert client.get("/api/v1/suppliers/").status_code == 200


def test_session_writes_need_csrf(compliance_user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(compliance_user)
    response = client.post("/api/v1/suppliers/", {"name": "X", "country": "CN"}, format="json")
    assert response.status_code == 403, response.content


@pytest.mark.parametrize("how", ["patch", "delete"])
def test_deactivation_ends_sessions_and_tokens(admin_user, how):
    victim = UserFactory(username="leaver", role="auditor")
    token_client = client_for(victim, token=True)
    session_client = client_for()
    session_client.force_login(victim)
    assert session_client.get("/api/v1/suppliers/").status_code == 200
    admin = client_for(admin_user)
    if how == "patch":
        response = admin.patch(f"/api/v1/users/{victim.pk}/", {"is_active": False}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False
    else:
        assert admin.delete(f"/api/v1/users/{victim.pk}/").status_code == 204
    victim.refresh_from_db()
    assert victim.is_active is False
    assert not Token.objects.filter(user=victim).exists()
    assert token_client.get("/api/v1/suppliers/").status_code == 401
    assert session_client.get("/api/v1/suppliers/").status_code in (401, 403)
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(victim.pk) for s in Session.objects.all()
    )


def test_token_endpoint_is_throttled(settings, compliance_user):
    client = client_for()
    # Different user names, so that the axes lockout (per name and address) stays out of it.
    responses = [_token(client, f"nobody{i}", "x") for i in range(12)]
    codes = [r.status_code for r in responses]
    assert codes[:10] == [400] * 10, codes
    assert codes[10:] == [429, 429], codes
    # 10 a minute, all in this window: the next fits once a tenth of it has slid out of
    # the last minute, at most 60 + 6 s from now.
    assert 0 < int(responses[-1]["Retry-After"]) <= 66, responses[-1].headers


def test_axes_lockout_refuses_without_crashing(settings, compliance_user):
    client = client_for()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _token(client, "compliance", "wrong").status_code == 400
    at_limit = _token(client, "compliance", "wrong")  # the limit: locked out
    assert at_limit.status_code == 429, at_limit.content
    assert at_limit.json()["code"] == "locked_out", at_limit.content
    locked = _token(client, "compliance")  # even the right password, while locked out
    assert locked.status_code == 429, locked.content
    assert "locked" in locked.json()["detail"], locked.content
    assert not Token.objects.exists()


def test_token_request_is_logged(compliance_user, caplog):
    with caplog.at_level("INFO", logger="breaches.security"):
        _token(client_for(), "compliance", "wrong")
        _token(client_for(), "compliance")
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in messages
    assert "issued to compliance" in messages
