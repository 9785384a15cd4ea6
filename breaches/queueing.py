"""Publishing the app's Celery tasks by name (config.queueing, shared with the apps that
sit below and beside this one): the modules that queue work (services, the reminders,
the report snapshot) never import breaches.tasks, which imports them."""

from config.queueing import publish_task

__all__ = ["publish_task"]
