"""Helpers for the notification tests: deliver what the broker would, here."""

from __future__ import annotations


def deliver_everything(now=None):
    """Fan out every event not yet fanned out, then run the notifications sweep inline:
    batch mails sent, due webhooks attempted (as the worker would, without a broker)."""
    from notifications.fanout import fan_out, sweep
    from notifications.models import Event

    for pk in list(Event.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True)):
        fan_out(pk)
    return sweep(now=now, inline=True)
