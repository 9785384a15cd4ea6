"""The workflows of DESIGN section 4: incidents, penalties, rectification plans and
actions. Every status change happens here and only here: one transaction, the row
re-read with `select_for_update`, the transition map and the actor's right checked, a
timeline event written. (On SQLite, row locks are no-ops, but the connection opens
every transaction IMMEDIATE, which serialises writers just the same.)"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict, TransitionNotAllowed
from config.uploads import ACTIVE_MARKUP as _ACTIVE_MARKUP
from config.uploads import EVIDENCE_TYPES, sniff_content_type
from config.uploads import MARKUP_OVERLAP as _MARKUP_OVERLAP
from config.uploads import check_upload_name as _check_evidence_name
from config.uploads import check_upload_type as _check_evidence_type
from config.uploads import clean_upload_name as clean_evidence_name
from config.uploads import name_extensions as _name_extensions
from notifications.choices import EventType
from notifications.services import announce, announce_penalty, announce_plan
from suppliers.choices import Role
from suppliers.models import NDA, ConfidentialAsset, Supplier, User
from suppliers.selectors import resolve_liability, scope_for
from suppliers.services import require_writer, save_checked

from .choices import (
    AMOUNT_EDITABLE_PENALTY_STATUSES,
    INCIDENT_TRANSITIONS,
    PENALTY_TRANSITIONS,
    PLAN_AWAITING_SUPPLIER,
    PLAN_TRANSITIONS,
    ActionStatus,
    EventKind,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    ReviewKind,
    ReviewState,
    Visibility,
    status_word,
)
from .models import (
    Evidence,
    Incident,
    IncidentEvent,
    IncidentSequence,
    Payment,
    Penalty,
    PenaltyReview,
    RectificationAction,
    RectificationPlan,
)
from .selectors import (
    action_delete_refusal,
    action_edit_refusal,
    action_evidence_refusal,
    close_blockers,
    fingerprint_finding,
    penalty_acknowledge_conflict,
    penalty_acknowledge_refusal,
    penalty_cut_refusal,
    penalty_dispute_refusal,
    penalty_review_kind,
)

DEFAULT_RECTIFICATION_DAYS = 30


# --- Helpers ---------------------------------------------------------------------------


def _event(
    *,
    incident: Incident,
    kind: str,
    actor: User | None,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    penalty: Penalty | None = None,
    plan: RectificationPlan | None = None,
    visibility: str | None = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=actor,
        message=message,
        from_status=from_status,
        to_status=to_status,
        penalty=penalty,
        plan=plan,
        visibility=_event_visibility(kind, actor, visibility),
    )


# Written by staff and kept from supplier users unless shared: notes (staff's own, and
# the record of an edit), and the fingerprint found on a leaked copy (never shared).
INTERNAL_BY_DEFAULT = frozenset({EventKind.NOTE, EventKind.FINGERPRINT})
NEVER_SHARED = frozenset({EventKind.FINGERPRINT})


def _written_visibility(actor: User | None, asked: str | None, *, default: str) -> str:
    """What a supplier user writes is shared, whatever it asks; staff choose."""
    if actor is not None and actor.role == Role.SUPPLIER:
        return Visibility.SHARED
    if not asked:
        return default
    if asked not in Visibility.values:
        raise ValidationError({"visibility": _("Choose internal or shared.")})
    return asked


def _event_visibility(kind: str, actor: User | None, asked: str | None) -> str:
    """Staff notes are internal and the workflow's events shared unless staff say
    otherwise; a fingerprint is never shared."""
    if kind in NEVER_SHARED:
        return Visibility.INTERNAL
    default = Visibility.INTERNAL if kind in INTERNAL_BY_DEFAULT else Visibility.SHARED
    return _written_visibility(actor, asked, default=default)


def _is_supplier_party(actor: User, supplier_id: int) -> bool:
    return actor.role == Role.SUPPLIER and actor.is_active and actor.supplier_id == supplier_id


# The refusals of a transition, one whole sentence per workflow so that each language
# words it its own way. "one of" lists the codes the API takes (never translated); the
# statuses of a refused move are named as words (status_word: the code in English).
NOT_A_STATUS = {
    "incident": _("'%(to)s' is not a incident status (one of: %(known)s)."),
    "penalty": _("'%(to)s' is not a penalty status (one of: %(known)s)."),
    "rectification plan": _("'%(to)s' is not a rectification plan status (one of: %(known)s)."),
}
CANNOT_GO = {
    "incident": _(
        "An incident cannot go from %(current)s to %(to)s (allowed from %(current)s: %(allowed)s)."
    ),
    "penalty": _(
        "A penalty cannot go from %(current)s to %(to)s (allowed from %(current)s: %(allowed)s)."
    ),
    "rectification plan": _(
        "A rectification plan cannot go from %(current)s to %(to)s (allowed from "
        "%(current)s: %(allowed)s)."
    ),
}


def _words(codes) -> str:
    """Statuses named in a sentence, listed as the language lists them."""
    words = [status_word(code) for code in sorted(codes)]
    return pgettext("list separator", ", ").join(words) or gettext("none")


def _refuse_unless_allowed(current: str, to: str, transitions: dict, label: str) -> None:
    if to not in transitions:
        known = ", ".join(sorted(transitions))
        raise ValidationError({"to": NOT_A_STATUS[label] % {"to": to, "known": known}})
    if to not in transitions[current]:
        raise TransitionNotAllowed(
            CANNOT_GO[label]
            % {
                "current": status_word(current),
                "to": status_word(to),
                "allowed": _words(transitions[current]),
            }
        )


def _save_by(actor: User | None, instance) -> None:
    """save_checked, with `actor` as the author of the change history's record
    (django-simple-history), whether the service was called by a page, the API, a task
    or the admin; without it only requests through the middleware had an author."""
    if actor is not None:
        instance._history_user = actor
    save_checked(instance)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _to_decimal(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationError({field: _("Enter a decimal amount.")}) from exc
    if not amount.is_finite():
        raise ValidationError({field: _("Enter a finite decimal amount.")})
    if amount <= 0:
        raise ValidationError({field: _("The amount must be positive.")})
    try:
        quantized = amount.quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        # Beyond the decimal context's precision (e.g. "1e30"): too large, not a 500.
        raise ValidationError({field: _("The amount is too large.")}) from exc
    if amount != quantized:
        raise ValidationError({field: _("At most two decimal places.")})
    return quantized


# --- Incidents -------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    """INC-<year>-<n>, numbered per year from a locked counter row (no gaps from races)."""
    counter = IncidentSequence.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = IncidentSequence.objects.create(year=year, last_number=0)
        except IntegrityError:
            counter = IncidentSequence.objects.select_for_update().get(year=year)
    IncidentSequence.objects.filter(pk=counter.pk).update(last_number=models.F("last_number") + 1)
    counter.refresh_from_db()
    return f"INC-{year}-{counter.last_number:04d}"


def _apply_liability(incident: Incident) -> None:
    liability = resolve_liability(incident.source_supplier, on=incident.occurred_on)
    incident.responsible_supplier = liability.responsible_supplier if liability else None
    incident.nda = liability.nda if liability else None
    incident.no_nda_coverage = liability is None


@transaction.atomic
def incident_create(
    *,
    actor: User,
    title: str,
    occurred_on: date,
    discovered_on: date,
    channel: str,
    severity: str = "medium",
    description: str = "",
    source_supplier: Supplier | None = None,
    assets: list[ConfidentialAsset] | None = None,
    owner: User | None = None,
    leak_fingerprint: str = "",
) -> Incident:
    """Log a leak. Liability is resolved from the source supplier by the liability rule;
    with no NDA reaching the source, the incident is flagged "no NDA coverage"."""
    require_writer(actor)
    if owner is not None and not owner.can_write:
        raise ValidationError({"owner": OWNER_NOT_STAFF})
    incident = Incident(
        title=title,
        description=description,
        occurred_on=occurred_on,
        discovered_on=discovered_on,
        channel=channel,
        severity=severity,
        source_supplier=source_supplier,
        owner=owner or actor,
        leak_fingerprint=(leak_fingerprint or "").strip().lower(),
    )
    incident.reference = "pending"
    incident.full_clean(exclude=["reference"])
    _apply_liability(incident)
    incident.reference = _next_reference(incident.created_at.year)
    _save_by(actor, incident)
    if assets:
        incident.assets.set(assets)
    coverage = (
        gettext("Liable: %(supplier)s under %(nda)s.")
        % {"supplier": incident.responsible_supplier, "nda": incident.nda}
        if incident.responsible_supplier
        else gettext("No NDA coverage: staff must decide liability.")
    )
    _event(
        incident=incident,
        kind=EventKind.CREATED,
        actor=actor,
        message=coverage,
        to_status=incident.status,
    )
    return incident


OWNER_NOT_STAFF = _("The owner must be a compliance staff member.")
NOT_CHANGED_HERE = _("This field cannot be changed here.")

# Set by the liability rule, the override service and the workflow; never by a form.
INCIDENT_READ_ONLY_FIELDS = (
    "reference",
    "status",
    "responsible_supplier",
    "nda",
    "no_nda_coverage",
    "liability_overridden",
    "liability_override_reason",
    "confirmed_at",
    "created_at",
    "updated_at",
)

INCIDENT_EDITABLE = {
    "title",
    "description",
    "occurred_on",
    "discovered_on",
    "channel",
    "severity",
    "source_supplier",
    "owner",
    "leak_fingerprint",
}


@transaction.atomic
def incident_update(
    *, actor: User, incident: Incident, assets: list | None = None, **fields: Any
) -> Incident:
    """Edit an incident's facts. Changing the source or date re-resolves liability
    unless staff overrode it, and a change of liability is written on the timeline (staff
    only: it may name a parent's agreement); once confirmed, the facts behind the penalty
    are frozen. The timeline note says which field went from what to what."""
    require_writer(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    unknown = set(fields) - INCIDENT_EDITABLE
    if unknown:
        raise ValidationError({name: NOT_CHANGED_HERE for name in unknown})
    liability_facts = {"source_supplier", "occurred_on"} & set(fields)
    if incident.status not in (IncidentStatus.REPORTED, IncidentStatus.INVESTIGATING) and (
        liability_facts or assets is not None
    ):
        raise TransitionNotAllowed(
            _("The source, dates and assets of a %(status)s incident cannot change.")
            % {"status": status_word(incident.status)}
        )
    owner = fields.get("owner")
    if owner is not None and not owner.can_write:
        # As on creation: reminders escalate to the owner, who must be compliance staff.
        raise ValidationError({"owner": OWNER_NOT_STAFF})
    if "leak_fingerprint" in fields:
        fields["leak_fingerprint"] = (fields["leak_fingerprint"] or "").strip().lower()
    changes = []
    for name, value in fields.items():
        old = getattr(incident, name)
        if old != value:
            changes.append(_fact_change(name, old, value))
        setattr(incident, name, value)
    liable_before = (incident.responsible_supplier, incident.nda)
    if liability_facts and not incident.liability_overridden:
        _apply_liability(incident)
    _save_by(actor, incident)
    if assets is not None:
        before = set(incident.assets.values_list("pk", flat=True))
        if before != {a.pk for a in assets}:
            codes = ", ".join(sorted(a.code for a in assets)) or gettext("none")
            changes.append(gettext("assets: %(codes)s") % {"codes": codes})
        incident.assets.set(assets)
    if changes:
        _event(
            incident=incident,
            kind=EventKind.NOTE,
            actor=actor,
            message=gettext("Changed %(changes)s.")
            % {"changes": pgettext("list of changes", "; ").join(changes)},
        )
    if (incident.responsible_supplier, incident.nda) != liable_before:
        was = _liability_text(*liable_before)
        now = _liability_text(incident.responsible_supplier, incident.nda)
        _event(
            incident=incident,
            kind=EventKind.LIABILITY,
            actor=actor,
            message=gettext("Liability re-resolved after the facts changed: %(now)s (was %(was)s).")
            % {"now": now, "was": was},
            visibility=Visibility.INTERNAL,
        )
    return incident


def _liability_text(responsible: Supplier | None, nda: NDA | None) -> str:
    if responsible is None:
        return gettext("no NDA coverage")
    if nda:
        return gettext("%(supplier)s liable under %(nda)s") % {
            "supplier": responsible,
            "nda": nda.reference,
        }
    return gettext("%(supplier)s liable") % {"supplier": responsible}


def _fact_change(name: str, old: Any, new: Any) -> str:
    """`severity: high -> critical`; long text is named, not quoted."""
    if name == "description":
        return str(FACT_NAMES["description"])

    def shown(value: Any) -> str:
        if value is None or value == "":
            return gettext("none")
        return str(value)

    label = FACT_NAMES.get(name) or name.replace("_", " ")
    return f"{label}: {shown(old)} -> {shown(new)}"


# The facts a timeline note names when they change (incident_update, action_update).
FACT_NAMES = {
    "title": pgettext_lazy("changed fact", "title"),
    "description": pgettext_lazy("changed fact", "description"),
    "occurred_on": pgettext_lazy("changed fact", "occurred on"),
    "discovered_on": pgettext_lazy("changed fact", "discovered on"),
    "channel": pgettext_lazy("changed fact", "channel"),
    "severity": pgettext_lazy("changed fact", "severity"),
    "source_supplier": pgettext_lazy("changed fact", "source supplier"),
    "owner": pgettext_lazy("changed fact", "owner"),
    "leak_fingerprint": pgettext_lazy("changed fact", "leak fingerprint"),
    "due_on": pgettext_lazy("changed fact", "due on"),
    "evidence_note": pgettext_lazy("changed fact", "evidence note"),
}


@transaction.atomic
def incident_set_liability(
    *,
    actor: User,
    incident: Incident,
    responsible_supplier: Supplier | None,
    nda: NDA | None = None,
    reason: str,
) -> Incident:
    """Staff override of the liability rule, with a reason, before confirmation."""
    require_writer(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status not in (IncidentStatus.REPORTED, IncidentStatus.INVESTIGATING):
        raise TransitionNotAllowed(_("Liability can only be decided before confirmation."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason for deciding liability by hand.")})
    if nda is not None and nda.supplier_id != getattr(responsible_supplier, "pk", None):
        raise ValidationError({"nda": _("The NDA must belong to the responsible supplier.")})
    incident.responsible_supplier = responsible_supplier
    incident.nda = nda
    incident.no_nda_coverage = nda is None
    incident.liability_overridden = True
    incident.liability_override_reason = reason.strip()
    _save_by(actor, incident)
    _event(
        incident=incident,
        kind=EventKind.LIABILITY,
        actor=actor,
        message=_liability_set_text(responsible_supplier, nda, reason.strip()),
    )
    return incident


def _liability_set_text(responsible: Supplier | None, nda: NDA | None, reason: str) -> str:
    values = {"supplier": responsible or gettext("nobody"), "nda": nda, "reason": reason}
    if nda:
        return gettext("Liability set to %(supplier)s under %(nda)s: %(reason)s") % values
    return gettext("Liability set to %(supplier)s: %(reason)s") % values


@dataclass
class ConfirmationResult:
    penalty: Penalty | None
    plan: RectificationPlan


def _check_confirmable(incident: Incident) -> None:
    # Checked before the status is set, so the refusal is this clear 409 rather than the
    # model's constraint message.
    if incident.responsible_supplier_id is None:
        raise TransitionNotAllowed(CONFIRM_NEEDS_RESPONSIBLE)


CONFIRM_NEEDS_RESPONSIBLE = _(
    "Confirming needs a responsible supplier: no NDA covers the source, so staff "
    "must decide liability first."
)


def _confirm(incident: Incident, actor: User, today: date) -> ConfirmationResult:
    _check_confirmable(incident)
    nda = incident.nda
    penalty = None
    if nda is not None:
        penalty = Penalty(
            incident=incident,
            supplier=incident.responsible_supplier,
            amount=nda.penalty_amount,
            currency=nda.penalty_currency,
            proposed_on=today,
        )
        _save_by(actor, penalty)
        _event(
            incident=incident,
            kind=EventKind.PENALTY,
            actor=actor,
            penalty=penalty,
            to_status=penalty.status,
            message=gettext("Proposed penalty %(amount)s %(currency)s under %(nda)s.")
            % {"amount": penalty.amount, "currency": penalty.currency, "nda": nda},
        )
    days = nda.rectification_days if nda is not None else DEFAULT_RECTIFICATION_DAYS
    plan = RectificationPlan(
        incident=incident,
        supplier=incident.responsible_supplier,
        requested_on=today,
        due_on=today + timedelta(days=days),
    )
    _save_by(actor, plan)
    _event(
        incident=incident,
        kind=EventKind.PLAN,
        actor=actor,
        plan=plan,
        to_status=plan.status,
        message=gettext("Rectification plan requested from %(supplier)s, due %(due_on)s.")
        % {"supplier": plan.supplier, "due_on": plan.due_on},
    )
    return ConfirmationResult(penalty=penalty, plan=plan)


def _check_closable(incident: Incident) -> None:
    blockers = close_blockers(incident.penalties.all(), incident.rectification_plans.all())
    if blockers:
        raise TransitionNotAllowed(" ".join(blockers))


@transaction.atomic
def incident_transition(
    *, actor: User, incident: Incident, to: str, note: str = "", today: date | None = None
) -> Incident:
    """reported -> investigating -> confirmed | dismissed; confirmed -> resolved -> closed.
    Confirming creates a proposed penalty (the NDA clause) and a requested plan due
    rectification_days later; closing needs penalties settled and plans verified."""
    require_writer(actor)
    today = _today(today)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    current = incident.status
    _refuse_unless_allowed(current, to, INCIDENT_TRANSITIONS, "incident")
    if to == IncidentStatus.CONFIRMED:
        _check_confirmable(incident)
    if to == IncidentStatus.CLOSED:
        _check_closable(incident)
    if to == IncidentStatus.CONFIRMED and incident.responsible_supplier_id is None:
        # Checked before saving, so the refusal is this clear 409, not the constraint's 400.
        raise TransitionNotAllowed(CONFIRM_NEEDS_RESPONSIBLE)
    incident.status = to
    if to == IncidentStatus.CONFIRMED:
        incident.confirmed_at = timezone.now()
    _save_by(actor, incident)
    _event(
        incident=incident,
        kind=EventKind.TRANSITION,
        actor=actor,
        from_status=current,
        to_status=to,
        message=note,
    )
    if to == IncidentStatus.CONFIRMED:
        _confirm(incident, actor, today)
        announce(EventType.INCIDENT_CONFIRMED, actor=actor, incident=incident)
    return incident


@transaction.atomic
def incident_add_note(
    *, actor: User, incident: Incident, message: str, visibility: str | None = None
) -> IncidentEvent:
    """A note on the timeline, by staff or by a supplier user who may see the incident.
    Staff notes are internal unless `visibility` is shared; a supplier user's note is
    always shared, whatever it asks."""
    _require_incident_participant(actor, incident)
    if not (message or "").strip():
        raise ValidationError({"message": _("A note cannot be empty.")})
    return _event(
        incident=incident,
        kind=EventKind.NOTE,
        actor=actor,
        message=message.strip(),
        visibility=visibility,
    )


@transaction.atomic
def incident_report_fingerprint(*, actor: User, incident: Incident, fingerprint: str) -> Incident:
    """Record the fingerprint found on a leaked copy. Its disclosure is the prime suspect
    when the incident names the disclosure's asset; a disclosure of another asset is
    recorded and said so (not a suspect); a fingerprint that matches no disclosure is
    refused, saying so (a misread token would otherwise sit on the incident unexplained)."""
    require_writer(actor)
    fingerprint = (fingerprint or "").strip().lower()
    if not fingerprint:
        raise ValidationError({"fingerprint": _("Give the fingerprint found on the leaked copy.")})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    finding = fingerprint_finding(incident, fingerprint)
    if finding.disclosure is None:
        raise ValidationError(
            {
                "fingerprint": format_lazy(
                    "{} {}",
                    finding.text(),
                    _("Check the token read from the leaked copy; nothing was recorded."),
                )
            }
        )
    incident.leak_fingerprint = fingerprint
    _save_by(actor, incident)
    _event(
        incident=incident,
        kind=EventKind.FINGERPRINT,
        actor=actor,
        message=gettext("Fingerprint %(fingerprint)s found on a leaked copy. %(finding)s")
        % {"fingerprint": fingerprint, "finding": finding.text()},
    )
    return incident


@transaction.atomic
def incident_record_trace_match(
    *, incident: Incident, actor: User | None, fingerprint: str, summary: str
) -> IncidentEvent:
    """A trace of a leaked copy matched a disclosure: its fingerprint becomes the
    incident's leak fingerprint (the suspects list names it prime suspect, as when staff
    report one by hand) and the timeline says so in a fingerprint event, which supplier
    users never see (events_visible_to): it names the disclosure whose mark was read."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.leak_fingerprint = fingerprint
    save_checked(incident)
    return _event(
        incident=incident,
        kind=EventKind.FINGERPRINT,
        actor=actor,
        message=summary,
        visibility=Visibility.INTERNAL,
    )


