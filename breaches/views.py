"""Browser pages of the breaches app: the dashboard, incidents, penalties, rectification
plans and reminders. Reads are scoped through suppliers.selectors (outside the user's
world is a 404); every change goes through breaches.services with actor=request.user.
Service errors map to the page: ValidationError next to the fields, PermissionDenied to
the 403 page, Conflict / TransitionNotAllowed to a flash message and back."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from breaches import report_snapshot, reports, services
from breaches.allowed import (
    allowed_incident_transitions,
    allowed_penalty_transitions,
    allowed_plan_transitions,
    can_acknowledge_penalty,
    can_add_action,
    can_attach_action_evidence,
    can_complete_action,
    can_delete_action,
    can_edit_action,
    can_edit_plan,
    can_record_payment,
    can_write_plan,
    may_change_penalty_amount,
    may_reduce_on_uphold,
)
from breaches.choices import (
    AMOUNT_EDITABLE_PENALTY_STATUSES,
    OPEN_INCIDENT_STATUSES,
    ActionStatus,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
    ReviewState,
    Severity,
)
from breaches.deadlines import (
    ACTION_ROW_FIELDS,
    DEFAULT_LIMIT,
    HORIZON_DAYS,
    MAX_LIMIT,
    PENALTY_ROW_FIELDS,
    PLAN_ROW_FIELDS,
    action_url,
    deadlines,
    penalty_url,
    plan_url,
    supplier_todo,
    supplier_work,
)
from breaches.filtersets import (
    INCIDENT_SORTS,
    PENALTY_SORTS,
    DeadlineFilter,
    IncidentFilter,
    PenaltyFilter,
    PlanFilter,
    ReminderFilter,
)
from breaches.forms import (
    ActionCompleteForm,
    ActionEditForm,
    ActionEvidenceForm,
    ActionForm,
    EvidenceForm,
    FingerprintForm,
    IncidentEditForm,
    IncidentForm,
    LiabilityForm,
    NoteForm,
    PaymentForm,
    PenaltyEditForm,
    PlanSummaryForm,
    ReviewDecisionForm,
    TransitionForm,
)
from breaches.models import Evidence, Incident, Penalty, PenaltyReview, RectificationPlan
from breaches.report_cache import cached_for_scope
from breaches.selectors import (
    action_edit_refusal,
    action_is_overdue,
    actions_visible_to,
    close_blockers,
    days_overdue,
    escalation_level,
    events_visible_to,
    evidence_visible_to,
    fingerprint_finding,
    incidents_visible_to,
    may_see_reminder_recipients,
    penalties_visible_to,
    penalty_is_overdue,
    penalty_overdue_q,
    plan_is_overdue,
    plans_visible_to,
    reminders_visible_to,
    reviews_awaiting,
)
from config.exceptions import Conflict
from config.formats import format_money
from config.history import history_entries
from suppliers.selectors import (
    incident_suspects,
    may_see_fingerprints,
    may_see_nda,
    resolve_liability,
    scope_for,
    suppliers_visible_to,
)
from suppliers.ui import (
    add_service_errors,
    error_text,
    paginate,
    redirect_back,
    sort_queryset,
    submit_form,
)

# --- Sign-in ---------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login, telling the person plainly when django-axes has locked them out
    (instead of the bare lockout response the middleware would otherwise send), and
    going on to the second factor (its code, or staff's enrolment) when one is owed."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        from suppliers import mfa

        response = super().form_valid(form)
        step = mfa.pending_step(self.request)
        if step is not None:
            return redirect(mfa.step_url(step, self.get_success_url()))
        return response

    def form_invalid(self, form):
        if getattr(self.request, "axes_locked_out", False):
            from config.security import lockout_seconds

            self.request.axes_locked_out = False  # this page is the lockout response
            seconds = lockout_seconds(self.request)
            form.errors.clear()
            context = self.get_context_data(
                form=form, locked_out=True, cooloff_minutes=max(seconds // 60, 1)
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(seconds)
            return response
        return super().form_invalid(form)


# --- Dashboard -------------------------------------------------------------------------

# Rows in each of the dashboard's lists.
DASHBOARD_ROWS = 10


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Aggregates scoped to the user, a constant number of queries whatever the volume.
    The figures come from the snapshot beat keeps (report_snapshot) in production, one
    row per scope; live aggregates otherwise, reused for a minute (report_cache). The
    overdue lists, ten rows each, are read live."""
    user = request.user
    today = timezone.localdate()
    snapshot = report_snapshot.figures_for(user) if report_snapshot.serves(user) else None
    if snapshot is not None:
        figures = snapshot.dashboard(today)
    else:
        figures = cached_for_scope(
            "dashboard", user, today, lambda: reports.live_dashboard(user, today)
        )
    status_counts = figures["status_counts"]
    severity_counts = figures["severity_counts"]
    by_status = [
        (value, label, status_counts.get(value, 0)) for value, label in IncidentStatus.choices
    ]
    by_severity = [
        (value, label, severity_counts.get(value, 0)) for value, label in reversed(Severity.choices)
    ]
    # The lists read the columns their rows show (only()), not the whole rows of the
    # incidents, plans and suppliers they join (docs/benchmarks.md, session 11).
    # tests/test_ui_dashboard.py holds the page's queries constant as the lists fill.
    # A supplier user's overdue plans and actions are those of its to-do, read once.
    work = supplier_work(user, today, limit=DASHBOARD_ROWS) if user.is_supplier_user else None
    if work is not None:
        overdue_plans, overdue_actions = work.overdue_plans, work.overdue_actions
    else:
        overdue_plans = list(
            reports.overdue_plans(user, today)
            .select_related("incident", "supplier")
            .only(*PLAN_ROW_FIELDS)
            .order_by("due_on", "id")[:DASHBOARD_ROWS]
        )
        overdue_actions = list(
            reports.overdue_actions(user, today)
            .select_related("plan__incident", "plan__supplier")
            .only(*ACTION_ROW_FIELDS)
            .order_by("due_on", "id")[:DASHBOARD_ROWS]
        )
    # Money is chased too: the issued penalties past due with an amount outstanding. No
    # count over the table: one row more than shown says whether there are more.
    overdue_penalties = list(
        penalties_visible_to(user)
        .filter(penalty_overdue_q(today))
        .select_related("incident", "supplier")
        .only(*PENALTY_ROW_FIELDS, "supplier__name")
        .order_by("due_on", "id")[: DASHBOARD_ROWS + 1]
    )
    more_overdue_penalties = len(overdue_penalties) > DASHBOARD_ROWS
    overdue_penalties = overdue_penalties[:DASHBOARD_ROWS]
    for item in [*overdue_plans, *overdue_actions, *overdue_penalties]:
        item.days_overdue = days_overdue(item.due_on, today)
        item.escalation_level = escalation_level(item.days_overdue)
    # The rows' links are made here rather than by a {% url %} per row (a hot page).
    for rows, url in (
        (overdue_plans, plan_url),
        (overdue_actions, action_url),
        (overdue_penalties, penalty_url),
    ):
        for item in rows:
            item.url = url(item)
    # Four eyes: the cuts to penalties that wait for this user.
    awaiting_review = list(
        reviews_awaiting(user)
        .select_related("penalty__incident", "penalty__supplier", "requested_by")
        .order_by("requested_at", "id")[:DASHBOARD_ROWS]
    )
    return render(
        request,
        "breaches/dashboard.html",
        {
            "today": today,
            "todo": supplier_todo(work) if work is not None else None,
            "awaiting_review": awaiting_review,
            "by_status": by_status,
            "open_total": sum(status_counts.get(s, 0) for s in OPEN_INCIDENT_STATUSES),
            "by_severity": by_severity,
            "overdue_plans": overdue_plans,
            "overdue_plans_count": figures["overdue_plans_count"],
            "overdue_actions": overdue_actions,
            "overdue_actions_count": figures["overdue_actions_count"],
            "overdue_penalties": overdue_penalties,
            "more_overdue_penalties": more_overdue_penalties,
            "money": figures["money"],
            "month_chart": figures["month_chart"],
            "supplier_chart": figures["supplier_chart"],
        },
    )


