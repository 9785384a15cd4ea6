"""The breaches side of a supplier's page (incidents, penalties, plans), drawn by this
app so that the suppliers app, which sits below it, never imports it."""

from django import template
from django.db.models import Q

from breaches.selectors import incidents_visible_to, penalties_visible_to, plans_visible_to

register = template.Library()


@register.inclusion_tag("breaches/supplier_panels.html", takes_context=True)
def supplier_breach_panels(context, supplier) -> dict:
    user = context["request"].user
    return {
        "supplier": supplier,
        "incidents": incidents_visible_to(user)
        .filter(Q(source_supplier=supplier) | Q(responsible_supplier=supplier))
        .order_by("-created_at", "-id")[:20],
        "penalties": penalties_visible_to(user)
        .filter(supplier=supplier)
        .select_related("incident")
        .order_by("-created_at"),
        "plans": plans_visible_to(user)
        .filter(supplier=supplier)
        .select_related("incident")
        .order_by("-created_at"),
    }
