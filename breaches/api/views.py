"""API views of the breaches app. Querysets are scoped by the selectors; every change,
status or not, goes through breaches.services (actor=request.user)."""

from __future__ import annotations

import re
from datetime import date
from functools import partial

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from breaches import filtersets, report_snapshot, reports, services
from breaches.choices import EventKind
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
from breaches.report_cache import cached_for_scope
from breaches.selectors import (
    actions_visible_to,
    events_visible_to,
    evidence_visible_to,
    incident_list_rows,
    incident_values,
    incidents_visible_to,
    penalties_visible_to,
    plans_visible_to,
    reminders_visible_to,
    utc_text_position,
    visible_incident_row,
)
from config.iteration import batched
from config.pagination import (
    FilterBackend,
    NewestFirstCursorPagination,
    RequestedAtCursorPagination,
    UploadedCursorPagination,
)
from config.rest import (
    ReadOnlyViewSet,
    RolePermission,
    ServiceMixin,
    ServiceViewSet,
    StrictDateField,
)
from suppliers.models import ConfidentialAsset
from suppliers.selectors import (
    coverage_gaps,
    incident_suspects,
    may_see_nda,
    ndas_visible_to,
    scope_for,
    suppliers_visible_to,
)

from . import serializers as api

FINGERPRINT_RE = re.compile(r"[0-9a-fA-F]{32,64}")
CONFLICT = OpenApiResponse(description="Invalid transition or conflicting state.")
FORBIDDEN = OpenApiResponse(description="Your role may not do this.")
BAD_REQUEST = OpenApiResponse(description="A JSON body naming each bad field.")


# --- Permissions, one per resource -----------------------------------------------------


class IncidentPermission(RolePermission):
    """Supplier users may upload evidence and add notes on incidents they can see."""

    supplier_actions = frozenset({"evidence", "notes"})
    staff_only_reads = frozenset({"suspects"})


class PenaltyPermission(RolePermission):
    """Supplier users may dispute (transition, checked by the service) and acknowledge."""

    supplier_actions = frozenset({"transition", "acknowledge"})


class PlanPermission(RolePermission):
    """Supplier users draft (edit the summary) and submit or complete their plans."""

    supplier_actions = frozenset({"transition", "update", "partial_update"})


class ActionPermission(RolePermission):
    """Supplier users create, edit, remove and complete the actions of their plans."""

    supplier_actions = frozenset(
        {"create", "update", "partial_update", "destroy", "complete", "evidence"}
    )


class ReadOnlyPermission(RolePermission):
    """Everyone reads what is in scope; nobody writes here."""


class EvidencePermission(RolePermission):
    """Evidence is read (and downloaded) by whoever may see the incident."""


# --- Incidents -------------------------------------------------------------------------


def _transition_response(serializer_class):
    return {
        200: serializer_class,
        400: BAD_REQUEST,
        403: FORBIDDEN,
        404: OpenApiResponse(description="Not found or outside your scope."),
        409: CONFLICT,
    }


class IncidentCursorPagination(NewestFirstCursorPagination):
    """Newest first; a page of plain rows carries its times as UTC text (see
    incident_list_values), from which the cursor position is taken."""

    def _get_position_from_instance(self, instance, ordering):
        if isinstance(instance, dict):
            text = instance.get(f"{ordering[0].lstrip('-')}_utc")
            if text is not None:
                return utc_text_position(text)
        return super()._get_position_from_instance(instance, ordering)


def _evidence_list_or_upload(view, request, files, add) -> Response:
    """An incident's or an action's evidence endpoint: GET pages through the files the
    caller may see; POST checks the multipart upload and hands it to `add` (the
    service, bound to its incident or action)."""
    if request.method == "GET":
        rows = evidence_visible_to(request.user, files.select_related("uploaded_by__supplier"))
        page = view.paginate_queryset(rows)
        return view.get_paginated_response(
            api.EvidenceSerializer(page, many=True, context={"request": request}).data
        )
    payload = api.EvidenceUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    evidence = add(
        actor=request.user,
        upload=payload.validated_data["file"],
        description=payload.validated_data.get("description", ""),
        visibility=payload.validated_data.get("visibility"),
    )
    return Response(
        api.EvidenceSerializer(evidence, context={"request": request}).data,
        status=status.HTTP_201_CREATED,
    )


