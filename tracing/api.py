"""The leak-tracing API of DESIGN section 10: master files on assets, the recipients'
copies (and their download log) on disclosures, and traces. Every write goes through
tracing.services; every read through tracing.selectors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from breaches.models import Incident
from breaches.selectors import incidents_visible_to
from config.pagination import NewestFirstCursorPagination
from config.rest import ModelSerializer, ScopedPrimaryKeyRelatedField
from config.security import client_address
from suppliers.models import ConfidentialAsset, Disclosure
from suppliers.selectors import assets_visible_to, disclosures_visible_to

from . import services
from .choices import Verdict
from .models import CopyDownload, DisclosureCopy, MasterFile, Trace
from .selectors import (
    copies_visible_to,
    downloads_visible_to,
    masters_visible_to,
    may_see_masters_and_traces,
    traces_visible_to,
)


class MasterFileSerializer(ModelSerializer):
    class Meta:
        model = MasterFile
        fields = [
            "id", "asset", "filename", "content_type", "size", "sha256",
            "width", "height", "pages", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class CopySerializer(ModelSerializer):
    file = serializers.IntegerField(source="master_id", read_only=True)
    filename = serializers.CharField(source="master.filename", read_only=True)

    class Meta:
        model = DisclosureCopy
        fields = ["id", "file", "filename", "status", "error", "sha256", "created_at"]
        read_only_fields = fields


class DownloadSerializer(ModelSerializer):
    user = serializers.CharField(source="user.username", default="", read_only=True)

    class Meta:
        model = CopyDownload
        fields = ["id", "copy", "user", "downloaded_at", "ip"]
        read_only_fields = fields


class MatchSerializer(serializers.Serializer):
    disclosure = serializers.IntegerField()
    supplier = serializers.IntegerField()
    asset = serializers.IntegerField()
    confidence = serializers.FloatField()
    bit_errors = serializers.IntegerField()
    bits = serializers.IntegerField()


class TraceSerializer(ModelSerializer):
    matches = MatchSerializer(many=True, read_only=True)
    verdict = serializers.ChoiceField(
        choices=Verdict.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("match, no_match or inconclusive once done; empty while pending or failed."),
    )

    class Meta:
        model = Trace
        fields = [
            "id", "status", "verdict", "matches", "incident", "asset", "filename",
            "content_type", "size", "sha256", "detail", "error", "created_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)


class TraceCreateSerializer(UploadSerializer):
    incident = ScopedPrimaryKeyRelatedField(
        selector=incidents_visible_to, queryset=Incident.objects.all(), required=False,
        allow_null=True,
    )  # fmt: skip
    asset = ScopedPrimaryKeyRelatedField(
        selector=assets_visible_to, queryset=ConfidentialAsset.objects.all(), required=False,
        allow_null=True,
    )  # fmt: skip


def _staff_only(request) -> None:
    """Traces are the buyer's: a supplier user may not list them (403 on the list, whose
    existence is public; a trace itself is a 404 for it)."""
    if not may_see_masters_and_traces(request.user):
        raise exceptions.PermissionDenied(
            _("Master files and traces are the buyer's staff's only.")
        )


class AssetFilesView(APIView):
    """`GET` the master files of an asset (staff); `POST` one (multipart `file`,
    compliance staff): each disclosure of the asset then gets its own marked copy."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def _asset(self, request, pk: int) -> ConfidentialAsset:
        # Masters are outside a supplier user's scope, so their list is a 404 like a
        # master's download (DESIGN 7): it does not learn that the asset has masters.
        if not may_see_masters_and_traces(request.user):
            raise Http404
        asset = assets_visible_to(request.user, ConfidentialAsset.objects.all()).filter(pk=pk)
        if not asset:
            raise Http404
        return asset[0]

    @extend_schema(responses=MasterFileSerializer(many=True))
    def get(self, request, pk: int):
        asset = self._asset(request, pk)
        rows = masters_visible_to(request.user).filter(asset=asset)
        return Response(MasterFileSerializer(rows, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses=MasterFileSerializer
    )
    def post(self, request, pk: int):
        asset = self._asset(request, pk)
        payload = UploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        master = services.master_file_add(
            actor=request.user, asset=asset, upload=payload.validated_data["file"]
        )
        return Response(MasterFileSerializer(master).data, status=status.HTTP_201_CREATED)


class MasterFileDownloadView(APIView):
    """`GET` a master file as an attachment (staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, file_id: int):
        master = masters_visible_to(request.user).filter(asset=pk, pk=file_id).first()
        if master is None:
            raise Http404
        return services.master_file_response(master)


def _disclosure(request, pk: int) -> Disclosure:
    disclosure = disclosures_visible_to(request.user, Disclosure.objects.all()).filter(pk=pk)
    if not disclosure:
        raise Http404
    return disclosure[0]


class DisclosureCopiesView(APIView):
    """`GET` the recipient's copies of a disclosure: those the caller may see (a supplier
    user, only on disclosures to its own supplier)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CopySerializer(many=True))
    def get(self, request, pk: int):
        disclosure = _disclosure(request, pk)
        rows = copies_visible_to(request.user).filter(disclosure=disclosure)
        return Response(CopySerializer(rows.select_related("master"), many=True).data)


