"""One FilterSet per model of the breaches app, serving its API list and its page alike
(the same parameters, the same search). Every foreign key, `status` and the date ranges
filter; `overdue=true` asks breaches.selectors; bad values are a 400."""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from breaches.choices import (
    ActionStatus,
    Channel,
    DeliveryState,
    EventKind,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    ReminderKind,
    ReminderTargetType,
    ReviewKind,
    ReviewState,
    Severity,
)
from breaches.models import (
    Evidence,
    Incident,
    IncidentEvent,
    Penalty,
    PenaltyReview,
    RectificationAction,
    RectificationPlan,
    Reminder,
)
from breaches.selectors import (
    action_overdue_q,
    penalty_overdue_q,
    plan_overdue_q,
    reviews_awaiting,
)
from config.rest import DateFilter, FilterSet, IdFilter, SearchFilter, StrictBooleanFilter
from suppliers.choices import CURRENCY_CODES
from suppliers.filtersets import SUPPLIER_LOOKUP, CreatedRangeFilterSet, filter_by_visible_nda
from suppliers.models import WRITERS, Supplier, User


class DueOnRangeFilterSet(CreatedRangeFilterSet):
    due_on_after = DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due on or after"))
    due_on_before = DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due on or before"))


def _incident_owners(user):
    """The staff who may own incidents, for staff's filters (suppliers get no names)."""
    if not getattr(user, "is_buyer_staff", False):
        return []
    return User.objects.filter(WRITERS).order_by("username").values_list("pk", "username")


ANY = _("Any")
OVERDUE_SELECT = forms.Select(choices=[("", ANY), ("true", _("Overdue only"))])
STATUS = _("Status")
SUPPLIER = _("Supplier")
SEARCH = _("Search")


class IncidentSearchFilter(SearchFilter):
    """An incident by its reference, title or description, the name of its source or
    liable supplier ("Hebei"), or the code of a leaked asset ("MS11-BUMPER"). Suppliers
    and assets are matched in their own (small) tables first and the incidents filtered by
    id, not joined row by row: no duplicate rows, no DISTINCT over the page."""

    def filter(self, qs, value):
        for term in (value or "").replace(",", " ").split():
            match = Q()
            for name in self.search_fields:
                match |= Q(**{f"{name}__icontains": term})
            suppliers = Supplier.objects.filter(name__icontains=term).values("pk")
            asset_links = Incident.assets.through.objects.filter(
                incident_id=OuterRef("pk"), confidentialasset__code__icontains=term
            )
            match |= Q(source_supplier_id__in=suppliers)
            match |= Q(responsible_supplier_id__in=suppliers)
            match |= Q(Exists(asset_links))
            qs = qs.filter(match)
        return qs


class IncidentFilter(CreatedRangeFilterSet):
    search = IncidentSearchFilter(
        fields=("reference", "title", "description"),
        label=_("Search (reference, title, supplier, asset code)"),
    )
    source_supplier = IdFilter(field_name="source_supplier_id")
    responsible_supplier = IdFilter(field_name="responsible_supplier_id")
    supplier = IdFilter(method="filter_supplier", label=_("Source or responsible supplier"))
    nda = IdFilter(method="filter_nda")
    owner = IdFilter(field_name="owner_id")
    asset = IdFilter(field_name="assets", distinct=True)
    status = filters.ChoiceFilter(choices=IncidentStatus.choices, label=STATUS)
    channel = filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    severity = filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    no_nda_coverage = StrictBooleanFilter()
    occurred_on_after = DateFilter(
        field_name="occurred_on", lookup_expr="gte", label=_("Occurred on or after")
    )
    occurred_on_before = DateFilter(
        field_name="occurred_on", lookup_expr="lte", label=_("Occurred on or before")
    )

    class Meta:
        model = Incident
        fields = ["source_supplier", "responsible_supplier", "nda", "owner", "status"]

    page_fields = (
        "search",
        "status",
        "severity",
        "channel",
        "supplier",
        "occurred_on_after",
        "occurred_on_before",
    )
    page_lookups = {"supplier": SUPPLIER_LOOKUP}

    def filter_supplier(self, queryset, name, value):
        return queryset.filter(Q(source_supplier_id=value) | Q(responsible_supplier_id=value))

    def filter_nda(self, queryset, name, value):
        return filter_by_visible_nda(queryset, self.request, value)


class EventFilter(CreatedRangeFilterSet):
    kind = filters.ChoiceFilter(choices=EventKind.choices)
    actor = IdFilter(field_name="actor_id")
    penalty = IdFilter(field_name="penalty_id")
    plan = IdFilter(field_name="plan_id")

    class Meta:
        model = IncidentEvent
        fields = ["kind", "actor", "penalty", "plan"]


class EvidenceFilter(FilterSet):
    incident = IdFilter(field_name="incident_id")
    uploaded_by = IdFilter(field_name="uploaded_by_id")
    content_type = filters.CharFilter(max_length=100)

    class Meta:
        model = Evidence
        fields = ["incident", "uploaded_by", "content_type"]


class PenaltyFilter(DueOnRangeFilterSet):
    search = SearchFilter(
        fields=("incident__reference", "incident__title", "supplier__name"), label=SEARCH
    )
    incident = IdFilter(field_name="incident_id")
    supplier = IdFilter(field_name="supplier_id", label=SUPPLIER)
    owner = IdFilter(field_name="incident__owner_id", label=_("Incident owner"))
    issued_by = IdFilter(field_name="issued_by_id")
    status = filters.ChoiceFilter(choices=PenaltyStatus.choices, label=STATUS)
    currency = filters.CharFilter(lookup_expr="iexact", max_length=3, label=_("Currency"))
    overdue = StrictBooleanFilter(
        method="filter_overdue", label=_("Issued, with an amount outstanding past its due date")
    )

    class Meta:
        model = Penalty
        fields = ["incident", "supplier", "issued_by", "status", "currency"]

    page_fields = ("search", "status", "currency", "supplier", "overdue")
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {
        "currency": forms.Select(choices=[("", ANY), *((c, c) for c in sorted(CURRENCY_CODES))]),
        "overdue": OVERDUE_SELECT,
    }
    page_labels = {"overdue": _("Overdue")}

    def filter_overdue(self, queryset, name, value):
        q = penalty_overdue_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)


