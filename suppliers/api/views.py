"""API views of the suppliers app. Querysets are scoped by the selectors; writes go
through suppliers.services."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from config.pagination import (
    DateJoinedCursorPagination,
)
from config.rest import (
    AdminOnly,
    RolePermission,
    ServiceMixin,
    ServiceViewSet,
    StrictCharField,
    security_log,
)
from config.security import lockout_detail, lockout_seconds
from suppliers import filtersets, mfa, services, tokens
from suppliers.selectors import (
    assets_visible_to,
    contacts_visible_to,
    disclosures_visible_to,
    ndas_visible_to,
    suppliers_visible_to,
)

from . import serializers as api_serializers


class ReadOnlyForSuppliers(RolePermission):
    """Staff write, auditors read, supplier users read their world."""


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: OpenApiResponse()}))
class SupplierViewSet(ServiceViewSet):
    """Suppliers and sub-vendors. Deleting one with any history is a 409 (terminate it)."""

    serializer_class = api_serializers.SupplierSerializer
    permission_classes = [ReadOnlyForSuppliers]
    filterset_class = filtersets.SupplierFilter
    ordering_fields = ["created_at", "name"]
    create_service = services.supplier_create
    update_service = services.supplier_update
    delete_service = services.supplier_delete
    service_object_name = "supplier"

    def get_queryset(self):
        return suppliers_visible_to(self.request.user, _supplier_qs())


def _supplier_qs():
    from suppliers.models import Supplier

    return Supplier.objects.select_related("parent")


class ContactViewSet(ServiceViewSet):
    """The people at a supplier; those receiving reminders are chased when it runs late."""

    serializer_class = api_serializers.ContactSerializer
    permission_classes = [ReadOnlyForSuppliers]
    filterset_class = filtersets.ContactFilter
    ordering_fields = ["created_at"]
    create_service = services.contact_create
    update_service = services.contact_update
    delete_service = services.contact_delete
    service_object_name = "contact"

    def get_queryset(self):
        from suppliers.models import Contact

        return contacts_visible_to(self.request.user, Contact.objects.select_related("supplier"))


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: OpenApiResponse()}))
class NDAViewSet(ServiceViewSet):
    """Confidentiality agreements. `status` is derived from the dates."""

    serializer_class = api_serializers.NDASerializer
    permission_classes = [ReadOnlyForSuppliers]
    filterset_class = filtersets.NDAFilter
    ordering_fields = ["created_at", "effective_from", "reference"]
    create_service = services.nda_create
    update_service = services.nda_update
    delete_service = services.nda_delete
    service_object_name = "nda"

    def get_queryset(self):
        from suppliers.models import NDA

        return ndas_visible_to(self.request.user, NDA.objects.select_related("supplier"))

    @extend_schema(
        request=api_serializers.NDATerminateSerializer,
        responses={200: api_serializers.NDASerializer, 400: None, 403: None, 409: None},
    )
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        """End the NDA early from `terminated_on`, with a reason (once; 409 after)."""
        nda = self.get_object()
        payload = api_serializers.NDATerminateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.nda_terminate(actor=request.user, nda=nda, **payload.validated_data)
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: OpenApiResponse()}))
class AssetViewSet(ServiceViewSet):
    """Confidential assets handed over to suppliers."""

    serializer_class = api_serializers.AssetSerializer
    permission_classes = [ReadOnlyForSuppliers]
    filterset_class = filtersets.AssetFilter
    ordering_fields = ["created_at", "code"]
    create_service = services.asset_create
    update_service = services.asset_update
    delete_service = services.asset_delete
    service_object_name = "asset"

    def get_queryset(self):
        from suppliers.models import ConfidentialAsset

        return assets_visible_to(self.request.user, ConfidentialAsset.objects.all())


class DisclosureViewSet(
    ServiceMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Hand-overs of assets to suppliers, each with its generated fingerprint."""

    serializer_class = api_serializers.DisclosureSerializer
    permission_classes = [ReadOnlyForSuppliers]
    filterset_class = filtersets.DisclosureFilter
    ordering_fields = ["created_at", "disclosed_on"]
    create_service = services.disclosure_create
    update_service = services.disclosure_update
    service_object_name = "disclosure"

    def get_queryset(self):
        from suppliers.models import Disclosure

        return disclosures_visible_to(
            self.request.user, Disclosure.objects.select_related("asset", "supplier", "nda")
        )

    @extend_schema(
        request=api_serializers.RevokeSerializer,
        responses={200: api_serializers.DisclosureSerializer, 400: None, 403: None, 409: None},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Mark the disclosure revoked, with a reason; it stays listed (409 if it was)."""
        disclosure = self.get_object()
        payload = api_serializers.RevokeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.disclosure_revoke(
            actor=request.user, disclosure=disclosure, reason=payload.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_object()).data)


class UserViewSet(ServiceViewSet):
    """Accounts (admins only). Deactivating one (PATCH is_active=false, or DELETE) ends
    its sessions and revokes its tokens."""

    serializer_class = api_serializers.UserSerializer
    permission_classes = [AdminOnly]
    pagination_class = DateJoinedCursorPagination
    filterset_class = filtersets.UserFilter
    ordering_fields = ["date_joined"]
    service_object_name = "user"

    def get_queryset(self):
        from suppliers.models import User

        return User.objects.all()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        is_active = data.pop("is_active", True)
        data.setdefault("password", None)  # no password: an unusable one (set it later)
        # No language given: the one the client's Accept-Language asks for (DESIGN 11).
        data.setdefault(
            "language", services.language_from_header(self.request.headers.get("Accept-Language"))
        )
        user = services.user_create(actor=self.request.user, **data)
        if not is_active:
            user = services.user_update(actor=self.request.user, user=user, is_active=False)
        serializer.instance = user

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            actor=self.request.user, user=serializer.instance, **serializer.validated_data
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Deactivates the account (it is kept for the audit trail)."""
        services.user_deactivate(actor=request.user, user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET", "PATCH"],
        request=api_serializers.MySettingsSerializer,
        responses=api_serializers.MySettingsSerializer,
    )
    @action(
        detail=False,
        methods=["get", "patch"],
        permission_classes=[IsAuthenticated],
        serializer_class=api_serializers.MySettingsSerializer,
        pagination_class=None,
        filterset_class=None,
    )
    def me(self, request):
        """The caller's own account, whatever its role; PATCH changes its own `language`
        and `time_zone` (DESIGN section 11), as the "my settings" page does."""
        user = request.user
        if request.method == "PATCH":
            payload = api_serializers.MySettingsSerializer(user, data=request.data, partial=True)
            payload.is_valid(raise_exception=True)
            user = services.user_update_settings(
                actor=user,
                user=user,
                language=payload.validated_data.get("language", user.language),
                time_zone=payload.validated_data.get("time_zone", user.time_zone),
            )
        return Response(api_serializers.MySettingsSerializer(user).data)


# --- Tokens ----------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, style={"input_type": "password"})
    otp = StrictCharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=_(
            "The code of the user's second factor (authenticator app or recovery code), "
            "required when the user has one."
        ),
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class AuthTokenView(APIView):
    """POST username and password (and `otp`, the second factor's code, when the user has
    one) for a new API token; DELETE revokes the token the request carries. Tokens are
    suppliers.ApiToken (suppliers.tokens): several per user, each expiring."""

    throttle_scope = "token"

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [AnonRateThrottle(), ScopedRateThrottle()]
        return [UserRateThrottle()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong credentials, or a missing or wrong otp."),
            403: OpenApiResponse(description="Staff who must set up a second factor first."),
            429: OpenApiResponse(description="Locked out or throttled (Retry-After)."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        # django-axes needs the Django request: it counts failures and locks out per
        # user name and address; its middleware turns a lockout into a response.
        user = authenticate(
            request=request._request,
            username=username,
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            security_log.warning("API token refused for %r", username)
            if getattr(request._request, "axes_locked_out", False):
                return Response(
                    {"detail": lockout_detail(request._request), "code": "locked_out"},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(lockout_seconds(request._request))},
                )
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with the provided credentials.")]}
            )
        if mfa.has_device(user):
            try:
                mfa.verify_code(user, serializer.validated_data.get("otp", ""))
            except DjangoValidationError as exc:
                security_log.warning("API token refused for %r: second factor", username)
                raise serializers.ValidationError({"otp": exc.messages}) from None
        elif mfa.must_enrol(user):
            security_log.warning("API token refused for %r: no second factor yet", username)
            return Response(
                {"detail": str(mfa.ENROL_FIRST), "code": "second_factor_enrolment_required"},
                status=status.HTTP_403_FORBIDDEN,
            )
        token, key = tokens.issue_token(user)
        security_log.info("API token issued to %s (%s…)", user.username, token.prefix)
        return Response({"token": key, "expires_at": token.expires_at})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Revokes the token the request is made with. A request signed in by its
        session carries none: it revokes all of the caller's tokens."""
        if request.auth is not None:
            tokens.revoke_token(request.auth)
            security_log.info("API token revoked by %s", request.user.username)
        else:
            count = tokens.revoke_user_tokens(request.user)
            security_log.info("API tokens revoked by %s (%d)", request.user.username, count)
        return Response(status=status.HTTP_204_NO_CONTENT)
