"""Shared fixtures: one user per role, and the seed case in miniature (a tier-1 supplier
whose NDA covers sub-vendors, and its leaking sub-vendor with no NDA of its own)."""

import os
from datetime import date

import pytest
from django.core.cache import cache

from suppliers.choices import Role

from .factories import (
    DisclosureFactory,
    UserFactory,
    seed_bumper_asset,
    seed_other_supplier,
    seed_subvendor,
    seed_tier1,
    seed_tier1_nda,
)


def pytest_sessionstart(session):
    """In CI the services are part of the contract: unreachable means red, not skipped."""
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    import redis
    from django.conf import settings
    from django.db import connection

    assert connection.vendor == "postgresql", "CI must run on PostgreSQL (set DATABASE_URL)"
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), f"CI must run with Redis as broker, got {broker}"
    redis.Redis.from_url(broker, socket_connect_timeout=3).ping()


@pytest.fixture(scope="module")
def redis_cache():
    """The production cache backend (django-redis) under a key prefix of the test
    module's own, its keys deleted afterwards. Redis: CACHE_URL when it is redis://, else
    redis://127.0.0.1:6379/4; unreachable Redis fails the test when REQUIRE_SERVICES=1
    (CI) and skips it otherwise."""
    import uuid

    import redis
    from django_redis.cache import RedisCache

    url = os.environ.get("CACHE_URL", "")
    url = url if url.startswith("redis://") else "redis://127.0.0.1:6379/4"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            raise
        pytest.skip(f"Redis is not reachable at {url}")
    cache = RedisCache(url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_pattern("*")  # this prefix's keys only


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached scopes must not leak between tests. On Redis only
    this worker's keys go (its KEY_PREFIX): clear() would empty the whole database,
    another worker's counters with it."""

    def clear():
        if hasattr(cache, "delete_pattern"):  # django-redis
            cache.delete_pattern("*")
        else:
            cache.clear()

    clear()
    yield
    clear()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def compliance_user(db):
    return UserFactory(username="compliance", role=Role.COMPLIANCE)


@pytest.fixture
def second_compliance_user(db):
    return UserFactory(username="compliance2", role=Role.COMPLIANCE)


@pytest.fixture
def auditor_user(db):
    return UserFactory(username="auditor", role=Role.AUDITOR)


@pytest.fixture
def tier1(db):
    return seed_tier1()


@pytest.fixture
def subvendor(tier1):
    return seed_subvendor(tier1)


@pytest.fixture
def tier1_nda(tier1):
    return seed_tier1_nda(tier1)


@pytest.fixture
def bumper_asset(db):
    return seed_bumper_asset()


@pytest.fixture
def bumper_disclosure(bumper_asset, subvendor, tier1_nda):
    return DisclosureFactory(
        asset=bumper_asset, supplier=subvendor, nda=tier1_nda, disclosed_on=date(2024, 11, 5)
    )


@pytest.fixture
def supplier_user(tier1):
    return UserFactory(username="bmt-user", role=Role.SUPPLIER, supplier=tier1)


@pytest.fixture
def other_supplier(db):
    return seed_other_supplier()


@pytest.fixture
def other_supplier_user(other_supplier):
    return UserFactory(username="glass-user", role=Role.SUPPLIER, supplier=other_supplier)
