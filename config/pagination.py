"""Cursor pagination, cursor-safe ordering and the filter backend of every list (kept
free of viewset imports: DRF settings import these while DRF itself is loading)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination

# --- Pagination and ordering -----------------------------------------------------------


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pages, newest first: no COUNT(*) however big the table grows."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                {"page_size": [_("Enter a whole number between 1 and 200.")]}
            ) from None
        if size < 1:
            raise exceptions.ValidationError(
                {"page_size": [_("The page size must be at least 1.")]}
            )
        return min(size, self.max_page_size)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            # A mangled cursor is bad input, not a missing page.
            raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]}) from None


class DateJoinedCursorPagination(NewestFirstCursorPagination):
    ordering = ("-date_joined", "-id")


class RequestedAtCursorPagination(NewestFirstCursorPagination):
    ordering = ("-requested_at", "-id")


class UploadedCursorPagination(NewestFirstCursorPagination):
    ordering = ("-uploaded_at", "-id")


class CursorSafeOrdering(OrderingFilter):
    """`?ordering=` limited to the view's `ordering_fields`, always with `id` as the
    tie-breaker in the same direction, so that cursor positions stay exact."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        allowed = set(getattr(view, "ordering_fields", None) or ())
        terms = [term.strip() for term in params.split(",") if term.strip()]
        if len(terms) != 1 or terms[0].lstrip("-") not in allowed:
            choices = ", ".join(sorted(allowed | {f"-{f}" for f in allowed})) or "none"
            raise exceptions.ValidationError(
                {self.ordering_param: [_("Order by one of: %(choices)s.") % {"choices": choices}]}
            )
        term = terms[0]
        tie = "-id" if term.startswith("-") else "id"
        return (term, tie)


# --- Filtering -----------------------------------------------------------------------

# Query parameters that paginate or order; none of them is a FilterSet field.
NON_FILTER_PARAMS = frozenset({"cursor", "page_size", "ordering", "format"})


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, not consulted when the query string holds no filter.

    A FilterSet with no data filters nothing (an empty value skips its filter), but
    building it deep-copies every filter and builds and validates a form: about a fifth
    of the CPU of an unfiltered list page or a detail. Any other parameter, known or
    not, still goes through the FilterSet and its 400s."""

    def filter_queryset(self, request, queryset, view):
        if NON_FILTER_PARAMS.issuperset(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
