"""The breach notice and the incident dossier (DESIGN section 13): what each holds for
the person who asks, read through the selectors the pages and the API use (scope,
internal notes and files, a parent's NDA, fingerprints), then rendered as PDF from the
templates in documents/templates/documents/.

Outside the caller's scope an incident or penalty does not exist (Http404), as in the
JSON detail."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from breaches.models import Incident, Penalty, RectificationAction
from breaches.selectors import (
    events_visible_to,
    evidence_visible_to,
    incidents_visible_to,
    penalties_visible_to,
    plans_visible_to,
)
from config.formats import zone_named
from suppliers.choices import ContactRole
from suppliers.models import NDA, Supplier
from suppliers.selectors import (
    contacts_visible_to,
    incident_suspects,
    may_see_fingerprints,
    may_see_nda,
    person_shown,
    scope_for,
)
from tracing.selectors import incident_traces

from .pdf import render_pdf


@contextmanager
def in_viewers_language(user):
    """The viewer's language and time zone, where the account keeps them (DESIGN 11);
    otherwise the request's."""
    language = getattr(user, "language", "") or translation.get_language()
    zone = getattr(user, "time_zone", "") or None
    with translation.override(language):
        if zone:
            with timezone.override(zone_named(zone)):
                yield
        else:
            yield


@dataclass
class ChainLink:
    """One supplier on the way up from the source to the liable party."""

    supplier: Supplier
    tier: int
    active_ndas: list[NDA]
    is_source: bool
    is_liable: bool


def liability_chain(incident: Incident, user) -> list[ChainLink]:
    """The source supplier and its parents up to the liable party (or the top), each with
    the NDAs active on the day of the leak that the caller may see."""
    links: list[ChainLink] = []
    for supplier in [incident.source_supplier, *incident.source_supplier.ancestors()]:
        ndas = [
            nda
            for nda in supplier.ndas.all()
            if nda.is_active_on(incident.occurred_on) and may_see_nda(user, nda.supplier_id)
        ]
        links.append(
            ChainLink(
                supplier=supplier,
                tier=supplier.tier,
                active_ndas=ndas,
                is_source=supplier.pk == incident.source_supplier_id,
                is_liable=supplier.pk == incident.responsible_supplier_id,
            )
        )
        if supplier.pk == incident.responsible_supplier_id:
            break
    return links


def liability_reason(incident: Incident, nda_shown: NDA | None) -> str:
    """Why the responsible supplier answers for the leak, in one paragraph."""
    day = date_format(incident.occurred_on, "DATE_FORMAT")
    source, liable = incident.source_supplier, incident.responsible_supplier
    if liable is None:
        return _(
            "No confidentiality agreement active on %(day)s reaches the source of the leak: "
            "the incident has no NDA coverage and liability is for staff to decide."
        ) % {"day": day}
    if incident.liability_overridden:
        return _("Liability was decided by the buyer's staff: %(reason)s") % {
            "reason": incident.liability_override_reason or "-"
        }
    if nda_shown is None:
        return _("%(liable)s answers for the leak under a confidentiality agreement.") % {
            "liable": liable.name
        }
    if source is not None and source.pk == liable.pk:
        return _(
            "%(liable)s leaked the material itself and held agreement %(nda)s, active on "
            "%(day)s: it is liable under its own agreement."
        ) % {"liable": liable.name, "nda": nda_shown.reference, "day": day}
    return _(
        "The material leaked through %(source)s, which held no agreement of its own "
        "reaching it on %(day)s. %(liable)s engaged it and held agreement %(nda)s, active "
        "on %(day)s, whose terms cover its sub-vendors: under the liability rule the "
        "nearest party whose agreement reaches the source answers for the leak, so "
        "%(liable)s is liable for its sub-vendor's breach."
    ) % {
        "source": source.name if source else _("an unknown party"),
        "liable": liable.name,
        "nda": nda_shown.reference,
        "day": day,
    }


def _document_date() -> str:
    return date_format(timezone.localdate(), "DATE_FORMAT")


def _incident_for(user, pk: int) -> Incident:
    return get_object_or_404(
        incidents_visible_to(user).select_related(
            "source_supplier", "responsible_supplier", "nda__supplier", "owner"
        ),
        pk=pk,
    )


def _nda_shown(user, nda: NDA | None) -> NDA | None:
    return nda if nda is not None and may_see_nda(user, nda.supplier_id) else None


def _plans(user, **filters):
    return list(
        plans_visible_to(user)
        .filter(**filters)
        .select_related("supplier")
        .prefetch_related(
            Prefetch("actions", queryset=RectificationAction.objects.order_by("due_on", "id"))
        )
        .order_by("created_at", "id")
    )


