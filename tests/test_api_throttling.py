"""The API's rate limits are DRF's own throttles (settings REST_FRAMEWORK): seen through
the API, on the local memory cache (development, tests) and on Redis (production:
django-redis, conftest's redis_cache), with a clock the test moves."""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling
from rest_framework.settings import api_settings

from tests.apiclients import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password
API_URL = "/api/v1/suppliers/"
TOKEN_URL = "/api/v1/auth/token/"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["locmem", "redis"])
def throttles(request, monkeypatch):
    """Every throttle counts on a cache of the test's own, by the test's clock, at rates
    small enough to reach (the test may change them: they are read per request)."""
    if request.param == "locmem":
        cache = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    else:
        cache = request.getfixturevalue("redis_cache")
        cache.delete_pattern("*")  # user pks may repeat between tests on SQLite
    clock = Clock()
    rates = {"anon": "100/minute", "user": "3/minute", "token": "2/minute"}
    monkeypatch.setattr(throttling.SimpleRateThrottle, "cache", cache)
    monkeypatch.setattr(throttling.SimpleRateThrottle, "timer", clock)
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", rates)
    return SimpleNamespace(cache=cache, clock=clock, rates=rates)


def _token(client, username: str, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": PASSWORD}, format="json", **extra
    )


def test_settings_use_drfs_throttles_at_the_configured_rates():
    classes, rates = api_settings.DEFAULT_THROTTLE_CLASSES, api_settings.DEFAULT_THROTTLE_RATES
    assert classes == [throttling.AnonRateThrottle, throttling.UserRateThrottle]
    assert rates == {
        "anon": os.environ.get("THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("THROTTLE_USER", "6000/minute"),
        "token": os.environ.get("THROTTLE_TOKEN", "10/minute"),
    }


def test_the_rate_is_allowed_then_refused_with_429_and_retry_after(throttles):
    client = client_for(UserFactory(username="busy"))
    start = throttles.clock.now
    for offset in (0, 10, 20):  # 3 a minute
        throttles.clock.now = start + offset
        assert client.get(API_URL).status_code == 200
    throttles.clock.now = start + 30
    refused = client.get(API_URL)
    assert refused.status_code == 429, refused.content
    # The first of the three leaves the last minute at start + 60: 30 s from now.
    assert refused["Retry-After"] == "30"
    assert refused.json()["detail"] == "Request was throttled. Expected available in 30 seconds."
    throttles.clock.now = start + 59
    assert client.get(API_URL).status_code == 429  # refused requests do not count...
    throttles.clock.now = start + 60
    assert client.get(API_URL).status_code == 200  # ...so it is let in on time
    assert client.get(API_URL).status_code == 429  # the window slides: full again


def test_callers_are_counted_apart(throttles):
    busy, other = UserFactory(username="busy"), UserFactory(username="other")
    busy_client = client_for(busy)
    assert [busy_client.get(API_URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client_for(other).get(API_URL).status_code == 200
    # Anonymous callers, per address (the token endpoint is the API's anonymous door).
    throttles.rates.update(anon="2/minute", token="100/minute")
    anonymous = client_for()
    codes = [_token(anonymous, "busy", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    assert codes == [200, 200, 429], codes
    assert _token(anonymous, "busy", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_the_token_endpoint_has_its_own_scope(throttles):
    """THROTTLE_TOKEN holds token requests well below the other rates, and is counted
    apart from the same caller's use of the rest of the API."""
    throttles.rates.update(anon="100/minute", user="3/minute", token="2/minute")
    user = UserFactory(username="holder")
    anonymous = client_for()
    assert [_token(anonymous, "holder").status_code for _ in range(3)] == [200, 200, 429]
    refused = _token(anonymous, "holder")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    # The same user, signed in: its token requests and its API requests each have their
    # own count.
    signed_in = client_for(user)
    assert [_token(signed_in, "holder").status_code for _ in range(3)] == [200, 200, 429]
    assert [signed_in.get(API_URL).status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize("throttles", ["redis"], indirect=True)
def test_counts_expire_with_their_period_on_redis(throttles):
    client_for(UserFactory(username="busy")).get(API_URL)
    (key,) = throttles.cache.keys("*")
    assert 0 < throttles.cache.ttl(key) <= 60
