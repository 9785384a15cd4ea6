"""Serializers of the breaches app. `status` is read-only everywhere: it changes only
through the transition endpoints, which call the services."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from django.db import connection
from django.db.models import CharField, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from breaches.choices import (
    ActionStatus,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
)
from breaches.models import (
    Evidence,
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    RectificationAction,
    RectificationPlan,
    Reminder,
)
from breaches.selectors import (
    action_is_overdue,
    incidents_visible_to,
    plan_is_overdue,
    plans_visible_to,
)
from breaches.services import INCIDENT_READ_ONLY_FIELDS
from suppliers.api.common import MoneyField, ScopedPrimaryKeyRelatedField
from suppliers.api.serializers import clean_currency, supplier_field
from suppliers.choices import WRITER_ROLES
from suppliers.models import NDA, ConfidentialAsset, Supplier, User
from suppliers.selectors import (
    assets_visible_to,
    may_see_nda,
    ndas_visible_to,
    scope_for,
)


def _staff_owners(user, qs):
    return qs.filter(role__in=sorted(WRITER_ROLES), is_active=True)


def _iso_datetime(value, zone=None) -> str:
    """What DRF's DateTimeField gives: ISO 8601 in the current time zone, UTC as Z.
    A page passes the zone it looked up once (`timezone.localtime` looks it up per call)."""
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class IncidentSerializer(serializers.ModelSerializer):
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
                {"discovered_on": ["An incident cannot be discovered before it occurred."]}
            )
        return attrs

    def to_representation(self, instance):
        data = self._read(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # A sub-vendor's user does not see its parent's agreement.
        if instance.nda_id is not None and not may_see_nda(user, instance.nda.supplier_id):
            data["nda"] = None
            data["nda_reference"] = None
        return data

    def _read(self, instance: Incident) -> dict:
        """The dict DRF would build field by field (tests/test_perf_serializers.py holds
        them equal), built directly: on a page of 50 incidents the per-field machinery
        was most of the request's CPU. Dates and times go through the same DRF fields."""
        on = self.fields["occurred_on"].to_representation
        at = _iso_datetime
        source, responsible = instance.source_supplier, instance.responsible_supplier
        nda, owner = instance.nda, instance.owner
        # The prefetched list itself: `.all()` would clone a queryset per incident.
        assets = getattr(instance, "_prefetched_objects_cache", {}).get("assets")
        if assets is None:
            assets = instance.assets.all()
        return {
            "id": instance.pk,
            "reference": instance.reference,
            "title": instance.title,
            "description": instance.description,
            "assets": [asset.pk for asset in assets],
            "occurred_on": on(instance.occurred_on),
            "discovered_on": on(instance.discovered_on),
            "channel": instance.channel,
            "severity": instance.severity,
            "status": instance.status,
            "source_supplier": instance.source_supplier_id,
            "source_supplier_name": source.name if source is not None else None,
            "responsible_supplier": instance.responsible_supplier_id,
            "responsible_supplier_name": responsible.name if responsible is not None else None,
            "nda": instance.nda_id,
            "nda_reference": nda.reference if nda is not None else None,
            "no_nda_coverage": instance.no_nda_coverage,
            "liability_overridden": instance.liability_overridden,
            "liability_override_reason": instance.liability_override_reason,
            "leak_fingerprint": instance.leak_fingerprint,
            "owner": instance.owner_id,
            "owner_username": owner.username if owner is not None else None,
            "confirmed_at": at(instance.confirmed_at) if instance.confirmed_at else None,
            "created_at": at(instance.created_at),
            "updated_at": at(instance.updated_at),
        }


# The columns a page of incidents is read with (plain rows, no model instances).
INCIDENT_LIST_COLUMNS = (
    "id",
    "reference",
    "title",
    "description",
    "occurred_on",
    "discovered_on",
    "channel",
    "severity",
    "status",
    "source_supplier_id",
    "responsible_supplier_id",
    "nda_id",
    "no_nda_coverage",
    "liability_overridden",
    "liability_override_reason",
    "leak_fingerprint",
    "owner_id",
    "confirmed_at",
    "created_at",
    "updated_at",
)


def _column(model, name: str) -> str:
    """`"table"."column"` of a model field, quoted for this database."""
    qn = connection.ops.quote_name
    return f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(name).column)}"


def _looked_up(model, column: str, key: str) -> RawSQL:
    """One value of the row the incident's `key` points at, as a scalar subquery rather
    than a join; written out once (an ORM Subquery is compiled again on every request)."""
    table = connection.ops.quote_name(model._meta.db_table)
    return RawSQL(  # noqa: S611 (no input: table and column names from the models)
        f"SELECT {_column(model, column)} FROM {table} "  # noqa: S608 (names are ours)
        f"WHERE {_column(model, model._meta.pk.name)} = {_column(Incident, key)}",
        (),
        output_field=model._meta.get_field(column),
    )


