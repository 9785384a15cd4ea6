"""An event in words, for the in-app list, the API and the mail: what happened, to what,
and the link to open it. The event keeps the facts only (its kind and `data`: ids and
public facts, no sentence); the words are made here each time it is shown, in the
language and time zone active then: the viewer's on a page, the caller's on the API
(Accept-Language), the recipient's in a mail (notifications.mail). So a supplier user
reads nothing the event did not already allow it to see, each in its own language."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from django.conf import settings
from django.utils.translation import gettext as _

from config.formats import babel_locale, format_instant, format_money

from .choices import EventType


def _what(event) -> str:
    d = event.data
    ref = d.get("incident_reference") or ""
    money = ""
    if d.get("amount"):
        if d.get("currency"):
            money = format_money(d["amount"], d["currency"])
        else:
            money = format_decimal(d["amount"], format="#,##0.00", locale=babel_locale())
    supplier = d.get("supplier_name") or ""
    texts = {
        EventType.PENALTY_ISSUED: _("%(ref)s: a penalty of %(money)s was issued to %(supplier)s."),
        EventType.PENALTY_DISPUTED: _("%(ref)s: %(supplier)s disputes its penalty of %(money)s."),
        EventType.PENALTY_REDUCED: _(
            "%(ref)s: the penalty of %(supplier)s was reduced to %(money)s."
        ),
        EventType.PENALTY_WAIVED: _("%(ref)s: the penalty of %(supplier)s was waived."),
        EventType.PENALTY_PAID: _("%(ref)s: the penalty of %(supplier)s (%(money)s) is paid."),
        EventType.PLAN_SUBMITTED: _("%(ref)s: %(supplier)s submitted its rectification plan."),
        EventType.PLAN_APPROVED: _("%(ref)s: the rectification plan of %(supplier)s was approved."),
        EventType.PLAN_CHANGES_REQUESTED: _(
            "%(ref)s: changes were requested to the rectification plan of %(supplier)s."
        ),
        EventType.REVIEW_REQUESTED: _(
            "%(ref)s: a cut to the penalty of %(supplier)s (%(money)s) waits for your review."
        ),
        EventType.INCIDENT_CONFIRMED: _(
            "%(ref)s: the incident was confirmed; %(supplier)s is held liable."
        ),
        EventType.TRACE_MATCHED: _("%(ref)s: a leaked copy was traced to %(supplier)s."),
        EventType.WEBHOOK_FAILING: _("The webhook endpoint %(url)s is failing."),
        EventType.WEBHOOK_TEST: _("A test event."),
    }
    template = texts.get(event.type, "%(ref)s")
    return template % {
        "ref": ref or _("No incident"),
        "money": money,
        "supplier": supplier,
        "url": d.get("url", ""),
    }


def describe(event, *, viewer=None) -> dict[str, Any]:
    """The event in the active language: `title` (its kind), `text` (what happened),
    `when` (its instant in the active time zone, named) and its link."""
    return {
        "type": event.type,
        "title": str(EventType(event.type).label) if event.type in EventType.values else "",
        "text": _what(event),
        "path": event.path,
        "url": f"{settings.SITE_URL}{event.path}" if event.path else settings.SITE_URL + "/",
        "created_at": event.created_at,
        "when": format_instant(event.created_at),
    }
