"""Django admin for the breaches app. Statuses are read-only here: they change only
through the workflow services, offered as admin actions. Creating an incident goes
through incident_create (reference, liability, timeline); the timeline itself, the
evidence, payments, reminders and the report snapshot are read-only records."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from suppliers.admin import HistoryAdmin, ServiceAdminMixin, changed_fields, copy_saved

from . import services
from .choices import IncidentStatus, PenaltyStatus, PlanStatus
from .models import (
    Evidence,
    Incident,
    IncidentEvent,
    IncidentSequence,
    Payment,
    Penalty,
    PenaltyReview,
    RectificationAction,
    RectificationPlan,
    Reminder,
    ReminderMessage,
    ReportSnapshot,
)


class ReadOnlyInline(admin.TabularInline):
    """A window on related records; they are written by the services only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept as they were written: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def save_inlines_only(model_admin, request, form, formsets, change) -> None:
    for formset in formsets:
        model_admin.save_formset(request, form, formset, change=change)


# --- Incidents -------------------------------------------------------------------------


class EventInline(ReadOnlyInline):
    model = IncidentEvent
    fields = ["created_at", "kind", "actor", "from_status", "to_status", "message"]
    show_change_link = False


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]


class PenaltyInline(ReadOnlyInline):
    model = Penalty
    fields = ["supplier", "amount", "currency", "paid_amount", "due_on", "status"]


class PlanInline(ReadOnlyInline):
    model = RectificationPlan
    fields = ["supplier", "requested_on", "due_on", "status", "submitted_at", "approved_at"]


LIABILITY_FACTS = ["source_supplier", "occurred_on", "assets"]


@admin.register(Incident)
class IncidentAdmin(HistoryAdmin):
    list_display = [
        "reference",
        "title",
        "status",
        "severity",
        "channel",
        "source_supplier",
        "responsible_supplier",
        "nda",
        "no_nda_coverage",
        "occurred_on",
        "owner",
    ]
    list_filter = ["status", "severity", "channel", "no_nda_coverage", "liability_overridden"]
    search_fields = [
        "reference",
        "title",
        "source_supplier__name",
        "responsible_supplier__name",
        "nda__reference",
        "leak_fingerprint",
    ]
    list_select_related = ["source_supplier", "responsible_supplier", "nda", "owner"]
    autocomplete_fields = ["source_supplier", "assets", "owner"]
    date_hierarchy = "occurred_on"
    fields = [
        "reference",
        "title",
        "description",
        "status",
        "severity",
        "channel",
        "occurred_on",
        "discovered_on",
        "source_supplier",
        "assets",
        "leak_fingerprint",
        "responsible_supplier",
        "nda",
        "no_nda_coverage",
        "liability_overridden",
        "liability_override_reason",
        "owner",
        "confirmed_at",
        "created_at",
        "updated_at",
    ]
    inlines = [EventInline, EvidenceInline, PenaltyInline, PlanInline]
    actions = [
        "start_investigation",
        "confirm",
        "dismiss",
        "resolve",
        "close",
    ]

    def get_readonly_fields(self, request, obj=None):
        # Liability is decided by the rule (or the override service), statuses by the
        # workflow; once confirmed, the facts behind the penalty are frozen too.
        readonly = list(services.INCIDENT_READ_ONLY_FIELDS)
        if obj is not None and obj.status not in (
            IncidentStatus.REPORTED,
            IncidentStatus.INVESTIGATING,
        ):
            readonly += LIABILITY_FACTS
        return readonly

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = changed_fields(form, services.INCIDENT_EDITABLE)
            assets = list(data["assets"]) if "assets" in form.changed_data else None
            saved = services.incident_update(
                actor=request.user, incident=obj, assets=assets, **fields
            )
        else:
            saved = services.incident_create(
                actor=request.user,
                title=data["title"],
                description=data.get("description", ""),
                occurred_on=data["occurred_on"],
                discovered_on=data["discovered_on"],
                channel=data["channel"],
                severity=data["severity"],
                source_supplier=data.get("source_supplier"),
                assets=list(data.get("assets") or []),
                owner=data.get("owner"),
                leak_fingerprint=data.get("leak_fingerprint", ""),
            )
        copy_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The services already set the assets (and wrote the timeline event): no
        # form.save_m2m(). The inlines are read-only; saving them is a no-op.
        save_inlines_only(self, request, form, formsets, change)

    def _transition(self, request, queryset, to: str, done: str) -> None:
        self.run_service_action(
            request,
            queryset,
            lambda incident: services.incident_transition(
                actor=request.user, incident=incident, to=to, note=gettext("From the admin.")
            ),
            done,
        )

    @admin.action(description=_("Start investigating selected incidents"))
    def start_investigation(self, request, queryset):
        self._transition(
            request, queryset, IncidentStatus.INVESTIGATING, IncidentStatus.INVESTIGATING.label
        )

    @admin.action(description=_("Confirm selected incidents (proposes penalty, requests plan)"))
    def confirm(self, request, queryset):
        self._transition(
            request, queryset, IncidentStatus.CONFIRMED, IncidentStatus.CONFIRMED.label
        )

    @admin.action(description=_("Dismiss selected incidents"))
    def dismiss(self, request, queryset):
        self._transition(
            request, queryset, IncidentStatus.DISMISSED, IncidentStatus.DISMISSED.label
        )

    @admin.action(description=_("Resolve selected incidents"))
    def resolve(self, request, queryset):
        self._transition(request, queryset, IncidentStatus.RESOLVED, IncidentStatus.RESOLVED.label)

    @admin.action(description=_("Close selected incidents"))
    def close(self, request, queryset):
        self._transition(request, queryset, IncidentStatus.CLOSED, IncidentStatus.CLOSED.label)

    def has_delete_permission(self, request, obj=None):
        # Incidents and their timelines are kept for good.
        return False


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "incident", "kind", "actor", "from_status", "to_status"]
    list_filter = ["kind"]
    search_fields = ["incident__reference", "message", "actor__username"]
    list_select_related = ["incident", "actor"]
    date_hierarchy = "created_at"


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "incident", "content_type", "size", "uploaded_by"]
    list_filter = ["content_type"]
    search_fields = ["original_name", "sha256", "incident__reference"]
    list_select_related = ["incident", "uploaded_by"]
    date_hierarchy = "uploaded_at"


