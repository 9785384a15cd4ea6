"""Serializers of the breaches app. `status` is read-only everywhere: it changes only
through the transition endpoints, which call the services."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from breaches.choices import (
    ActionStatus,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    Visibility,
)
from breaches.models import (
    Evidence,
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    PenaltyReview,
    RectificationAction,
    RectificationPlan,
    Reminder,
)
from breaches.selectors import (
    action_is_overdue,
    incident_row,
    incidents_visible_to,
    may_see_reminder_recipients,
    penalty_is_overdue,
    plan_is_overdue,
    plans_visible_to,
)
from breaches.services import INCIDENT_READ_ONLY_FIELDS
from config.rest import (
    ModelSerializer,
    MoneyField,
    ScopedPrimaryKeyRelatedField,
    StrictCharField,
    StrictDateField,
)
from suppliers.api.serializers import clean_currency, supplier_field
from suppliers.models import NDA, WRITERS, ConfidentialAsset, User
from suppliers.selectors import (
    assets_visible_to,
    ndas_visible_to,
    person_shown,
)


def _staff_owners(user, qs):
    return qs.filter(WRITERS)


class IncidentSerializer(ModelSerializer):
    assets = ScopedPrimaryKeyRelatedField(
        selector=assets_visible_to,
        queryset=ConfidentialAsset.objects.all(),
        many=True,
        required=False,
    )
    source_supplier = supplier_field(required=False, allow_null=True)
    source_supplier_name = serializers.CharField(
        source="source_supplier.name", read_only=True, allow_null=True, default=None
    )
    responsible_supplier_name = serializers.CharField(
        source="responsible_supplier.name", read_only=True, allow_null=True, default=None
    )
    nda_reference = serializers.CharField(
        source="nda.reference", read_only=True, allow_null=True, default=None
    )
    owner = ScopedPrimaryKeyRelatedField(
        selector=_staff_owners, queryset=User.objects.all(), required=False, allow_null=True
    )
    owner_username = serializers.CharField(
        source="owner.username", read_only=True, allow_null=True, default=None
    )

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
        read_only_fields = list(INCIDENT_READ_ONLY_FIELDS)
        extra_kwargs = {"leak_fingerprint": {"max_length": 64}}

    def validate(self, attrs):
        occurred = attrs.get("occurred_on", getattr(self.instance, "occurred_on", None))
        discovered = attrs.get("discovered_on", getattr(self.instance, "discovered_on", None))
        if occurred and discovered and discovered < occurred:
            raise serializers.ValidationError(
                {"discovered_on": [_("An incident cannot be discovered before it occurred.")]}
            )
        return attrs

    def to_representation(self, instance):
        """The one shape of an incident (breaches.selectors.incident_rows), as the list
        and the detail give it."""
        request = self.context.get("request")
        return incident_row(instance.pk, getattr(request, "user", None))


class IncidentTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


class PenaltyTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PenaltyStatus.choices)
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)
    amount = MoneyField(
        required=False,
        allow_null=True,
        help_text=_("Only when upholding a disputed penalty at a reduced amount."),
    )


class PlanTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PlanStatus.choices)
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


VISIBILITY_HELP = _(
    "internal: the buyer's staff only (the default for staff); shared: also the supplier "
    "users who may see the incident. What a supplier user writes is always shared."
)


class NoteSerializer(serializers.Serializer):
    message = StrictCharField(max_length=5000)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text=VISIBILITY_HELP
    )


class LiabilitySerializer(serializers.Serializer):
    responsible_supplier = supplier_field(allow_null=True)
    nda = ScopedPrimaryKeyRelatedField(
        selector=ndas_visible_to, queryset=NDA.objects.all(), required=False, allow_null=True
    )
    reason = StrictCharField(max_length=5000)


class FingerprintSerializer(serializers.Serializer):
    fingerprint = serializers.RegexField(r"^\s*[0-9a-fA-F]{32,64}\s*$", max_length=80)


@extend_schema_field({"type": "string", "nullable": True})
class PersonField(serializers.Field):
    """A person (actor, uploader) as the requesting user may know them: the buyer's staff
    are named to supplier users by role and organisation (suppliers.selectors)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, person):
        viewer = getattr(self.context.get("request"), "user", None)
        return person_shown(viewer, person) or None


