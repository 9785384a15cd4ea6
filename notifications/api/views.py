"""The API of notifications (each user its own) and webhooks (admins)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.rest import ID_IN_URL, AdminOnly, ServiceMixin

from .. import endpoints, services
from ..models import WebhookDelivery, WebhookEndpoint
from ..selectors import notifications_for
from .serializers import (
    NotificationSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEventSerializer,
)


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own notifications, newest first; another's id is a 404."""

    serializer_class = NotificationSerializer
    lookup_value_regex = ID_IN_URL

    def get_queryset(self):
        return notifications_for(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.notification_mark_read(user=request.user, notification=notification)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: OpenApiResponse(description="{'marked': n}")})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


class AdminWebhooks(AdminOnly):
    message = "Only administrators manage webhooks."


class WebhookViewSet(ServiceMixin, viewsets.ModelViewSet):
    """Webhook endpoints (admins only): `{url, secret, events}`; every event of a listed
    kind is POSTed as WebhookEvent, signed."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [AdminWebhooks]
    queryset = WebhookEndpoint.objects.all()
    create_service = endpoints.webhook_create
    update_service = endpoints.webhook_update
    delete_service = endpoints.webhook_delete
    service_object_name = "endpoint"

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        queryset = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .prefetch_related("tries")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(queryset)
        serializer = WebhookDeliverySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        description="Send a `webhook.test` event to this endpoint (delivered like any other).",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        endpoint = self.get_object()
        delivery = endpoints.webhook_send_test(actor=request.user, endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=WebhookEventSerializer,
        description="The body POSTed to endpoints, for reference: see WebhookEvent.",
    )
    @action(detail=False, methods=["get"], url_path="event-schema")
    def event_schema(self, request):
        example = {
            "id": "6f1c1f5e-8d0e-4c4e-9a51-2b1f0f0e9c11",
            "type": "penalty.issued",
            "created_at": "2026-01-22T08:00:00Z",
            "data": {"penalty": 1, "incident": 1, "incident_reference": "INC-2026-0001",
                     "supplier": 1, "amount": "1000000.00", "currency": "CNY",
                     "status": "issued"},
        }  # fmt: skip
        return Response(WebhookEventSerializer(example).data)
