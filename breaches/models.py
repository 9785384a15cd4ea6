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

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Incident(models.Model):
    """A leak of confidential material. `source_supplier` is who actually leaked (maybe a
    sub-vendor, maybe unknown); `responsible_supplier` and `nda` are who is liable and
    under which agreement, resolved by the liability rule or decided by staff."""

    reference = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    assets = models.ManyToManyField(ConfidentialAsset, related_name="incidents", blank=True)
    occurred_on = models.DateField(validators=[validate_business_date])
    discovered_on = models.DateField(validators=[validate_business_date])
    channel = models.CharField(max_length=16, choices=Channel.choices)
    source_supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_as_source",
    )
    responsible_supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_as_responsible",
    )
    nda = models.ForeignKey(
        NDA, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    no_nda_coverage = models.BooleanField(
        default=False, help_text=_("No NDA reaches the source: staff must decide liability.")
    )
    liability_overridden = models.BooleanField(default=False)
    liability_override_reason = models.TextField(blank=True)
    leak_fingerprint = models.CharField(
        max_length=64, blank=True, help_text=_("Fingerprint found on a leaked copy, if any.")
    )
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        max_length=16,
        choices=IncidentStatus.choices,
        default=IncidentStatus.REPORTED,
        editable=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
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
            models.Index(fields=["status", "-created_at"], name="incident_status_created_idx"),
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
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=True,
        db_index=False,  # event_actor_idx
    )
    penalty = models.ForeignKey(
        "Penalty",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # event_penalty_idx
    )
    plan = models.ForeignKey(
        "RectificationPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    # Set by the services (breaches.services._event): staff notes are internal unless
    # staff share them, what a supplier user writes is shared, workflow events are shared,
    # fingerprint reports internal. The database default serves the bulk writers (the
    # reminder sweep, seed_scale), whose events suppliers have always seen.
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.SHARED,
        db_default=Visibility.SHARED,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
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

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    # A file attached to a rectification action (evidence that it is done) is evidence of
    # the action's incident too, under the same rules; it stays if the action is removed.
    action = models.ForeignKey(
        "RectificationAction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="evidence",
    )
    file = models.FileField(upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    # Staff choose (internal by default); a supplier user's upload is always shared, and
    # seen by its own supplier's users only (breaches.selectors.evidence_visible_to).
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.INTERNAL
    )

    class Meta:
        verbose_name_plural = "evidence"
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

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="penalties")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="penalties")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    paid_amount = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    proposed_on = models.DateField(default=timezone.localdate)
    due_on = models.DateField(null=True, blank=True, validators=[validate_business_date])
    status = models.CharField(
        max_length=16,
        choices=PenaltyStatus.choices,
        default=PenaltyStatus.PROPOSED,
        editable=False,
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The penalised supplier's acknowledgement, made once (penalty_acknowledge).
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "penalties"
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
            models.Index(fields=["status", "-created_at"], name="penalty_status_idx"),
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

    penalty = models.ForeignKey(Penalty, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    paid_on = models.DateField(validators=[validate_business_date])
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
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
        Incident, on_delete=models.PROTECT, related_name="rectification_plans"
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="rectification_plans"
    )
    requested_on = models.DateField(default=timezone.localdate)
    due_on = models.DateField(validators=[validate_business_date])
    summary = models.TextField(blank=True)
    status = models.CharField(
        max_length=20,
        choices=PlanStatus.choices,
        default=PlanStatus.REQUESTED,
        editable=False,
    )
    changes_requested_reason = models.TextField(blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
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

    plan = models.ForeignKey(RectificationPlan, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=200, blank=True, help_text=_("Who at the supplier."))
    created_on = models.DateField(default=timezone.localdate)
    due_on = models.DateField(validators=[validate_business_date])
    status = models.CharField(
        max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN, editable=False
    )
    completed_on = models.DateField(
        null=True, blank=True, editable=False, validators=[validate_business_date]
    )
    evidence_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    target_type = models.CharField(max_length=8, choices=ReminderTargetType.choices)
    # Plan and action are checked by statement triggers, not foreign-key constraints:
    # see migration 0009_loose_log_references. A penalty's reminder has no plan.
    plan = models.ForeignKey(
        RectificationPlan,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_constraint=False,
    )
    action = models.ForeignKey(
        RectificationAction,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # reminder_unique_action_point leads with action_id
        db_constraint=False,
    )
    penalty = models.ForeignKey(
        Penalty,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # reminder_unique_penalty_point leads with penalty_id
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    level = models.PositiveSmallIntegerField()
    due_on = models.DateField(help_text=_("The due date the schedule point counts from."))
    schedule_point = models.SmallIntegerField(
        help_text=_("Days overdue this reminder is for; -3 is the 'due soon' notice.")
    )
    days_overdue = models.SmallIntegerField(default=0)
    recipients = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
            models.Index(fields=["-created_at", "-id"], name="reminder_created_idx"),
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
        max_length=12, choices=MessageKind.choices, default=MessageKind.REMINDERS
    )
    sweep_id = models.UUIDField(help_text=_("The sweep (or digest run) that created it."))
    as_of = models.DateField(help_text=_("The day the sweep counted overdue days from."))
    recipient = models.EmailField(max_length=254)
    reminder_ids = models.JSONField(default=list, blank=True)
    skipped_reminder_ids = models.JSONField(
        default=list, blank=True, help_text=_("Items left out because they were no longer due.")
    )
    state = models.CharField(
        max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set while a send task holds the message.")
    )
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the send was last handed to the broker.")
    )
    send_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Set, and committed, before the mail is handed to the mail server; a claim "
            "that lapsed with this set means the outcome is unknown."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
    counting whole tables: one row per scope (today only "all", what staff see), its
    payload written by the refresh beat task (breaches.report_snapshot) and replaced
    whole. `computed_at` is when the computation started, so a late writer never
    replaces newer figures with older ones."""

    name = models.CharField(max_length=50, unique=True)
    payload = models.JSONField(help_text=_("breaches.reports.StaffFigures, as JSON."))
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.computed_at:%Y-%m-%d %H:%M:%S})"


class PenaltyReview(models.Model):
    """A cut to a claim waiting for a second staff user (four eyes): issuing a penalty
    below its NDA clause, reducing one, or waiving one. The first staff user's act
    records it; another staff user approves it (and the act is carried out) or rejects
    it. One pending review per penalty; the database refuses a decision by the
    requester."""

    penalty = models.ForeignKey(Penalty, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    # The amount the act leaves (issue below the clause, reduction); none for a waiver.
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # The status the act moves the penalty to (issued, waived); blank for a change of
    # amount alone. Approving carries out exactly this act.
    to_status = models.CharField(max_length=12, choices=PenaltyStatus.choices, blank=True)
    note = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    state = models.CharField(max_length=8, choices=ReviewState.choices, default=ReviewState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
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
