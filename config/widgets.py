"""Form widgets both apps share."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


class FastSelect(forms.Select):
    """A <select> written in one pass instead of one template render per option. Django's
    Select renders a picker of 3,000 suppliers in about 3 s (three such pickers made a
    filtered list take 9 s); this writes the same markup (name, attributes, the selected
    option) in milliseconds. Option groups fall back to Django's rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        return self.render_choices(name, value, attrs, choices)

    def render_choices(self, name, value, attrs, choices: list) -> str:
        selected = set(self.format_value(value))  # as Django's: None selects the "" option
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        options = []
        found = False
        for option, label in choices:
            text = "" if option is None else str(option)
            chosen = text in selected and (self.allow_multiple_selected or not found)
            found = found or chosen
            mark = " selected" if chosen else ""
            options.append(f'<option value="{escape(text)}"{mark}>{escape(label)}</option>')
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe("".join(options)),  # noqa: S308 (each value and label escaped above)
        )


# The most rows a LookupSelect writes into a page; past it the page's script searches.
LOOKUP_ROWS = 200


class Lookup(NamedTuple):
    """Where the page's script searches a LookupSelect's rows: the API list `url_name`,
    the typed text in its parameter `term`, the results in `ordering`, each shown as
    `result_text` (the result's fields in braces). A page's filter also names `rows`:
    `rows(user)`, the (pk, label) rows the person may pick, in the order offered."""

    url_name: str
    result_text: str = "{name}"
    term: str = "search"
    ordering: str = ""
    rows: Callable | None = None

    def url(self) -> str:
        """The list's URL, ending in `term=`: the script appends the typed text."""
        query = {"ordering": self.ordering} if self.ordering else {}
        return f"{reverse(self.url_name)}?{urlencode({**query, 'page_size': 50, self.term: ''})}"


class LookupSelect(FastSelect):
    """A <select> of rows too many to write into every page (20,000 suppliers made each
    staff list 1.3 MB, every filter form carrying all of them). It writes the first
    LOOKUP_ROWS rows and the selected ones; when there are more, it carries `data-lookup`
    (its Lookup's URL), which the page's script asks as the person types
    (suppliers/static/ui/app.js), and the results replace the rows written. Without the
    script the first rows and the selected ones stay on offer, and a list's search box
    finds the rest.

    The rows come from `rows` ((pk, label) pairs, e.g. a values_list queryset), or, on a
    ModelChoiceField, from the field's own queryset."""

    def __init__(self, attrs=None, *, lookup: Lookup, rows=None, empty_label=None):
        super().__init__({"data-searchable": "true", **(attrs or {})})
        self.lookup = lookup
        self.rows = rows
        self.empty_label = empty_label

    def bounded_choices(self, selected: set[str]) -> tuple[list, bool]:
        """The choices to write (the empty one first, if any) and whether there are more."""
        if self.rows is not None:
            empty_label, rows = self.empty_label, self.rows
            key, choice = itemgetter(0), tuple
        elif isinstance(self.choices, ModelChoiceIterator):
            empty_label, rows = self.choices.field.empty_label, self.choices.field.queryset
            key, choice = attrgetter("pk"), self.choices.choice
        else:  # plain choices: all of them
            return list(self.choices), False
        found = list(rows[: LOOKUP_ROWS + 1])
        first = found[:LOOKUP_ROWS]
        shown = {str(key(row)) for row in first}
        # Ids only (a filter refuses anything else itself), in the database's range.
        missing = [
            value
            for value in selected
            if value not in shown and value.isascii() and value.isdigit() and int(value) < 2**63
        ]
        extra = list(rows.filter(pk__in=missing)) if missing else []
        head = [] if empty_label is None else [("", empty_label)]
        return [*head, *(choice(row) for row in [*first, *extra])], len(found) > LOOKUP_ROWS

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(one) for one in self.format_value(value)}
        choices, more = self.bounded_choices(selected)
        attrs = dict(attrs or {})
        if more:
            attrs["data-lookup"] = self.lookup.url()
            attrs["data-lookup-text"] = self.lookup.result_text
        return self.render_choices(name, value, attrs, choices)


class LookupSelectMultiple(LookupSelect, forms.SelectMultiple):
    """LookupSelect picking several (the page's script keeps every selected option)."""