# --- Incidents -------------------------------------------------------------------------


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        incidents_visible_to(request.user)
        .select_related("source_supplier", "responsible_supplier")
        .order_by("-created_at", "-id")
    )
    incident_filter = IncidentFilter(request.GET or None, queryset=queryset, request=request)
    qs, sorting = sort_queryset(
        request, incident_filter.qs, INCIDENT_SORTS, default=("-created_at", "-id")
    )
    page = paginate(request, qs)
    return render(
        request,
        "breaches/incident_list.html",
        {
            "filter_form": incident_filter.page_form(),
            "page": page,
            "is_filtered": bool(request.GET),
            "sorting": sorting,
        },
    )


@login_required
def incident_create(request: HttpRequest) -> HttpResponse:
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff report incidents."))
    form = IncidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_create(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                source_supplier=data["source_supplier"],
                assets=list(data["assets"]),
                occurred_on=data["occurred_on"],
                discovered_on=data["discovered_on"],
                channel=data["channel"],
                severity=data["severity"],
                leak_fingerprint=data["leak_fingerprint"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if incident.responsible_supplier_id:
                messages.success(
                    request,
                    gettext("Incident %(reference)s reported. Liable: %(supplier)s under %(nda)s.")
                    % {
                        "reference": incident.reference,
                        "supplier": incident.responsible_supplier.name,
                        "nda": incident.nda,
                    },
                )
            else:
                messages.warning(
                    request,
                    gettext(
                        "Incident %(reference)s reported. No NDA coverage: decide liability "
                        "before confirming."
                    )
                    % {"reference": incident.reference},
                )
            return redirect("breaches:incident-detail", pk=incident.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "breaches/incident_form.html",
        {"form": form, "preview_url": reverse("breaches:liability-preview")},
        status=status,
    )


@login_required
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff correct an incident's facts; only the fields changed go to the service, which
    re-resolves liability when the source or date changes and notes it on the timeline."""
    incident = _scoped_incident(request, pk)
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff correct an incident's facts."))
    form = IncidentEditForm(request.POST or None, user=request.user, incident=incident)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = {n: data[n] for n in form.changed_data if n != "assets"}
        assets = list(data["assets"]) if "assets" in form.changed_data else None
        if not changed and assets is None:
            messages.info(request, _("Nothing changed."))
            return redirect("breaches:incident-detail", pk=incident.pk)
        try:
            updated = services.incident_update(
                actor=request.user, incident=incident, assets=assets, **changed
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            text = _("Incident updated.")
            if (updated.responsible_supplier_id, updated.nda_id) != (
                incident.responsible_supplier_id,
                incident.nda_id,
            ):
                text = _("Incident updated. Liability re-resolved: see the timeline.")
            messages.success(request, text)
            return redirect("breaches:incident-detail", pk=incident.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "breaches/incident_form.html",
        {
            "form": form,
            "incident": incident,
            "preview_url": reverse("breaches:liability-preview"),
        },
        status=status,
    )


@login_required
@require_GET
def liability_preview(request: HttpRequest) -> JsonResponse:
    """Who the liability rule would hold responsible, for the report form."""
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff report incidents."))
    try:
        source_id = int(request.GET.get("source_supplier", ""))
        occurred_on = date.fromisoformat(request.GET.get("occurred_on", ""))
    except ValueError:
        return JsonResponse(
            {"detail": gettext("Give source_supplier (an id) and occurred_on (YYYY-MM-DD).")},
            status=400,
        )
    source = get_object_or_404(suppliers_visible_to(request.user), pk=source_id)
    liability = resolve_liability(source, on=occurred_on)
    return JsonResponse(
        {
            "source_supplier": source.name,
            "responsible_supplier": liability.responsible_supplier.name if liability else None,
            "nda": liability.nda.reference if liability else None,
        }
    )


def _scoped_incident(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(
        incidents_visible_to(request.user).select_related(
            "source_supplier", "responsible_supplier", "nda", "owner"
        ),
        pk=pk,
    )


def _transition_forms(choices, *, data=None, failed_to=None, note_labels=None, amount_for=()):
    forms = []
    for to, verb in choices:
        bound = data if failed_to == to else None
        form = TransitionForm(
            bound,
            prefix=f"t-{to}",
            note_label=(note_labels or {}).get(to, _("Note (optional)")),
            with_amount=to in amount_for,
        )
        if bound is not None:
            form.is_valid()
        forms.append({"to": to, "verb": verb, "form": form})
    return forms


def _incident_context(request: HttpRequest, incident: Incident, **overrides) -> dict:
    user = request.user
    scope = scope_for(user)
    penalties = list(penalties_visible_to(user).filter(incident=incident).order_by("created_at"))
    plans = list(
        plans_visible_to(user)
        .filter(incident=incident)
        .prefetch_related("actions")
        .order_by("created_at")
    )
    for plan in plans:
        actions = list(plan.actions.all())
        plan.done_count = sum(1 for a in actions if a.status == ActionStatus.DONE)
        plan.action_count = len(actions)
    events = events_visible_to(
        user, incident.events.select_related("actor__supplier", "penalty", "plan")
    )
    nda_visible = incident.nda is not None and may_see_nda(user, incident.nda.supplier_id)
    participant = user.can_write or (
        user.is_supplier_user
        and (
            incident.source_supplier_id in scope.world_ids
            or incident.responsible_supplier_id in scope.world_ids
        )
    )
    fingerprint = request.GET.get("fingerprint", "").strip().lower()[:64]
    context = {
        "incident": incident,
        "assets": incident.assets.all(),
        "events": events,
        "hide_liability_text": not nda_visible and incident.nda_id is not None,
        "nda_visible": nda_visible,
        "evidence_list": evidence_visible_to(user, incident.evidence.select_related("uploaded_by")),
        # Staff see who may read each note and file, and choose it for what they write.
        "show_visibility": scope.everything,
        "penalties": penalties,
        "plans": plans,
        "transitions": _transition_forms(
            allowed_incident_transitions(
                user,
                incident,
                penalties=penalties if scope.everything else None,
                plans=plans if scope.everything else None,
            )
        ),
        # What keeps a resolved incident from closing (the rule the close service applies).
        "close_blockers": close_blockers(penalties, plans)
        if scope.everything and incident.status == IncidentStatus.RESOLVED
        else [],
        "can_participate": participant,
        "evidence_form": EvidenceForm(staff=user.can_write) if participant else None,
        "note_form": NoteForm(staff=user.can_write) if participant else None,
        "fingerprint_form": FingerprintForm(initial={"fingerprint": fingerprint})
        if user.can_write
        else None,
        "liability_form": LiabilityForm(
            user=user,
            initial={
                "responsible_supplier": incident.responsible_supplier_id,
                "nda": incident.nda_id,
            },
        )
        if user.can_write
        and incident.status in (IncidentStatus.REPORTED, IncidentStatus.INVESTIGATING)
        else None,
        # Suspects and the fingerprint found are the buyer's (may_see_fingerprints).
        "show_suspects": may_see_fingerprints(user),
        "fingerprint": fingerprint,
    }
    context["can_edit_facts"] = user.can_write
    context["history"] = history_entries(incident) if user.is_buyer_staff else None
    if user.is_buyer_staff:
        context["suspects"] = incident_suspects(incident, fingerprint=fingerprint or None)
        token = fingerprint or incident.leak_fingerprint
        if token:
            context["fingerprint_finding"] = fingerprint_finding(incident, token)
            context["fingerprint_finding_token"] = token
    context.update(overrides)
    return context


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _scoped_incident(request, pk)
    return render(request, "breaches/incident_detail.html", _incident_context(request, incident))


TRANSITION_DONE = {
    IncidentStatus.INVESTIGATING: _("%(reference)s is under investigation."),
    IncidentStatus.CONFIRMED: _(
        "%(reference)s is confirmed. A penalty was proposed and a rectification plan requested."
    ),
    IncidentStatus.DISMISSED: _("%(reference)s was dismissed."),
    IncidentStatus.RESOLVED: _("%(reference)s is resolved."),
    IncidentStatus.CLOSED: _("%(reference)s is closed."),
}


@login_required
@require_POST
def incident_transition(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _scoped_incident(request, pk)
    to = request.POST.get("to", "")
    form = TransitionForm(request.POST, prefix=f"t-{to}")
    detail_url = reverse("breaches:incident-detail", args=[incident.pk])
    if not form.is_valid():
        messages.error(
            request, _("The note is too long (2000 characters at most); nothing changed.")
        )
        return redirect(detail_url)
    try:
        incident = services.incident_transition(
            actor=request.user, incident=incident, to=to, note=form.cleaned_data["note"]
        )
    except (Conflict, ValidationError) as exc:
        text = exc.message if isinstance(exc, Conflict) else error_text(exc)
        messages.error(request, text)
        return redirect_back(request, detail_url)
    message = TRANSITION_DONE.get(to, _("%(reference)s changed.")) % {
        "reference": incident.reference
    }
    messages.success(request, message)
    return redirect(detail_url)


@login_required
@require_POST
def incident_add_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _scoped_incident(request, pk)
    form = EvidenceForm(request.POST, request.FILES, staff=request.user.can_write)
    if form.is_valid():
        try:
            evidence = services.incident_add_evidence(
                actor=request.user,
                incident=incident,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                visibility=form.cleaned_data.get("visibility"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("Evidence %(name)s added (sha256 %(sha256)s...).")
                % {"name": evidence.original_name, "sha256": evidence.sha256[:12]},
            )
            return redirect("breaches:incident-detail", pk=incident.pk)
    context = _incident_context(request, incident, evidence_form=form)
    return render(request, "breaches/incident_detail.html", context, status=400)


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """Evidence the user may see, as the API serves it: an octet-stream attachment under
    a generated name, never sniffed nor rendered (services.evidence_file_response)."""
    incident = _scoped_incident(request, pk)
    evidence = get_object_or_404(
        evidence_visible_to(request.user, incident.evidence.all()), pk=evidence_pk
    )
    try:
        return services.evidence_file_response(evidence)
    except FileNotFoundError as exc:
        raise Http404(_("The evidence file is missing from storage.")) from exc


@login_required
@require_POST
def incident_add_note(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _scoped_incident(request, pk)
    form = NoteForm(request.POST, staff=request.user.can_write)
    if form.is_valid():
        try:
            services.incident_add_note(
                actor=request.user,
                incident=incident,
                message=form.cleaned_data["message"],
                visibility=form.cleaned_data.get("visibility"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Note added to the timeline."))
            return redirect("breaches:incident-detail", pk=incident.pk)
    context = _incident_context(request, incident, note_form=form)
    return render(request, "breaches/incident_detail.html", context, status=400)


@login_required
@require_POST
def incident_report_fingerprint(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _scoped_incident(request, pk)
    form = FingerprintForm(request.POST)
    if form.is_valid():
        try:
            incident = services.incident_report_fingerprint(
                actor=request.user, incident=incident, fingerprint=form.cleaned_data["fingerprint"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            finding = fingerprint_finding(incident, incident.leak_fingerprint)
            text = format_lazy("{} {}", _("Fingerprint recorded."), finding.text())
            if finding.prime_suspect:
                messages.success(request, text)
            else:
                messages.warning(request, text)
            return redirect("breaches:incident-detail", pk=incident.pk)
    context = _incident_context(request, incident, fingerprint_form=form)
    return render(request, "breaches/incident_detail.html", context, status=400)


def _liability_set_text(decided) -> str:
    if decided.responsible_supplier is None:
        return gettext("Liability set to nobody.")
    if decided.nda:
        return gettext("Liability set to %(supplier)s under %(nda)s.") % {
            "supplier": decided.responsible_supplier,
            "nda": decided.nda,
        }
    return gettext("Liability set to %(supplier)s.") % {"supplier": decided.responsible_supplier}


@login_required
@require_POST
def incident_set_liability(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff decide liability by hand (no NDA coverage, or the rule does not fit)."""
    incident = _scoped_incident(request, pk)
    if not request.user.can_write:
        raise PermissionDenied(_("Only compliance staff decide liability."))
    form = LiabilityForm(request.POST, user=request.user)
    detail_url = reverse("breaches:incident-detail", args=[incident.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.incident_set_liability(actor=request.user, incident=incident, **data),
        success=_liability_set_text,
        detail_url=detail_url,
    )
    if done:
        return done
    context = _incident_context(request, incident, liability_form=form)
    return render(request, "breaches/incident_detail.html", context, status=400)


# --- Penalties -------------------------------------------------------------------------


@login_required
def penalty_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        penalties_visible_to(request.user)
        .select_related("incident", "supplier")
        .order_by("-created_at", "-id")
    )
    penalty_filter = PenaltyFilter(request.GET or None, queryset=queryset, request=request)
    qs, sorting = sort_queryset(
        request, penalty_filter.qs, PENALTY_SORTS, default=("-created_at", "-id")
    )
    page = paginate(request, qs)
    today = timezone.localdate()
    for penalty in page:
        penalty.is_late = penalty_is_overdue(penalty, today)
        penalty.days_overdue = days_overdue(penalty.due_on, today) if penalty.is_late else 0
    return render(
        request,
        "breaches/penalty_list.html",
        {
            "filter_form": penalty_filter.page_form(),
            "page": page,
            "is_filtered": bool(request.GET),
            "sorting": sorting,
        },
    )


def _scoped_penalty(request: HttpRequest, pk: int) -> Penalty:
    return get_object_or_404(
        penalties_visible_to(request.user).select_related("incident", "supplier", "issued_by"),
        pk=pk,
    )


PENALTY_NOTE_LABELS = {
    PenaltyStatus.DISPUTED: _("Why the penalty is disputed"),
    PenaltyStatus.WAIVED: _("Reason for the waiver"),
}


def _pending_review(penalty: Penalty) -> PenaltyReview | None:
    return penalty.reviews.filter(state=ReviewState.PENDING).select_related("requested_by").first()


def _penalty_transition_forms(user, penalty: Penalty, pending_review, *, data=None, failed_to=None):
    """The penalty's buttons, each with the note it asks for; upholding a disputed penalty
    offers a reduced amount only to a user who may reduce it."""
    return _transition_forms(
        allowed_penalty_transitions(user, penalty, pending_review=pending_review),
        data=data,
        failed_to=failed_to,
        note_labels=PENALTY_NOTE_LABELS,
        amount_for=(PenaltyStatus.ISSUED,)
        if may_reduce_on_uphold(user, penalty, pending_review=pending_review)
        else (),
    )


def _penalty_edit_form(user, penalty: Penalty, pending_review, data=None):
    """The due date for staff while the amount may change, and the amount itself only to a
    user who may change it now; None when neither is open to the user."""
    if not user.can_write or penalty.status not in AMOUNT_EDITABLE_PENALTY_STATUSES:
        return None
    with_amount = may_change_penalty_amount(user, penalty, pending_review=pending_review)
    return PenaltyEditForm(
        data,
        initial={"amount": penalty.amount, "due_on": penalty.due_on},
        with_amount=with_amount,
    )


def _penalty_context(request: HttpRequest, penalty: Penalty, **overrides) -> dict:
    user = request.user
    today = timezone.localdate()
    # The cut waiting for a second staff user (staff see it; suppliers are told once done).
    # It also holds back the other cuts, for staff and suppliers alike.
    pending_review = _pending_review(penalty)
    context = {
        "penalty": penalty,
        "overdue": penalty_is_overdue(penalty, today),
        "days_overdue": days_overdue(penalty.due_on, today) if penalty.due_on else 0,
        "payments": penalty.payments.select_related("recorded_by"),
        "transitions": _penalty_transition_forms(user, penalty, pending_review),
        "payment_form": PaymentForm() if can_record_payment(user, penalty) else None,
        "edit_form": _penalty_edit_form(user, penalty, pending_review),
        "can_acknowledge": can_acknowledge_penalty(user, penalty),
        "pending_review": pending_review if user.is_buyer_staff else None,
        "may_decide_review": pending_review is not None
        and reviews_awaiting(user).filter(pk=pending_review.pk).exists(),
        "review_form": ReviewDecisionForm(),
        "events": events_visible_to(user, penalty.events.select_related("actor__supplier")),
        "incident_visible": incidents_visible_to(user).filter(pk=penalty.incident_id).exists(),
        # Who changed which field (staff: the record may carry what suppliers never see).
        "history": history_entries(penalty) if user.is_buyer_staff else None,
    }
    context.update(overrides)
    return context


def _penalty_outcome(done_text):
    """The flash for a penalty act: what it did, or that it waits for a second user."""

    def text(result) -> str:
        if isinstance(result, services.ReviewRequested):
            return gettext(
                "Recorded: the %(act)s needs a second staff user, who has been told. "
                "Nothing changes until then."
            ) % {"act": result.review.act}
        return done_text(result)

    return text


@login_required
@require_POST
def penalty_review_decide(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    """A second staff user approves or rejects a pending cut (four eyes)."""
    penalty = _scoped_penalty(request, pk)
    review = get_object_or_404(PenaltyReview, pk=review_pk, penalty=penalty)
    approve = request.POST.get("decision") == "approve"
    detail_url = reverse("breaches:penalty-detail", args=[penalty.pk])
    form = ReviewDecisionForm(request.POST)
    return submit_form(
        request,
        form,
        lambda data: services.penalty_review_decide(
            actor=request.user, review=review, approve=approve, note=data["note"]
        ),
        success=_("Approved: the change is made.") if approve else _("Rejected: nothing changes."),
        detail_url=detail_url,
    ) or redirect(detail_url)


@login_required
def penalty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _scoped_penalty(request, pk)
    return render(request, "breaches/penalty_detail.html", _penalty_context(request, penalty))


@login_required
@require_POST
def penalty_transition(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _scoped_penalty(request, pk)
    to = request.POST.get("to", "")
    with_amount = to == PenaltyStatus.ISSUED and penalty.status == PenaltyStatus.DISPUTED
    form = TransitionForm(
        request.POST,
        prefix=f"t-{to}",
        with_amount=with_amount,
        note_label=PENALTY_NOTE_LABELS.get(to, _("Note (optional)")),
    )
    detail_url = reverse("breaches:penalty-detail", args=[penalty.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.penalty_transition(
            actor=request.user,
            penalty=penalty,
            to=to,
            note=data["note"],
            amount=data.get("amount"),
        ),
        success=_penalty_outcome(
            lambda moved: (
                gettext("Penalty is now %(status)s.")
                % {"status": str(moved.get_status_display()).lower()}
            )
        ),
        detail_url=detail_url,
    )
    if done:
        return done
    transitions = _penalty_transition_forms(request.user, penalty, _pending_review(penalty))
    for item in transitions:
        if item["to"] == to:
            item["form"] = form
    context = _penalty_context(request, penalty, transitions=transitions)
    return render(request, "breaches/penalty_detail.html", context, status=400)


@login_required
@require_POST
def penalty_record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _scoped_penalty(request, pk)
    form = PaymentForm(request.POST)
    detail_url = reverse("breaches:penalty-detail", args=[penalty.pk])

    def recorded(payment) -> str:
        penalty.refresh_from_db()
        amount = format_money(payment.amount, penalty.currency)
        if penalty.status == PenaltyStatus.PAID:
            return gettext("Payment of %(amount)s recorded. The penalty is paid in full.") % {
                "amount": amount
            }
        return gettext("Payment of %(amount)s recorded. Outstanding: %(outstanding)s.") % {
            "amount": amount,
            "outstanding": format_money(penalty.outstanding, penalty.currency),
        }

    done = submit_form(
        request,
        form,
        lambda data: services.penalty_record_payment(actor=request.user, penalty=penalty, **data),
        success=recorded,
        detail_url=detail_url,
    )
    if done:
        return done
    context = _penalty_context(request, penalty, payment_form=form)
    return render(request, "breaches/penalty_detail.html", context, status=400)


@login_required
@require_POST
def penalty_edit(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _scoped_penalty(request, pk)
    # Not open to the user now: the service says why.
    form = _penalty_edit_form(
        request.user, penalty, _pending_review(penalty), request.POST
    ) or PenaltyEditForm(request.POST)
    detail_url = reverse("breaches:penalty-detail", args=[penalty.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.penalty_update(
            actor=request.user, penalty=penalty, amount=data.get("amount"), due_on=data["due_on"]
        ),
        success=_penalty_outcome(
            lambda changed: (
                gettext("Penalty set to %(amount)s.")
                % {"amount": format_money(changed.amount, changed.currency)}
            )
        ),
        detail_url=detail_url,
    )
    if done:
        return done
    context = _penalty_context(request, penalty, edit_form=form)
    return render(request, "breaches/penalty_detail.html", context, status=400)


@login_required
@require_POST
def penalty_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _scoped_penalty(request, pk)
    detail_url = reverse("breaches:penalty-detail", args=[penalty.pk])
    try:
        services.penalty_acknowledge(
            actor=request.user, penalty=penalty, note=request.POST.get("note", "")[:2000]
        )
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect_back(request, detail_url)
    messages.success(request, _("Penalty acknowledged."))
    return redirect(detail_url)


# --- Rectification plans ---------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    queryset = (
        plans_visible_to(request.user)
        .select_related("incident", "supplier")
        .order_by("-created_at", "-id")
    )
    plan_filter = PlanFilter(request.GET or None, queryset=queryset, request=request)
    page = paginate(request, plan_filter.qs)
    for plan in page:
        plan.is_late = plan_is_overdue(plan, today)
        plan.days_overdue = days_overdue(plan.due_on, today) if plan.is_late else 0
    return render(
        request,
        "breaches/plan_list.html",
        {"filter_form": plan_filter.page_form(), "page": page, "is_filtered": bool(request.GET)},
    )


def _scoped_plan(request: HttpRequest, pk: int) -> RectificationPlan:
    return get_object_or_404(
        plans_visible_to(request.user).select_related("incident", "supplier"), pk=pk
    )


PLAN_NOTE_LABELS = {PlanStatus.CHANGES_REQUESTED: _("What must change (required)")}


def _plan_context(request: HttpRequest, plan: RectificationPlan, **overrides) -> dict:
    user = request.user
    today = timezone.localdate()
    actions = list(plan.actions.all())
    # The files of every action, in one query, as the user may see them.
    files: dict[int, list] = {}
    for evidence in evidence_visible_to(
        user, Evidence.objects.filter(action__plan=plan).select_related("uploaded_by")
    ).order_by("uploaded_at", "id"):
        files.setdefault(evidence.action_id, []).append(evidence)
    for action in actions:
        action.files = files.get(action.pk, [])
        action.may_edit = can_edit_action(user, plan, action)
        action.may_delete = can_delete_action(user, plan, action)
        action.file_form = (
            ActionEvidenceForm(prefix=f"f{action.pk}")
            if can_attach_action_evidence(user, plan, action)
            else None
        )
        action.is_late = action_is_overdue(action, today, plan.status)
        action.days_overdue = days_overdue(action.due_on, today) if action.is_late else 0
        action.complete_form = (
            ActionCompleteForm(prefix=f"a{action.pk}")
            if can_complete_action(user, plan, action)
            else None
        )
    done = sum(1 for a in actions if a.status == ActionStatus.DONE)
    plan_late = plan_is_overdue(plan, today)
    plan_days_overdue = days_overdue(plan.due_on, today) if plan_late else 0
    context = {
        "plan": plan,
        "actions": actions,
        "done": done,
        "total": len(actions),
        "percent": round(100 * done / len(actions)) if actions else 0,
        "plan_late": plan_late,
        "days_overdue": plan_days_overdue,
        "escalation": escalation_level(plan_days_overdue) if plan_late else None,
        "summary_form": PlanSummaryForm(initial={"summary": plan.summary})
        if can_edit_plan(user, plan)
        else None,
        "action_form": ActionForm() if can_add_action(user, plan) else None,
        "transitions": _transition_forms(
            allowed_plan_transitions(user, plan, actions=actions), note_labels=PLAN_NOTE_LABELS
        ),
        "events": events_visible_to(user, plan.events.select_related("actor__supplier")),
        "incident_visible": incidents_visible_to(user).filter(pk=plan.incident_id).exists(),
        "history": history_entries(plan) if user.is_buyer_staff else None,
    }
    context.update(overrides)
    return context


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    return render(request, "breaches/plan_detail.html", _plan_context(request, plan))


@login_required
@require_POST
def plan_update_summary(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    form = PlanSummaryForm(request.POST)
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.plan_update(actor=request.user, plan=plan, summary=data["summary"]),
        success=_("Plan summary saved."),
        detail_url=detail_url,
    )
    if done:
        return done
    context = _plan_context(request, plan, summary_form=form)
    return render(request, "breaches/plan_detail.html", context, status=400)


@login_required
@require_POST
def plan_add_action(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    form = ActionForm(request.POST)
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.action_create(actor=request.user, plan=plan, **data),
        success=_("Action added to the plan."),
        detail_url=detail_url,
    )
    if done:
        return done
    context = _plan_context(request, plan, action_form=form)
    return render(request, "breaches/plan_detail.html", context, status=400)


@login_required
@require_POST
def action_complete(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    action = get_object_or_404(actions_visible_to(request.user).filter(plan=plan), pk=action_pk)
    form = ActionCompleteForm(request.POST, prefix=f"a{action.pk}")
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.action_complete(
            actor=request.user, action=action, evidence_note=data["evidence_note"]
        ),
        success=_("Action marked done."),
        detail_url=detail_url,
    )
    if done:
        return done
    context = _plan_context(request, plan)
    for item in context["actions"]:
        if item.pk == action.pk:
            item.complete_form = form
    return render(request, "breaches/plan_detail.html", context, status=400)


def _scoped_action(request: HttpRequest, plan: RectificationPlan, action_pk: int):
    return get_object_or_404(actions_visible_to(request.user).filter(plan=plan), pk=action_pk)


@login_required
def action_edit(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    """Correct an action (description, owner, due date, progress note) while its plan
    allows it; the service refuses anything else, saying why."""
    plan = _scoped_plan(request, pk)
    action = _scoped_action(request, plan, action_pk)
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    if not can_write_plan(request.user, plan):
        raise PermissionDenied(action_edit_refusal(request.user, action, plan))
    # Once the plan fixes its actions, only the progress note is still open.
    form = ActionEditForm(
        request.POST or None,
        structural=can_edit_action(request.user, plan, action),
        initial={
            "description": action.description,
            "owner": action.owner,
            "due_on": action.due_on,
            "evidence_note": action.evidence_note,
        },
    )
    if request.method == "POST":
        done = submit_form(
            request,
            form,
            lambda data: services.action_update(
                actor=request.user,
                action=action,
                **{name: data[name] for name in form.changed_data},
            ),
            success=_("Action saved."),
            detail_url=detail_url,
        )
        if done:
            return done
    return render(
        request,
        "breaches/action_form.html",
        {
            "form": form,
            "plan": plan,
            "action": action,
            "fixed_reason": action_edit_refusal(request.user, action, plan),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def action_delete(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    action = _scoped_action(request, plan, action_pk)
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    try:
        services.action_delete(actor=request.user, action=action)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect(detail_url)
    messages.success(request, _("Action removed from the plan."))
    return redirect(detail_url)


@login_required
@require_POST
def action_add_evidence(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    action = _scoped_action(request, plan, action_pk)
    form = ActionEvidenceForm(request.POST, request.FILES, prefix=f"f{action.pk}")
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    if form.is_valid():
        try:
            evidence = services.action_add_evidence(
                actor=request.user,
                action=action,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("Evidence %(name)s attached to the action (sha256 %(sha256)s...).")
                % {"name": evidence.original_name, "sha256": evidence.sha256[:12]},
            )
            return redirect(detail_url)
    context = _plan_context(request, plan)
    for item in context["actions"]:
        if item.pk == action.pk:
            item.file_form = form
    return render(request, "breaches/plan_detail.html", context, status=400)


PLAN_DONE = {
    PlanStatus.SUBMITTED: _("Plan submitted for review."),
    PlanStatus.APPROVED: _("Plan approved."),
    PlanStatus.CHANGES_REQUESTED: _("Changes requested from the supplier."),
    PlanStatus.COMPLETED: _("Plan marked completed."),
    PlanStatus.VERIFIED: _("Plan verified."),
}


@login_required
@require_POST
def plan_transition(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _scoped_plan(request, pk)
    to = request.POST.get("to", "")
    form = TransitionForm(request.POST, prefix=f"t-{to}")
    detail_url = reverse("breaches:plan-detail", args=[plan.pk])
    done = submit_form(
        request,
        form,
        lambda data: services.plan_transition(
            actor=request.user, plan=plan, to=to, note=data["note"]
        ),
        success=PLAN_DONE.get(to, _("Plan updated.")),
        detail_url=detail_url,
    )
    if done:
        return done
    context = _plan_context(request, plan)
    for item in context["transitions"]:
        if item["to"] == to:
            item["form"] = form
    return render(request, "breaches/plan_detail.html", context, status=400)


# --- Reminders -------------------------------------------------------------------------


@login_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        reminders_visible_to(request.user)
        .select_related(
            "plan",
            "plan__incident",
            "plan__supplier",
            "action",
            "penalty__incident",
            "penalty__supplier",
        )
        .order_by("-created_at", "-id")
    )
    reminder_filter = ReminderFilter(request.GET or None, queryset=queryset, request=request)
    page = paginate(request, reminder_filter.qs)
    return render(
        request,
        "breaches/reminder_list.html",
        {
            "filter_form": reminder_filter.page_form(),
            "page": page,
            "is_filtered": bool(request.GET),
            "show_recipients": may_see_reminder_recipients(request.user),
        },
    )


# --- Deadlines -------------------------------------------------------------------------


def _limit(request: HttpRequest) -> int:
    """Rows per kind and list (`?limit=`), bounded; junk is the default."""
    try:
        return min(max(int(request.GET.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
    except ValueError:
        return DEFAULT_LIMIT


@login_required
def deadline_list(request: HttpRequest) -> HttpResponse:
    """The overdue and the next 30 days across plan submissions, actions and payments, in
    the user's scope, filterable by supplier and (for staff) incident owner."""
    user = request.user
    today = timezone.localdate()
    params = request.GET or None
    deadline_filter = DeadlineFilter(
        params, queryset=RectificationPlan.objects.none(), request=request
    )
    filter_form = deadline_filter.page_form()
    if not user.is_buyer_staff:
        filter_form = [f for f in filter_form if f.name != "owner"]
    lists = deadlines(user, today=today, params=params, request=request, limit=_limit(request))
    return render(
        request,
        "breaches/deadline_list.html",
        {
            "today": today,
            "horizon_days": HORIZON_DAYS,
            "filter_form": filter_form,
            "lists": lists,
            "show_owner": user.is_buyer_staff,
            "query": request.GET.urlencode(),
        },
    )
