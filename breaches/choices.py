"""Choices and transition maps of the breaches app, declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    SOCIAL_MEDIA = "social_media", _("Social media")
    PRESS = "press", _("Press")
    COMPETITOR = "competitor", _("Competitor")
    INTERNAL = "internal", _("Internal")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("incident status", "Reported")
    INVESTIGATING = "investigating", pgettext_lazy("incident status", "Investigating")
    CONFIRMED = "confirmed", pgettext_lazy("incident status", "Confirmed")
    DISMISSED = "dismissed", pgettext_lazy("incident status", "Dismissed")
    RESOLVED = "resolved", pgettext_lazy("incident status", "Resolved")
    CLOSED = "closed", pgettext_lazy("incident status", "Closed")


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
    PROPOSED = "proposed", pgettext_lazy("penalty status", "Proposed")
    ISSUED = "issued", pgettext_lazy("penalty status", "Issued")
    DISPUTED = "disputed", pgettext_lazy("penalty status", "Disputed")
    PAID = "paid", pgettext_lazy("penalty status", "Paid")
    WAIVED = "waived", pgettext_lazy("penalty status", "Waived")


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
    REQUESTED = "requested", pgettext_lazy("plan status", "Requested")
    SUBMITTED = "submitted", pgettext_lazy("plan status", "Submitted")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("plan status", "Changes requested")
    APPROVED = "approved", pgettext_lazy("plan status", "Approved")
    COMPLETED = "completed", pgettext_lazy("plan status", "Completed")
    VERIFIED = "verified", pgettext_lazy("plan status", "Verified")


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
    OPEN = "open", pgettext_lazy("action status", "Open")
    DONE = "done", pgettext_lazy("action status", "Done")


class EventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("timeline event", "Created")
    TRANSITION = "transition", pgettext_lazy("timeline event", "Status changed")
    NOTE = "note", pgettext_lazy("timeline event", "Note")
    EVIDENCE = "evidence", pgettext_lazy("timeline event", "Evidence added")
    LIABILITY = "liability", pgettext_lazy("timeline event", "Liability decided")
    PENALTY = "penalty", pgettext_lazy("timeline event", "Penalty")
    PAYMENT = "payment", pgettext_lazy("timeline event", "Payment recorded")
    PLAN = "plan", pgettext_lazy("timeline event", "Rectification plan")
    ACTION = "action", pgettext_lazy("timeline event", "Rectification action")
    REMINDER = "reminder", pgettext_lazy("timeline event", "Reminder sent")
    FINGERPRINT = "fingerprint", pgettext_lazy("timeline event", "Fingerprint reported")


class Visibility(models.TextChoices):
    """Who reads a note, a timeline event or an evidence file (DESIGN section 7):
    `internal` is the buyer's staff only; `shared` also the supplier users who may see
    the incident (evidence: only its own supplier's uploads and the staff's)."""

    INTERNAL = "internal", _("Internal")
    SHARED = "shared", _("Shared")


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", pgettext_lazy("reminder kind", "Due soon")
    OVERDUE = "overdue", pgettext_lazy("reminder kind", "Overdue")


class ReminderTargetType(models.TextChoices):
    PLAN = "plan", _("Rectification plan")
    ACTION = "action", _("Rectification action")
    # Money is chased too (DESIGN section 5): an issued penalty's payment.
    PENALTY = "penalty", _("Penalty payment")


class DeliveryState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery state", "Pending")
    SENT = "sent", pgettext_lazy("delivery state", "Sent")
    FAILED = "failed", pgettext_lazy("delivery state", "Failed")
    # Not sent because the target stopped being due before the mail went out.
    SKIPPED = "skipped", pgettext_lazy("delivery state", "Skipped (no longer due)")
    # A worker stopped while handing the mail to the mail server: it may have gone out.
    # Never resent (a duplicate is worse than a reminder the next schedule point repeats).
    UNKNOWN = "unknown", pgettext_lazy("delivery state", "Outcome unknown (not resent)")


class MessageKind(models.TextChoices):
    """What a grouped reminder mail carries: one sweep's reminders, or the weekly digest."""

    REMINDERS = "reminders", _("Reminders")
    DIGEST = "digest", _("Weekly overdue digest")


class ReviewKind(models.TextChoices):
    """Acts on a penalty that cut the claim, made only by two staff users (four eyes)."""

    ISSUE_BELOW_CLAUSE = "issue_below_clause", _("Issue below the NDA clause")
    REDUCTION = "reduction", _("Reduction")
    WAIVER = "waiver", _("Waiver")


class ReviewState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("review state", "Waiting for a second reviewer")
    APPROVED = "approved", pgettext_lazy("review state", "Approved")
    REJECTED = "rejected", pgettext_lazy("review state", "Rejected")


# A status named inside a sentence ("A penalty cannot go from issued to proposed"): in
# English the code itself, as the messages have always read; translated in other
# languages. (The codes the API takes are listed as codes, never through this.)
STATUS_WORDS = {
    "reported": pgettext_lazy("status in a sentence", "reported"),
    "investigating": pgettext_lazy("status in a sentence", "investigating"),
    "confirmed": pgettext_lazy("status in a sentence", "confirmed"),
    "dismissed": pgettext_lazy("status in a sentence", "dismissed"),
    "resolved": pgettext_lazy("status in a sentence", "resolved"),
    "closed": pgettext_lazy("status in a sentence", "closed"),
    "proposed": pgettext_lazy("status in a sentence", "proposed"),
    "issued": pgettext_lazy("status in a sentence", "issued"),
    "disputed": pgettext_lazy("status in a sentence", "disputed"),
    "paid": pgettext_lazy("status in a sentence", "paid"),
    "waived": pgettext_lazy("status in a sentence", "waived"),
    "requested": pgettext_lazy("status in a sentence", "requested"),
    "submitted": pgettext_lazy("status in a sentence", "submitted"),
    "changes_requested": pgettext_lazy("status in a sentence", "changes_requested"),
    "approved": pgettext_lazy("status in a sentence", "approved"),
    "completed": pgettext_lazy("status in a sentence", "completed"),
    "verified": pgettext_lazy("status in a sentence", "verified"),
    "open": pgettext_lazy("status in a sentence", "open"),
    "done": pgettext_lazy("status in a sentence", "done"),
    "pending": pgettext_lazy("status in a sentence", "pending"),
    "rejected": pgettext_lazy("status in a sentence", "rejected"),
}


def status_word(code: str) -> str:
    """The status `code` as a word in a sentence of the active language."""
    word = STATUS_WORDS.get(str(code))
    return str(word) if word is not None else str(code)
