"""Django's Redis cache with one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation, and each
one fills its table of about 170 response callbacks: 65 us of CPU on this project's
machines, as much as the round trip to Redis itself. A `redis.Redis` is thread-safe over
its connection pool, so one per pool serves every operation of the process (the pools
themselves are Django's, made once per server, and redis-py makes them fork-safe).

settings.CACHES uses this backend wherever CACHE_URL names Django's Redis backend
(caches_from()).
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis

DJANGO_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


def caches_from(config: dict) -> dict:
    """settings.CACHES for one cache's configuration (django-environ's reading of
    CACHE_URL), with this module's backend in place of Django's Redis backend."""
    if config.get("BACKEND") == DJANGO_REDIS_BACKEND:
        config = {**config, "BACKEND": "config.cache.RedisCache"}
    return {"default": config}
