"""The caller's own API tokens: GET /api/v1/auth/tokens/ lists them (newest first, a
plain list: a user has a few at most), GET or DELETE /api/v1/auth/tokens/{id}/ reads or
revokes one. Another user's token is a 404, as if it did not exist."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers

from config.rest import security_log
from suppliers import tokens
from suppliers.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    expired = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "created_at", "expires_at", "last_used_at", "expired", "current"]
        read_only_fields = fields

    def get_expired(self, token: ApiToken) -> bool:
        return token.is_expired

    def get_current(self, token: ApiToken) -> bool:
        """Whether this is the token the request is made with."""
        auth = self.context["request"].auth
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class OwnTokens:
    serializer_class = ApiTokenSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return tokens.tokens_of(self.request.user)


class TokenListView(OwnTokens, generics.ListAPIView):
    """The caller's API tokens: prefix (the first 8 characters), created, expires, last
    used (to within 5 minutes). Keys are never shown again after they are issued."""


@extend_schema(methods=["DELETE"], responses={204: None, 404: OpenApiResponse()})
class TokenDetailView(OwnTokens, generics.RetrieveDestroyAPIView):
    """One of the caller's tokens; DELETE revokes it."""

    def perform_destroy(self, instance):
        tokens.revoke_token(instance)
        security_log.info(
            "API token revoked by %s (%s…)", self.request.user.username, instance.prefix
        )
