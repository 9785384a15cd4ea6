"""Telling people what waits for them (for now: a cut to a penalty waiting for a second
staff user)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from suppliers.models import WRITERS, User

from .models import PenaltyReview


def notify_penalty_review(*, review_id: int) -> int:
    """Mail every other active staff user who may decide the request; returns how many
    were told. Nothing when it was decided before the mail went out."""
    review = PenaltyReview.objects.select_related(
        "penalty__incident", "penalty__supplier", "requested_by"
    ).get(pk=review_id)
    if review.state != "pending":
        return 0
    reviewers = (
        User.objects.filter(WRITERS)
        .exclude(pk=review.requested_by_id)
        .exclude(email="")
        .order_by("pk")
    )
    penalty = review.penalty
    url = settings.SITE_URL + reverse("breaches:penalty-detail", args=[penalty.pk])
    subject = f"[{penalty.incident.reference}] {review.get_kind_display()} waits for your review"
    body = render_to_string(
        "breaches/email/penalty_review.txt",
        {
            "review": review,
            "penalty": penalty,
            "requester": review.requested_by.get_username(),
            "kind": review.act,
            "url": url,
        },
    )
    told = 0
    for reviewer in reviewers:
        EmailMessage(subject, body, to=[reviewer.email]).send(fail_silently=False)
        told += 1
    return told
