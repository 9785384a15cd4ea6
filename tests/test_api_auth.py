"""Authentication: tokens and sessions, 401 with WWW-Authenticate, several expiring
tokens per user (listed, revoked one by one), revocation on a password change and on
deactivation, throttling and the axes lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework.authtoken.models import Token

from suppliers.models import ApiToken
from suppliers.tokens import digest
from tests.apiclients import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password
TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"


def _token(client, username, password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def _key(username="compliance", password=PASSWORD) -> str:
    response = _token(client_for(), username, password)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _with(key: str):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_is_issued_and_used(settings, compliance_user):
    client = client_for()
    before = timezone.now()
    response = _token(client, "compliance")
    assert response.status_code == 200, response.content
    body = response.json()
    key = body["token"]
    token = ApiToken.objects.get(user=compliance_user)
    assert token.digest == digest(key)  # the key itself is not stored
    assert not ApiToken.objects.filter(digest=key).exists()
    assert token.prefix == key[:8]
    lifetime = token.expires_at - token.created_at
    assert lifetime == timedelta(days=settings.TOKEN_TTL_DAYS) == timedelta(days=30)
    assert token.created_at >= before
    assert body["expires_at"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M"))
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/incidents/").status_code == 200


def test_each_request_issues_another_token_and_all_work(compliance_user):
    first, second = _key(), _key()
    assert first != second
    assert ApiToken.objects.filter(user=compliance_user).count() == 2
    for key in (first, second):
        assert _with(key).get("/api/v1/suppliers/").status_code == 200


@pytest.mark.parametrize("legacy", [False, True], ids=["token", "legacy-drf-token"])
def test_an_expired_token_is_401_token_expired(settings, compliance_user, legacy):
    settings.TOKEN_TTL_DAYS = 2
    key = Token.objects.create(user=compliance_user).key if legacy else _key()
    assert _with(key).get("/api/v1/suppliers/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2, seconds=-60)):
        assert _with(key).get("/api/v1/suppliers/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2, seconds=1)):
        response = _with(key).get("/api/v1/suppliers/")
    assert response.status_code == 401, response.content
    assert response.json()["detail"] == "Token expired."
    assert response.headers["WWW-Authenticate"] == "Token"


def test_the_lifetime_follows_token_ttl_days(settings, compliance_user):
    settings.TOKEN_TTL_DAYS = 7
    _key()
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(days=7)


def test_last_use_is_recorded_at_most_every_few_minutes(compliance_user, django_assert_num_queries):
    key = _key()
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    _with(key).get("/api/v1/suppliers/")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    _with(key).get("/api/v1/suppliers/")
    token.refresh_from_db()
    assert token.last_used_at == first_use  # no write on every request
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        _with(key).get("/api/v1/suppliers/")
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_a_user_keeps_at_most_token_max_per_user(settings, compliance_user):
    settings.TOKEN_MAX_PER_USER = 3
    keys = [_key() for _ in range(4)]
    assert ApiToken.objects.filter(user=compliance_user).count() == 3
    assert _with(keys[0]).get("/api/v1/suppliers/").status_code == 401  # the oldest went
    assert all(_with(k).get("/api/v1/suppliers/").status_code == 200 for k in keys[1:])


def test_the_caller_lists_its_own_tokens(compliance_user, auditor_user):
    first, current = _key(), _key()
    _key("auditor")
    response = _with(current).get(TOKENS_URL)
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [row["prefix"] for row in rows] == [current[:8], first[:8]]  # newest first
    assert set(rows[0]) == {
        "id",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "expired",
        "current",
    }
    assert [row["current"] for row in rows] == [True, False]
    assert [row["expired"] for row in rows] == [False, False]
    assert rows[0]["last_used_at"] is not None
    assert first not in response.content.decode()
    assert current not in response.content.decode()
    # A session sees the same list (no token is current).
    session = client_for()
    session.force_login(compliance_user)
    assert [row["current"] for row in session.get(TOKENS_URL).json()] == [False, False]


def test_the_token_list_needs_a_signed_in_user():
    assert client_for().get(TOKENS_URL).status_code == 401


def test_the_caller_revokes_one_token_by_id(compliance_user):
    keep, drop = _key(), _key()
    drop_id = ApiToken.objects.get(digest=digest(drop)).pk
    response = _with(keep).delete(f"{TOKENS_URL}{drop_id}/")
    assert response.status_code == 204, response.content
    assert _with(drop).get("/api/v1/suppliers/").status_code == 401
    assert _with(keep).get("/api/v1/suppliers/").status_code == 200


def test_another_users_token_is_404_and_stays(compliance_user, auditor_user):
    mine = _key()
    theirs = _key("auditor")
    their_id = ApiToken.objects.get(digest=digest(theirs)).pk
    assert _with(mine).get(f"{TOKENS_URL}{their_id}/").status_code == 404
    response = _with(mine).delete(f"{TOKENS_URL}{their_id}/")
    assert response.status_code == 404, response.content
    assert _with(theirs).get("/api/v1/suppliers/").status_code == 200


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
    assert not ApiToken.objects.exists()


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
    client = client_for(compliance_user, token=True)  # a token of DRF's table (legacy)
    assert client.delete(TOKEN_URL).status_code == 204
    assert not Token.objects.filter(user=compliance_user).exists()
    assert client.get("/api/v1/suppliers/").status_code == 401


def test_delete_revokes_the_current_token_only(compliance_user):
    other, current = _key(), _key()
    assert _with(current).delete(TOKEN_URL).status_code == 204
    assert _with(current).get("/api/v1/suppliers/").status_code == 401
    assert _with(other).get("/api/v1/suppliers/").status_code == 200


def test_delete_by_session_revokes_all_the_callers_tokens(compliance_user, auditor_user):
    keys = [_key(), _key()]
    theirs = _key("auditor")
    session = client_for()
    session.force_login(compliance_user)
    assert session.delete(TOKEN_URL).status_code == 204
    assert all(_with(k).get("/api/v1/suppliers/").status_code == 401 for k in keys)
    assert _with(theirs).get("/api/v1/suppliers/").status_code == 200


@pytest.mark.parametrize("how", ["api", "admin-form", "set_password"])
def test_a_new_password_revokes_the_users_tokens(admin_user, compliance_user, auditor_user, how):
    keys = [_key(), _key()]
    legacy = client_for(compliance_user, token=True)
    theirs = _key("auditor")
    new_password = "a-brand-new-passphrase-2026"
    if how == "api":
        response = client_for(admin_user).patch(
            f"/api/v1/users/{compliance_user.pk}/", {"password": new_password}, format="json"
        )
        assert response.status_code == 200, response.content
    elif how == "admin-form":
        from django.test import Client

        admin = Client()
        admin.force_login(admin_user)
        response = admin.post(
            f"/admin/suppliers/user/{compliance_user.pk}/password/",
            {"password1": new_password, "password2": new_password, "usable_password": "true"},
        )
        assert response.status_code == 302, response.content[:2000]
    else:
        compliance_user.set_password(new_password)
        compliance_user.save()
    assert all(_with(k).get("/api/v1/suppliers/").status_code == 401 for k in keys)
    assert legacy.get("/api/v1/suppliers/").status_code == 401
    assert not ApiToken.objects.filter(user=compliance_user).exists()
    assert _with(theirs).get("/api/v1/suppliers/").status_code == 200
    assert _token(client_for(), "compliance", new_password).status_code == 200


def test_a_password_hash_upgrade_at_sign_in_is_no_password_change(settings, compliance_user):
    key = _key()
    # The stored hash is of an older hasher: signing in upgrades it (set_password + save).
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = compliance_user.password
    assert _token(client_for(), "compliance").status_code == 200
    compliance_user.refresh_from_db()
    assert compliance_user.password != old_hash  # upgraded
    assert _with(key).get("/api/v1/suppliers/").status_code == 200


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
    issued = _with(_key("leaver"))
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
    assert not ApiToken.objects.filter(user=victim).exists()
    assert token_client.get("/api/v1/suppliers/").status_code == 401
    assert issued.get("/api/v1/suppliers/").status_code == 401
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
    assert at_limit["Retry-After"] == str(15 * 60), at_limit.headers
    locked = _token(client, "compliance")  # even the right password, while locked out
    assert locked.status_code == 429, locked.content
    assert "locked" in locked.json()["detail"], locked.content
    assert locked["Retry-After"] == str(15 * 60), locked.headers
    assert not ApiToken.objects.exists()


def test_token_request_is_logged(compliance_user, caplog):
    with caplog.at_level("INFO", logger="breaches.security"):
        _token(client_for(), "compliance", "wrong")
        _token(client_for(), "compliance")
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in messages
    assert "issued to compliance" in messages


@pytest.mark.parametrize("legacy", [False, True])
def test_the_token_read_gives_what_the_orm_gives_field_for_field(compliance_user, legacy):
    """suppliers.tokens.token_with_user reads a token and its user in one statement on a
    cursor on PostgreSQL (the ORM compiled it on every request). Every concrete field of
    both comes back as the ORM reads it: a field added to User, or a database adapter
    that converts otherwise, fails here."""
    from django.db import connection

    from suppliers.models import User
    from suppliers.tokens import issue_token, token_with_user

    if legacy:
        key = Token.objects.create(user=compliance_user).key
        model, field, value = Token, "key", key
    else:
        _token, key = issue_token(compliance_user)
        model, field, value = ApiToken, "digest", digest(key)
    read = token_with_user(model, field, value)
    orm = model.objects.select_related("user").get(**{field: value})
    for token_field in model._meta.concrete_fields:
        assert getattr(read, token_field.attname) == getattr(orm, token_field.attname)
    for user_field in User._meta.concrete_fields:
        assert getattr(read.user, user_field.attname) == getattr(orm.user, user_field.attname)
    assert read.user.pk == compliance_user.pk
    assert token_with_user(model, field, value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    if connection.vendor == "postgresql":
        assert read.user.date_joined.tzinfo is not None