def _require_incident_participant(actor: User, incident: Incident) -> None:
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("Sign in first."))
    if actor.can_write:
        return
    if actor.role == Role.SUPPLIER:
        world = scope_for(actor).world_ids
        if incident.source_supplier_id in world or incident.responsible_supplier_id in world:
            return
    raise PermissionDenied(_("You may not add to this incident."))


# --- Evidence --------------------------------------------------------------------------
# Evidence follows the upload rules every stored file shares (config.uploads): typed from
# its bytes, active content refused, served only as a sandboxed attachment.


def evidence_download_name(evidence: Evidence) -> str:
    """`evidence-<id>-<sha256 prefix>.<ext>`: safe in any header and file system, with
    the extension of its checked type (the upload's own when it fits that type)."""
    extensions = EVIDENCE_TYPES.get(evidence.content_type, (".bin",))
    own = _name_extensions(evidence.original_name)[-1:]
    extension = f".{own[0]}" if own and f".{own[0]}" in extensions else extensions[0]
    return f"evidence-{evidence.pk}-{evidence.sha256[:12]}{extension}"


def evidence_file_response(evidence: Evidence) -> FileResponse:
    """The one way evidence leaves the server, through the API and the pages alike: an
    attachment of type application/octet-stream under a generated name, never sniffed
    (nosniff) and sandboxed should anything render it. FileNotFoundError when the stored
    file is missing."""
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence_download_name(evidence),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Evidence-SHA256"] = evidence.sha256
    return response


