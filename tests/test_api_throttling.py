"""The API's rate limits (suppliers.api.throttling): a counter per window, the previous
window weighted by how much of it is still within the period, on the local memory cache
(development, tests) and on Redis (production: one pipelined round trip; conftest's
redis_cache)."""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from suppliers.api import throttling

from .factories import UserFactory

_idents = itertools.count(1)


@pytest.fixture(scope="module", params=["locmem", "redis"])
def backend(request):
    """A cache of the test's own: keys never meet the default cache's."""
    if request.param == "locmem":
        return LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    return request.getfixturevalue("redis_cache")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Caller:
    """One user's requests against a throttle of the given rate, on a fake clock."""

    def __init__(self, cache, rate: str, clock: Clock, ident: int | None = None) -> None:
        self.cache, self.rate, self.clock = cache, rate, clock
        user = SimpleNamespace(is_authenticated=True, pk=ident or next(_idents))
        self.request = SimpleNamespace(user=user)

    def hit(self, at: float | None = None) -> throttling.UserRateThrottle:
        if at is not None:
            self.clock.now = at
        throttle = type("Throttle", (throttling.UserRateThrottle,), {"rate": self.rate})()
        throttle.cache, throttle.timer = self.cache, self.clock
        throttle.allowed = throttle.allow_request(self.request, view=None)
        return throttle

    def allowed(self, at: float | None = None) -> bool:
        return self.hit(at).allowed


MINUTE_START = 60 * 1_000_000  # a window's start on the fake clock


def test_the_rate_is_allowed_then_refused_with_a_retry_after(backend):
    caller = Caller(backend, "10/minute", Clock(MINUTE_START + 20))
    assert [caller.allowed() for _ in range(10)] == [True] * 10
    refused = caller.hit()
    assert refused.allowed is False
    # Ten in this window and none before: the next fits when the next window opens and
    # enough of this one has slid out (one tenth, 6 s): 40 s + 6 s.
    assert refused.wait() == pytest.approx(46.0)
    assert caller.allowed(MINUTE_START + 20 + 46.0 - 0.01) is False
    assert caller.allowed(MINUTE_START + 20 + 46.0 + 0.01) is True


def test_callers_are_counted_apart(backend):
    clock = Clock(MINUTE_START)
    first, second = Caller(backend, "2/minute", clock), Caller(backend, "2/minute", clock)
    assert [first.allowed() for _ in range(3)] == [True, True, False]
    assert [second.allowed() for _ in range(2)] == [True, True]


def test_a_burst_across_the_window_boundary_is_held_to_the_rate(backend):
    """Fixed windows would let ten more through at the start of the next window."""
    caller = Caller(backend, "10/minute", Clock(0))
    assert all(caller.allowed(MINUTE_START + 59) for _ in range(10))
    refused = caller.hit(MINUTE_START + 61)
    assert refused.allowed is False
    # 10 x (1 - e/60) + 1 <= 10 once e >= 6 s into the new window.
    assert refused.wait() == pytest.approx(5.0)
    assert caller.allowed(MINUTE_START + 65.99) is False
    assert caller.allowed(MINUTE_START + 66.01) is True


def test_refused_requests_do_not_count(backend):
    caller = Caller(backend, "10/minute", Clock(0))
    assert all(caller.allowed(MINUTE_START) for _ in range(10))
    assert not any(caller.allowed(MINUTE_START) for _ in range(50))
    # Halfway through the next window, half of the previous one's ten still weigh: five
    # fit. Had the fifty refusals counted, 60 x 0.5 would leave none.
    clock_at = MINUTE_START + 60 + 30
    assert [caller.allowed(clock_at) for _ in range(6)] == [True] * 5 + [False]


def test_windows_long_past_are_forgotten(backend):
    caller = Caller(backend, "3/minute", Clock(0))
    assert [caller.allowed(MINUTE_START) for _ in range(4)] == [True, True, True, False]
    assert [caller.allowed(MINUTE_START + 120) for _ in range(4)] == [True, True, True, False]


def test_counters_expire_after_two_periods_on_redis(redis_cache):
    """The pipelined counter is created with its expiry: no key outlives its use."""
    caller = Caller(redis_cache, "5/hour", Clock(3600 * 1000 + 10))
    assert caller.allowed()
    assert caller.allowed()
    client = redis_cache._cache.get_client(write=True)
    pattern = f"{redis_cache.key_prefix}:*_{caller.request.user.pk}:*"
    keys = list(client.scan_iter(match=pattern))
    assert len(keys) == 1, keys
    assert int(client.get(keys[0])) == 2
    assert 7200 - 5 <= client.ttl(keys[0]) <= 7200


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    limit=st.integers(min_value=1, max_value=12),
    period=st.sampled_from(["second", "minute", "hour"]),
    before=st.lists(st.floats(min_value=0, max_value=0.999), max_size=30),
    during=st.lists(st.floats(min_value=0, max_value=0.999), max_size=30),
    at=st.floats(min_value=0, max_value=0.999),
)
def test_retry_after_is_exactly_when_the_next_request_fits(
    backend, limit, period, before, during, at
):
    """Whatever came before: refused just before Retry-After has passed, let in just after."""
    duration = {"second": 1, "minute": 60, "hour": 3600}[period]
    start = duration * 1000  # the current window's start
    times = [start - duration + f * duration for f in sorted(before)]
    times += [start + f * duration for f in sorted(during) if f <= at]
    caller = Caller(backend, f"{limit}/{period}", Clock(0))
    for moment in times:
        caller.allowed(moment)
    now = start + at * duration
    probe = caller.hit(now)
    if probe.allowed:
        return
    wait = probe.wait()
    assert 0 < wait <= 2 * duration
    step = duration * 1e-6
    if wait > step:
        assert caller.allowed(now + wait - step) is False
    assert caller.allowed(now + wait + step) is True


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_answers_429_with_retry_after_per_user(db, monkeypatch):
    rates = {**throttling.UserRateThrottle.THROTTLE_RATES, "user": "3/minute"}
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", rates)
    busy = _signed_in(UserFactory(username="busy"))
    codes = [busy.get("/api/v1/suppliers/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    refused = busy.get("/api/v1/suppliers/")
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 0 < retry_after <= 120
    assert refused.json()["detail"] == (
        f"Request was throttled. Expected available in {retry_after} seconds."
    )
    other = _signed_in(UserFactory(username="other"))
    assert other.get("/api/v1/suppliers/").status_code == 200
