"""What went wrong and what follows: incidents, their timeline and evidence, penalties
and payments, rectification plans and actions, and the reminders that chase them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from suppliers.choices import CURRENCY_CODES
from suppliers.models import MAX_MONEY_AMOUNT, NDA, ConfidentialAsset, Supplier
from suppliers.validators import validate_business_date

from .choices import (
    PLAN_AWAITING_SUPPLIER,
    ActionStatus,
    Channel,
    DeliveryState,
    EventKind,
    IncidentStatus,
    MessageKind,
    PenaltyStatus,
    PlanStatus,
    ReminderKind,
    ReminderTargetType,
    ReviewKind,
    ReviewState,
    Severity,
    Visibility,
    status_word,
)


class IncidentSequence(models.Model):
    """The last incident number handed out in a year (INC-<year>-<number>)."""

    year = models.PositiveSmallIntegerField(unique=True, verbose_name=_("year"))
    last_number = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("incident sequence")
        verbose_name_plural = _("incident sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Incident(models.Model):
    """A leak of confidential material. `source_supplier` is who actually leaked (maybe a
    sub-vendor, maybe unknown); `responsible_supplier` and `nda` are who is liable and
    under which agreement, resolved by the liability rule or decided by staff."""

    reference = models.CharField(
        max_length=32, unique=True, editable=False, verbose_name=_("reference")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    assets = models.ManyToManyField(
        ConfidentialAsset, related_name="incidents", blank=True, verbose_name=_("assets")
    )
    occurred_on = models.DateField(
        validators=[validate_business_date], verbose_name=_("occurred on")
    )
    discovered_on = models.DateField(
        validators=[validate_business_date], verbose_name=_("discovered on")
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    source_supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_as_source",
        verbose_name=_("source supplier"),
    )
    responsible_supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_as_responsible",
        verbose_name=_("responsible supplier"),
    )
    nda = models.ForeignKey(
        NDA,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("NDA"),
    )
    no_nda_coverage = models.BooleanField(
        default=False,
        help_text=_("No NDA reaches the source: staff must decide liability."),
        verbose_name=_("no NDA coverage"),
    )
    liability_overridden = models.BooleanField(
        default=False, verbose_name=_("liability overridden")
    )
    liability_override_reason = models.TextField(
        blank=True, verbose_name=_("liability override reason")
    )
    leak_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Fingerprint found on a leaked copy, if any."),
        verbose_name=_("leak fingerprint"),
    )
    severity = models.CharField(
        max_length=16, choices=Severity.choices, default=Severity.MEDIUM, verbose_name=_("severity")
    )
    status = models.CharField(
        max_length=16,
        choices=IncidentStatus.choices,
        default=IncidentStatus.REPORTED,
        editable=False,
        verbose_name=_("status"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
        verbose_name=_("owner"),
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("confirmed at")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discovered_on__gte=F("occurred_on")),
                name="incident_discovered_after_occurred",
                violation_error_message=_("An incident cannot be discovered before it occurred."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=IncidentStatus.values), name="incident_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="incident_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="incident_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(nda__isnull=True) | Q(responsible_supplier__isnull=False),
                name="incident_nda_needs_responsible",
                violation_error_message=_("An NDA is only recorded with a responsible supplier."),
            ),
            models.CheckConstraint(
                condition=Q(liability_overridden=False) | ~Q(liability_override_reason=""),
                name="incident_override_needs_reason",
                violation_error_message=_("Overriding liability needs a reason."),
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=[
                        IncidentStatus.CONFIRMED,
                        IncidentStatus.RESOLVED,
                        IncidentStatus.CLOSED,
                    ]
                )
                | Q(responsible_supplier__isnull=False),
                name="incident_confirmed_needs_responsible",
                violation_error_message=_("A confirmed incident needs a responsible supplier."),
            ),
        ]
        indexes = [
            # By status, newest first: the ?status= lists and the status column's sort.
            models.Index(
                fields=["status", "-created_at", "-id"], name="incident_status_created_idx"
            ),
            models.Index(
                fields=["responsible_supplier", "status", "-created_at"],
                name="incident_resp_status_idx",
            ),
            models.Index(
                fields=["source_supplier", "status", "-created_at"],
                name="incident_source_status_idx",
            ),
            models.Index(fields=["-created_at", "-id"], name="incident_created_idx"),
            models.Index(fields=["occurred_on"], name="incident_occurred_idx"),
            # The list page's sort by title reads its first page along it.
            models.Index(fields=["title", "id"], name="incident_title_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class IncidentEvent(models.Model):
    """One entry of an incident's timeline: created, each transition of the incident, its
    penalties and plans, notes, evidence, reminders. Append-only and kept for good:
    updates are refused by a database trigger and incidents with events cannot go."""

    # No single-column indexes on incident and plan: event_incident_idx and event_plan_idx
    # lead with them and serve the same lookups; every index costs the reminder sweep,
    # which writes a few hundred thousand events at full scale.
    # The references to the incident and the plan are checked by statement triggers
    # instead of foreign-key constraints: see migration 0009_loose_log_references.
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
        verbose_name=_("incident"),
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=True,
        db_index=False,  # event_actor_idx
        verbose_name=_("actor"),
    )
    penalty = models.ForeignKey(
        "Penalty",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # event_penalty_idx
        db_constraint=False,  # checked per statement (migration 0021), as the plan
        verbose_name=_("penalty"),
    )
    plan = models.ForeignKey(
        "RectificationPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
        verbose_name=_("plan"),
    )
    from_status = models.CharField(max_length=20, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=20, blank=True, verbose_name=_("to status"))
    message = models.TextField(blank=True, verbose_name=_("message"))
    # Set by the services (breaches.services._event): staff notes are internal unless
    # staff share them, what a supplier user writes is shared, workflow events are shared,
    # fingerprint reports internal. The database default serves the bulk writers (the
    # reminder sweep, seed_scale), whose events suppliers have always seen.
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.SHARED,
        db_default=Visibility.SHARED,
        verbose_name=_("visibility"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="incident_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="incident_event_visibility_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="event_incident_idx"),
            models.Index(fields=["plan", "created_at"], name="event_plan_idx"),
            # Only the events that have an actor or a penalty (the sweep's reminder events
            # have neither): what deleting a user or a penalty looks up.
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="event_actor_idx"
            ),
            models.Index(
                fields=["penalty"], condition=Q(penalty__isnull=False), name="event_penalty_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Stored under a generated name: the client's file name never reaches the disk.
    import uuid

    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A file attached to an incident, identified by its sha256 and checked by content."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("incident")
    )
    # A file attached to a rectification action (evidence that it is done) is evidence of
    # the action's incident too, under the same rules; it stays if the action is removed.
    action = models.ForeignKey(
        "RectificationAction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="evidence",
        verbose_name=_("action"),
    )
    file = models.FileField(upload_to=evidence_upload_to, max_length=255, verbose_name=_("file"))
    original_name = models.CharField(max_length=255, verbose_name=_("original name"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    description = models.CharField(max_length=500, blank=True, verbose_name=_("description"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("uploaded at")
    )
    # Staff choose (internal by default); a supplier user's upload is always shared, and
    # seen by its own supplier's users only (breaches.selectors.evidence_visible_to).
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.INTERNAL,
        verbose_name=_("visibility"),
    )

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_sha256_format"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="evidence_size_positive"),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="evidence_visibility_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class Penalty(models.Model):
    """Liquidated damages claimed from the responsible supplier for one incident, by
    default the NDA clause amount. `paid_amount` is kept by penalty_record_payment and
    the database refuses it above `amount`."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="penalties", verbose_name=_("incident")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="penalties", verbose_name=_("supplier")
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("amount"))
    currency = models.CharField(max_length=3, default="CNY", verbose_name=_("currency"))
    paid_amount = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
        verbose_name=_("paid amount"),
    )
    proposed_on = models.DateField(default=timezone.localdate, verbose_name=_("proposed on"))
    due_on = models.DateField(
        null=True, blank=True, validators=[validate_business_date], verbose_name=_("due on")
    )
    status = models.CharField(
        max_length=16,
        choices=PenaltyStatus.choices,
        default=PenaltyStatus.PROPOSED,
        editable=False,
        verbose_name=_("status"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("issued at")
    )
    # The penalised supplier's acknowledgement, made once (penalty_acknowledge).
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("acknowledged at")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="penalty_amount_positive",
                violation_error_message=_("The penalty amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(amount__lte=MAX_MONEY_AMOUNT),
                name="penalty_amount_max",
                violation_error_message=_("The penalty amount is too large."),
            ),
            models.CheckConstraint(
                condition=Q(currency__in=sorted(CURRENCY_CODES)),
                name="penalty_currency_iso4217",
                violation_error_message=_("Currency must be an ISO 4217 code."),
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=F("amount")),
                name="penalty_paid_not_above_amount",
                violation_error_message=_("Payments cannot exceed the penalty amount."),
            ),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(due_on__gte=F("proposed_on")),
                name="penalty_due_after_proposed",
                violation_error_message=_("A penalty cannot fall due before it was proposed."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=PenaltyStatus.values), name="penalty_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=PenaltyStatus.PAID) | Q(paid_amount=F("amount")),
                name="penalty_paid_means_fully_paid",
                violation_error_message=_("A penalty is paid only when payments reach its amount."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="penalty_status_idx"),
            models.Index(fields=["supplier", "status"], name="penalty_supplier_status_idx"),
            # Newest first, the lists' cursor order: no sort of the whole table per page.
            models.Index(fields=["-created_at", "-id"], name="penalty_created_idx"),
            # The reminder sweep, the deadlines page and the overdue flags: issued
            # penalties by due date (breaches.selectors.penalty_pending_q).
            models.Index(
                fields=["due_on", "id"],
                condition=Q(status=PenaltyStatus.ISSUED),
                name="penalty_issued_due_idx",
            ),
            # The list page's sorts by amount, paid amount and due date (every status).
            models.Index(fields=["amount", "id"], name="penalty_amount_idx"),
            models.Index(fields=["paid_amount", "id"], name="penalty_paid_idx"),
            models.Index(fields=["due_on", "id"], name="penalty_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.get_status_display()})"

    @property
    def outstanding(self) -> Decimal:
        if self.status == PenaltyStatus.WAIVED:
            return Decimal("0.00")
        return self.amount - self.paid_amount


class Payment(models.Model):
    """Money received against a penalty. Recorded only through penalty_record_payment."""

    penalty = models.ForeignKey(
        Penalty, on_delete=models.PROTECT, related_name="payments", verbose_name=_("penalty")
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("amount"))
    paid_on = models.DateField(validators=[validate_business_date], verbose_name=_("paid on"))
    reference = models.CharField(max_length=100, blank=True, verbose_name=_("reference"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message=_("A payment amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(amount__lte=MAX_MONEY_AMOUNT),
                name="payment_amount_max",
                violation_error_message=_("The payment amount is too large."),
            ),
            models.UniqueConstraint(
                fields=["penalty", "reference"],
                condition=~Q(reference=""),
                name="payment_reference_unique_per_penalty",
                violation_error_message=_("This payment reference is already recorded."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(amount)s on %(paid_on)s") % {
            "amount": self.amount,
            "paid_on": self.paid_on,
        }


class RectificationPlan(models.Model):
    """What the responsible supplier commits to after a confirmed breach, due
    `rectification_days` after confirmation. One open plan per incident and supplier."""

    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        related_name="rectification_plans",
        verbose_name=_("incident"),
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="rectification_plans",
        verbose_name=_("supplier"),
    )
    requested_on = models.DateField(default=timezone.localdate, verbose_name=_("requested on"))
    due_on = models.DateField(validators=[validate_business_date], verbose_name=_("due on"))
    summary = models.TextField(blank=True, verbose_name=_("summary"))
    status = models.CharField(
        max_length=20,
        choices=PlanStatus.choices,
        default=PlanStatus.REQUESTED,
        editable=False,
        verbose_name=_("status"),
    )
    changes_requested_reason = models.TextField(
        blank=True, editable=False, verbose_name=_("changes requested reason")
    )
    submitted_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("submitted at")
    )
    approved_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("approved at")
    )
    completed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("completed at")
    )
    verified_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("verified at")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rectification plan")
        verbose_name_plural = _("rectification plans")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "supplier"],
                condition=~Q(status=PlanStatus.VERIFIED),
                name="plan_one_open_per_incident_supplier",
                violation_error_message=_(
                    "This supplier already has an open plan for the incident."
                ),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("requested_on")),
                name="plan_due_after_requested",
                violation_error_message=_("A plan cannot fall due before it was requested."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
        ]
        indexes = [
            # The reminder sweep and the "overdue plans" list: plans the supplier still owes.
            models.Index(
                fields=["due_on", "id"],
                condition=Q(status__in=sorted(PLAN_AWAITING_SUPPLIER)),
                name="plan_awaiting_due_idx",
            ),
            # A supplier user's overdue plans and to-do: the plans it owes, by due date. The
            # index above, filtered by supplier, walked every other supplier's owed plans
            # (docs/benchmarks.md, session 12).
            models.Index(
                fields=["supplier", "due_on", "id"],
                condition=Q(status__in=sorted(PLAN_AWAITING_SUPPLIER)),
                name="plan_supplier_awaiting_idx",
            ),
            # The reminder sweep's actions are those of approved plans: read by merging this
            # (150,000 of 1,000,000 plans at full scale) with action_open_plan_idx.
            models.Index(
                fields=["id"], condition=Q(status=PlanStatus.APPROVED), name="plan_approved_idx"
            ),
            models.Index(fields=["status", "-created_at"], name="plan_status_idx"),
            models.Index(fields=["supplier", "status"], name="plan_supplier_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="plan_created_idx"),
            # `?overdue=true` pages newest first over the plans the supplier still owes;
            # due_on as a last key lets the scan skip the not-yet-due ones in the index.
            models.Index(
                fields=["-created_at", "-id", "due_on"],
                condition=Q(status__in=sorted(PLAN_AWAITING_SUPPLIER)),
                name="plan_awaiting_created_idx",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Plan for %(reference)s by %(supplier)s") % {
            "reference": self.incident.reference,
            "supplier": self.supplier.name,
        }


class RectificationAction(models.Model):
    """One measure of a rectification plan, with its own deadline; done when the
    supplier reports it with an evidence note."""

    plan = models.ForeignKey(
        RectificationPlan, on_delete=models.CASCADE, related_name="actions", verbose_name=_("plan")
    )
    description = models.TextField(verbose_name=_("description"))
    owner = models.CharField(
        max_length=200, blank=True, help_text=_("Who at the supplier."), verbose_name=_("owner")
    )
    created_on = models.DateField(default=timezone.localdate, verbose_name=_("created on"))
    due_on = models.DateField(validators=[validate_business_date], verbose_name=_("due on"))
    status = models.CharField(
        max_length=8,
        choices=ActionStatus.choices,
        default=ActionStatus.OPEN,
        editable=False,
        verbose_name=_("status"),
    )
    completed_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        validators=[validate_business_date],
        verbose_name=_("completed on"),
    )
    evidence_note = models.TextField(blank=True, verbose_name=_("evidence note"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("rectification action")
        verbose_name_plural = _("rectification actions")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=F("created_on")),
                name="action_due_after_created",
                violation_error_message=_("An action cannot fall due before it was created."),
            ),
            models.CheckConstraint(
                condition=(Q(status=ActionStatus.OPEN) & Q(completed_on__isnull=True))
                | (Q(status=ActionStatus.DONE) & Q(completed_on__isnull=False)),
                name="action_done_has_completed_on",
                violation_error_message=_("A done action has a completion date; an open one not."),
            ),
            models.CheckConstraint(
                condition=~Q(description=""), name="action_description_not_empty"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_on", "id"],
                condition=Q(status=ActionStatus.OPEN),
                name="action_open_due_idx",
            ),
            # The reminder sweep: open actions plan by plan, joined in order to the approved
            # plans (plan_approved_idx) without touching either table.
            models.Index(
                fields=["plan", "due_on", "id"],
                condition=Q(status=ActionStatus.OPEN),
                name="action_open_plan_idx",
            ),
            models.Index(fields=["-created_at", "-id"], name="action_created_idx"),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class Reminder(models.Model):
    """The log of every reminder about an overdue (or nearly due) plan, action or penalty
    payment. Unique per target and schedule point (days from the due date it was counted
    from), which is what makes the sweep idempotent whatever runs twice."""

    target_type = models.CharField(
        max_length=8, choices=ReminderTargetType.choices, verbose_name=_("target type")
    )
    # Plan and action are checked by statement triggers, not foreign-key constraints:
    # see migration 0009_loose_log_references. A penalty's reminder has no plan.
    plan = models.ForeignKey(
        RectificationPlan,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_constraint=False,
        verbose_name=_("plan"),
    )
    action = models.ForeignKey(
        RectificationAction,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # reminder_unique_action_point leads with action_id
        db_constraint=False,
        verbose_name=_("action"),
    )
    penalty = models.ForeignKey(
        Penalty,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # reminder_unique_penalty_point leads with penalty_id
        db_constraint=False,  # checked per statement (migration 0021), as the plan
        verbose_name=_("penalty"),
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices, verbose_name=_("kind"))
    level = models.PositiveSmallIntegerField(verbose_name=_("level"))
    due_on = models.DateField(
        help_text=_("The due date the schedule point counts from."), verbose_name=_("due on")
    )
    schedule_point = models.SmallIntegerField(
        help_text=_("Days overdue this reminder is for; -3 is the 'due soon' notice."),
        verbose_name=_("schedule point"),
    )
    days_overdue = models.SmallIntegerField(default=0, verbose_name=_("days overdue"))
    recipients = models.JSONField(default=list, blank=True, verbose_name=_("recipients"))
    state = models.CharField(
        max_length=8,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
        verbose_name=_("state"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "due_on", "schedule_point"],
                condition=Q(action__isnull=True),
                name="reminder_unique_plan_point",
            ),
            models.UniqueConstraint(
                fields=["action", "due_on", "schedule_point"],
                condition=Q(action__isnull=False),
                name="reminder_unique_action_point",
            ),
            models.UniqueConstraint(
                fields=["penalty", "due_on", "schedule_point"],
                condition=Q(penalty__isnull=False),
                name="reminder_unique_penalty_point",
            ),
            models.CheckConstraint(
                condition=(
                    Q(target_type=ReminderTargetType.PLAN)
                    & Q(plan__isnull=False, action__isnull=True, penalty__isnull=True)
                )
                | (
                    Q(target_type=ReminderTargetType.ACTION)
                    & Q(plan__isnull=False, action__isnull=False, penalty__isnull=True)
                )
                | (
                    Q(target_type=ReminderTargetType.PENALTY)
                    & Q(plan__isnull=True, action__isnull=True, penalty__isnull=False)
                ),
                name="reminder_target_consistent",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="reminder_level"),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="reminder_state_valid"
            ),
        ]
        indexes = [
            # Newest first (the list, the API) is this index read backwards. Ascending, a
            # sweep's rows (one created_at, rising ids) are appended at its right end; in
            # descending order each went in at the left of the last and split pages half
            # full (docs/benchmarks.md, session 12).
            models.Index(fields=["created_at", "id"], name="reminder_created_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} L{self.level} {self.target_type} {self.schedule_point:+d}d"
        )


class ReminderMessage(models.Model):
    """One grouped email to one recipient: every reminder a sweep recorded for that
    person (or, for the weekly digest, everything overdue). Unique per sweep and
    recipient, so a sweep sends one message per person; the send task claims the row
    with a conditional update before mailing, so a redelivered task never mails twice.
    Its delivery state is rolled up onto the Reminder rows it covers."""

    kind = models.CharField(
        max_length=12,
        choices=MessageKind.choices,
        default=MessageKind.REMINDERS,
        verbose_name=_("kind"),
    )
    sweep_id = models.UUIDField(
        help_text=_("The sweep (or digest run) that created it."), verbose_name=_("sweep id")
    )
    as_of = models.DateField(
        help_text=_("The day the sweep counted overdue days from."), verbose_name=_("as of")
    )
    recipient = models.EmailField(max_length=254, verbose_name=_("recipient"))
    reminder_ids = models.JSONField(default=list, blank=True, verbose_name=_("reminder ids"))
    skipped_reminder_ids = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Items left out because they were no longer due."),
        verbose_name=_("skipped reminder ids"),
    )
    state = models.CharField(
        max_length=8,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
        verbose_name=_("state"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set while a send task holds the message."),
        verbose_name=_("claimed at"),
    )
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the send was last handed to the broker."),
        verbose_name=_("enqueued at"),
    )
    send_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Set, and committed, before the mail is handed to the mail server; a claim "
            "that lapsed with this set means the outcome is unknown."
        ),
        verbose_name=_("send started at"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("reminder message")
        verbose_name_plural = _("reminder messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sweep_id", "recipient"], name="reminder_message_one_per_sweep_recipient"
            ),
            models.UniqueConstraint(
                fields=["as_of", "recipient"],
                condition=Q(kind=MessageKind.DIGEST),
                name="reminder_message_one_digest_per_day",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=MessageKind.values), name="reminder_message_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="reminder_message_state_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(state=DeliveryState.PENDING),
                name="reminder_message_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s to %(recipient)s (%(state)s)") % {
            "kind": self.get_kind_display(),
            "recipient": self.recipient,
            "state": self.get_state_display(),
        }