class CopyDownloadView(APIView):
    """`GET` a ready copy as an attachment; the download is recorded (user, time, IP)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, copy_id: int):
        disclosure = _disclosure(request, pk)
        copy = (
            copies_visible_to(request.user)
            .filter(disclosure=disclosure, pk=copy_id)
            .select_related("master")
            .first()
        )
        if copy is None:
            raise Http404
        try:
            return services.copy_download(actor=request.user, copy=copy, ip=client_address(request))
        except DisclosureCopy.DoesNotExist as exc:
            raise Http404 from exc
        except FileNotFoundError as exc:
            raise Http404 from exc


class DisclosureDownloadsView(APIView):
    """`GET` the download log of a disclosure's copies (a supplier user: its own)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=DownloadSerializer(many=True))
    def get(self, request, pk: int):
        disclosure = _disclosure(request, pk)
        rows = downloads_visible_to(request.user).filter(copy__disclosure=disclosure)
        return Response(DownloadSerializer(rows.select_related("user")[:500], many=True).data)


class TraceListView(APIView):
    """`POST` a leaked file to trace (multipart `file`, optional `incident` and `asset`;
    compliance staff): 201 with the pending trace. `GET` lists the traces (staff)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="traces_list",
        responses=inline_serializer(
            name="PaginatedTraceList",
            fields={
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": TraceSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        _staff_only(request)
        rows = traces_visible_to(request.user)
        incident = request.query_params.get("incident", "")
        if incident:
            if not incident.isascii() or not incident.isdigit():
                raise exceptions.ValidationError({"incident": [_("Give an incident id.")]})
            rows = rows.filter(incident=int(incident))
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(TraceSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": TraceCreateSerializer}, responses=TraceSerializer
    )
    def post(self, request):
        if not request.user.can_write:
            raise PermissionDenied(_("Only compliance staff may trace a leaked copy."))
        payload = TraceCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        trace = services.trace_create(
            actor=request.user,
            upload=payload.validated_data["file"],
            incident=payload.validated_data.get("incident"),
            asset=payload.validated_data.get("asset"),
        )
        return Response(TraceSerializer(trace).data, status=status.HTTP_201_CREATED)


class TraceDetailView(APIView):
    """`GET` a trace: its status and, when done, the verdict and matches, best first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TraceSerializer)
    def get(self, request, pk: int):
        trace = traces_visible_to(request.user).filter(pk=pk).first()
        if trace is None:
            raise Http404
        return Response(TraceSerializer(trace).data)
