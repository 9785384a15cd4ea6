"""Helpers for the API tests: clients signed in as a given user."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user=None, *, token: bool = False) -> APIClient:
    """An API client for `user` (anonymous when None): forced authentication by default,
    or a real `Authorization: Token` header with token=True."""
    client = APIClient()
    if user is None:
        return client
    if token:
        key, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
    else:
        client.force_authenticate(user)
    return client


def results(response) -> list:
    assert response.status_code == 200, response.content
    return response.json()["results"]
