"""Validators shared by the models of both apps."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A date that means a business event (a signature, a leak, a payment, a deadline) lies
# in this window: nothing before 1990, nothing more than ten years ahead.
EARLIEST_BUSINESS_DATE = date(1990, 1, 1)
YEARS_AHEAD = 10


def validate_business_date(value: date) -> None:
    if value is None:
        return
    today = timezone.localdate()
    try:
        latest = today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # February 29
        latest = today.replace(year=today.year + YEARS_AHEAD, day=28)
    if value < EARLIEST_BUSINESS_DATE:
        raise ValidationError(
            _("Enter a date from %(earliest)s on."),
            code="date_too_early",
            params={"earliest": EARLIEST_BUSINESS_DATE.isoformat()},
        )
    if value > latest:
        raise ValidationError(
            _("Enter a date at most %(years)s years ahead."),
            code="date_too_late",
            params={"years": YEARS_AHEAD},
        )


def validate_time_zone(value: str) -> None:
    """An IANA time zone name known to this system's zoneinfo (e.g. Asia/Shanghai)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        valid = False
    else:
        valid = value in available_timezones() or value == "UTC"
    if not valid:
        raise ValidationError(
            _("%(value)s is not a time zone name, such as Asia/Shanghai or Europe/Berlin."),
            code="invalid_time_zone",
            params={"value": value},
        )