class EventSerializer(ModelSerializer):
    actor_username = PersonField(source="actor")

    class Meta:
        model = IncidentEvent
        fields = [
            "id",
            "incident",
            "kind",
            "actor",
            "actor_username",
            "from_status",
            "to_status",
            "message",
            "penalty",
            "plan",
            "visibility",
            "created_at",
        ]
        read_only_fields = fields


class EvidenceSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()
    uploaded_by_username = PersonField(source="uploaded_by")

    class Meta:
        model = Evidence
        fields = [
            "id",
            "incident",
            "action",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_by",
            "uploaded_by_username",
            "uploaded_at",
            "visibility",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_download_url(self, obj: Evidence) -> str:
        return reverse("evidence-download", kwargs={"pk": obj.pk})


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, max_length=255)
    description = StrictCharField(required=False, allow_blank=True, max_length=500)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text=VISIBILITY_HELP
    )


class PaymentSerializer(ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = Payment
        fields = ["id", "penalty", "amount", "paid_on", "reference", "recorded_by", "created_at"]
        read_only_fields = ["penalty", "recorded_by", "created_at"]
        extra_kwargs = {"reference": {"max_length": 100}}


class PenaltySerializer(ModelSerializer):
    incident = ScopedPrimaryKeyRelatedField(
        selector=incidents_visible_to, queryset=Incident.objects.all()
    )
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    amount = MoneyField()
    paid_amount = MoneyField(read_only=True)
    outstanding = MoneyField(read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text=_("Issued, with an amount outstanding past its due date.")
    )

    class Meta:
        model = Penalty
        fields = [
            "id",
            "incident",
            "incident_reference",
            "supplier",
            "supplier_name",
            "amount",
            "currency",
            "paid_amount",
            "outstanding",
            "proposed_on",
            "due_on",
            "overdue",
            "status",
            "issued_by",
            "issued_at",
            "acknowledged_by",
            "acknowledged_at",
            "payments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "supplier",
            "proposed_on",
            "status",
            "issued_by",
            "issued_at",
            "acknowledged_by",
            "acknowledged_at",
            "created_at",
            "updated_at",
        ]

    def validate_currency(self, value: str) -> str:
        return clean_currency(value)

    def validate_incident(self, value):
        if self.instance is not None and value.pk != self.instance.incident_id:
            raise serializers.ValidationError(_("A penalty cannot move to another incident."))
        return value

    def get_overdue(self, obj: Penalty) -> bool:
        return penalty_is_overdue(obj, self.context.get("today") or timezone.localdate())


class PenaltyReviewSerializer(ModelSerializer):
    """A cut to a penalty waiting for (or decided by) a second staff user."""

    requested_by = PersonField()
    decided_by = PersonField()
    amount = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = PenaltyReview
        fields = [
            "id",
            "penalty",
            "kind",
            "amount",
            "to_status",
            "note",
            "requested_by",
            "requested_at",
            "state",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class ReviewDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


class PenaltyAcknowledgeSerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


class ActionSerializer(ModelSerializer):
    plan = ScopedPrimaryKeyRelatedField(
        selector=plans_visible_to, queryset=RectificationPlan.objects.all()
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RectificationAction
        fields = [
            "id",
            "plan",
            "description",
            "owner",
            "created_on",
            "due_on",
            "status",
            "completed_on",
            "evidence_note",
            "overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "created_on",
            "status",
            "completed_on",
            "created_at",
            "updated_at",
        ]

    def validate_plan(self, value):
        if self.instance is not None and value.pk != self.instance.plan_id:
            raise serializers.ValidationError(_("An action cannot move to another plan."))
        return value

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj: RectificationAction) -> bool:
        return action_is_overdue(obj, self.context.get("today") or timezone.localdate())


class PlanActionSerializer(ModelSerializer):
    class Meta:
        model = RectificationAction
        fields = ["id", "description", "owner", "due_on", "status", "completed_on"]
        read_only_fields = fields


class PlanProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()


class PlanSerializer(ModelSerializer):
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    actions = PlanActionSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RectificationPlan
        fields = [
            "id",
            "incident",
            "incident_reference",
            "supplier",
            "supplier_name",
            "requested_on",
            "due_on",
            "summary",
            "status",
            "changes_requested_reason",
            "submitted_at",
            "approved_at",
            "completed_at",
            "verified_at",
            "actions",
            "progress",
            "overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "incident",
            "supplier",
            "requested_on",
            "status",
            "changes_requested_reason",
            "submitted_at",
            "approved_at",
            "completed_at",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"summary": {"max_length": 20000}}

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj: RectificationPlan) -> bool:
        """Requested or changes requested, past its due date (DESIGN 5)."""
        return plan_is_overdue(obj, timezone.localdate())

    @extend_schema_field(PlanProgressSerializer)
    def get_progress(self, obj: RectificationPlan) -> dict:
        actions = list(obj.actions.all())
        done = sum(1 for a in actions if a.status == ActionStatus.DONE)
        total = len(actions)
        return {"done": done, "total": total, "percent": (100 * done // total) if total else 0}


class ActionCompleteSerializer(serializers.Serializer):
    evidence_note = StrictCharField(max_length=5000)
    completed_on = StrictDateField(required=False, allow_null=True)


class ReminderSerializer(ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id",
            "target_type",
            "plan",
            "action",
            "penalty",
            "kind",
            "level",
            "due_on",
            "schedule_point",
            "days_overdue",
            "recipients",
            "state",
            "attempts",
            "sent_at",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not may_see_reminder_recipients(user):
            data["recipients"] = []
        return data


# --- Reports ---------------------------------------------------------------------------


class ChainLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier = serializers.IntegerField()


class SuspectSerializer(serializers.Serializer):
    disclosure = serializers.IntegerField(source="disclosure.pk")
    asset = serializers.IntegerField(source="disclosure.asset_id")
    asset_code = serializers.CharField(source="disclosure.asset.code")
    recipient = serializers.IntegerField(source="disclosure.supplier_id")
    recipient_name = serializers.CharField(source="disclosure.supplier.name")
    disclosed_on = StrictDateField(source="disclosure.disclosed_on")
    version = serializers.CharField(source="disclosure.version")
    fingerprint = serializers.CharField(source="disclosure.fingerprint")
    fingerprint_match = serializers.BooleanField()
    asset_named = serializers.BooleanField(
        help_text=_(
            "The incident names this disclosure's asset; a fingerprint match of an "
            "asset it does not name is not a suspect."
        )
    )
    prime_suspect = serializers.BooleanField(source="prime")
    chain = ChainLinkSerializer(many=True)
    responsible_supplier = serializers.IntegerField(
        source="liability.responsible_supplier.pk", allow_null=True, default=None
    )
    responsible_supplier_name = serializers.CharField(
        source="liability.responsible_supplier.name", allow_null=True, default=None
    )
    nda = serializers.IntegerField(source="liability.nda.pk", allow_null=True, default=None)
    nda_reference = serializers.CharField(
        source="liability.nda.reference", allow_null=True, default=None
    )


class CoverageGapSerializer(serializers.Serializer):
    supplier = serializers.IntegerField()
    supplier_name = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    tier = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=["no_nda_reach", "flow_down_missing"])
    disclosure = serializers.IntegerField(allow_null=True)
    asset_code = serializers.CharField(allow_null=True)
    parent_nda = serializers.IntegerField(allow_null=True)
    parent_nda_reference = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


class StatusCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class CurrencyTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    paid = serializers.DecimalField(max_digits=20, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=20, decimal_places=2)
    waived = serializers.DecimalField(max_digits=20, decimal_places=2)


class OverdueCountsSerializer(serializers.Serializer):
    plans = serializers.IntegerField()
    actions = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    as_of = StrictDateField()
    incidents = StatusCountsSerializer()
    penalties = StatusCountsSerializer()
    rectification_plans = StatusCountsSerializer()
    overdue = OverdueCountsSerializer()
    penalty_totals = CurrencyTotalSerializer(many=True)


ZERO = Decimal("0.00")