@transaction.atomic
def incident_add_evidence(
    *,
    actor: User,
    incident: Incident,
    upload: UploadedFile,
    description: str = "",
    visibility: str | None = None,
) -> Evidence:
    """Attach a file: size-limited, typed from its content and refused if active (by
    its bytes or its name), stored under a generated name with its sha256. Staff files
    are internal unless `visibility` is shared; a supplier user's are always shared."""
    _require_incident_participant(actor, incident)
    return _store_evidence(
        actor=actor,
        incident=incident,
        upload=upload,
        description=description,
        visibility=visibility,
    )


@transaction.atomic
def action_add_evidence(
    *,
    actor: User,
    action: RectificationAction,
    upload: UploadedFile,
    description: str = "",
    visibility: str | None = None,
) -> Evidence:
    """Attach a file to a rectification action as evidence, by the plan's supplier or
    staff, under the rules of incident evidence (it is the incident's evidence too).
    A supplier user's file is shared (its supplier and staff see it); staff choose."""
    action = (
        RectificationAction.objects.select_related("plan__incident")
        .select_for_update(of=("self",))
        .get(pk=action.pk)
    )
    refusal = action_evidence_refusal(actor, action, action.plan)
    if refusal:
        raise PermissionDenied(refusal)
    return _store_evidence(
        actor=actor,
        incident=action.plan.incident,
        upload=upload,
        description=description,
        visibility=visibility,
        action=action,
    )


