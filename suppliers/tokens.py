"""API tokens: issuing, expiry, authentication, listing and revocation.

Why a model of our own (suppliers.ApiToken) read by a small subclass of DRF's public
TokenAuthentication, rather than a library: the contract stays exactly DRF's
(`POST /api/v1/auth/token/` answers `{"token": ...}`, clients send
`Authorization: Token <key>`, a missing credential is a 401 with `WWW-Authenticate:
Token`), while DRF's own Token model allows one token per user and never expires.
django-rest-knox would give several expiring tokens too, but answers its own login
shape, deletes an expired token with the bare "Invalid token." and would still need a
subclass for "Token expired." and last use; the few lines here are simpler.

Keys are 64 hex characters; only their SHA-256 is stored. A key of 40 characters is a
token of DRF's authtoken table, issued before ApiToken existed (or made by tests): it
still authenticates, expires TOKEN_TTL_DAYS after it was created, and is revoked with
the user's other tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken, User

KEY_BYTES = 32  # 64 hex characters
LEGACY_KEY_LENGTH = 40  # rest_framework.authtoken keys
# Last use is recorded at most this often per token: one UPDATE per token per interval.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_lifetime() -> timedelta:
    return timedelta(days=settings.TOKEN_TTL_DAYS)


@transaction.atomic
def issue_token(user: User) -> tuple[ApiToken, str]:
    """A new token for `user` and its key (shown once: only its digest is kept). The
    user's expired tokens go; beyond TOKEN_MAX_PER_USER live ones, the oldest go too."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    keep = max(settings.TOKEN_MAX_PER_USER, 1) - 1
    surplus = list(
        ApiToken.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )[keep:]
    if surplus:
        ApiToken.objects.filter(pk__in=surplus).delete()
    key = secrets.token_hex(KEY_BYTES)
    token = ApiToken.objects.create(
        user=user,
        digest=digest(key),
        prefix=key[:8],
        created_at=now,
        expires_at=now + token_lifetime(),
    )
    return token, key


def tokens_of(user: User):
    """The user's tokens, newest first (legacy DRF tokens are not listed)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def revoke_token(token) -> None:
    """Revoke one token (an ApiToken or a legacy DRF token)."""
    type(token).objects.filter(pk=token.pk).delete()


def revoke_user_tokens(user: User) -> int:
    """Revoke every API token of `user` (password change, deactivation)."""
    from rest_framework.authtoken.models import Token

    deleted, _ = ApiToken.objects.filter(user=user).delete()
    legacy, _ = Token.objects.filter(user=user).delete()
    return deleted + legacy


def _statement(model) -> tuple[str, list[str], list[str]]:
    """SELECT the token's columns and its user's, joined, by one key column; with the
    field names of each, in the models' concrete order (what Model.from_db takes)."""
    qn = connection.ops.quote_name
    token_fields = [f.attname for f in model._meta.concrete_fields]
    user_fields = [f.attname for f in User._meta.concrete_fields]
    columns = [f"t.{qn(f.column)}" for f in model._meta.concrete_fields] + [
        f"u.{qn(f.column)}" for f in User._meta.concrete_fields
    ]
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} t "  # noqa: S608
        f"JOIN {qn(User._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"WHERE t.{{key}} = %s"
    )
    return sql, token_fields, user_fields


_STATEMENTS: dict[tuple[type, str], tuple[str, list[str], list[str]]] = {}


def token_with_user(model, key_field: str, value: str):
    """The token whose `key_field` is `value`, its user loaded, or None. On PostgreSQL
    one statement on a cursor, built once per process, its rows made instances by
    Model.from_db: the ORM compiled the same select_related query on every API request
    (docs/benchmarks.md, session 10). Elsewhere (SQLite converts dates and booleans on
    the way in) the ORM reads it. tests/test_api_auth.py holds the two reads equal,
    field for field."""
    if connection.vendor != "postgresql":
        return model.objects.select_related("user").filter(**{key_field: value}).first()
    cached = _STATEMENTS.get((model, key_field))
    if cached is None:
        sql, token_fields, user_fields = _statement(model)
        column = model._meta.get_field(key_field).column
        cached = _STATEMENTS[(model, key_field)] = (
            sql.replace("{key}", connection.ops.quote_name(column)),
            token_fields,
            user_fields,
        )
    sql, token_fields, user_fields = cached
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(token_fields)
    token = model.from_db(connection.alias, token_fields, row[:split])
    token.user = User.from_db(connection.alias, user_fields, row[split:])
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication (keyword `Token`) over ApiToken: an unknown key is 401
    "Invalid token.", an expired one 401 "Token expired.", an inactive user's 401 "User
    inactive or deleted."."""

    def authenticate_credentials(self, key):
        if len(key) == LEGACY_KEY_LENGTH:
            token = token_with_user(self.get_model(), "key", key)
            if token is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            if not token.user.is_active:
                raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
            if token.created + token_lifetime() <= timezone.now():
                raise exceptions.AuthenticationFailed(_("Token expired."))
            return token.user, token
        token = token_with_user(ApiToken, "digest", digest(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("Token expired."))
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
