"""One FilterSet per model of the suppliers app, serving its API list and its page alike
(the same parameters, the same search). Every foreign key and status filters; bad values
are a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_filters import rest_framework as filters

from config.rest import DateFilter, FilterSet, IdFilter, SearchFilter, StrictBooleanFilter
from config.widgets import FastSelect, Lookup
from suppliers.choices import (
    Classification,
    ContactRole,
    NDAStatus,
    Role,
    SupplierStatus,
)
from suppliers.models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User
from suppliers.pickers import country_choices
from suppliers.selectors import (
    assets_visible_to,
    may_see_fingerprints,
    ndas_visible_to,
    suppliers_visible_to,
)

YES_NO_SELECT = forms.Select(
    choices=[("", pgettext_lazy("filter", "Any")), ("true", _("Yes")), ("false", _("No"))]
)


def _visible_suppliers(user):
    return suppliers_visible_to(user).order_by("name").values_list("pk", "name")


def _visible_ndas(user):
    return ndas_visible_to(user).order_by("reference").values_list("pk", "reference")


def _visible_assets(user):
    return assets_visible_to(user).order_by("code").values_list("pk", "code")


# The pickers of both apps' filters and forms (a big buyer has 20,000 suppliers).
SUPPLIER_LOOKUP = Lookup(
    "supplier-list", "{name}", term="name", ordering="name", rows=_visible_suppliers
)
NDA_LOOKUP = Lookup(
    "nda-list", "{reference}", term="reference", ordering="reference", rows=_visible_ndas
)
ASSET_LOOKUP = Lookup("asset-list", "{code}", ordering="code", rows=_visible_assets)


def filter_by_visible_nda(queryset, request, nda_id: int):
    """Rows under that NDA, if the caller may see it: for an NDA it may not (a parent's),
    no rows, as for an NDA that does not exist, so the filter confirms no link."""
    visible = ndas_visible_to(getattr(request, "user", None)).filter(pk=nda_id)
    return queryset.filter(nda_id=nda_id, nda__in=visible)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class CreatedRangeFilterSet(FilterSet):
    """created_after / created_before as whole UTC days, compared on the timestamp itself
    (not a date cast), so the (created_at, id) index serves them on big tables."""

    created_after = DateFilter(
        field_name="created_at", method="filter_created_after", label=_("Created on or after")
    )
    created_before = DateFilter(
        field_name="created_at", method="filter_created_before", label=_("Created on or before")
    )

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": _day_start(value)})

    def filter_created_before(self, queryset, name, value):
        try:
            end = _day_start(value + timedelta(days=1))
        except OverflowError:
            return queryset
        return queryset.filter(**{f"{name}__lt": end})


class SupplierFilter(CreatedRangeFilterSet):
    search = SearchFilter(fields=("name", "parent__name"))
    name = SearchFilter(fields=("name", "local_name"), label=_("Name or local name"))
    parent = IdFilter(field_name="parent_id")
    status = filters.ChoiceFilter(choices=SupplierStatus.choices)
    country = filters.CharFilter(field_name="country", lookup_expr="iexact", max_length=2)
    tier = filters.NumberFilter(min_value=1, max_value=10)
    top_level = StrictBooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = Supplier
        fields = ["parent", "status", "country", "tier"]

    page_fields = ("search", "status", "country", "tier")
    page_widgets = {
        "country": FastSelect(
            choices=[("", pgettext_lazy("filter", "Any")), *country_choices()],
            attrs={"data-searchable": "true", "data-search-placeholder": _("Type to filter…")},
        )
    }


class ContactFilter(CreatedRangeFilterSet):
    search = SearchFilter(fields=("name", "email"))
    supplier = IdFilter(field_name="supplier_id")
    role = filters.ChoiceFilter(choices=ContactRole.choices)
    receives_reminders = StrictBooleanFilter()

    class Meta:
        model = Contact
        fields = ["supplier", "role", "receives_reminders"]

    page_fields = ("search", "supplier", "role", "receives_reminders")
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {"receives_reminders": YES_NO_SELECT}


class NDAFilter(CreatedRangeFilterSet):
    search = SearchFilter(fields=("reference", "supplier__name", "clause_text"))
    reference = SearchFilter(fields=("reference",), label=_("Reference"))
    supplier = IdFilter(field_name="supplier_id")
    status = filters.ChoiceFilter(
        choices=NDAStatus.choices, method="filter_status", label=_("Status")
    )
    covers_subvendors = StrictBooleanFilter()
    flow_down_required = StrictBooleanFilter()
    penalty_currency = filters.CharFilter(lookup_expr="iexact", max_length=3)
    effective_from_after = DateFilter(field_name="effective_from", lookup_expr="gte")
    effective_from_before = DateFilter(field_name="effective_from", lookup_expr="lte")

    class Meta:
        model = NDA
        fields = ["supplier", "status", "covers_subvendors", "flow_down_required"]

    page_fields = ("search", "supplier", "status", "covers_subvendors")
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {"covers_subvendors": YES_NO_SELECT}
    page_labels = {"covers_subvendors": _("Covers sub-vendors")}

    def filter_status(self, queryset, name, value):
        # Status is derived from the dates (NDA.status_on), so it filters on them; a
        # termination in force overrides the rest.
        today = timezone.localdate()
        terminated = Q(terminated_on__lte=today)
        if value == NDAStatus.TERMINATED:
            return queryset.filter(terminated)
        queryset = queryset.exclude(terminated)
        if value == NDAStatus.NOT_YET_EFFECTIVE:
            return queryset.filter(effective_from__gt=today)
        if value == NDAStatus.EXPIRED:
            return queryset.filter(expires_on__lte=today)
        return queryset.filter(
            Q(effective_from__lte=today) & (Q(expires_on__isnull=True) | Q(expires_on__gt=today))
        )


class AssetFilter(CreatedRangeFilterSet):
    search = SearchFilter(fields=("code", "name", "project"))
    classification = filters.ChoiceFilter(choices=Classification.choices)
    project = filters.CharFilter(lookup_expr="iexact", max_length=100)
    supplier = IdFilter(field_name="disclosures__supplier", distinct=True)

    class Meta:
        model = ConfidentialAsset
        fields = ["classification", "project"]

    page_fields = ("search", "classification", "project")


class DisclosureFilter(CreatedRangeFilterSet):
    search = SearchFilter(fields=("version", "asset__code", "supplier__name"))
    asset = IdFilter(field_name="asset_id")
    supplier = IdFilter(field_name="supplier_id")
    nda = IdFilter(method="filter_nda")
    fingerprint = filters.CharFilter(method="filter_fingerprint", max_length=64)
    disclosed_on_after = DateFilter(field_name="disclosed_on", lookup_expr="gte")
    disclosed_on_before = DateFilter(field_name="disclosed_on", lookup_expr="lte")
    revoked = StrictBooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Disclosure
        fields = ["asset", "supplier", "nda"]

    page_fields = ("search", "supplier", "asset", "nda", "revoked")
    page_lookups = {"supplier": SUPPLIER_LOOKUP, "asset": ASSET_LOOKUP, "nda": NDA_LOOKUP}
    page_widgets = {"revoked": YES_NO_SELECT}
    page_labels = {"nda": _("NDA"), "revoked": _("Revoked")}

    def filter_nda(self, queryset, name, value):
        return filter_by_visible_nda(queryset, self.request, value)

    def filter_fingerprint(self, queryset, name, value):
        # Staff only: for anyone else a filter by fingerprint would tell a mark apart.
        if not may_see_fingerprints(getattr(self.request, "user", None)):
            return queryset.none()
        return queryset.filter(fingerprint=value.strip().lower())


class UserFilter(FilterSet):
    search = SearchFilter(fields=("username", "email", "first_name", "last_name"))
    role = filters.ChoiceFilter(choices=Role.choices)
    supplier = IdFilter(field_name="supplier_id")
    is_active = StrictBooleanFilter()

    class Meta:
        model = User
        fields = ["role", "supplier", "is_active"]

    page_fields = ("search", "supplier", "role", "is_active")
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {"is_active": YES_NO_SELECT}
    page_labels = {"is_active": pgettext_lazy("account", "Active")}
