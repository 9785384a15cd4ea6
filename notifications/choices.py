"""The kinds of event worth telling (DESIGN section 12), declared once: their keys travel
in webhook bodies (`type`), in preferences and in the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    PENALTY_ISSUED = "penalty.issued", _("Penalty issued")
    PENALTY_DISPUTED = "penalty.disputed", _("Penalty disputed")
    PENALTY_REDUCED = "penalty.reduced", _("Penalty reduced")
    PENALTY_WAIVED = "penalty.waived", _("Penalty waived")
    PENALTY_PAID = "penalty.paid", _("Penalty paid")
    PLAN_SUBMITTED = "plan.submitted", _("Rectification plan submitted")
    PLAN_APPROVED = "plan.approved", _("Rectification plan approved")
    PLAN_CHANGES_REQUESTED = "plan.changes_requested", _("Changes requested to a plan")
    REVIEW_REQUESTED = "review.requested", _("A cut to a penalty waits for a second reviewer")
    INCIDENT_CONFIRMED = "incident.confirmed", _("Incident confirmed against a supplier")
    TRACE_MATCHED = "trace.matched", _("A leaked copy traced to its recipient")
    WEBHOOK_FAILING = "webhook.failing", _("A webhook endpoint is failing")
    WEBHOOK_TEST = "webhook.test", _("Webhook test event")


# Who is told of each kind (notifications.recipients): the liable supplier's side (its
# users and reminder contacts), the compliance staff, the second reviewers, the admins.
SUPPLIER = "supplier"
STAFF = "staff"
REVIEWERS = "reviewers"
ADMINS = "admins"
AUDIENCE: dict[str, frozenset[str]] = {
    EventType.PENALTY_ISSUED: frozenset({SUPPLIER}),
    EventType.PENALTY_DISPUTED: frozenset({STAFF}),
    EventType.PENALTY_REDUCED: frozenset({SUPPLIER}),
    EventType.PENALTY_WAIVED: frozenset({SUPPLIER}),
    EventType.PENALTY_PAID: frozenset({SUPPLIER, STAFF}),
    EventType.PLAN_SUBMITTED: frozenset({STAFF}),
    EventType.PLAN_APPROVED: frozenset({SUPPLIER}),
    EventType.PLAN_CHANGES_REQUESTED: frozenset({SUPPLIER}),
    EventType.REVIEW_REQUESTED: frozenset({REVIEWERS}),
    EventType.INCIDENT_CONFIRMED: frozenset({SUPPLIER}),
    EventType.TRACE_MATCHED: frozenset({STAFF}),
    EventType.WEBHOOK_FAILING: frozenset({ADMINS}),
    EventType.WEBHOOK_TEST: frozenset(),  # to the one endpoint tested, nobody else
}

# What an endpoint may subscribe to: every kind but the test (sent on request only).
SUBSCRIBABLE = tuple(t for t in EventType.values if t != EventType.WEBHOOK_TEST)


class MailState(models.TextChoices):
    NONE = "none", _("Not mailed")  # in-app only (no address, or the user opted out)
    PENDING = "pending", _("Waiting for the next batch")
    BATCHED = "batched", _("In a batch mail")


class SendState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (nothing left to tell)")
    # The worker stopped while handing the mail over: it may have gone out; not resent.
    UNKNOWN = "unknown", _("Outcome unknown (not resent)")


class WebhookState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed for good")
