"""`{% export_links "incident-list" %}`: the Export buttons of a list page, carrying the
page's current filters to the API list's `?format=csv|xlsx` (documents.exports)."""

from django import template
from django.urls import reverse

from config.formats import format_instant

register = template.Library()

EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "Excel"))


@register.inclusion_tag("documents/_export_links.html", takes_context=True)
def export_links(context, api_list_name: str) -> dict:
    request = context["request"]
    params = request.GET.copy()
    for name in ("page", "format", "cursor"):  # the page's own paging, not a filter
        params.pop(name, None)
    base = reverse(api_list_name)
    links = []
    for fmt, label in EXPORT_FORMATS:
        params["format"] = fmt
        links.append({"label": label, "url": f"{base}?{params.urlencode()}", "format": fmt})
    return {"links": links}


@register.filter
def instant_text(value) -> str:
    """An instant as plain text in the active time zone, named (the PDFs: no HTML
    element), config.formats.format_instant: "2026-12-05 10:04 Asia/Shanghai"."""
    return format_instant(value)
