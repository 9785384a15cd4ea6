"""API rate limits counted per window instead of logged per request.

DRF's SimpleRateThrottle keeps, per caller, a list of the time of every request in the
last period: each request reads that list from the cache, unpickles it, prepends a time
and pickles it back. At the user rate (6,000 a minute) that is up to 6,000 floats carried
to and from Redis on every request. Here each caller has one integer per window, and a
request costs one increment plus one read of the previous window's count (one round trip
on Redis).

The limit is a sliding window estimated from two fixed ones (Cloudflare's sliding-window
counter): the previous window's requests are taken as spread evenly over it and count for
the share of it still within the last period. A burst at the end of one window and another
at the start of the next are held to the rate together, where fixed windows would let
twice the rate through.

Refused requests do not count, as in DRF: a caller that keeps knocking is let in as soon
as the rate allows. Retry-After says when that is.

The classes keep DRF's names, scopes, rates and cache-key idents; only the counting
differs.
"""

from __future__ import annotations

import contextlib

from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling


class WindowCountingMixin:
    """allow_request() and wait() for a SimpleRateThrottle, with a counter per window."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window, self.elapsed = divmod(self.now, self.duration)
        self.key = f"{key}:{int(window)}"
        current, previous = self._count(self.key, f"{key}:{int(window) - 1}")
        # What wait() needs: the counts without this request.
        self.current, self.previous = current - 1, previous
        if current + previous * (1.0 - self.elapsed / self.duration) > self.num_requests:
            return self._refuse()
        return True

    def _count(self, key: str, previous_key: str) -> tuple[int, int]:
        """This window's count with this request, and the previous window's count.

        A window's counter lives for two periods: its own, then as the previous one."""
        if isinstance(self.cache, RedisCache):
            return self._count_on_redis(key, previous_key)
        for _ in range(3):
            try:
                current = self.cache.incr(key)
                break
            except ValueError:  # the first request of the window
                if self.cache.add(key, 1, 2 * self.duration):
                    current = 1
                    break
        else:  # the counter kept vanishing (a cache being cleared): do not refuse for it
            current = 1
        return current, self.cache.get(previous_key, 0)

    def _count_on_redis(self, key: str, previous_key: str) -> tuple[int, int]:
        # One round trip, where Django's incr() costs two (EXISTS, INCR) and add() a third:
        # create the counter with its expiry if it is missing, count, read the previous.
        # Django stores an int as its digits, so cache.get() and decr() read these keys.
        key = self.cache.make_and_validate_key(key)
        previous_key = self.cache.make_and_validate_key(previous_key)
        client = self.cache._cache.get_client(key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(key, 0, ex=2 * self.duration, nx=True)
        pipe.incr(key)
        pipe.get(previous_key)
        _, current, previous = pipe.execute()
        return current, int(previous or 0)

    def _refuse(self) -> bool:
        with contextlib.suppress(ValueError):  # refused requests do not count
            self.cache.decr(self.key)
        return self.throttle_failure()

    def wait(self) -> float | None:
        """Seconds until a request would be allowed again (the Retry-After header)."""
        limit, duration = self.num_requests, self.duration
        if limit < 1:
            return None
        if self.current + 1 <= limit:
            # Only the previous window's tail is in the way: wait until enough of it has
            # slid out of the period that one more request fits.
            if not self.previous:
                return 0.0
            fits_at = duration * (1.0 - (limit - self.current - 1) / self.previous)
            return max(0.0, fits_at - self.elapsed)
        # This window is full: wait for the next, then for enough of this one to slide out.
        fits_at = duration * (1.0 - (limit - 1) / self.current)
        return (duration - self.elapsed) + max(0.0, fits_at)


class AnonRateThrottle(WindowCountingMixin, throttling.AnonRateThrottle):
    """Anonymous callers, per address (scope "anon")."""


class UserRateThrottle(WindowCountingMixin, throttling.UserRateThrottle):
    """Signed-in callers, per user; anonymous ones per address (scope "user")."""


class ScopedRateThrottle(WindowCountingMixin, throttling.ScopedRateThrottle):
    """The view's throttle_scope, per user or address (the token endpoint's "token")."""

    def allow_request(self, request, view) -> bool:
        # DRF's ScopedRateThrottle learns its rate from the view, then counts.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