def _store_evidence(
    *,
    actor: User,
    incident: Incident,
    upload: UploadedFile,
    description: str,
    visibility: str | None,
    action: RectificationAction | None = None,
) -> Evidence:
    visibility = _written_visibility(actor, visibility, default=Visibility.INTERNAL)
    size = upload.size or 0
    if size <= 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(limit)s bytes.")
                % {"limit": settings.EVIDENCE_MAX_BYTES}
            }
        )
    original_name = clean_evidence_name(upload.name)
    _check_evidence_name(original_name)
    upload.seek(0)
    head = upload.read(8192)
    content_type = sniff_content_type(head)
    _check_evidence_type(content_type)
    if content_type == "text/plain" and _name_extensions(original_name)[-1:] == ["csv"]:
        content_type = "text/csv"
    text = content_type.startswith("text/")
    digest = hashlib.sha256()
    upload.seek(0)
    tail = b""
    for chunk in upload.chunks():
        digest.update(chunk)
        if text:
            # Markup past the sniffed head is refused too.
            if _ACTIVE_MARKUP.search(tail + chunk):
                _check_evidence_type("text/html")
            tail = chunk[-_MARKUP_OVERLAP:]
    upload.seek(0)
    evidence = Evidence(
        incident=incident,
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        description=description[:500],
        uploaded_by=actor,
        visibility=visibility,
        action=action,
    )
    evidence.file.save("evidence", upload, save=False)
    save_checked(evidence)
    values = {
        "name": evidence.original_name,
        "sha": evidence.sha256[:12],
        "action": action.description[:60] if action else "",
    }
    if action:
        text = gettext("Evidence %(name)s (%(sha)s) added to action “%(action)s”.")
    else:
        text = gettext("Evidence %(name)s (%(sha)s) added.")
    _event(
        incident=incident,
        kind=EventKind.EVIDENCE,
        actor=actor,
        plan=action.plan if action else None,
        message=text % values,
        visibility=evidence.visibility,
    )
    return evidence


