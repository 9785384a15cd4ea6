"""Helpers shared by the browser views of both apps: mapping service errors onto forms,
and paging without a COUNT(*) (lists over big tables fetch one row more than they show)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from config.exceptions import Conflict

PAGE_SIZE = 25
MAX_PAGE = 10_000


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names; the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            messages = [m for error in errors for m in error.messages]
            target = field if field in form.fields else None
            if target is None and field not in ("__all__", "non_field_errors"):
                messages = [f"{field.replace('_', ' ').capitalize()}: {m}" for m in messages]
            form.add_error(target, messages)
    else:
        form.add_error(None, exc.messages)


def error_text(exc: ValidationError) -> str:
    """One line for a flash message."""
    if hasattr(exc, "error_dict"):
        return " ".join(m for errors in exc.message_dict.values() for m in errors)
    return " ".join(exc.messages)


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the form was on (same host only), else `fallback`."""
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target or fallback)


def submit_form(
    request: HttpRequest,
    form: forms.Form,
    call: Callable[[dict[str, Any]], Any],
    *,
    success: str | Callable[[Any], str],
    detail_url: str | Callable[[Any], str],
) -> HttpResponseRedirect | None:
    """The POST half of a form that calls a service: a valid form goes to `call(cleaned_data)`;
    success flashes `success` (or `success(result)`) and redirects to `detail_url`; a conflict
    flashes its reason and redirects back (`detail_url(result)` when a callable, for a
    record just created); None means "render the form again with its
    errors" (invalid input, or the service's ValidationError placed next to the fields)."""
    if not form.is_valid():
        return None
    try:
        result = call(form.cleaned_data)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect_back(request, request.path if callable(detail_url) else detail_url)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return HttpResponseRedirect(detail_url(result) if callable(detail_url) else detail_url)


@dataclass
class Page:
    object_list: list[Any]
    number: int
    has_next: bool
    has_previous: bool
    next_query: str
    previous_query: str

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    """Offset paging that never counts the table: it reads per_page + 1 rows to know
    whether a next page exists. Page numbers out of range give an empty page, not a 500."""
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), MAX_PAGE)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    params = request.GET.copy()

    def query_for(page_number: int) -> str:
        params["page"] = str(page_number)
        return params.urlencode()

    return Page(
        object_list=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        has_previous=number > 1,
        next_query=query_for(number + 1),
        previous_query=query_for(number - 1),
    )


# --- Sorting and counting of list pages -------------------------------------------------

SORT_PARAM = "sort"
COUNT_CAP = 1000


@dataclass
class Sorting:
    """The column a list page is sorted by (`?sort=name`, `?sort=-name`), among those the
    page offers; anything else falls back to the page's default order."""

    current: str
    columns: dict[str, tuple[str, ...]]
    params: Any

    def header(self, key: str) -> dict[str, str]:
        """The link and aria-sort state of a column header."""
        ascending = self.current == key
        descending = self.current == f"-{key}"
        params = self.params.copy()
        params.pop("page", None)
        params[SORT_PARAM] = f"-{key}" if ascending else key
        return {
            "query": params.urlencode(),
            "aria": "ascending" if ascending else "descending" if descending else "none",
            "arrow": "▲" if ascending else "▼" if descending else "",
        }


def sort_queryset(request: HttpRequest, queryset, columns: dict[str, tuple[str, ...]], default):
    """Order `queryset` by the requested column of `columns` (key -> order_by fields, the
    last one unique so that pages never overlap), else by `default`."""
    requested = request.GET.get(SORT_PARAM, "")
    key = requested.lstrip("-")
    if key in columns:
        fields = columns[key]
        if requested.startswith("-"):
            fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
        queryset = queryset.order_by(*fields)
        current = requested
    else:
        queryset = queryset.order_by(*default)
        current = ""
    return queryset, Sorting(current=current, columns=columns, params=request.GET)


def capped_count(queryset, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows the filtered, scoped list holds, counting at most `cap` + 1 of them
    (one bounded query, however big the table): (count, more_than_cap)."""
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap
