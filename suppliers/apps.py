from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    """Who suppliers are, what they signed and what they received; also the tracker's
    users and their roles."""

    name = "suppliers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import config.checks  # noqa: F401 (registers the deployment checks)
        from config.security import connect_auth_logging

        connect_auth_logging()
