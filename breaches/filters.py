"""List filters of the incident, penalty, plan and reminder pages (django-filter). The
supplier choices are scoped to what the user may see."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from breaches.choices import (
    Channel,
    DeliveryState,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    ReminderKind,
    Severity,
)
from breaches.models import Incident, Penalty, RectificationPlan, Reminder
from breaches.selectors import plan_overdue_q
from suppliers.choices import CURRENCY_CODES
from suppliers.models import Supplier
from suppliers.selectors import suppliers_visible_to

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def visible_suppliers(request):
    if request is None:
        return Supplier.objects.none()
    return suppliers_visible_to(request.user).order_by("name")


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(empty_label="Any", choices=IncidentStatus.choices)
    severity = django_filters.ChoiceFilter(empty_label="Any", choices=Severity.choices)
    channel = django_filters.ChoiceFilter(empty_label="Any", choices=Channel.choices)
    supplier = django_filters.ModelChoiceFilter(
        empty_label="Any", queryset=visible_suppliers, method="by_supplier", label="Supplier"
    )
    occurred_after = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="gte", label="Occurred from", widget=DATE_INPUT
    )
    occurred_before = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="lte", label="Occurred to", widget=DATE_INPUT
    )

    class Meta:
        model = Incident
        fields = ["q", "status", "severity", "channel", "supplier"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(title__icontains=value))

    def by_supplier(self, queryset, name, value):
        return queryset.filter(Q(source_supplier=value) | Q(responsible_supplier=value))


class PenaltyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(empty_label="Any", choices=PenaltyStatus.choices)
    currency = django_filters.ChoiceFilter(
        empty_label="Any", choices=[(c, c) for c in sorted(CURRENCY_CODES)]
    )
    supplier = django_filters.ModelChoiceFilter(empty_label="Any", queryset=visible_suppliers)

    class Meta:
        model = Penalty
        fields = ["status", "currency", "supplier"]


class PlanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(empty_label="Any", choices=PlanStatus.choices)
    supplier = django_filters.ModelChoiceFilter(empty_label="Any", queryset=visible_suppliers)
    overdue = django_filters.BooleanFilter(
        method="only_overdue",
        label="Overdue",
        widget=forms.Select(choices=[("", "Any"), ("true", "Overdue only")]),
    )

    class Meta:
        model = RectificationPlan
        fields = ["status", "supplier", "overdue"]

    def only_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(plan_overdue_q(timezone.localdate()))


class ReminderFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        empty_label="Any", choices=DeliveryState.choices, label="Delivery"
    )
    kind = django_filters.ChoiceFilter(empty_label="Any", choices=ReminderKind.choices)
    level = django_filters.ChoiceFilter(
        empty_label="Any", choices=[(1, "Level 1"), (2, "Level 2"), (3, "Level 3")]
    )

    class Meta:
        model = Reminder
        fields = ["state", "kind", "level"]
