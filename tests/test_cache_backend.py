"""The cache: CACHE_URL=redis://... is django-redis (compose, CI, production), the default
is local memory; and a round trip through django-redis against a real Redis (conftest's
redis_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _caches_for(cache_url: str | None) -> dict:
    """settings.CACHES as a fresh process reads it from this environment."""
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    if cache_url is not None:
        env["CACHE_URL"] = cache_url
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    code = "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_redis_cache_url_configures_django_redis():
    assert _caches_for("redis://redis.example.com:6379/1") == {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://redis.example.com:6379/1",
        }
    }


def test_without_cache_url_the_cache_is_local_memory():
    caches = _caches_for(None)
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_round_trip_through_redis(redis_cache):
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
    assert 0 < cache.ttl("y") <= 30