# --- Penalties -------------------------------------------------------------------------


@transaction.atomic
def penalty_create(
    *,
    actor: User,
    incident: Incident,
    amount: Any,
    currency: str,
    due_on: date | None = None,
    today: date | None = None,
) -> Penalty:
    """A penalty added by hand (e.g. when liability was decided without an NDA clause)."""
    require_writer(actor)
    if incident.responsible_supplier_id is None:
        raise TransitionNotAllowed(_("The incident has no responsible supplier to penalise."))
    if incident.status not in (IncidentStatus.CONFIRMED, IncidentStatus.RESOLVED):
        raise TransitionNotAllowed(_("Penalties are added to confirmed incidents."))
    penalty = Penalty(
        incident=incident,
        supplier_id=incident.responsible_supplier_id,
        amount=_to_decimal(amount, "amount"),
        currency=(currency or "").upper(),
        due_on=due_on,
        proposed_on=_today(today),
    )
    _save_by(actor, penalty)
    _event(
        incident=incident,
        kind=EventKind.PENALTY,
        actor=actor,
        penalty=penalty,
        to_status=penalty.status,
        message=gettext("Penalty %(amount)s %(currency)s added.")
        % {"amount": penalty.amount, "currency": penalty.currency},
    )
    return penalty


# --- Four eyes on penalties ------------------------------------------------------------
# Issuing a penalty below its NDA clause, reducing one and waiving one cut the claim: the
# first staff user's act records a PenaltyReview and changes nothing else; a second staff
# user approves it (the act is carried out then, in that user's name) or rejects it.


@dataclass(frozen=True)
class ReviewRequested:
    """What a service returns when an act waits for a second staff user."""

    review: PenaltyReview


def _request_or_approve(
    *,
    actor: User,
    penalty: Penalty,
    kind: str,
    amount: Decimal | None,
    to_status: str = "",
    note: str,
) -> PenaltyReview | None:
    """The four-eyes gate. None when the act may go ahead now (another staff user asked
    for exactly this, and the request is approved by this act); otherwise the pending
    review this act created."""
    pending = (
        PenaltyReview.objects.select_for_update()
        .filter(penalty=penalty, state=ReviewState.PENDING)
        .first()
    )
    if pending is None:
        review = PenaltyReview(
            penalty=penalty,
            kind=kind,
            amount=amount,
            to_status=to_status,
            note=note,
            requested_by=actor,
        )
        save_checked(review)
        values = {"act": review.act, "amount": amount, "currency": penalty.currency}
        if amount is not None:
            asked = gettext(
                "Asked for the %(act)s to %(amount)s %(currency)s; it waits for a second "
                "staff user."
            )
        else:
            asked = gettext("Asked for the %(act)s; it waits for a second staff user.")
        _event(
            incident=penalty.incident,
            kind=EventKind.PENALTY,
            actor=actor,
            penalty=penalty,
            message=f"{asked % values} {note}".strip(),
        )
        announce(EventType.REVIEW_REQUESTED, actor=actor, review=review)  # the second reviewers
        return review
    if pending.requested_by_id == actor.pk:
        raise Conflict(
            _("You asked for this already: another staff user must approve it (four eyes)."),
            code="awaiting_second_reviewer",
        )
    if (pending.kind, pending.amount, pending.to_status) != (kind, amount, to_status):
        raise Conflict(
            _(
                "Another change of this penalty waits for review (%(kind)s): approve or "
                "reject it first."
            )
            % {"kind": pending.get_kind_display()},
            code="other_review_pending",
        )
    _decide(pending, actor=actor, approve=True, note=note)
    return None


def _decide(review: PenaltyReview, *, actor: User, approve: bool, note: str) -> None:
    review.state = ReviewState.APPROVED if approve else ReviewState.REJECTED
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.decision_note = note
    save_checked(review)


@transaction.atomic
def penalty_review_decide(
    *, actor: User, review: PenaltyReview, approve: bool, note: str = ""
) -> Penalty | PenaltyReview:
    """A second staff user decides a pending cut: approving carries the act out (in this
    user's name), rejecting leaves the penalty as it is. The requester cannot decide."""
    require_writer(actor)
    review = PenaltyReview.objects.select_for_update().get(pk=review.pk)
    if review.state != ReviewState.PENDING:
        raise TransitionNotAllowed(
            _("This request was %(state)s already.") % {"state": status_word(review.state)}
        )
    if review.requested_by_id == actor.pk:
        raise PermissionDenied(_("Four eyes: someone other than the requester decides."))
    if not approve:
        if not note.strip():
            raise ValidationError({"note": _("Say why the request is rejected.")})
        _decide(review, actor=actor, approve=False, note=note)
        _event(
            incident=review.penalty.incident,
            kind=EventKind.PENALTY,
            actor=actor,
            penalty=review.penalty,
            message=gettext("Rejected the %(act)s: %(note)s") % {"act": review.act, "note": note},
        )
        return review
    if review.to_status:
        return penalty_transition(
            actor=actor,
            penalty=review.penalty,
            to=review.to_status,
            amount=review.amount,
            note=note,
        )
    return penalty_update(actor=actor, penalty=review.penalty, amount=review.amount)


