"""Reads of notifications: a user's own, and how many are unread (the bell)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notifications_for(user) -> QuerySet:
    """The user's own in-app notifications, newest first (nobody else's, ever)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        Notification.objects.filter(user=user)
        .select_related("event")
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    """One indexed COUNT of the user's unread rows (notification_unread), read once per
    request however many times a page shows it."""
    if not getattr(user, "is_authenticated", False):
        return 0
    cached = getattr(user, "_unread_notifications", None)
    if cached is None:
        cached = Notification.objects.filter(user=user, read_at__isnull=True).count()
        user._unread_notifications = cached
    return cached
