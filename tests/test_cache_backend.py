"""config.cache.RedisCache: Django's Redis cache, one redis-py client per connection pool
(on conftest's redis_cache)."""

from __future__ import annotations

import threading

import environ
import pytest

from config.cache import DJANGO_REDIS_BACKEND, caches_from


def test_operations_behave_as_djangos_backend(redis_cache):
    cache = redis_cache
    assert cache.get("missing", "default") == "default"
    cache.set("plain", {"a": [1, 2]}, 60)
    assert cache.get("plain") == {"a": [1, 2]}
    assert cache.add("plain", "other", 60) is False
    assert cache.add("counter", 1, 60) is True
    assert cache.incr("counter", 4) == 5
    assert cache.decr("counter") == 4
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")
    cache.set_many({"x": 1, "y": "two"}, 60)
    assert cache.get_many(["x", "y", "z"]) == {"x": 1, "y": "two"}
    assert cache.delete("x") is True
    assert cache.get("x") is None
    assert cache.touch("y", 30) is True
    assert 0 < cache._cache.get_client(write=True).ttl(cache.make_and_validate_key("y")) <= 30


def test_one_client_serves_every_operation(redis_cache):
    """Django's own client would build a redis.Redis per call; this one reuses it, also
    across threads (a redis.Redis is thread-safe over its pool)."""
    cache = redis_cache
    first = cache._cache.get_client("a", write=True)
    assert cache._cache.get_client("b", write=True) is first
    assert cache._cache.get_client("c") is first  # one server: reads use the same pool
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(cache._cache.get_client(write=True)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(client is first for client in seen)
    cache.set("shared", 1, 60)
    assert cache.get("shared") == 1


def test_settings_use_it_for_a_redis_cache_url():
    """CACHE_URL=redis://... (compose, CI) gets this backend; other URLs are left alone."""
    env = environ.Env()
    redis_config = env.cache_url_config("redis://127.0.0.1:6379/9")
    assert redis_config["BACKEND"] == DJANGO_REDIS_BACKEND
    assert caches_from(redis_config) == {
        "default": {**redis_config, "BACKEND": "config.cache.RedisCache"}
    }
    local = env.cache_url_config("locmemcache://")
    assert caches_from(local) == {"default": local}
