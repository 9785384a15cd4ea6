"""Deployment checks of our own, run by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


def serving_with_dev_secret_key() -> bool:
    return not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs, **kwargs) -> list[Error]:
    if serving_with_dev_secret_key():
        return [
            Error(
                "DJANGO_SECRET_KEY is not set: the development key is public.",
                hint="Set DJANGO_SECRET_KEY to a long random value.",
                id="breach.E001",
            )
        ]
    return []


def refuse_to_serve_without_secret_key() -> None:
    """Called by the WSGI and ASGI entry points: production never serves on the dev key."""
    if serving_with_dev_secret_key():
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
