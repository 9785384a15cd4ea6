"""List filters of the supplier pages (django-filter)."""

import django_filters
from django.db.models import Q

from suppliers.choices import COUNTRY_CODES, SupplierStatus
from suppliers.models import Supplier


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(empty_label="Any", choices=SupplierStatus.choices)
    country = django_filters.ChoiceFilter(
        empty_label="Any", choices=[(c, c) for c in sorted(COUNTRY_CODES)]
    )
    tier = django_filters.NumberFilter(min_value=1, max_value=10)

    class Meta:
        model = Supplier
        fields = ["q", "status", "country", "tier"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(parent__name__icontains=value))
