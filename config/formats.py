"""How instants and money read for a person (DESIGN section 11), in one place for pages,
emails and documents.

- An instant is stored in UTC and shown in the viewer's time zone, with the zone's name,
  so that nobody has to guess: "2026-12-05 10:04 Asia/Shanghai". The numeric date is the
  ISO 8601 form, which is also China's national standard (GB/T 7408), in both languages.
- A date-only business fact (a due date, the day a leak occurred) is a calendar day and
  never moves with time zones: it is printed as it is stored.
- Money is formatted by CLDR through Babel for the language: ¥1,000,000.00 in Chinese,
  CN¥1,000,000.00 in English, always with two decimals for currencies that have them.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django.conf import settings
from django.utils import timezone, translation


def zone_named(name: str | None) -> tzinfo:
    """The time zone called `name`, or the default one when the name is empty or unknown
    (a stored zone is validated, but a zone can leave the tz database)."""
    try:
        return zoneinfo.ZoneInfo(name or settings.DEFAULT_USER_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.DEFAULT_USER_TIME_ZONE)


@contextmanager
def written_in(language: str | None, time_zone: str | None) -> Iterator[None]:
    """Render an email (or any text for one person) in that person's language, with its
    instants in that person's time zone: a contact's or a user's `language` and
    `time_zone`, whoever's request is sending it."""
    with (
        translation.override(language or settings.LANGUAGE_CODE),
        timezone.override(zone_named(time_zone)),
    ):
        yield


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def format_instant(value: datetime | None, zone: tzinfo | None = None) -> str:
    """An instant in `zone` (by default the active one: the viewer's on a page, the
    recipient's in an email), named."""
    if value is None:
        return ""
    zone = zone or timezone.get_current_timezone()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zoneinfo.ZoneInfo("UTC"))
    local = timezone.localtime(value, zone)
    return f"{local:%Y-%m-%d %H:%M} {zone_name(zone)}"


def format_day(value: date | None) -> str:
    """A calendar day as stored (a due date): never shifted by a time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        raise TypeError("format_day takes a date; an instant goes through format_instant")
    return value.isoformat()


def babel_locale(language: str | None = None) -> str:
    return translation.to_locale(language or translation.get_language() or settings.LANGUAGE_CODE)


def format_money(amount, currency: str, language: str | None = None) -> str:
    """An amount in its currency as the language writes it; "" for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    try:
        return format_currency(amount, currency, locale=babel_locale(language))
    except (ValueError, LookupError):
        return f"{amount:,.2f} {currency}"