def _contacts(user, supplier: Supplier) -> list:
    order = [ContactRole.LEGAL, ContactRole.PRIMARY, ContactRole.SECURITY, ContactRole.OTHER]
    contacts = list(contacts_visible_to(user).filter(supplier=supplier))
    contacts.sort(key=lambda c: (order.index(c.role) if c.role in order else 9, c.name))
    return contacts


def _traces(user, incident: Incident) -> list:
    traces = incident_traces(user, incident)
    for trace in traces:
        trace.tracer = person_shown(user, trace.created_by)
    return traces


def dossier_context(user, incident: Incident) -> dict:
    nda = _nda_shown(user, incident.nda)
    penalties = list(
        penalties_visible_to(user)
        .filter(incident=incident)
        .select_related("supplier")
        .prefetch_related("payments")
        .order_by("created_at", "id")
    )
    events = [
        {"event": event, "actor": person_shown(user, event.actor) or _("System")}
        for event in events_visible_to(
            user,
            incident.events.select_related("actor__supplier").order_by("created_at", "id"),
        )
    ]
    if incident.nda_id is not None and nda is None:
        # Their messages name the parent's agreement, which this user may not see.
        for row in events:
            if row["event"].kind in ("created", "liability"):
                row["hide_message"] = True
    evidence = [
        {"file": item, "uploader": person_shown(user, item.uploaded_by)}
        for item in evidence_visible_to(
            user, incident.evidence.select_related("uploaded_by__supplier")
        ).order_by("uploaded_at", "id")
    ]
    staff = may_see_fingerprints(user)
    return {
        "incident": incident,
        "assets": list(incident.assets.order_by("code")),
        "nda": nda,
        "chain": liability_chain(incident, user) if incident.source_supplier_id else [],
        "reason": liability_reason(incident, nda),
        "events": events,
        "evidence": evidence,
        "penalties": penalties,
        "plans": _plans(user, incident=incident),
        "show_suspects": staff,
        "suspects": incident_suspects(incident, fingerprint=incident.leak_fingerprint or None)
        if staff
        else [],
        "traces": _traces(user, incident) if staff else [],
        "buyer": settings.BUYER_NAME,
        "document_date": _document_date(),
        "current_zone": timezone.get_current_timezone_name(),
        "viewer_is_staff": scope_for(user).everything,
    }


def incident_dossier_pdf(user, pk: int) -> tuple[bytes, str]:
    """The dossier of incident `pk` as `user` may read it, and its file name."""
    with in_viewers_language(user):
        incident = _incident_for(user, pk)
        context = dossier_context(user, incident)
        title = _("Incident dossier %(reference)s") % {"reference": incident.reference}
        pdf = render_pdf(
            "documents/dossier.html",
            context,
            running_title=f"{settings.BUYER_NAME} · {title}",
            dated=context["document_date"],
        )
    return pdf, f"dossier-{incident.reference}.pdf"


def notice_context(user, penalty: Penalty) -> dict:
    incident = penalty.incident
    nda = _nda_shown(user, incident.nda)
    plans = _plans(user, incident=incident, supplier=penalty.supplier)
    return {
        "penalty": penalty,
        "incident": incident,
        "assets": list(incident.assets.order_by("code")),
        "supplier": penalty.supplier,
        "contacts": _contacts(user, penalty.supplier),
        "nda": nda,
        "reason": liability_reason(incident, nda),
        "payments": list(penalty.payments.order_by("paid_on", "id")),
        "plans": plans,
        "buyer": settings.BUYER_NAME,
        "document_date": _document_date(),
        "today": timezone.localdate(),
    }


def penalty_notice_pdf(user, pk: int) -> tuple[bytes, str]:
    """The breach notice of penalty `pk` to its supplier, as `user` may read it."""
    with in_viewers_language(user):
        penalty = get_object_or_404(
            penalties_visible_to(user).select_related(
                "supplier", "incident__source_supplier", "incident__nda__supplier"
            ),
            pk=pk,
        )
        if not incidents_visible_to(user).filter(pk=penalty.incident_id).exists():
            raise Http404
        context = notice_context(user, penalty)
        title = _("Notice of breach %(reference)s") % {"reference": penalty.incident.reference}
        pdf = render_pdf(
            "documents/notice.html",
            context,
            running_title=f"{settings.BUYER_NAME} · {title}",
            dated=context["document_date"],
        )
    return pdf, f"notice-{penalty.incident.reference}-{penalty.pk}.pdf"