@admin.register(IncidentSequence)
class IncidentSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


# --- Penalties -------------------------------------------------------------------------


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["amount", "paid_on", "reference", "recorded_by", "created_at"]
    show_change_link = False


class PenaltyAdminForm(forms.ModelForm):
    class Meta:
        model = Penalty
        fields = ["amount", "currency", "due_on"]

    def clean_currency(self):
        # Normalised before the ISO 4217 check, as penalty_update does.
        return (self.cleaned_data.get("currency") or "").strip().upper()


@admin.register(Penalty)
class PenaltyAdmin(HistoryAdmin):
    form = PenaltyAdminForm
    list_display = [
        "incident",
        "supplier",
        "amount",
        "currency",
        "paid_amount",
        "outstanding",
        "status",
        "proposed_on",
        "due_on",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["incident__reference", "supplier__name"]
    list_select_related = ["incident", "supplier"]
    date_hierarchy = "proposed_on"
    fields = [
        "incident",
        "supplier",
        "amount",
        "currency",
        "paid_amount",
        "outstanding",
        "proposed_on",
        "due_on",
        "status",
        "issued_by",
        "issued_at",
    ]
    readonly_fields = [
        "incident",
        "supplier",
        "paid_amount",
        "outstanding",
        "proposed_on",
        "status",
        "issued_by",
        "issued_at",
    ]
    inlines = [PaymentInline]
    actions = ["issue", "waive"]

    def has_add_permission(self, request):
        # Confirming an incident proposes its penalty (or penalty_create via the API).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = changed_fields(form, {"amount", "currency", "due_on"})
        saved = services.penalty_update(actor=request.user, penalty=obj, **fields)
        if isinstance(saved, services.ReviewRequested):
            self.message_user(
                request,
                gettext(
                    "The reduction needs a second staff user (four eyes), who has been told; "
                    "nothing changes until then."
                ),
                messages.WARNING,
            )
            saved = Penalty.objects.get(pk=obj.pk)
        copy_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        save_inlines_only(self, request, form, formsets, change)

    def _transition(self, request, queryset, to: str, done: str) -> None:
        self.run_service_action(
            request,
            queryset,
            lambda p: services.penalty_transition(
                actor=request.user, penalty=p, to=to, note=gettext("From the admin.")
            ),
            done,
        )

    @admin.action(description=_("Issue selected penalties"))
    def issue(self, request, queryset):
        self._transition(request, queryset, PenaltyStatus.ISSUED, PenaltyStatus.ISSUED.label)

    @admin.action(description=_("Waive selected penalties (four eyes: not the issuer)"))
    def waive(self, request, queryset):
        self._transition(request, queryset, PenaltyStatus.WAIVED, PenaltyStatus.WAIVED.label)


@admin.register(Payment)
class PaymentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["penalty", "amount", "paid_on", "reference", "recorded_by", "created_at"]
    search_fields = ["reference", "penalty__incident__reference", "penalty__supplier__name"]
    list_select_related = ["penalty", "penalty__incident", "recorded_by"]
    date_hierarchy = "paid_on"
    fields = ["penalty", "amount", "paid_on", "reference"]
    raw_id_fields = ["penalty"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Only adding reaches here; payments never change once recorded.
        saved = services.penalty_record_payment(
            actor=request.user,
            penalty=form.cleaned_data["penalty"],
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data.get("reference", ""),
        )
        copy_saved(obj, saved)


# --- Rectification ---------------------------------------------------------------------


class ActionInline(ReadOnlyInline):
    model = RectificationAction
    fields = ["description", "owner", "due_on", "status", "completed_on", "evidence_note"]


@admin.register(RectificationPlan)
class RectificationPlanAdmin(HistoryAdmin):
    list_display = ["incident", "supplier", "requested_on", "due_on", "status", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["incident__reference", "supplier__name", "summary"]
    list_select_related = ["incident", "supplier"]
    date_hierarchy = "due_on"
    fields = [
        "incident",
        "supplier",
        "requested_on",
        "due_on",
        "summary",
        "status",
        "changes_requested_reason",
        "submitted_at",
        "approved_at",
        "completed_at",
        "verified_at",
    ]
    readonly_fields = [
        "incident",
        "supplier",
        "requested_on",
        "status",
        "changes_requested_reason",
        "submitted_at",
        "approved_at",
        "completed_at",
        "verified_at",
    ]
    inlines = [ActionInline]
    actions = ["approve", "complete", "verify"]

    def has_add_permission(self, request):
        # Confirming an incident requests the plan.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = changed_fields(form, {"summary", "due_on"})
        saved = services.plan_update(actor=request.user, plan=obj, **fields)
        copy_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        save_inlines_only(self, request, form, formsets, change)

    def _transition(self, request, queryset, to: str, done: str) -> None:
        self.run_service_action(
            request,
            queryset,
            lambda plan: services.plan_transition(
                actor=request.user, plan=plan, to=to, note=gettext("From the admin.")
            ),
            done,
        )

    @admin.action(description=_("Approve selected plans"))
    def approve(self, request, queryset):
        self._transition(request, queryset, PlanStatus.APPROVED, PlanStatus.APPROVED.label)

    @admin.action(description=_("Mark selected plans completed (all actions done)"))
    def complete(self, request, queryset):
        self._transition(request, queryset, PlanStatus.COMPLETED, PlanStatus.COMPLETED.label)

    @admin.action(description=_("Verify selected plans"))
    def verify(self, request, queryset):
        self._transition(request, queryset, PlanStatus.VERIFIED, PlanStatus.VERIFIED.label)


ACTION_FIELDS = {"description", "owner", "due_on", "evidence_note"}


@admin.register(RectificationAction)
class RectificationActionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["description_short", "plan", "owner", "due_on", "status", "completed_on"]
    list_filter = ["status"]
    search_fields = ["description", "owner", "plan__incident__reference", "plan__supplier__name"]
    list_select_related = ["plan", "plan__incident", "plan__supplier"]
    date_hierarchy = "due_on"
    raw_id_fields = ["plan"]
    fields = ["plan", "description", "owner", "due_on", "status", "completed_on", "evidence_note"]
    readonly_fields = ["status", "completed_on"]

    @admin.display(description=_("description"))
    def description_short(self, obj: RectificationAction) -> str:
        return str(obj)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "plan"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            fields = changed_fields(form, ACTION_FIELDS)
            saved = services.action_update(actor=request.user, action=obj, **fields)
        else:
            data = form.cleaned_data
            saved = services.action_create(
                actor=request.user,
                plan=data["plan"],
                description=data["description"],
                due_on=data["due_on"],
                owner=data.get("owner", ""),
            )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):
        services.action_delete(actor=request.user, action=obj)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.plan.status in (
            PlanStatus.REQUESTED,
            PlanStatus.CHANGES_REQUESTED,
        )


@admin.register(PenaltyReview)
class PenaltyReviewAdmin(ReadOnlyAdmin):
    """The four-eyes log: decided on the penalty's page or through the API."""

    list_display = ["requested_at", "penalty", "kind", "amount", "requested_by", "state"]
    list_filter = ["state", "kind"]
    search_fields = ["penalty__incident__reference", "penalty__supplier__name"]
    list_select_related = ["penalty__incident", "requested_by"]


@admin.register(ReminderMessage)
class ReminderMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "recipient", "as_of", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["recipient"]
    date_hierarchy = "created_at"


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "target_type",
        "plan",
        "action",
        "penalty",
        "kind",
        "level",
        "schedule_point",
        "days_overdue",
        "state",
        "attempts",
        "sent_at",
    ]
    list_filter = ["state", "kind", "level", "target_type"]
    search_fields = ["plan__incident__reference", "plan__supplier__name"]
    list_select_related = ["plan", "plan__incident", "plan__supplier", "action", "penalty"]
    date_hierarchy = "created_at"


# --- Report snapshot -------------------------------------------------------------------


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(ReadOnlyAdmin):
    """How fresh the staff figures are (beat refreshes them; `manage.py refresh_reports`)."""

    list_display = ["name", "computed_at"]
