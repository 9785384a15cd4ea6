"""The benchmark's references: a bare Django view, and the peer a user would otherwise
write for the incidents (a plain DRF ModelViewSet with a ModelSerializer and cursor
pagination, scoped the same way), measured in the same run as the product's endpoints."""

from django.http import JsonResponse
from rest_framework import pagination, serializers, viewsets

from breaches.models import Incident
from breaches.selectors import incidents_visible_to

PAYLOAD = {"status": "ok", "service": "breach-tracker", "items": [1, 2, 3]}


def ping(request):
    return JsonResponse(PAYLOAD)


class PlainIncidentSerializer(serializers.ModelSerializer):
    """The same fields as the product's incident, the way DRF builds them."""

    source_supplier_name = serializers.CharField(
        source="source_supplier.name", read_only=True, default=None
    )
    responsible_supplier_name = serializers.CharField(
        source="responsible_supplier.name", read_only=True, default=None
    )
    nda_reference = serializers.CharField(source="nda.reference", read_only=True, default=None)
    owner_username = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "assets",
            "occurred_on",
            "discovered_on",
            "channel",
            "severity",
            "status",
            "source_supplier",
            "source_supplier_name",
            "responsible_supplier",
            "responsible_supplier_name",
            "nda",
            "nda_reference",
            "no_nda_coverage",
            "liability_overridden",
            "liability_override_reason",
            "leak_fingerprint",
            "owner",
            "owner_username",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]


class PlainCursorPagination(pagination.CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PlainIncidentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PlainIncidentSerializer
    pagination_class = PlainCursorPagination
    filter_backends = []

    def get_queryset(self):
        qs = Incident.objects.select_related(
            "source_supplier", "responsible_supplier", "nda", "owner"
        ).prefetch_related("assets")
        return incidents_visible_to(self.request.user, qs)