@transaction.atomic
def penalty_update(
    *,
    actor: User,
    penalty: Penalty,
    amount: Any = None,
    due_on: date | None = None,
    currency: str | None = None,
) -> Penalty | ReviewRequested:
    """Change the amount (only while proposed or disputed; a disputed one only down) or
    the due date. A reduction needs a second staff user (four eyes): the first asks, the
    second's same change (or approval) carries it out; never the issuer's."""
    require_writer(actor)
    penalty = (
        Penalty.objects.select_for_update(of=("self",))
        .select_related("incident__nda")
        .get(pk=penalty.pk)
    )
    changes = []
    was_amount = penalty.amount
    new_amount = None
    if amount is not None:
        new_amount = _to_decimal(amount, "amount")
        if new_amount == penalty.amount:
            new_amount = None
    if new_amount is not None:
        if penalty.status not in AMOUNT_EDITABLE_PENALTY_STATUSES:
            raise TransitionNotAllowed(
                _("The amount of a %(status)s penalty cannot change.")
                % {"status": status_word(penalty.status)}
            )
        if penalty.status == PenaltyStatus.DISPUTED and new_amount > penalty.amount:
            raise ValidationError({"amount": _("A disputed penalty can only be reduced.")})
        if new_amount < penalty.paid_amount:
            raise ValidationError({"amount": BELOW_PAID})
        if new_amount < penalty.amount:
            refusal = penalty_cut_refusal(actor, penalty, ReviewKind.REDUCTION)
            if refusal:
                raise PermissionDenied(refusal)
            review = _request_or_approve(
                actor=actor,
                penalty=penalty,
                kind=ReviewKind.REDUCTION,
                amount=new_amount,
                note="",
            )
            if review is not None:
                return ReviewRequested(review)
        changes.append(
            gettext("amount %(was)s -> %(now)s") % {"was": penalty.amount, "now": new_amount}
        )
        penalty.amount = new_amount
    if currency is not None and currency.upper() != penalty.currency:
        if penalty.status != PenaltyStatus.PROPOSED:
            raise TransitionNotAllowed(_("The currency can change only while proposed."))
        changes.append(
            gettext("currency %(was)s -> %(now)s")
            % {"was": penalty.currency, "now": currency.upper()}
        )
        penalty.currency = currency.upper()
    if due_on is not None and due_on != penalty.due_on:
        changes.append(gettext("due %(was)s -> %(now)s") % {"was": penalty.due_on, "now": due_on})
        penalty.due_on = due_on
    _save_by(actor, penalty)
    if changes:
        _event(
            incident=penalty.incident,
            kind=EventKind.PENALTY,
            actor=actor,
            penalty=penalty,
            message=gettext("Penalty changed: %(changes)s.")
            % {"changes": pgettext("list of changes", "; ").join(changes)},
        )
    announce_penalty(actor=actor, penalty=penalty, was_status=penalty.status, was_amount=was_amount)
    return penalty


@transaction.atomic
def penalty_transition(
    *,
    actor: User,
    penalty: Penalty,
    to: str,
    note: str = "",
    amount: Any = None,
    today: date | None = None,
) -> Penalty | ReviewRequested:
    """proposed -> issued | waived; issued -> disputed (the supplier); disputed -> issued
    (upheld, possibly reduced with `amount`, never raised) | waived. `paid` follows
    payments only. Four eyes: a waiver, a reduction and an issue below the NDA clause
    need a second staff user (the first asks, the second's same act carries it out), and
    are never made by the issuer."""
    penalty = (
        Penalty.objects.select_for_update(of=("self",))
        .select_related("incident__nda")
        .get(pk=penalty.pk)
    )
    current = penalty.status
    if to == PenaltyStatus.PAID:
        raise TransitionNotAllowed(_("A penalty becomes paid when payments reach its amount."))
    _refuse_unless_allowed(current, to, PENALTY_TRANSITIONS, "penalty")
    if to == PenaltyStatus.DISPUTED:
        refusal = penalty_dispute_refusal(actor, penalty)
        if refusal:
            raise PermissionDenied(refusal)
        if not note.strip():
            raise ValidationError({"note": _("Say why the penalty is disputed.")})
    else:
        require_writer(actor)
    if to == PenaltyStatus.WAIVED:
        refusal = penalty_cut_refusal(actor, penalty, ReviewKind.WAIVER)
        if refusal:
            raise PermissionDenied(refusal)
    message = note
    new_amount = None
    if amount is not None:
        if to != PenaltyStatus.ISSUED:
            raise ValidationError({"amount": _("The amount can change only on issue or appeal.")})
        new_amount = _to_decimal(amount, "amount")
        if current == PenaltyStatus.DISPUTED and new_amount != penalty.amount:
            if new_amount > penalty.amount:
                raise ValidationError({"amount": _("An upheld penalty cannot be increased.")})
            refusal = penalty_cut_refusal(actor, penalty, ReviewKind.REDUCTION)
            if refusal:
                raise PermissionDenied(refusal)
            if new_amount < penalty.paid_amount:
                raise ValidationError({"amount": BELOW_PAID})
            reduced = gettext("Reduced from %(was)s to %(now)s.") % {
                "was": penalty.amount,
                "now": new_amount,
            }
            message = f"{reduced} {note}".strip()
    kind = penalty_review_kind(penalty, to=to, amount=new_amount)
    if kind is not None:
        review = _request_or_approve(
            actor=actor, penalty=penalty, kind=kind, amount=new_amount, to_status=to, note=note
        )
        if review is not None:
            return ReviewRequested(review)
    was_amount = penalty.amount
    if new_amount is not None:
        penalty.amount = new_amount
    penalty.status = to
    if to == PenaltyStatus.ISSUED and current == PenaltyStatus.PROPOSED:
        penalty.issued_by = actor
        penalty.issued_at = timezone.now()
        if penalty.due_on is None:
            penalty.due_on = _today(today) + timedelta(days=30)
    if to == PenaltyStatus.ISSUED and penalty.paid_amount == penalty.amount:
        # Upheld at a reduced amount that is already fully paid.
        penalty.status = PenaltyStatus.PAID
    _save_by(actor, penalty)
    _event(
        incident=penalty.incident,
        kind=EventKind.PENALTY,
        actor=actor,
        penalty=penalty,
        from_status=current,
        to_status=penalty.status,
        message=message,
    )
    announce_penalty(actor=actor, penalty=penalty, was_status=current, was_amount=was_amount)
    return penalty