def incident_list_values(queryset):
    """`queryset.values()` of INCIDENT_LIST_COLUMNS for incident_list_rows. On PostgreSQL
    each row also carries its asset ids (newest first, as the viewset prefetches them)
    as an array read in the same statement; elsewhere incident_list_rows reads them with
    a second query."""
    # Names by scalar subqueries, not joins: PostgreSQL plans a five-table join in about
    # 0.8 ms (the join order search), the same page with subqueries in 0.1 ms, and a
    # page with a cursor position or a filter is planned on every request.
    names = {
        "source_supplier_name": _looked_up(Supplier, "name", "source_supplier_id"),
        "responsible_supplier_name": _looked_up(Supplier, "name", "responsible_supplier_id"),
        "nda_reference": _looked_up(NDA, "reference", "nda_id"),
        "nda_supplier_id": _looked_up(NDA, "supplier_id", "nda_id"),
        "owner_username": _looked_up(User, "username", "owner_id"),
    }
    if connection.vendor != "postgresql":
        return queryset.values(*INCIDENT_LIST_COLUMNS, **names)
    from django.contrib.postgres.expressions import ArraySubquery

    links = (
        Incident.assets.through.objects.filter(incident_id=OuterRef("id"))
        .order_by("-confidentialasset_id")
        .values("confidentialasset_id")
    )
    # Times as UTC text (to_char): reading them as datetimes and formatting them back
    # was a fifth of the page's CPU. incident_list_rows and IncidentCursorPagination
    # read the `<field>_utc` columns.
    columns = [c for c in INCIDENT_LIST_COLUMNS if c not in TIMESTAMP_COLUMNS]
    times = {f"{name}_utc": _utc_text(name) for name in TIMESTAMP_COLUMNS}
    return queryset.values(*columns, **names, **times, asset_ids=ArraySubquery(links))


TIMESTAMP_COLUMNS = ("confirmed_at", "created_at", "updated_at")


def _utc_text(name: str) -> RawSQL:
    """`2026-11-24T09:30:00.123456`: the column in UTC, microseconds always written."""
    return RawSQL(  # noqa: S611 (no input: a column name from the model)
        f"to_char({_column(Incident, name)} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
        (),
        output_field=CharField(),
    )


def utc_text_position(text: str) -> str:
    """A cursor position from a `<field>_utc` text, as Django parses it back."""
    return text + "+00:00"


def _iso_from_utc_text(text: str, zone) -> str:
    """What DRF's DateTimeField gives for that instant (see _iso_datetime)."""
    if zone is UTC or getattr(zone, "key", None) == "UTC":
        return (text[:-7] if text.endswith(".000000") else text) + "Z"
    return _iso_datetime(datetime.fromisoformat(utc_text_position(text)), zone)


_VALUES_BASE: dict[str, QuerySet] = {}


def incident_values() -> QuerySet:
    """incident_list_values over every incident, built once per process and cloned per
    request (a clone costs 0.01 ms; building the values() query cost 0.34 ms, more than
    compiling it). Scope and filters are applied to the clone."""
    base = _VALUES_BASE.get(connection.vendor)
    if base is None:
        base = _VALUES_BASE[connection.vendor] = incident_list_values(Incident.objects.all())
    return base.all()


