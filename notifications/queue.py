"""Handing notification work to the broker, by task name (config.queueing): the modules
that queue work never import notifications.tasks, which imports them. The publisher is
looked up at call time, so that a test can stand in for the broker."""

from __future__ import annotations

import logging

from config import queueing

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "notifications.tasks.fan_out_event"
WEBHOOK_TASK = "notifications.tasks.deliver_webhook"
MAIL_TASK = "notifications.tasks.send_notification_mail"


def publish(name: str, **options) -> None:
    queueing.publish_task(name, **options)


def publish_each(name: str, ids: list) -> None:
    """After commit: hand each id to the broker; what it does not take, the sweep does."""
    try:
        for pk in ids:
            publish(name, args=[pk])
    except Exception:
        logger.exception("Could not enqueue %s; the notifications sweep picks it up", name)