@transaction.atomic
def penalty_acknowledge(*, actor: User, penalty: Penalty, note: str = "") -> IncidentEvent:
    """The penalised supplier acknowledges an issued penalty, once (no status change): who
    and when are kept on the penalty (and its history); a second acknowledgement is
    refused (409) and writes nothing."""
    penalty = (
        Penalty.objects.select_for_update(of=("self",))
        .select_related("incident")
        .get(pk=penalty.pk)
    )
    refusal = penalty_acknowledge_refusal(actor, penalty)
    if refusal:
        raise PermissionDenied(refusal)
    conflict = penalty_acknowledge_conflict(penalty)
    if conflict:
        raise TransitionNotAllowed(conflict)
    penalty.acknowledged_at = timezone.now()
    penalty.acknowledged_by = actor
    _save_by(actor, penalty)
    return _event(
        incident=penalty.incident,
        kind=EventKind.PENALTY,
        actor=actor,
        penalty=penalty,
        message=(
            gettext("Acknowledged by %(supplier)s.") % {"supplier": penalty.supplier} + f" {note}"
        ).strip(),
    )


@transaction.atomic
def penalty_record_payment(
    *,
    actor: User,
    penalty: Penalty,
    amount: Any,
    paid_on: date,
    reference: str = "",
    today: date | None = None,
) -> Payment:
    """Record money received against an issued penalty, dated today or before. Payments
    never exceed the amount; reaching it makes the penalty paid."""
    require_writer(actor)
    penalty = Penalty.objects.select_for_update().select_related("incident").get(pk=penalty.pk)
    value = _to_decimal(amount, "amount")
    if paid_on is not None and paid_on > _today(today):
        raise ValidationError(
            {"paid_on": _("A payment cannot be dated in the future: record it once received.")}
        )
    if penalty.status != PenaltyStatus.ISSUED:
        raise TransitionNotAllowed(
            _("Payments are recorded against issued penalties, not %(status)s ones.")
            % {"status": status_word(penalty.status)}
        )
    if penalty.paid_amount + value > penalty.amount:
        raise ValidationError(
            {
                "amount": _(
                    "This would exceed the penalty: %(amount)s %(currency)s is outstanding."
                )
                % {"amount": penalty.amount - penalty.paid_amount, "currency": penalty.currency}
            }
        )
    payment = Payment(
        penalty=penalty,
        amount=value,
        paid_on=paid_on,
        reference=(reference or "").strip(),
        recorded_by=actor,
    )
    save_checked(payment)
    # A conditional update: even a writer that slipped past the lock cannot overpay. The
    # sum is made in Decimal here, not in SQL: SQLite adds NUMERIC columns as floats
    # (0.10 + 0.20 != 0.30 there), which broke exactness and the equality guard.
    updated = Penalty.objects.filter(
        pk=penalty.pk, paid_amount=penalty.paid_amount, status=PenaltyStatus.ISSUED
    ).update(paid_amount=penalty.paid_amount + value)
    if updated != 1:
        raise TransitionNotAllowed(_("The penalty changed meanwhile; try again."))
    penalty.refresh_from_db()
    _event(
        incident=penalty.incident,
        kind=EventKind.PAYMENT,
        actor=actor,
        penalty=penalty,
        message=_payment_text(value, penalty.currency, paid_on, payment.reference),
    )
    if penalty.paid_amount == penalty.amount:
        penalty.status = PenaltyStatus.PAID
        _save_by(actor, penalty)
        _event(
            incident=penalty.incident,
            kind=EventKind.PENALTY,
            actor=actor,
            penalty=penalty,
            from_status=PenaltyStatus.ISSUED,
            to_status=PenaltyStatus.PAID,
            message=gettext("Paid in full."),
        )
    announce_penalty(actor=actor, penalty=penalty, was_status=PenaltyStatus.ISSUED)
    return payment


def _payment_text(value: Decimal, currency: str, paid_on: date, reference: str) -> str:
    values = {"amount": value, "currency": currency, "paid_on": paid_on, "reference": reference}
    if reference:
        return gettext("Payment %(amount)s %(currency)s on %(paid_on)s (%(reference)s).") % values
    return gettext("Payment %(amount)s %(currency)s on %(paid_on)s.") % values


BELOW_PAID = _("Cannot reduce below what is already paid.")


# --- Rectification plans ---------------------------------------------------------------


@transaction.atomic
def plan_update(
    *, actor: User, plan: RectificationPlan, summary: str | None = None, due_on: date | None = None
) -> RectificationPlan:
    """The supplier drafts its summary while the plan awaits it; staff may move the due
    date (which restarts the reminder schedule)."""
    plan = RectificationPlan.objects.select_for_update().get(pk=plan.pk)
    if summary is not None:
        if not (_is_supplier_party(actor, plan.supplier_id) or actor.can_write):
            raise PermissionDenied(_("Only the supplier or compliance staff edit the plan."))
        if plan.status not in PLAN_AWAITING_SUPPLIER:
            raise TransitionNotAllowed(
                _("A %(status)s plan cannot be edited.") % {"status": status_word(plan.status)}
            )
        plan.summary = summary
    if due_on is not None and due_on != plan.due_on:
        require_writer(actor)
        plan.due_on = due_on
    _save_by(actor, plan)
    return plan


def _plan_actor_check(actor: User, plan: RectificationPlan, to: str) -> None:
    if to == PlanStatus.SUBMITTED:
        if not (_is_supplier_party(actor, plan.supplier_id) or actor.role == Role.ADMIN):
            raise PermissionDenied(_("Only the supplier submits its rectification plan."))
    elif to == PlanStatus.COMPLETED:
        if not (_is_supplier_party(actor, plan.supplier_id) or actor.can_write):
            raise PermissionDenied(_("Only the supplier or compliance staff complete a plan."))
    else:
        require_writer(actor)


@transaction.atomic
def plan_transition(
    *, actor: User, plan: RectificationPlan, to: str, note: str = ""
) -> RectificationPlan:
    """requested -> submitted -> approved | changes_requested; changes_requested ->
    submitted; approved -> completed (all actions done) -> verified. Suppliers submit;
    staff approve, request changes (with a reason) and verify."""
    plan = RectificationPlan.objects.select_for_update().select_related("incident").get(pk=plan.pk)
    current = plan.status
    _refuse_unless_allowed(current, to, PLAN_TRANSITIONS, "rectification plan")
    _plan_actor_check(actor, plan, to)
    now = timezone.now()
    if to == PlanStatus.SUBMITTED:
        if not plan.summary.strip():
            raise ValidationError({"summary": _("Write the plan's summary before submitting it.")})
        if not plan.actions.exists():
            raise ValidationError({"actions": _("Add at least one action before submitting.")})
        plan.submitted_at = now
    elif to == PlanStatus.CHANGES_REQUESTED:
        if not note.strip():
            raise ValidationError({"note": _("Say what must change.")})
        plan.changes_requested_reason = note.strip()
    elif to == PlanStatus.APPROVED:
        plan.approved_at = now
        plan.changes_requested_reason = ""
    elif to == PlanStatus.COMPLETED:
        open_actions = plan.actions.filter(status=ActionStatus.OPEN).count()
        if open_actions:
            raise TransitionNotAllowed(
                ngettext(
                    "A plan is completed when all its actions are done; %(count)s still open.",
                    "A plan is completed when all its actions are done; %(count)s still open.",
                    open_actions,
                )
                % {"count": open_actions}
            )
        plan.completed_at = now
    elif to == PlanStatus.VERIFIED:
        plan.verified_at = now
    plan.status = to
    _save_by(actor, plan)
    _event(
        incident=plan.incident,
        kind=EventKind.PLAN,
        actor=actor,
        plan=plan,
        from_status=current,
        to_status=to,
        message=note,
    )
    announce_plan(actor=actor, plan=plan)
    return plan