class IncidentViewSet(ServiceViewSet):
    """Leaks of confidential material, with their timeline, evidence and suspects."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    serializer_class = api.IncidentSerializer
    pagination_class = IncidentCursorPagination
    permission_classes = [IncidentPermission]
    filterset_class = filtersets.IncidentFilter
    ordering_fields = ["created_at", "occurred_on"]
    create_service = services.incident_create
    update_service = services.incident_update
    service_object_name = "incident"

    def get_queryset(self):
        # Assets newest first by id: the list reads the link table alone in that order
        # (ordering by the assets' created_at joined all 10,000 assets per page).
        qs = Incident.objects.select_related(
            "source_supplier", "responsible_supplier", "nda", "owner"
        ).prefetch_related(Prefetch("assets", queryset=ConfidentialAsset.objects.order_by("-id")))
        return incidents_visible_to(self.request.user, qs)

    def list(self, request, *args, **kwargs):
        """Pages read as plain rows and shaped like IncidentSerializer's output (same
        JSON; one statement on PostgreSQL, two elsewhere), without a model instance or
        field serializer per row. `?format=csv|xlsx` exports the same rows."""
        if self.export_requested(request):
            return self.export(request)
        queryset = self.export_queryset()
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response(incident_list_rows(rows, request.user))

    def export_queryset(self):
        return self.filter_queryset(incidents_visible_to(self.request.user, incident_values()))

    def export_rows(self, queryset):
        user = self.request.user
        for chunk in batched(
            queryset.iterator(chunk_size=self.export_chunk_rows), self.export_chunk_rows
        ):
            yield from incident_list_rows(chunk, user)

    def retrieve(self, request, *args, **kwargs):
        """One incident, read like a page of the list: a plain row in the caller's scope
        (404 outside it), shaped like IncidentSerializer's output."""
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if request.query_params:  # filters apply to a detail too, as DRF's get_object does
            incidents = incidents_visible_to(request.user, incident_values())
            # One row: no ORDER BY to plan.
            row = get_object_or_404(self.filter_queryset(incidents).order_by(), pk=lookup)
        else:
            row = visible_incident_row(request.user, lookup)
            if row is None:  # the 404 DRF's get_object answers, its words included
                get_object_or_404(Incident.objects.none())
        self.check_object_permissions(request, row)
        return Response(incident_list_rows([row], request.user)[0])

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        assets = changes.pop("assets", None)
        serializer.instance = services.incident_update(
            actor=self.request.user, incident=serializer.instance, assets=assets, **changes
        )

    @extend_schema(
        request=api.IncidentTransitionSerializer,
        responses=_transition_response(api.IncidentSerializer),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the incident along its workflow; confirming creates the penalty and plan."""
        incident = self.get_object()
        payload = api.IncidentTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.incident_transition(
            actor=request.user, incident=incident, **payload.validated_data
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=api.LiabilitySerializer, responses=_transition_response(api.IncidentSerializer)
    )
    @action(detail=True, methods=["post"])
    def liability(self, request, pk=None):
        """Staff decide liability by hand (overriding the rule), with a reason."""
        incident = self.get_object()
        payload = api.LiabilitySerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        services.incident_set_liability(
            actor=request.user,
            incident=incident,
            responsible_supplier=payload.validated_data["responsible_supplier"],
            nda=payload.validated_data.get("nda"),
            reason=payload.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=api.FingerprintSerializer, responses=_transition_response(api.IncidentSerializer)
    )
    @action(detail=True, methods=["post"])
    def fingerprint(self, request, pk=None):
        """Report the fingerprint found on a leaked copy; its disclosure becomes prime suspect."""
        incident = self.get_object()
        payload = api.FingerprintSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.incident_report_fingerprint(
            actor=request.user, incident=incident, fingerprint=payload.validated_data["fingerprint"]
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=api.NoteSerializer,
        responses={201: api.EventSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Add a note to the incident's timeline."""
        incident = self.get_object()
        payload = api.NoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.incident_add_note(
            actor=request.user,
            incident=incident,
            message=payload.validated_data["message"],
            visibility=payload.validated_data.get("visibility"),
        )
        return Response(
            api.EventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses=api.EventSerializer(many=True),
        parameters=[
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200, default 50"),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination)
    def events(self, request, pk=None):
        """The incident's append-only timeline, newest first."""
        incident = self.get_object()
        user = request.user
        events = events_visible_to(
            user, IncidentEvent.objects.filter(incident=incident).select_related("actor__supplier")
        )
        page = self.paginate_queryset(events)
        data = api.EventSerializer(page, many=True, context={"request": request}).data
        if incident.nda_id is not None and not may_see_nda(user, incident.nda.supplier_id):
            # Its messages name the parent's agreement, which this user may not see.
            for row in data:
                if row["kind"] in (EventKind.CREATED, EventKind.LIABILITY):
                    row["message"] = ""
        return self.get_paginated_response(data)

    @extend_schema(
        methods=["GET"],
        responses=api.EvidenceSerializer(many=True),
        parameters=[
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200, default 50"),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": api.EvidenceUploadSerializer},
        responses={
            201: api.EvidenceSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            413: OpenApiResponse(description="The file is too large."),
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=UploadedCursorPagination,
    )
    def evidence(self, request, pk=None):
        """List the incident's evidence the caller may see, or upload a file (multipart
        field `file`; staff may set `visibility`, internal by default)."""
        incident = self.get_object()
        return _evidence_list_or_upload(
            self,
            request,
            Evidence.objects.filter(incident=incident),
            partial(services.incident_add_evidence, incident=incident),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "fingerprint", OpenApiTypes.STR, description="Fingerprint found on a leaked copy"
            )
        ],
        responses={200: api.SuspectSerializer(many=True), 403: FORBIDDEN},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def suspects(self, request, pk=None):
        """Recipients of the leaked assets, each with its chain up to the liable party;
        a fingerprint match comes first (staff only)."""
        incident = self.get_object()
        fingerprint = request.query_params.get("fingerprint", "").strip()
        if fingerprint and not FINGERPRINT_RE.fullmatch(fingerprint):
            raise exceptions.ValidationError(
                {"fingerprint": [_("A fingerprint is 32 to 64 hexadecimal characters.")]}
            )
        suspects = incident_suspects(incident, fingerprint=fingerprint)
        return Response(api.SuspectSerializer(suspects, many=True).data)


# --- Penalties -------------------------------------------------------------------------


class PenaltyViewSet(ServiceViewSet):
    """Penalties claimed from the responsible supplier; payments settle them."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    serializer_class = api.PenaltySerializer
    permission_classes = [PenaltyPermission]
    filterset_class = filtersets.PenaltyFilter
    ordering_fields = ["created_at"]  # due_on may be null: not a safe cursor position
    create_service = services.penalty_create
    service_object_name = "penalty"

    def get_queryset(self):
        qs = Penalty.objects.select_related("incident", "supplier").prefetch_related("payments")
        return penalties_visible_to(self.request.user, qs)

    def _answer(self, result) -> Response:
        """The penalty as it now is, or 202 with the review a four-eyes act opened."""
        if isinstance(result, services.ReviewRequested):
            return Response(
                {
                    "detail": _("Recorded: this needs a second staff user, who has been told."),
                    "review": api.PenaltyReviewSerializer(
                        result.review, context={"request": self.request}
                    ).data,
                },
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        responses={
            200: api.PenaltySerializer,
            202: OpenApiResponse(description="A reduction waits for a second staff user."),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            409: CONFLICT,
        }
    )
    def update(self, request, *args, **kwargs):
        """Change the amount (proposed or disputed; a disputed one only down) or the due
        date. A reduction needs a second staff user: 202 and a review for the first."""
        penalty = self.get_object()
        serializer = self.get_serializer(
            penalty, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("incident", None)
        return self._answer(services.penalty_update(actor=request.user, penalty=penalty, **changes))

    @extend_schema(
        request=api.PenaltyTransitionSerializer,
        responses={
            **_transition_response(api.PenaltySerializer),
            202: OpenApiResponse(
                description="A waiver, reduction or issue below the NDA clause waits for a "
                "second staff user."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Issue, dispute (the supplier), uphold (optionally reduced) or waive. A waiver,
        a reduction and an issue below the NDA clause need a second staff user: the
        first gets 202 and a review; the second's same act (or approval) carries it out."""
        penalty = self.get_object()
        payload = api.PenaltyTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._answer(
            services.penalty_transition(
                actor=request.user, penalty=penalty, **payload.validated_data
            )
        )

    @extend_schema(
        request=api.PaymentSerializer,
        responses={201: api.PaymentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        """Record a payment; payments never exceed the amount and reaching it pays the penalty."""
        penalty = self.get_object()
        payload = api.PaymentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        payment = services.penalty_record_payment(
            actor=request.user,
            penalty=penalty,
            amount=payload.validated_data["amount"],
            paid_on=payload.validated_data["paid_on"],
            reference=payload.validated_data.get("reference", ""),
        )
        return Response(api.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=api.PenaltyAcknowledgeSerializer,
        responses={201: api.EventSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The penalised supplier acknowledges an issued penalty."""
        penalty = self.get_object()
        payload = api.PenaltyAcknowledgeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.penalty_acknowledge(
            actor=request.user, penalty=penalty, note=payload.validated_data["note"]
        )
        return Response(
            api.EventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ReviewPermission(RolePermission):
    """Staff read the four-eyes queue and writers decide; supplier users have none."""


class PenaltyReviewViewSet(ReadOnlyViewSet):
    """Cuts to penalties (issue below the NDA clause, reduction, waiver) waiting for a
    second staff user, and their decisions. `?awaiting_me=true`: those the caller may
    decide (another staff user's pending requests)."""

    serializer_class = api.PenaltyReviewSerializer
    permission_classes = [ReviewPermission]
    filterset_class = filtersets.PenaltyReviewFilter
    pagination_class = RequestedAtCursorPagination
    ordering_fields = ["requested_at"]

    def get_queryset(self):
        user = self.request.user
        if not scope_for(user).everything:
            return PenaltyReview.objects.none()
        return PenaltyReview.objects.select_related(
            "requested_by__supplier", "decided_by__supplier"
        )

    @extend_schema(
        request=api.ReviewDecisionSerializer,
        responses={
            200: api.PenaltySerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: OpenApiResponse(description="Not found or outside your scope."),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve (the act is carried out) or reject (with a note). Not the requester."""
        review = self.get_object()
        payload = api.ReviewDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.penalty_review_decide(actor=request.user, review=review, **payload.validated_data)
        review.penalty.refresh_from_db()
        return Response(api.PenaltySerializer(review.penalty, context={"request": request}).data)


# --- Rectification plans and actions ---------------------------------------------------


class PlanViewSet(
    ServiceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Rectification plans: created by confirmation, drafted and submitted by the
    supplier, approved by staff."""

    serializer_class = api.PlanSerializer
    permission_classes = [PlanPermission]
    filterset_class = filtersets.PlanFilter
    ordering_fields = ["created_at", "due_on"]
    service_object_name = "plan"

    def get_queryset(self):
        qs = RectificationPlan.objects.select_related("incident", "supplier").prefetch_related(
            Prefetch("actions", queryset=RectificationAction.objects.order_by("due_on", "id"))
        )
        return plans_visible_to(self.request.user, qs)

    def perform_update(self, serializer):
        serializer.instance = services.plan_update(
            actor=self.request.user, plan=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=api.PlanTransitionSerializer, responses=_transition_response(api.PlanSerializer)
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Submit (the supplier), approve, request changes, complete or verify."""
        plan = self.get_object()
        payload = api.PlanTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.plan_transition(actor=request.user, plan=plan, **payload.validated_data)
        return Response(self.get_serializer(self.get_object()).data)


class ActionViewSet(ServiceViewSet):
    """The measures of a rectification plan."""

    serializer_class = api.ActionSerializer
    permission_classes = [ActionPermission]
    filterset_class = filtersets.ActionFilter
    ordering_fields = ["created_at", "due_on"]
    create_service = services.action_create
    delete_service = services.action_delete
    service_object_name = "action"

    def get_queryset(self):
        qs = RectificationAction.objects.select_related("plan")
        return actions_visible_to(self.request.user, qs)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        changes.pop("plan", None)
        serializer.instance = services.action_update(
            actor=self.request.user, action=serializer.instance, **changes
        )

    @extend_schema(
        request={"multipart/form-data": api.EvidenceUploadSerializer},
        responses={
            200: api.EvidenceSerializer(many=True),
            201: api.EvidenceSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            413: OpenApiResponse(description="The file is too large."),
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=UploadedCursorPagination,
    )
    def evidence(self, request, pk=None):
        """List the files attached to the action that the caller may see, or attach one as
        evidence (multipart field `file`): the plan's supplier or staff, the rules of
        incident evidence."""
        target = self.get_object()
        return _evidence_list_or_upload(
            self,
            request,
            Evidence.objects.filter(action=target),
            partial(services.action_add_evidence, action=target),
        )

    @extend_schema(
        request=api.ActionCompleteSerializer,
        responses=_transition_response(api.ActionSerializer),
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark an action of an approved plan done, with an evidence note."""
        target = self.get_object()
        payload = api.ActionCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.action_complete(
            actor=request.user,
            action=target,
            evidence_note=payload.validated_data["evidence_note"],
            completed_on=payload.validated_data.get("completed_on"),
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=api.NoteSerializer, responses=_transition_response(api.ActionSerializer))
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Staff reopen a done action whose evidence does not hold."""
        target = self.get_object()
        payload = api.NoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.action_reopen(
            actor=request.user, action=target, note=payload.validated_data["message"]
        )
        return Response(self.get_serializer(self.get_object()).data)


# --- Read-only resources ---------------------------------------------------------------


class ReminderViewSet(ReadOnlyViewSet):
    """The log of reminders sent about plans and actions (read-only)."""

    serializer_class = api.ReminderSerializer
    permission_classes = [ReadOnlyPermission]
    pagination_class = NewestFirstCursorPagination
    filterset_class = filtersets.ReminderFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return reminders_visible_to(self.request.user, Reminder.objects.all())


class EvidenceViewSet(ReadOnlyViewSet):
    """Evidence files: staff read them all; a supplier user those of the incidents it
    sees that staff shared or its own supplier's users uploaded (evidence_visible_to)."""

    serializer_class = api.EvidenceSerializer
    permission_classes = [EvidencePermission]
    pagination_class = UploadedCursorPagination
    filter_backends = [FilterBackend]
    filterset_class = filtersets.EvidenceFilter

    def get_queryset(self):
        return evidence_visible_to(
            self.request.user, Evidence.objects.select_related("uploaded_by__supplier")
        )

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not found or outside your scope."),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file as an attachment under a generated name, of type
        application/octet-stream, never sniffed nor rendered (services.evidence_file_response)."""
        evidence = self.get_object()
        try:
            return services.evidence_file_response(evidence)
        except FileNotFoundError:
            raise exceptions.NotFound(_("The stored file is missing.")) from None


# --- Reports ---------------------------------------------------------------------------


def _as_of(request) -> date:
    raw = request.query_params.get("as_of")
    if not raw:
        return timezone.localdate()
    field = StrictDateField()
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise exceptions.ValidationError({"as_of": exc.detail}) from None


AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="The day the report is for (default today)"
)


class CoverageGapsView(APIView):
    """Sub-vendors not bound as they should be (DESIGN 3, NDA coverage). Staff see all;
    a supplier user sees the gaps of its own world."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[AS_OF], responses={200: api.CoverageGapSerializer(many=True)})
    def get(self, request):
        as_of = _as_of(request)
        user = request.user
        scope = scope_for(user)
        gaps = coverage_gaps(
            as_of=as_of, suppliers=None if scope.everything else suppliers_visible_to(user)
        )
        visible_ndas = (
            None if scope.everything else set(ndas_visible_to(user).values_list("pk", flat=True))
        )
        rows = []
        for gap in gaps:
            nda = gap.parent_nda
            if nda is not None and visible_ndas is not None and nda.pk not in visible_ndas:
                nda = None
            rows.append(
                {
                    "supplier": gap.supplier.pk,
                    "supplier_name": gap.supplier.name,
                    "parent": gap.supplier.parent_id,
                    "tier": gap.supplier.tier,
                    "reason": gap.reason,
                    "disclosure": gap.disclosure.pk if gap.disclosure else None,
                    "asset_code": gap.disclosure.asset.code if gap.disclosure else None,
                    "parent_nda": nda.pk if nda else None,
                    "parent_nda_reference": nda.reference if nda else None,
                    "detail": gap.detail
                    if nda is not None or gap.parent_nda is None
                    else (f"{gap.supplier.name} has no NDA of its own although one is required."),
                }
            )
        return Response(api.CoverageGapSerializer(rows, many=True).data)


class SummaryView(APIView):
    """Counts by status, overdue counts and penalty totals per currency, in the caller's
    scope. The figures come from the snapshot beat keeps (report_snapshot), one row per
    scope, when report caching is on; otherwise aggregate queries, reused a minute
    (report_cache)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[AS_OF], responses={200: api.SummarySerializer})
    def get(self, request):
        today = _as_of(request)
        user = request.user
        snapshot = report_snapshot.figures_for(user) if report_snapshot.serves(user) else None
        if snapshot is not None:
            return Response(api.SummarySerializer(snapshot.summary(today)).data)
        return Response(
            cached_for_scope(
                "summary",
                user,
                today,
                lambda: dict(api.SummarySerializer(reports.live_summary(user, today)).data),
            )
        )
