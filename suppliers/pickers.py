"""Choices people pick from: countries and currencies by name and code ("CN — China"),
sorted by name, so that a person finds China under C and the code stays visible. Names
come from pycountry (the same ISO data the codes in suppliers.choices were taken from);
the codes the database accepts are still those of suppliers.choices."""

from __future__ import annotations

from functools import cache

from .choices import COUNTRY_CODES, CURRENCY_CODES


@cache
def country_names() -> dict[str, str]:
    import pycountry

    names = {}
    for code in COUNTRY_CODES:
        country = pycountry.countries.get(alpha_2=code)
        names[code] = getattr(country, "common_name", None) or getattr(country, "name", code)
    return names


@cache
def currency_names() -> dict[str, str]:
    import pycountry

    names = {}
    for code in CURRENCY_CODES:
        currency = pycountry.currencies.get(alpha_3=code)
        names[code] = getattr(currency, "name", code)
    return names


def _choices(names: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (code, f"{code} — {name}")
        for code, name in sorted(names.items(), key=lambda item: (item[1].casefold(), item[0]))
    ]


@cache
def country_choices() -> list[tuple[str, str]]:
    """[("AF", "AF — Afghanistan"), ...] sorted by name."""
    return _choices(country_names())


@cache
def currency_choices() -> list[tuple[str, str]]:
    """[("XUA", "XUA — ADB Unit of Account"), ("AFN", "AFN — Afghani"), ...] by name."""
    return _choices(currency_names())


def country_label(code: str) -> str:
    name = country_names().get(code)
    return f"{code} — {name}" if name else code
