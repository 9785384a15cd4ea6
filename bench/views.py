"""The benchmark's references: a bare Django view, and the peer a user would otherwise
write for the incidents (a plain DRF ModelViewSet with a ModelSerializer and cursor
pagination, scoped the same way), measured in the same run as the product's endpoints."""

from django.http import JsonResponse
from rest_framework import pagination, serializers, viewsets

from breaches.api.serializers import IncidentSerializer
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
        # The product's fields, so that both answers carry the same data.
        fields = IncidentSerializer.Meta.fields


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