# --- Rectification actions -------------------------------------------------------------


def _require_plan_editor(actor: User, plan: RectificationPlan) -> None:
    if not (_is_supplier_party(actor, plan.supplier_id) or actor.can_write):
        raise PermissionDenied(_("Only the supplier or compliance staff edit this plan's actions."))


@transaction.atomic
def action_create(
    *,
    actor: User,
    plan: RectificationPlan,
    description: str,
    due_on: date,
    owner: str = "",
    evidence_note: str = "",
    today: date | None = None,
) -> RectificationAction:
    """Add a measure to a plan while it is being drafted (or, by staff, while approved),
    with a first progress note if its owner has one."""
    plan = RectificationPlan.objects.select_for_update().get(pk=plan.pk)
    _require_plan_editor(actor, plan)
    editable = set(PLAN_AWAITING_SUPPLIER)
    if actor.can_write:
        editable.add(PlanStatus.APPROVED)
    if plan.status not in editable:
        raise TransitionNotAllowed(
            _("Actions cannot be added to a %(status)s plan.")
            % {"status": status_word(plan.status)}
        )
    action = RectificationAction(
        plan=plan,
        description=description,
        owner=owner,
        due_on=due_on,
        evidence_note=evidence_note,
        created_on=_today(today),
    )
    save_checked(action)
    return action


@transaction.atomic
def action_update(
    *, actor: User, action: RectificationAction, **fields: Any
) -> RectificationAction:
    """Change an action's description, owner or due date while its plan allows it
    (breaches.selectors.action_edit_refusal), or its evidence note."""
    action = (
        RectificationAction.objects.select_for_update(of=("self",))
        .select_related("plan__incident")
        .get(pk=action.pk)
    )
    _require_plan_editor(actor, action.plan)
    unknown = set(fields) - {"description", "owner", "due_on", "evidence_note"}
    if unknown:
        raise ValidationError({name: NOT_CHANGED_HERE for name in unknown})
    structural = set(fields) - {"evidence_note"}
    if structural:
        refusal = action_edit_refusal(actor, action, action.plan)
        if refusal:
            raise TransitionNotAllowed(refusal)
    changes = [
        _fact_change(name, getattr(action, name), value)
        for name, value in fields.items()
        if getattr(action, name) != value
    ]
    for name, value in fields.items():
        setattr(action, name, value)
    save_checked(action)
    if changes:
        _event(
            incident=action.plan.incident,
            kind=EventKind.ACTION,
            actor=actor,
            plan=action.plan,
            message=gettext("Action “%(action)s” changed: %(changes)s.")
            % {
                "action": action.description[:60],
                "changes": pgettext("list of changes", "; ").join(changes),
            },
        )
    return action


@transaction.atomic
def action_delete(*, actor: User, action: RectificationAction) -> None:
    action = (
        RectificationAction.objects.select_for_update().select_related("plan").get(pk=action.pk)
    )
    _require_plan_editor(actor, action.plan)
    refusal = action_delete_refusal(actor, action, action.plan)
    if refusal:
        raise TransitionNotAllowed(refusal)
    _event(
        incident=action.plan.incident,
        kind=EventKind.ACTION,
        actor=actor,
        plan=action.plan,
        message=gettext("Action removed: “%(action)s”.") % {"action": action.description[:80]},
    )
    action.delete()


@transaction.atomic
def action_complete(
    *,
    actor: User,
    action: RectificationAction,
    evidence_note: str,
    completed_on: date | None = None,
) -> RectificationAction:
    """The supplier marks an action of its approved plan done, with an evidence note."""
    action = (
        RectificationAction.objects.select_for_update()
        .select_related("plan", "plan__incident")
        .get(pk=action.pk)
    )
    _require_plan_editor(actor, action.plan)
    if action.plan.status != PlanStatus.APPROVED:
        raise TransitionNotAllowed(_("Actions are marked done once the plan is approved."))
    if action.status == ActionStatus.DONE:
        raise TransitionNotAllowed(_("This action is already done."))
    if not (evidence_note or "").strip():
        raise ValidationError(
            {"evidence_note": _("Describe the evidence that the action is done.")}
        )
    action.status = ActionStatus.DONE
    action.completed_on = completed_on or timezone.localdate()
    action.evidence_note = evidence_note.strip()
    save_checked(action)
    _event(
        incident=action.plan.incident,
        kind=EventKind.ACTION,
        actor=actor,
        plan=action.plan,
        from_status=ActionStatus.OPEN,
        to_status=ActionStatus.DONE,
        message=gettext("Action done: %(action)s. Evidence: %(evidence)s")
        % {"action": action.description[:80], "evidence": action.evidence_note},
    )
    return action


@transaction.atomic
def action_reopen(*, actor: User, action: RectificationAction, note: str) -> RectificationAction:
    """Staff reopen an action whose evidence does not hold, while the plan is approved."""
    require_writer(actor)
    action = (
        RectificationAction.objects.select_for_update()
        .select_related("plan", "plan__incident")
        .get(pk=action.pk)
    )
    if action.status != ActionStatus.DONE or action.plan.status != PlanStatus.APPROVED:
        raise TransitionNotAllowed(_("Only a done action of an approved plan can be reopened."))
    action.status = ActionStatus.OPEN
    action.completed_on = None
    save_checked(action)
    _event(
        incident=action.plan.incident,
        kind=EventKind.ACTION,
        actor=actor,
        plan=action.plan,
        from_status=ActionStatus.DONE,
        to_status=ActionStatus.OPEN,
        message=note,
    )
    return action