def incident_list_rows(rows: list[dict], user) -> list[dict]:
    """A page of incidents read by incident_list_values, shaped exactly as
    IncidentSerializer shapes an incident (tests/test_perf_serializers.py holds the two
    equal): on the list, model instances and per-field serializers were most of the CPU."""
    if rows and "asset_ids" in rows[0]:
        assets = {row["id"]: row["asset_ids"] for row in rows}
    else:
        assets = {row["id"]: [] for row in rows}
        links = (
            Incident.assets.through.objects.filter(incident_id__in=list(assets))
            .order_by("-confidentialasset_id")  # newest first, as the viewset prefetches
            .values_list("incident_id", "confidentialasset_id")
        )
        for incident_id, asset_id in links:
            assets[incident_id].append(asset_id)
    zone = timezone.get_current_timezone()
    if rows and "created_at_utc" in rows[0]:
        at, suffix = partial(_iso_from_utc_text, zone=zone), "_utc"
    else:
        at, suffix = partial(_iso_datetime, zone=zone), ""
    confirmed_key, created_key, updated_key = (f"{n}{suffix}" for n in TIMESTAMP_COLUMNS)
    out = []
    for row in rows:
        confirmed_at = row[confirmed_key]
        item = {
            "id": row["id"],
            "reference": row["reference"],
            "title": row["title"],
            "description": row["description"],
            "assets": assets[row["id"]],
            "occurred_on": row["occurred_on"].isoformat(),
            "discovered_on": row["discovered_on"].isoformat(),
            "channel": row["channel"],
            "severity": row["severity"],
            "status": row["status"],
            "source_supplier": row["source_supplier_id"],
            "source_supplier_name": row["source_supplier_name"],
            "responsible_supplier": row["responsible_supplier_id"],
            "responsible_supplier_name": row["responsible_supplier_name"],
            "nda": row["nda_id"],
            "nda_reference": row["nda_reference"],
            "no_nda_coverage": row["no_nda_coverage"],
            "liability_overridden": row["liability_overridden"],
            "liability_override_reason": row["liability_override_reason"],
            "leak_fingerprint": row["leak_fingerprint"],
            "owner": row["owner_id"],
            "owner_username": row["owner_username"],
            "confirmed_at": at(confirmed_at) if confirmed_at else None,
            "created_at": at(row[created_key]),
            "updated_at": at(row[updated_key]),
        }
        # A sub-vendor's user does not see its parent's agreement (as in the serializer).
        if row["nda_id"] is not None and not may_see_nda(user, row["nda_supplier_id"]):
            item["nda"] = None
            item["nda_reference"] = None
        out.append(item)
    return out


class IncidentTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class PenaltyTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PenaltyStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    amount = MoneyField(
        required=False,
        allow_null=True,
        help_text="Only when upholding a disputed penalty at a reduced amount.",
    )


class PlanTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PlanStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class NoteSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000)


class LiabilitySerializer(serializers.Serializer):
    responsible_supplier = supplier_field(allow_null=True)
    nda = ScopedPrimaryKeyRelatedField(
        selector=ndas_visible_to, queryset=NDA.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=5000)


class FingerprintSerializer(serializers.Serializer):
    fingerprint = serializers.RegexField(r"^\s*[0-9a-fA-F]{32,64}\s*$", max_length=80)


class EventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(
        source="actor.username", read_only=True, allow_null=True, default=None
    )

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
            "created_at",
        ]
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    uploaded_by_username = serializers.CharField(
        source="uploaded_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Evidence
        fields = [
            "id",
            "incident",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_by",
            "uploaded_by_username",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_download_url(self, obj: Evidence) -> str:
        return reverse("evidence-download", kwargs={"pk": obj.pk})


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = Payment
        fields = ["id", "penalty", "amount", "paid_on", "reference", "recorded_by", "created_at"]
        read_only_fields = ["penalty", "recorded_by", "created_at"]
        extra_kwargs = {"reference": {"max_length": 100}}


class PenaltySerializer(serializers.ModelSerializer):
    incident = ScopedPrimaryKeyRelatedField(
        selector=incidents_visible_to, queryset=Incident.objects.all()
    )
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    amount = MoneyField()
    paid_amount = MoneyField(read_only=True)
    outstanding = MoneyField(read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

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
            "status",
            "issued_by",
            "issued_at",
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
            "created_at",
            "updated_at",
        ]

    def validate_currency(self, value: str) -> str:
        return clean_currency(value)

    def validate_incident(self, value):
        if self.instance is not None and value.pk != self.instance.incident_id:
            raise serializers.ValidationError("A penalty cannot move to another incident.")
        return value


class PenaltyAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ActionSerializer(serializers.ModelSerializer):
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
            raise serializers.ValidationError("An action cannot move to another plan.")
        return value

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj: RectificationAction) -> bool:
        return action_is_overdue(obj, self.context.get("today") or timezone.localdate())


class PlanActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RectificationAction
        fields = ["id", "description", "owner", "due_on", "status", "completed_on"]
        read_only_fields = fields


class PlanProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()


class PlanSerializer(serializers.ModelSerializer):
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
    evidence_note = serializers.CharField(max_length=5000)
    completed_on = serializers.DateField(required=False, allow_null=True)


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id",
            "target_type",
            "plan",
            "action",
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
        if user is not None and not scope_for(user).everything:
            data["recipients"] = []  # the buyer's internal recipients stay internal
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
    disclosed_on = serializers.DateField(source="disclosure.disclosed_on")
    version = serializers.CharField(source="disclosure.version")
    fingerprint = serializers.CharField(source="disclosure.fingerprint")
    fingerprint_match = serializers.BooleanField()
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
    as_of = serializers.DateField()
    incidents = StatusCountsSerializer()
    penalties = StatusCountsSerializer()
    rectification_plans = StatusCountsSerializer()
    overdue = OverdueCountsSerializer()
    penalty_totals = CurrencyTotalSerializer(many=True)


ZERO = Decimal("0.00")