class ReportSnapshot(models.Model):
    """Report figures computed off the request path and read by requests instead of
    counting whole tables: one row per scope ("all", what staff see, and "supplier-<id>"
    for each supplier with anything to count), its payload written by the refresh beat
    task (breaches.report_snapshot) and replaced whole. `computed_at` is when the
    computation started, so a late writer never replaces newer figures with older ones."""

    name = models.CharField(max_length=50, unique=True, verbose_name=_("name"))
    payload = models.JSONField(
        help_text=_("breaches.reports.ScopeFigures, as JSON."), verbose_name=_("payload")
    )
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.computed_at:%Y-%m-%d %H:%M:%S})"


class PenaltyReview(models.Model):
    """A cut to a claim waiting for a second staff user (four eyes): issuing a penalty
    below its NDA clause, reducing one, or waiving one. The first staff user's act
    records it; another staff user approves it (and the act is carried out) or rejects
    it. One pending review per penalty; the database refuses a decision by the
    requester."""

    penalty = models.ForeignKey(
        Penalty, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("penalty")
    )
    kind = models.CharField(max_length=20, choices=ReviewKind.choices, verbose_name=_("kind"))
    # The amount the act leaves (issue below the clause, reduction); none for a waiver.
    amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("amount")
    )
    # The status the act moves the penalty to (issued, waived); blank for a change of
    # amount alone. Approving carries out exactly this act.
    to_status = models.CharField(
        max_length=12, choices=PenaltyStatus.choices, blank=True, verbose_name=_("to status")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("requested at")
    )
    state = models.CharField(
        max_length=8,
        choices=ReviewState.choices,
        default=ReviewState.PENDING,
        verbose_name=_("state"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decision_note = models.TextField(blank=True, verbose_name=_("decision note"))

    class Meta:
        verbose_name = _("penalty review")
        verbose_name_plural = _("penalty reviews")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["penalty"],
                condition=Q(state=ReviewState.PENDING),
                name="penalty_review_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReviewKind.values), name="penalty_review_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ReviewState.values), name="penalty_review_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="penalty_review_four_eyes",
                violation_error_message=_("The requester cannot decide its own request."),
            ),
            models.CheckConstraint(
                condition=Q(state=ReviewState.PENDING)
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="penalty_review_decided_by_someone",
            ),
        ]
        indexes = [models.Index(fields=["state", "-requested_at"], name="penalty_review_state_idx")]

    def __str__(self) -> str:
        return gettext("%(kind)s of penalty %(penalty)s (%(state)s)") % {
            "kind": self.get_kind_display(),
            "penalty": self.penalty_id,
            "state": status_word(self.state),
        }

    @property
    def act(self) -> str:
        """The act in a sentence: "waiver", "issue below the NDA clause"."""
        label = str(self.get_kind_display())
        return label[:1].lower() + label[1:]
