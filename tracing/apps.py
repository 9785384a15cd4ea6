from django.apps import AppConfig


class TracingConfig(AppConfig):
    """Leak tracing (DESIGN section 10): the masters of confidential assets, each
    recipient's marked copy, and the tracing of a leaked copy back to its disclosure."""

    name = "tracing"
    default_auto_field = "django.db.models.BigAutoField"
