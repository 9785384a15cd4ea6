"""Short-lived caching of whole-scope aggregates (the summary report, the dashboard).

Counting a million incidents by status takes a sequential pass however it is indexed,
so the figures people look at are computed at most once per REPORT_CACHE_SECONDS per
scope and served from the cache in between. Scopes are what the selectors scope by:
every staff user sees everything (one shared entry), a supplier user sees its
supplier's world (one entry per supplier), each in the reader's language (the figures
carry words, such as the chart's month names). Lists and details are never cached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from suppliers.selectors import scope_for

T = TypeVar("T")


def scope_key(user) -> str:
    scope = scope_for(user)
    if scope.everything:
        return "all"
    return f"supplier-{scope.own_supplier_id}"


def cached_for_scope(name: str, user, day: date, compute: Callable[[], T]) -> T:
    """`compute()` for this user's scope and day, reused for REPORT_CACHE_SECONDS."""
    seconds = getattr(settings, "REPORT_CACHE_SECONDS", 0)
    if seconds <= 0 or not getattr(user, "is_authenticated", False):
        return compute()
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = f"report:{name}:{scope_key(user)}:{language}:{day.isoformat()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
