"""config.widgets.FastSelect writes what Django's Select writes, in one pass."""

import re

import pytest
from django import forms

from config.widgets import FastSelect

CHOICES = [("", "Any"), (1, "Beijing & Co <Ltd>"), (2, 'Quote "Works"'), (3, "Hebei")]


def _normalised(html: str) -> tuple:
    """The select's attributes (in any order) and its options, exactly."""
    html = re.sub(r">\s+<", "><", html.strip())
    tag, rest = html.split(">", 1)
    return sorted(re.findall(r'\s([\w-]+(?:="[^"]*")?)', tag)), rest


@pytest.mark.parametrize("value", [None, "", "2", 2, ["3"]])
@pytest.mark.parametrize("attrs", [None, {"id": "id_supplier", "data-searchable": "true"}])
def test_same_markup_as_djangos_select(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("supplier", value, attrs)
    fast_html = FastSelect(choices=CHOICES).render("supplier", value, attrs)
    assert _normalised(fast_html) == _normalised(django_html)


def test_option_groups_fall_back_to_django():
    grouped = [("Asia", [("CN", "China")]), ("Europe", [("DE", "Germany")])]
    assert "<optgroup" in FastSelect(choices=grouped).render("country", "CN")
