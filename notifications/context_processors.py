"""The bell's unread count on every page, counted only when a page shows it."""

from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def notifications(request):
    user = getattr(request, "user", None)
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
