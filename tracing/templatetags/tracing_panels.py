"""The leak-tracing panels of the asset, disclosure, supplier and incident pages, drawn
by this app so that the apps below it never import it. Each reads through
tracing.selectors: a supplier user sees its own supplier's copies, never a master, a
trace, a code or a fingerprint."""

from django import template

from suppliers.models import ConfidentialAsset

from ..selectors import (
    copies_visible_to,
    downloads_visible_to,
    masters_visible_to,
    may_see_masters_and_traces,
)
from ..selectors import (
    incident_traces as incident_traces_of,
)

register = template.Library()


@register.inclusion_tag("tracing/master_files_panel.html", takes_context=True)
def asset_master_files(context, asset) -> dict:
    """Master files of an asset (staff; compliance may upload)."""
    user = context["request"].user
    return {
        "asset": asset,
        "staff": may_see_masters_and_traces(user),
        "can_write": user.can_write,
        "masters": masters_visible_to(user).filter(asset=asset),
        "request": context["request"],
    }


@register.inclusion_tag("tracing/copies_panel.html", takes_context=True)
def disclosure_copies(context, disclosure) -> dict:
    """A disclosure's copies (download links) and its download log."""
    user = context["request"].user
    return {
        "disclosures": [disclosure],
        "copies": copies_visible_to(user)
        .filter(disclosure=disclosure)
        .select_related("master", "disclosure__asset"),
        "downloads": downloads_visible_to(user)
        .filter(copy__disclosure=disclosure)
        .select_related("user", "copy__master")[:50],
        "title": None,
        "request": context["request"],  # the person tag names people as the viewer may know them
    }


@register.inclusion_tag("tracing/copies_panel.html", takes_context=True)
def supplier_copies(context, supplier) -> dict:
    """The copies of every disclosure to this supplier (its users download them here)."""
    user = context["request"].user
    return {
        "copies": copies_visible_to(user)
        .filter(disclosure__supplier=supplier)
        .select_related("master", "disclosure__asset"),
        "downloads": downloads_visible_to(user)
        .filter(copy__disclosure__supplier=supplier)
        .select_related("user", "copy__master", "copy__disclosure__asset")[:50],
        "title": "supplier",
        "request": context["request"],  # the person tag names people as the viewer may know them
    }


@register.inclusion_tag("tracing/trace_panel.html", takes_context=True)
def incident_traces(context, incident) -> dict:
    """ "Trace a leaked copy" on an incident (staff), with its traces and their results."""
    user = context["request"].user
    traces = incident_traces_of(user, incident)
    return {
        "incident": incident,
        "staff": may_see_masters_and_traces(user),
        "can_write": user.can_write,
        "traces": traces,
        "pending": any(t.status == "pending" for t in traces),
        "assets": ConfidentialAsset.objects.filter(pk__in=incident.assets.values("pk")),
        "request": context["request"],
    }


@register.filter
def trace_detail(detail: str) -> str:
    """A trace's stored detail in the viewer's language (services.detail_in_words)."""
    from ..services import detail_in_words

    return detail_in_words(detail)
