"""Choices and transition maps of the breaches app, declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SOCIAL_MEDIA = "social_media", "Social media"
    PRESS = "press", "Press"
    COMPETITOR = "competitor", "Competitor"
    INTERNAL = "internal", "Internal"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    INVESTIGATING = "investigating", "Investigating"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.REPORTED: frozenset({IncidentStatus.INVESTIGATING}),
    IncidentStatus.INVESTIGATING: frozenset({IncidentStatus.CONFIRMED, IncidentStatus.DISMISSED}),
    IncidentStatus.CONFIRMED: frozenset({IncidentStatus.RESOLVED}),
    IncidentStatus.DISMISSED: frozenset(),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}
OPEN_INCIDENT_STATUSES = frozenset(
    {IncidentStatus.REPORTED, IncidentStatus.INVESTIGATING, IncidentStatus.CONFIRMED}
)


class PenaltyStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ISSUED = "issued", "Issued"
    DISPUTED = "disputed", "Disputed"
    PAID = "paid", "Paid"
    WAIVED = "waived", "Waived"


# `paid` is reached only by payments (penalty_record_payment), never asked for directly.
PENALTY_TRANSITIONS: dict[str, frozenset[str]] = {
    PenaltyStatus.PROPOSED: frozenset({PenaltyStatus.ISSUED, PenaltyStatus.WAIVED}),
    PenaltyStatus.ISSUED: frozenset({PenaltyStatus.DISPUTED, PenaltyStatus.PAID}),
    PenaltyStatus.DISPUTED: frozenset({PenaltyStatus.ISSUED, PenaltyStatus.WAIVED}),
    PenaltyStatus.PAID: frozenset(),
    PenaltyStatus.WAIVED: frozenset(),
}
SETTLED_PENALTY_STATUSES = frozenset({PenaltyStatus.PAID, PenaltyStatus.WAIVED})
AMOUNT_EDITABLE_PENALTY_STATUSES = frozenset({PenaltyStatus.PROPOSED, PenaltyStatus.DISPUTED})


class PlanStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    COMPLETED = "completed", "Completed"
    VERIFIED = "verified", "Verified"


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.REQUESTED: frozenset({PlanStatus.SUBMITTED}),
    PlanStatus.SUBMITTED: frozenset({PlanStatus.APPROVED, PlanStatus.CHANGES_REQUESTED}),
    PlanStatus.CHANGES_REQUESTED: frozenset({PlanStatus.SUBMITTED}),
    PlanStatus.APPROVED: frozenset({PlanStatus.COMPLETED}),
    PlanStatus.COMPLETED: frozenset({PlanStatus.VERIFIED}),
    PlanStatus.VERIFIED: frozenset(),
}
# A plan the supplier still owes (overdue past due_on) and one whose text it may edit.
PLAN_AWAITING_SUPPLIER = frozenset({PlanStatus.REQUESTED, PlanStatus.CHANGES_REQUESTED})
OPEN_PLAN_STATUSES = frozenset(set(PlanStatus.values) - {PlanStatus.VERIFIED})


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    TRANSITION = "transition", "Status changed"
    NOTE = "note", "Note"
    EVIDENCE = "evidence", "Evidence added"
    LIABILITY = "liability", "Liability decided"
    PENALTY = "penalty", "Penalty"
    PAYMENT = "payment", "Payment recorded"
    PLAN = "plan", "Rectification plan"
    ACTION = "action", "Rectification action"
    REMINDER = "reminder", "Reminder sent"
    FINGERPRINT = "fingerprint", "Fingerprint reported"


class Visibility(models.TextChoices):
    """Who reads a note, a timeline event or an evidence file (DESIGN section 7):
    `internal` is the buyer's staff only; `shared` also the supplier users who may see
    the incident (evidence: only its own supplier's uploads and the staff's)."""

    INTERNAL = "internal", _("Internal")
    SHARED = "shared", _("Shared")


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"


class ReminderTargetType(models.TextChoices):
    PLAN = "plan", "Rectification plan"
    ACTION = "action", "Rectification action"
    # Money is chased too (DESIGN section 5): an issued penalty's payment.
    PENALTY = "penalty", "Penalty payment"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Not sent because the target stopped being due before the mail went out.
    SKIPPED = "skipped", "Skipped (no longer due)"
    # A worker stopped while handing the mail to the mail server: it may have gone out.
    # Never resent (a duplicate is worse than a reminder the next schedule point repeats).
    UNKNOWN = "unknown", "Outcome unknown (not resent)"


class MessageKind(models.TextChoices):
    """What a grouped reminder mail carries: one sweep's reminders, or the weekly digest."""

    REMINDERS = "reminders", "Reminders"
    DIGEST = "digest", "Weekly overdue digest"


class ReviewKind(models.TextChoices):
    """Acts on a penalty that cut the claim, made only by two staff users (four eyes)."""

    ISSUE_BELOW_CLAUSE = "issue_below_clause", "Issue below the NDA clause"
    REDUCTION = "reduction", "Reduction"
    WAIVER = "waiver", "Waiver"


class ReviewState(models.TextChoices):
    PENDING = "pending", "Waiting for a second reviewer"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
