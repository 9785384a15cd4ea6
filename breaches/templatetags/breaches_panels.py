"""The breaches side of a supplier's page (incidents, penalties, plans), drawn by this
app so that the suppliers app, which sits below it, never imports it; and the status
words of the timelines in the reader's language."""

from django import template
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from breaches.selectors import incidents_visible_to, penalties_visible_to, plans_visible_to

register = template.Library()

# An event's from/to status is stored as the code of the incident's, penalty's or plan's
# status (the codes do not overlap): the timelines show it as a word in a sentence,
# lower case in English ("proposed → issued"), as the code always read.
STATUS_WORDS = {
    "new": pgettext_lazy("status word", "new"),
    # Incident
    "reported": pgettext_lazy("status word", "reported"),
    "investigating": pgettext_lazy("status word", "investigating"),
    "confirmed": pgettext_lazy("status word", "confirmed"),
    "dismissed": pgettext_lazy("status word", "dismissed"),
    "resolved": pgettext_lazy("status word", "resolved"),
    "closed": pgettext_lazy("status word", "closed"),
    # Penalty
    "proposed": pgettext_lazy("status word", "proposed"),
    "issued": pgettext_lazy("status word", "issued"),
    "disputed": pgettext_lazy("status word", "disputed"),
    "paid": pgettext_lazy("status word", "paid"),
    "waived": pgettext_lazy("status word", "waived"),
    # Rectification plan
    "requested": pgettext_lazy("status word", "requested"),
    "submitted": pgettext_lazy("status word", "submitted"),
    "changes_requested": pgettext_lazy("status word", "changes requested"),
    "approved": pgettext_lazy("status word", "approved"),
    "completed": pgettext_lazy("status word", "completed"),
    "verified": pgettext_lazy("status word", "verified"),
}


@register.filter
def status_word(code):
    """A stored status code as a word of the reader's language; an unknown code as is."""
    return STATUS_WORDS.get(code, code)


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