class PlanFilter(DueOnRangeFilterSet):
    search = SearchFilter(fields=("summary", "incident__reference", "supplier__name"), label=SEARCH)
    incident = IdFilter(field_name="incident_id")
    supplier = IdFilter(field_name="supplier_id", label=SUPPLIER)
    owner = IdFilter(field_name="incident__owner_id", label=_("Incident owner"))
    status = filters.ChoiceFilter(choices=PlanStatus.choices, label=STATUS)
    overdue = StrictBooleanFilter(
        method="filter_overdue", label=_("Requested or changes requested, past its due date")
    )

    class Meta:
        model = RectificationPlan
        fields = ["incident", "supplier", "status"]

    page_fields = ("search", "status", "supplier", "overdue")
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {"overdue": OVERDUE_SELECT}
    page_labels = {"overdue": _("Overdue")}

    def filter_overdue(self, queryset, name, value):
        q = plan_overdue_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)


class DeadlineFilter(PlanFilter):
    """The deadlines page's form: the parameters PlanFilter, ActionFilter and PenaltyFilter
    share (supplier, incident owner), each applied by its own model's FilterSet."""

    page_fields = ("supplier", "owner")
    page_choices = {"owner": _incident_owners}
    page_lookups = {"supplier": SUPPLIER_LOOKUP}
    page_widgets = {}
    page_labels = {}


class ActionFilter(DueOnRangeFilterSet):
    search = SearchFilter(fields=("description", "owner"))
    plan = IdFilter(field_name="plan_id")
    incident = IdFilter(field_name="plan__incident_id")
    supplier = IdFilter(field_name="plan__supplier_id")
    owner = IdFilter(field_name="plan__incident__owner_id", label=_("Incident owner"))
    status = filters.ChoiceFilter(choices=ActionStatus.choices, label=STATUS)
    overdue = StrictBooleanFilter(
        method="filter_overdue", label=_("Open, past its due date, in an approved plan")
    )

    class Meta:
        model = RectificationAction
        fields = ["plan", "incident", "supplier", "status"]

    def filter_overdue(self, queryset, name, value):
        q = action_overdue_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)


LEVELS = {n: format_lazy(_("Level {n}"), n=n) for n in (1, 2, 3)}


class ReminderFilter(DueOnRangeFilterSet):
    search = SearchFilter(
        fields=(
            "plan__incident__reference",
            "plan__supplier__name",
            "penalty__incident__reference",
            "penalty__supplier__name",
        ),
        label=_("Search (incident reference, supplier)"),
    )
    plan = IdFilter(field_name="plan_id")
    action = IdFilter(field_name="action_id")
    penalty = IdFilter(field_name="penalty_id")
    supplier = IdFilter(method="filter_supplier", label=_("Supplier of the plan or penalty"))
    target_type = filters.ChoiceFilter(choices=ReminderTargetType.choices, label=_("Target type"))
    kind = filters.ChoiceFilter(choices=ReminderKind.choices, label=_("Kind"))
    status = filters.ChoiceFilter(
        field_name="state", choices=DeliveryState.choices, label=_("Delivery state")
    )
    state = filters.ChoiceFilter(choices=DeliveryState.choices, label=_("State"))
    level = filters.NumberFilter(min_value=1, max_value=3, label=_("Level"))

    class Meta:
        model = Reminder
        fields = ["plan", "action", "penalty", "target_type", "kind", "state", "level"]

    page_fields = ("search", "target_type", "state", "kind", "level")
    page_widgets = {
        "level": forms.Select(choices=[("", ANY), *((n, LEVELS[n]) for n in (1, 2, 3))])
    }

    def filter_supplier(self, queryset, name, value):
        return queryset.filter(Q(plan__supplier_id=value) | Q(penalty__supplier_id=value))


class PenaltyReviewFilter(FilterSet):
    penalty = IdFilter(field_name="penalty_id")
    kind = filters.ChoiceFilter(choices=ReviewKind.choices)
    state = filters.ChoiceFilter(choices=ReviewState.choices)
    awaiting_me = StrictBooleanFilter(
        method="filter_awaiting_me", label=_("Pending and asked by another staff user")
    )

    class Meta:
        model = PenaltyReview
        fields = ["penalty", "kind", "state"]

    def filter_awaiting_me(self, queryset, name, value):
        mine = reviews_awaiting(getattr(self.request, "user", None))
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)


# --- Column sorting on the pages --------------------------------------------------------
# `?sort=<key>` or `?sort=-<key>` picks one of these allow-listed orders
# (suppliers.ui.sort_queryset; anything else is the default, newest first); the id last
# breaks ties so paging is stable.
INCIDENT_SORTS = {
    "reference": ("reference", "id"),
    "title": ("title", "id"),
    "occurred_on": ("occurred_on", "id"),
    "status": ("status", "-created_at", "-id"),  # newest first within a status
    "created_at": ("created_at", "id"),
}
PENALTY_SORTS = {
    "amount": ("amount", "id"),
    "paid_amount": ("paid_amount", "id"),
    "due_on": ("due_on", "id"),
    "status": ("status", "-created_at", "-id"),
    "created_at": ("created_at", "id"),
}
