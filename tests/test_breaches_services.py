"""The workflows of DESIGN section 4: every allowed and every refused transition of every
workflow (parametrized over all (from, to) pairs of the maps in breaches/choices.py),
who may do each, the side effects of confirming, the closing rules and payments. A
refusal must change nothing: status unchanged and no timeline event written."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from breaches import services
from breaches.choices import (
    INCIDENT_TRANSITIONS,
    PENALTY_TRANSITIONS,
    PLAN_TRANSITIONS,
    ActionStatus,
    EventKind,
    IncidentStatus,
    PenaltyStatus,
    PlanStatus,
)
from breaches.models import (
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    RectificationAction,
    RectificationPlan,
)
from config.exceptions import Conflict, TransitionNotAllowed
from suppliers.choices import Role
from suppliers.models import MAX_MONEY_AMOUNT

from .dbchecks import db_settings
from .factories import (
    ActionFactory,
    IncidentFactory,
    NDAFactory,
    PenaltyFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 2, 1)


def _pairs(transitions: dict) -> tuple[list, list]:
    allowed, refused = [], []
    for current, to in product(transitions, transitions):
        (allowed if to in transitions[current] else refused).append((current, to))
    return allowed, refused


INCIDENT_ALLOWED, INCIDENT_REFUSED = _pairs(INCIDENT_TRANSITIONS)
PENALTY_ALLOWED, PENALTY_REFUSED = _pairs(PENALTY_TRANSITIONS)
PLAN_ALLOWED, PLAN_REFUSED = _pairs(PLAN_TRANSITIONS)


def _events(incident) -> int:
    return IncidentEvent.objects.filter(incident=incident).count()


@pytest.fixture
def liable_incident(tier1, subvendor, tier1_nda):
    """An incident whose liability is resolved (the seed case), in any status."""

    def make(status=IncidentStatus.REPORTED):
        return IncidentFactory(
            status=status,
            source_supplier=subvendor,
            responsible_supplier=tier1,
            nda=tier1_nda,
        )

    return make


# --- Incident: creation and liability --------------------------------------------------


def test_incident_create_resolves_liability_and_numbers_per_year(
    compliance_user, subvendor, tier1, tier1_nda, bumper_asset
):
    first = services.incident_create(
        actor=compliance_user,
        title="Bumper renders",
        occurred_on=date(2025, 1, 22),
        discovered_on=date(2025, 1, 22),
        channel="social_media",
        source_supplier=subvendor,
        assets=[bumper_asset],
    )
    second = services.incident_create(
        actor=compliance_user,
        title="Unknown source",
        occurred_on=date(2025, 1, 22),
        discovered_on=date(2025, 1, 23),
        channel="press",
    )
    year = first.created_at.year
    assert (first.reference, second.reference) == (f"INC-{year}-0001", f"INC-{year}-0002")
    assert (first.responsible_supplier, first.nda, first.no_nda_coverage) == (
        tier1,
        tier1_nda,
        False,
    )
    assert (second.responsible_supplier, second.nda, second.no_nda_coverage) == (None, None, True)
    assert first.owner == compliance_user
    event = first.events.get()
    assert (event.kind, event.actor, event.to_status) == ("created", compliance_user, "reported")
    assert list(first.assets.all()) == [bumper_asset]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPLIER])
def test_incident_create_refused_for_readers_and_suppliers(role, tier1):
    actor = UserFactory(role=role, supplier=tier1 if role == Role.SUPPLIER else None)
    with pytest.raises(PermissionDenied):
        services.incident_create(
            actor=actor,
            title="x",
            occurred_on=date(2025, 1, 22),
            discovered_on=date(2025, 1, 22),
            channel="press",
        )
    assert not Incident.objects.exists()


def test_incident_create_refuses_bad_dates_and_owner(compliance_user, auditor_user):
    with pytest.raises(ValidationError):
        services.incident_create(
            actor=compliance_user,
            title="x",
            occurred_on=date(2025, 1, 22),
            discovered_on=date(2025, 1, 21),
            channel="press",
        )
    with pytest.raises(ValidationError):
        services.incident_create(
            actor=compliance_user,
            title="x",
            occurred_on=date(2025, 1, 22),
            discovered_on=date(2025, 1, 22),
            channel="press",
            owner=auditor_user,
        )
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


def test_incident_update_reresolves_liability_until_confirmed(
    compliance_user, liable_incident, other_supplier
):
    incident = liable_incident()
    own = NDAFactory(supplier=other_supplier, covers_subvendors=False)
    incident = services.incident_update(
        actor=compliance_user, incident=incident, source_supplier=other_supplier
    )
    assert (incident.responsible_supplier, incident.nda) == (other_supplier, own)
    Incident.objects.filter(pk=incident.pk).update(status=IncidentStatus.CONFIRMED)
    with pytest.raises(TransitionNotAllowed):
        services.incident_update(
            actor=compliance_user, incident=incident, occurred_on=date(2025, 1, 1)
        )
    incident.refresh_from_db()
    assert incident.occurred_on == date(2025, 1, 22)


def test_incident_owner_stays_compliance_staff(
    compliance_user, second_compliance_user, auditor_user, supplier_user, liable_incident
):
    incident = liable_incident()
    for owner in (auditor_user, supplier_user):
        with pytest.raises(ValidationError):
            services.incident_update(actor=compliance_user, incident=incident, owner=owner)
    incident.refresh_from_db()
    assert incident.owner is None
    assert _events(incident) == 0
    services.incident_update(actor=compliance_user, incident=incident, owner=second_compliance_user)
    incident.refresh_from_db()
    assert incident.owner == second_compliance_user


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPLIER])
def test_incident_update_refused_for_readers_and_suppliers(role, tier1, liable_incident):
    actor = UserFactory(role=role, supplier=tier1 if role == Role.SUPPLIER else None)
    incident = liable_incident()
    with pytest.raises(PermissionDenied):
        services.incident_update(actor=actor, incident=incident, title="Edited")
    incident.refresh_from_db()
    assert incident.title != "Edited"


def test_liability_override_needs_a_reason_and_is_frozen_after_confirmation(
    compliance_user, liable_incident, other_supplier
):
    incident = liable_incident()
    with pytest.raises(ValidationError):
        services.incident_set_liability(
            actor=compliance_user, incident=incident, responsible_supplier=other_supplier, reason=""
        )
    incident = services.incident_set_liability(
        actor=compliance_user,
        incident=incident,
        responsible_supplier=other_supplier,
        reason="Contract assigned to the glass works.",
    )
    assert incident.liability_overridden
    assert (incident.responsible_supplier, incident.nda, incident.no_nda_coverage) == (
        other_supplier,
        None,
        True,
    )
    assert incident.events.filter(kind=EventKind.LIABILITY).count() == 1
    Incident.objects.filter(pk=incident.pk).update(status=IncidentStatus.CONFIRMED)
    with pytest.raises(TransitionNotAllowed):
        services.incident_set_liability(
            actor=compliance_user, incident=incident, responsible_supplier=None, reason="late"
        )


# --- Incident transitions --------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), INCIDENT_ALLOWED)
def test_incident_allowed_transitions(compliance_user, liable_incident, current, to):
    incident = liable_incident(current)
    before = _events(incident)
    incident = services.incident_transition(
        actor=compliance_user, incident=incident, to=to, note="why", today=TODAY
    )
    incident.refresh_from_db()
    assert incident.status == to
    event = incident.events.filter(kind=EventKind.TRANSITION).get()
    assert (event.from_status, event.to_status, event.actor, event.message) == (
        current,
        to,
        compliance_user,
        "why",
    )
    # Confirming also writes the penalty and the plan events.
    assert _events(incident) == before + (3 if to == IncidentStatus.CONFIRMED else 1)


@pytest.mark.parametrize(("current", "to"), INCIDENT_REFUSED)
def test_incident_refused_transitions_change_nothing(compliance_user, liable_incident, current, to):
    incident = liable_incident(current)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.incident_transition(actor=compliance_user, incident=incident, to=to)
    assert current in str(excinfo.value)
    incident.refresh_from_db()
    assert incident.status == current
    assert _events(incident) == 0
    assert not incident.penalties.exists()
    assert not incident.rectification_plans.exists()


def test_incident_unknown_status_is_a_validation_error(compliance_user, liable_incident):
    incident = liable_incident()
    with pytest.raises(ValidationError):
        services.incident_transition(actor=compliance_user, incident=incident, to="archived")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.REPORTED


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPLIER])
@pytest.mark.parametrize(("current", "to"), INCIDENT_ALLOWED)
def test_incident_transitions_refused_for_auditors_and_suppliers(
    liable_incident, tier1, role, current, to
):
    actor = UserFactory(role=role, supplier=tier1 if role == Role.SUPPLIER else None)
    incident = liable_incident(current)
    with pytest.raises(PermissionDenied):
        services.incident_transition(actor=actor, incident=incident, to=to)
    incident.refresh_from_db()
    assert incident.status == current
    assert _events(incident) == 0


def test_admin_may_transition_incidents(admin_user, liable_incident):
    incident = services.incident_transition(
        actor=admin_user, incident=liable_incident(), to=IncidentStatus.INVESTIGATING
    )
    assert incident.status == IncidentStatus.INVESTIGATING


# --- Confirming ------------------------------------------------------------------------


def test_confirming_proposes_the_nda_penalty_and_requests_the_plan(
    compliance_user, liable_incident, tier1, tier1_nda
):
    tier1_nda.rectification_days = 45
    tier1_nda.penalty_amount = Decimal("1000000.00")
    tier1_nda.save()
    incident = liable_incident(IncidentStatus.INVESTIGATING)
    incident = services.incident_transition(
        actor=compliance_user, incident=incident, to=IncidentStatus.CONFIRMED, today=TODAY
    )
    assert incident.confirmed_at is not None
    penalty = incident.penalties.get()
    assert (penalty.supplier, penalty.amount, penalty.currency, penalty.status) == (
        tier1,
        Decimal("1000000.00"),
        "CNY",
        PenaltyStatus.PROPOSED,
    )
    assert (penalty.proposed_on, penalty.paid_amount) == (TODAY, Decimal("0.00"))
    plan = incident.rectification_plans.get()
    assert (plan.supplier, plan.status, plan.requested_on, plan.due_on) == (
        tier1,
        PlanStatus.REQUESTED,
        TODAY,
        TODAY + timedelta(days=45),
    )
    kinds = list(incident.events.values_list("kind", "to_status"))
    assert kinds == [
        (EventKind.TRANSITION, IncidentStatus.CONFIRMED),
        (EventKind.PENALTY, PenaltyStatus.PROPOSED),
        (EventKind.PLAN, PlanStatus.REQUESTED),
    ]
    assert incident.events.get(kind=EventKind.PENALTY).penalty == penalty
    assert incident.events.get(kind=EventKind.PLAN).plan == plan


def test_confirming_uses_the_nda_currency(compliance_user, tier1, subvendor):
    nda = NDAFactory(supplier=tier1, penalty_amount=Decimal("148000.00"), penalty_currency="USD")
    incident = IncidentFactory(
        status=IncidentStatus.INVESTIGATING,
        source_supplier=subvendor,
        responsible_supplier=tier1,
        nda=nda,
    )
    services.incident_transition(actor=compliance_user, incident=incident, to="confirmed")
    penalty = incident.penalties.get()
    assert (penalty.amount, penalty.currency) == (Decimal("148000.00"), "USD")


def test_confirming_without_a_responsible_supplier_is_refused(compliance_user, other_supplier):
    incident = IncidentFactory(status=IncidentStatus.INVESTIGATING, source_supplier=other_supplier)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.incident_transition(actor=compliance_user, incident=incident, to="confirmed")
    assert "responsible" in str(excinfo.value)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING
    assert _events(incident) == 0
    assert not Penalty.objects.exists()
    assert not RectificationPlan.objects.exists()


def test_confirming_a_staff_decided_liability_without_nda_requests_only_the_plan(
    compliance_user, other_supplier
):
    incident = IncidentFactory(status=IncidentStatus.INVESTIGATING, source_supplier=other_supplier)
    services.incident_set_liability(
        actor=compliance_user,
        incident=incident,
        responsible_supplier=other_supplier,
        reason="Admitted in writing.",
    )
    services.incident_transition(
        actor=compliance_user, incident=incident, to="confirmed", today=TODAY
    )
    assert not incident.penalties.exists()
    plan = incident.rectification_plans.get()
    assert plan.due_on == TODAY + timedelta(days=services.DEFAULT_RECTIFICATION_DAYS)


# --- Closing ---------------------------------------------------------------------------


@pytest.fixture
def resolved(liable_incident, tier1):
    incident = liable_incident(IncidentStatus.RESOLVED)
    penalty = PenaltyFactory(incident=incident, supplier=tier1)
    plan = PlanFactory(incident=incident, supplier=tier1)
    return incident, penalty, plan


@pytest.mark.parametrize(
    ("penalty_status", "plan_status", "closes"),
    [
        (PenaltyStatus.PAID, PlanStatus.VERIFIED, True),
        (PenaltyStatus.WAIVED, PlanStatus.VERIFIED, True),
        (PenaltyStatus.ISSUED, PlanStatus.VERIFIED, False),
        (PenaltyStatus.DISPUTED, PlanStatus.VERIFIED, False),
        (PenaltyStatus.PROPOSED, PlanStatus.VERIFIED, False),
        (PenaltyStatus.PAID, PlanStatus.COMPLETED, False),
        (PenaltyStatus.PAID, PlanStatus.APPROVED, False),
        (PenaltyStatus.WAIVED, PlanStatus.REQUESTED, False),
    ],
)
def test_closing_needs_penalties_settled_and_plan_verified(
    compliance_user, resolved, penalty_status, plan_status, closes
):
    incident, penalty, plan = resolved
    paid = penalty.amount if penalty_status == PenaltyStatus.PAID else Decimal(0)
    Penalty.objects.filter(pk=penalty.pk).update(status=penalty_status, paid_amount=paid)
    RectificationPlan.objects.filter(pk=plan.pk).update(status=plan_status)
    if closes:
        services.incident_transition(actor=compliance_user, incident=incident, to="closed")
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.CLOSED
    else:
        with pytest.raises(TransitionNotAllowed):
            services.incident_transition(actor=compliance_user, incident=incident, to="closed")
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.RESOLVED
        assert _events(incident) == 0


# --- Penalty transitions ---------------------------------------------------------------


@pytest.fixture
def penalty_in(liable_incident, tier1, compliance_user):
    """A penalty in any status, issued (where that applies) by `compliance_user`."""

    def make(status):
        incident = liable_incident(IncidentStatus.CONFIRMED)
        fields = {"status": status}
        if status != PenaltyStatus.PROPOSED:
            fields["issued_by"] = compliance_user
        if status == PenaltyStatus.PAID:
            fields["paid_amount"] = Decimal("1000000.00")
        return PenaltyFactory(incident=incident, supplier=tier1, **fields)

    return make


def _penalty_actor(to, supplier_user, second_compliance_user):
    if to == PenaltyStatus.DISPUTED:
        return supplier_user  # the penalised supplier disputes
    return second_compliance_user  # not the issuer: four eyes hold for waivers


@pytest.mark.parametrize(("current", "to"), PENALTY_ALLOWED)
def test_penalty_allowed_transitions(
    penalty_in, supplier_user, second_compliance_user, current, to
):
    penalty = penalty_in(current)
    actor = _penalty_actor(to, supplier_user, second_compliance_user)
    if to == PenaltyStatus.PAID:
        # In the map, but reached only by payments: asking for it directly is refused.
        with pytest.raises(TransitionNotAllowed):
            services.penalty_transition(actor=actor, penalty=penalty, to=to, note="x")
        penalty.refresh_from_db()
        assert penalty.status == current
        return
    done = services.penalty_transition(
        actor=actor, penalty=penalty, to=to, note="reason", today=TODAY
    )
    if isinstance(done, services.ReviewRequested):  # a waiver: a second staff user makes it
        assert to == PenaltyStatus.WAIVED
        actor = UserFactory(role=Role.COMPLIANCE)
        services.penalty_transition(actor=actor, penalty=penalty, to=to, note="ok", today=TODAY)
    penalty.refresh_from_db()
    assert penalty.status == to
    event = IncidentEvent.objects.get(penalty=penalty, to_status=to)
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        EventKind.PENALTY,
        current,
        to,
        actor,
    )
    if (current, to) == (PenaltyStatus.PROPOSED, PenaltyStatus.ISSUED):
        assert penalty.issued_by == actor
        assert penalty.due_on == TODAY + timedelta(days=30)


@pytest.mark.parametrize(("current", "to"), PENALTY_REFUSED)
def test_penalty_refused_transitions_change_nothing(
    penalty_in, supplier_user, second_compliance_user, current, to
):
    penalty = penalty_in(current)
    actor = _penalty_actor(to, supplier_user, second_compliance_user)
    with pytest.raises(TransitionNotAllowed):
        services.penalty_transition(actor=actor, penalty=penalty, to=to, note="reason")
    penalty.refresh_from_db()
    assert penalty.status == current
    assert not IncidentEvent.objects.filter(penalty=penalty).exists()


@pytest.mark.parametrize(
    ("current", "to"), [p for p in PENALTY_ALLOWED if p[1] != PenaltyStatus.PAID]
)
def test_penalty_transitions_refused_for_auditors(penalty_in, auditor_user, current, to):
    penalty = penalty_in(current)
    with pytest.raises(PermissionDenied):
        services.penalty_transition(actor=auditor_user, penalty=penalty, to=to, note="x")
    penalty.refresh_from_db()
    assert penalty.status == current
    assert not IncidentEvent.objects.filter(penalty=penalty).exists()


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (PenaltyStatus.PROPOSED, PenaltyStatus.ISSUED),
        (PenaltyStatus.PROPOSED, PenaltyStatus.WAIVED),
        (PenaltyStatus.DISPUTED, PenaltyStatus.ISSUED),
        (PenaltyStatus.DISPUTED, PenaltyStatus.WAIVED),
    ],
)
def test_suppliers_cannot_issue_uphold_or_waive(penalty_in, supplier_user, current, to):
    penalty = penalty_in(current)
    with pytest.raises(PermissionDenied):
        services.penalty_transition(actor=supplier_user, penalty=penalty, to=to, note="x")
    penalty.refresh_from_db()
    assert penalty.status == current


def test_only_the_penalised_supplier_disputes_and_says_why(
    penalty_in, other_supplier_user, supplier_user, compliance_user
):
    penalty = penalty_in(PenaltyStatus.ISSUED)
    with pytest.raises(PermissionDenied):
        services.penalty_transition(
            actor=other_supplier_user, penalty=penalty, to="disputed", note="not us"
        )
    with pytest.raises(ValidationError):
        services.penalty_transition(actor=supplier_user, penalty=penalty, to="disputed", note=" ")
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.ISSUED
    assert not IncidentEvent.objects.filter(penalty=penalty).exists()
    # Staff may also record a dispute received by letter.
    services.penalty_transition(
        actor=compliance_user, penalty=penalty, to="disputed", note="Letter of 3 March."
    )


def test_four_eyes_on_waiver(penalty_in, compliance_user, second_compliance_user):
    penalty = penalty_in(PenaltyStatus.DISPUTED)  # issued by compliance_user
    with pytest.raises(PermissionDenied):
        services.penalty_transition(actor=compliance_user, penalty=penalty, to="waived")
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.DISPUTED
    asked = services.penalty_transition(actor=second_compliance_user, penalty=penalty, to="waived")
    assert isinstance(asked, services.ReviewRequested)
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.DISPUTED  # nothing changes until a second user
    # The requester cannot approve its own request, nor can the issuer make a waiver.
    with pytest.raises(PermissionDenied):
        services.penalty_review_decide(
            actor=second_compliance_user, review=asked.review, approve=True
        )
    with pytest.raises(PermissionDenied):
        services.penalty_review_decide(actor=compliance_user, review=asked.review, approve=True)
    third = UserFactory(role=Role.COMPLIANCE)
    services.penalty_review_decide(actor=third, review=asked.review, approve=True)
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.WAIVED
    assert penalty.outstanding == Decimal("0.00")
    asked.review.refresh_from_db()
    assert (asked.review.state, asked.review.decided_by) == ("approved", third)


def test_four_eyes_on_reduction(penalty_in, compliance_user, second_compliance_user):
    penalty = penalty_in(PenaltyStatus.DISPUTED)
    with pytest.raises(PermissionDenied):
        services.penalty_transition(
            actor=compliance_user, penalty=penalty, to="issued", amount="500000.00"
        )
    with pytest.raises(PermissionDenied):
        services.penalty_update(actor=compliance_user, penalty=penalty, amount="500000.00")
    penalty.refresh_from_db()
    assert (penalty.status, penalty.amount) == (PenaltyStatus.DISPUTED, Decimal("1000000.00"))
    # The issuer may uphold it unchanged.
    services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.ISSUED


def test_upheld_reduced_by_a_second_reviewer(penalty_in, second_compliance_user):
    penalty = penalty_in(PenaltyStatus.DISPUTED)
    asked = services.penalty_transition(
        actor=second_compliance_user, penalty=penalty, to="issued", amount="600000.00", note="ok"
    )
    assert asked.review.kind == "reduction"
    penalty = services.penalty_transition(
        actor=UserFactory(role=Role.ADMIN), penalty=penalty, to="issued", amount="600000.00"
    )
    assert (penalty.status, penalty.amount) == (PenaltyStatus.ISSUED, Decimal("600000.00"))
    moved = IncidentEvent.objects.get(penalty=penalty, to_status="issued", from_status="disputed")
    assert "Reduced from 1000000.00 to 600000.00" in moved.message


def test_upheld_penalty_cannot_be_increased_or_cut_below_paid(penalty_in, second_compliance_user):
    penalty = penalty_in(PenaltyStatus.DISPUTED)
    Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("300000.00"))
    for amount in ("1000000.01", "299999.99", "-1", "abc", "1.001"):
        with pytest.raises(ValidationError):
            services.penalty_transition(
                actor=second_compliance_user, penalty=penalty, to="issued", amount=amount
            )
    penalty.refresh_from_db()
    assert (penalty.status, penalty.amount) == (PenaltyStatus.DISPUTED, Decimal("1000000.00"))


def test_upheld_at_the_paid_amount_becomes_paid(penalty_in, second_compliance_user):
    penalty = penalty_in(PenaltyStatus.DISPUTED)
    Penalty.objects.filter(pk=penalty.pk).update(paid_amount=Decimal("300000.00"))
    services.penalty_transition(
        actor=second_compliance_user, penalty=penalty, to="issued", amount="300000.00"
    )
    penalty = services.penalty_transition(
        actor=UserFactory(role=Role.ADMIN), penalty=penalty, to="issued", amount="300000.00"
    )
    assert penalty.status == PenaltyStatus.PAID


def test_one_user_alone_cannot_issue_below_the_nda_clause(
    penalty_in, compliance_user, second_compliance_user
):
    """A proposed 1,000,000 CNY penalty (the NDA clause) issued at 0.01 by one user."""
    penalty = penalty_in(PenaltyStatus.PROPOSED)
    for act in (
        lambda u: services.penalty_transition(actor=u, penalty=penalty, to="issued", amount="0.01"),
        lambda u: services.penalty_update(actor=u, penalty=penalty, amount="0.01"),
    ):
        asked = act(compliance_user)
        assert isinstance(asked, services.ReviewRequested)
        penalty.refresh_from_db()
        assert (penalty.status, penalty.amount) == ("proposed", Decimal("1000000.00"))
        with pytest.raises(Conflict):  # asking again is no approval
            act(compliance_user)
        services.penalty_review_decide(
            actor=second_compliance_user, review=asked.review, approve=False, note="No"
        )
    # Lowering then issuing: the issue itself is below the clause.
    Penalty.objects.filter(pk=penalty.pk).update(amount=Decimal("10.00"))
    asked = services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    assert asked.review.kind == "issue_below_clause"
    issued = services.penalty_transition(actor=second_compliance_user, penalty=penalty, to="issued")
    assert (issued.status, issued.amount, issued.issued_by) == (
        "issued",
        Decimal("10.00"),
        second_compliance_user,
    )


def test_one_user_alone_cannot_waive_a_proposed_penalty(penalty_in, compliance_user):
    penalty = penalty_in(PenaltyStatus.PROPOSED)
    asked = services.penalty_transition(actor=compliance_user, penalty=penalty, to="waived")
    assert isinstance(asked, services.ReviewRequested)
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.PROPOSED


def test_issuing_at_the_clause_needs_no_second_user(penalty_in, compliance_user):
    penalty = penalty_in(PenaltyStatus.PROPOSED)
    issued = services.penalty_transition(actor=compliance_user, penalty=penalty, to="issued")
    assert issued.status == PenaltyStatus.ISSUED


def test_a_disputed_penalty_is_never_raised(penalty_in, second_compliance_user):
    """PATCH {"amount": higher} on a disputed penalty, then upheld, raised the claim."""
    penalty = penalty_in(PenaltyStatus.DISPUTED)
    with pytest.raises(ValidationError):
        services.penalty_update(actor=second_compliance_user, penalty=penalty, amount="2000000")
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("1000000.00")


def test_a_rejection_says_why_and_changes_nothing(
    penalty_in, compliance_user, second_compliance_user
):
    penalty = penalty_in(PenaltyStatus.PROPOSED)
    asked = services.penalty_transition(actor=compliance_user, penalty=penalty, to="waived")
    with pytest.raises(ValidationError):
        services.penalty_review_decide(
            actor=second_compliance_user, review=asked.review, approve=False
        )
    services.penalty_review_decide(
        actor=second_compliance_user, review=asked.review, approve=False, note="It stands."
    )
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.PROPOSED
    with pytest.raises(TransitionNotAllowed):
        services.penalty_review_decide(
            actor=second_compliance_user, review=asked.review, approve=True
        )


@pytest.mark.parametrize("status", [PenaltyStatus.ISSUED, PenaltyStatus.PAID, PenaltyStatus.WAIVED])
def test_amount_changes_only_while_proposed_or_disputed(penalty_in, second_compliance_user, status):
    penalty = penalty_in(status)
    with pytest.raises(TransitionNotAllowed):
        services.penalty_update(actor=second_compliance_user, penalty=penalty, amount="1.00")
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("1000000.00")


def test_supplier_acknowledges_its_issued_penalty(penalty_in, supplier_user, other_supplier_user):
    penalty = penalty_in(PenaltyStatus.ISSUED)
    with pytest.raises(PermissionDenied):
        services.penalty_acknowledge(actor=other_supplier_user, penalty=penalty)
    event = services.penalty_acknowledge(actor=supplier_user, penalty=penalty, note="ok")
    assert event.penalty == penalty
    penalty.refresh_from_db()
    assert penalty.status == PenaltyStatus.ISSUED


# --- Payments --------------------------------------------------------------------------


@pytest.fixture
def issued_penalty(penalty_in):
    return penalty_in(PenaltyStatus.ISSUED)


def _pay(actor, penalty, amount, reference=""):
    return services.penalty_record_payment(
        actor=actor, penalty=penalty, amount=amount, paid_on=TODAY, reference=reference
    )


def test_payments_reaching_the_amount_make_the_penalty_paid(compliance_user, issued_penalty):
    _pay(compliance_user, issued_penalty, "400000.00", "W-1")
    issued_penalty.refresh_from_db()
    assert (issued_penalty.status, issued_penalty.paid_amount) == ("issued", Decimal("400000.00"))
    assert issued_penalty.outstanding == Decimal("600000.00")
    _pay(compliance_user, issued_penalty, Decimal("600000"), "W-2")
    issued_penalty.refresh_from_db()
    assert (issued_penalty.status, issued_penalty.outstanding) == ("paid", Decimal("0.00"))
    kinds = list(
        IncidentEvent.objects.filter(penalty=issued_penalty).values_list("kind", "to_status")
    )
    assert kinds == [("payment", ""), ("payment", ""), ("penalty", "paid")]


def test_overpayment_is_refused_and_changes_nothing(compliance_user, issued_penalty):
    _pay(compliance_user, issued_penalty, "999999.99")
    with pytest.raises(ValidationError) as excinfo:
        _pay(compliance_user, issued_penalty, "0.02")
    assert "0.01" in str(excinfo.value)
    issued_penalty.refresh_from_db()
    assert issued_penalty.paid_amount == Decimal("999999.99")
    assert Payment.objects.count() == 1
    assert IncidentEvent.objects.filter(penalty=issued_penalty).count() == 1


@pytest.mark.parametrize(
    "amount", ["0", "-5", "abc", "1.001", "NaN", "Infinity", None, "", "1e30", "1" * 40]
)
def test_bad_payment_amounts_are_refused(compliance_user, issued_penalty, amount):
    with pytest.raises(ValidationError):
        _pay(compliance_user, issued_penalty, amount)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "status", [PenaltyStatus.PROPOSED, PenaltyStatus.DISPUTED, PenaltyStatus.WAIVED]
)
def test_payments_only_against_issued_penalties(compliance_user, penalty_in, status):
    penalty = penalty_in(status)
    with pytest.raises(TransitionNotAllowed):
        _pay(compliance_user, penalty, "1.00")
    assert not Payment.objects.exists()


def test_payments_refused_for_auditors_and_suppliers(auditor_user, supplier_user, issued_penalty):
    for actor in (auditor_user, supplier_user):
        with pytest.raises(PermissionDenied):
            _pay(actor, issued_penalty, "1.00")
    assert not Payment.objects.exists()


def test_duplicate_payment_reference_is_refused(compliance_user, issued_penalty):
    _pay(compliance_user, issued_penalty, "1.00", "W-1")
    with pytest.raises(ValidationError):
        _pay(compliance_user, issued_penalty, "1.00", "W-1")
    issued_penalty.refresh_from_db()
    assert issued_penalty.paid_amount == Decimal("1.00")


@db_settings
@given(
    cents=st.lists(st.integers(min_value=1, max_value=40_000), min_size=1, max_size=8),
    amount_cents=st.integers(min_value=1, max_value=100_000),
)
def test_payments_are_exact_decimals_and_never_exceed(
    compliance_user, liable_incident, tier1, cents, amount_cents
):
    from django.db import transaction

    with transaction.atomic():
        amount = Decimal(amount_cents) / 100
        penalty = PenaltyFactory(
            incident=liable_incident(IncidentStatus.CONFIRMED),
            supplier=tier1,
            amount=amount,
            status=PenaltyStatus.ISSUED,
        )
        expected = Decimal("0.00")
        for c in cents:
            value = Decimal(c) / 100
            if expected + value > amount or expected == amount:
                with pytest.raises((ValidationError, TransitionNotAllowed)):
                    _pay(compliance_user, penalty, str(value))
            else:
                _pay(compliance_user, penalty, str(value))
                expected += value
            penalty.refresh_from_db()
            assert penalty.paid_amount == expected
            assert penalty.paid_amount <= penalty.amount
            assert (penalty.status == PenaltyStatus.PAID) == (expected == amount)
            assert penalty.outstanding == amount - expected
        assert sum(penalty.payments.values_list("amount", flat=True), Decimal(0)) == expected
        transaction.set_rollback(True)


# --- Rectification plan transitions ----------------------------------------------------


@pytest.fixture
def plan_in(liable_incident, tier1):
    """A plan in any status, with a summary and one action (done when the plan is past
    approval, so that completing it is possible)."""

    def make(status):
        plan = PlanFactory(
            incident=liable_incident(IncidentStatus.CONFIRMED),
            supplier=tier1,
            status=status,
            summary="Tighten downstream security",
            requested_on=TODAY,
        )
        done = status in (PlanStatus.APPROVED, PlanStatus.COMPLETED, PlanStatus.VERIFIED)
        ActionFactory(
            plan=plan,
            status=ActionStatus.DONE if done else ActionStatus.OPEN,
            completed_on=TODAY if done else None,
        )
        return plan

    return make


def _plan_actor(to, supplier_user, compliance_user):
    return supplier_user if to in (PlanStatus.SUBMITTED, PlanStatus.COMPLETED) else compliance_user


@pytest.mark.parametrize(("current", "to"), PLAN_ALLOWED)
def test_plan_allowed_transitions(plan_in, supplier_user, compliance_user, current, to):
    plan = plan_in(current)
    actor = _plan_actor(to, supplier_user, compliance_user)
    plan = services.plan_transition(actor=actor, plan=plan, to=to, note="Add an audit.")
    plan.refresh_from_db()
    assert plan.status == to
    event = IncidentEvent.objects.get(plan=plan)
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        EventKind.PLAN,
        current,
        to,
        actor,
    )
    stamp = {
        PlanStatus.SUBMITTED: "submitted_at",
        PlanStatus.APPROVED: "approved_at",
        PlanStatus.COMPLETED: "completed_at",
        PlanStatus.VERIFIED: "verified_at",
        PlanStatus.CHANGES_REQUESTED: "changes_requested_reason",
    }[to]
    assert getattr(plan, stamp)


@pytest.mark.parametrize(("current", "to"), PLAN_REFUSED)
def test_plan_refused_transitions_change_nothing(
    plan_in, supplier_user, compliance_user, current, to
):
    plan = plan_in(current)
    actor = _plan_actor(to, supplier_user, compliance_user)
    with pytest.raises(TransitionNotAllowed):
        services.plan_transition(actor=actor, plan=plan, to=to, note="x")
    plan.refresh_from_db()
    assert plan.status == current
    assert not IncidentEvent.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(("current", "to"), PLAN_ALLOWED)
def test_plan_transitions_refused_for_auditors_and_other_suppliers(
    plan_in, auditor_user, other_supplier_user, current, to
):
    plan = plan_in(current)
    for actor in (auditor_user, other_supplier_user):
        with pytest.raises(PermissionDenied):
            services.plan_transition(actor=actor, plan=plan, to=to, note="x")
    plan.refresh_from_db()
    assert plan.status == current
    assert not IncidentEvent.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (PlanStatus.SUBMITTED, PlanStatus.APPROVED),
        (PlanStatus.SUBMITTED, PlanStatus.CHANGES_REQUESTED),
        (PlanStatus.COMPLETED, PlanStatus.VERIFIED),
    ],
)
def test_suppliers_do_not_approve_or_verify_their_own_plan(plan_in, supplier_user, current, to):
    plan = plan_in(current)
    with pytest.raises(PermissionDenied):
        services.plan_transition(actor=supplier_user, plan=plan, to=to, note="x")
    plan.refresh_from_db()
    assert plan.status == current


def test_compliance_does_not_submit_for_the_supplier(plan_in, compliance_user):
    plan = plan_in(PlanStatus.REQUESTED)
    with pytest.raises(PermissionDenied):
        services.plan_transition(actor=compliance_user, plan=plan, to="submitted")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REQUESTED


def test_submitting_needs_a_summary_and_actions(plan_in, supplier_user, tier1, liable_incident):
    plan = PlanFactory(incident=liable_incident(IncidentStatus.CONFIRMED), supplier=tier1)
    with pytest.raises(ValidationError):
        services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    services.plan_update(actor=supplier_user, plan=plan, summary="Plan")
    with pytest.raises(ValidationError):
        services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REQUESTED
    assert not IncidentEvent.objects.filter(plan=plan).exists()


def test_requesting_changes_needs_a_reason(plan_in, compliance_user):
    plan = plan_in(PlanStatus.SUBMITTED)
    with pytest.raises(ValidationError):
        services.plan_transition(actor=compliance_user, plan=plan, to="changes_requested")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


def test_completing_needs_every_action_done(plan_in, supplier_user):
    plan = plan_in(PlanStatus.APPROVED)
    ActionFactory(plan=plan)  # still open
    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.plan_transition(actor=supplier_user, plan=plan, to="completed")
    assert "1 still open" in str(excinfo.value)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


# --- Actions ---------------------------------------------------------------------------


def test_supplier_drafts_actions_of_its_own_plan_only(
    plan_in, supplier_user, other_supplier_user, compliance_user
):
    plan = plan_in(PlanStatus.REQUESTED)
    action = services.action_create(
        actor=supplier_user, plan=plan, description="Train staff", due_on=TODAY, today=TODAY
    )
    assert action.status == ActionStatus.OPEN
    with pytest.raises(PermissionDenied):
        services.action_create(
            actor=other_supplier_user, plan=plan, description="x", due_on=TODAY, today=TODAY
        )
    with pytest.raises(ValidationError):
        services.action_create(
            actor=supplier_user,
            plan=plan,
            description="Late",
            due_on=TODAY - timedelta(days=1),
            today=TODAY,
        )
    approved = plan_in(PlanStatus.APPROVED)
    with pytest.raises(TransitionNotAllowed):
        services.action_create(
            actor=supplier_user, plan=approved, description="x", due_on=TODAY, today=TODAY
        )
    services.action_create(
        actor=compliance_user, plan=approved, description="Extra audit", due_on=TODAY, today=TODAY
    )
    assert RectificationAction.objects.filter(plan=plan).count() == 2


def test_action_complete_rules(plan_in, supplier_user, other_supplier_user, compliance_user):
    plan = plan_in(PlanStatus.APPROVED)
    action = ActionFactory(plan=plan)
    with pytest.raises(PermissionDenied):
        services.action_complete(actor=other_supplier_user, action=action, evidence_note="x")
    with pytest.raises(ValidationError):
        services.action_complete(actor=supplier_user, action=action, evidence_note="  ")
    action = services.action_complete(
        actor=supplier_user, action=action, evidence_note="Policy v2", completed_on=TODAY
    )
    assert (action.status, action.completed_on) == (ActionStatus.DONE, TODAY)
    with pytest.raises(TransitionNotAllowed):
        services.action_complete(actor=supplier_user, action=action, evidence_note="again")
    event = IncidentEvent.objects.get(plan=plan, kind=EventKind.ACTION)
    assert (event.from_status, event.to_status) == ("open", "done")
    services.action_reopen(actor=compliance_user, action=action, note="Evidence is a draft.")
    action.refresh_from_db()
    assert (action.status, action.completed_on) == (ActionStatus.OPEN, None)


def test_actions_are_done_only_in_an_approved_plan(plan_in, supplier_user):
    plan = plan_in(PlanStatus.SUBMITTED)
    action = plan.actions.get()
    with pytest.raises(TransitionNotAllowed):
        services.action_complete(actor=supplier_user, action=action, evidence_note="x")
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN


# --- Notes and evidence ----------------------------------------------------------------


def test_notes_by_participants_only(liable_incident, supplier_user, other_supplier_user):
    incident = liable_incident()
    services.incident_add_note(actor=supplier_user, incident=incident, message="We investigate.")
    with pytest.raises(PermissionDenied):
        services.incident_add_note(actor=other_supplier_user, incident=incident, message="x")
    with pytest.raises(ValidationError):
        services.incident_add_note(actor=supplier_user, incident=incident, message=" ")
    assert _events(incident) == 1


def test_evidence_is_typed_from_its_bytes(liable_incident, compliance_user, settings, tmp_path):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    incident = liable_incident()
    pdf = b"%PDF-1.4\n" + b"x" * 100
    evidence = services.incident_add_evidence(
        actor=compliance_user,
        incident=incident,
        upload=SimpleUploadedFile("report.exe", pdf, content_type="text/html"),
    )
    assert (evidence.content_type, evidence.size) == ("application/pdf", len(pdf))
    assert evidence.sha256 == hashlib.sha256(pdf).hexdigest()
    assert "report" not in evidence.file.name
    with pytest.raises(ValidationError):
        services.incident_add_evidence(
            actor=compliance_user,
            incident=incident,
            upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00\x03" + b"\x00" * 64),
        )
    assert incident.evidence.count() == 1
    assert incident.events.filter(kind=EventKind.EVIDENCE).count() == 1


def test_supplier_of_another_supplier_cannot_touch_the_plan(plan_in, other_supplier_user):
    plan = plan_in(PlanStatus.REQUESTED)
    with pytest.raises(PermissionDenied):
        services.plan_update(actor=other_supplier_user, plan=plan, summary="hijack")
    plan.refresh_from_db()
    assert plan.summary == "Tighten downstream security"


def test_sub_vendor_users_are_not_the_liable_party(plan_in, subvendor):
    sub_user = UserFactory(role=Role.SUPPLIER, supplier=subvendor)
    plan = plan_in(PlanStatus.REQUESTED)
    with pytest.raises(PermissionDenied):
        services.plan_transition(actor=sub_user, plan=plan, to="submitted")


# --- Edits around the workflows --------------------------------------------------------


def test_plan_update_rules(plan_in, supplier_user, compliance_user):
    plan = plan_in(PlanStatus.REQUESTED)
    with pytest.raises(PermissionDenied):
        services.plan_update(actor=supplier_user, plan=plan, due_on=plan.due_on + timedelta(1))
    services.plan_update(actor=supplier_user, plan=plan, summary="Revised")
    later = plan.due_on + timedelta(days=14)
    plan = services.plan_update(actor=compliance_user, plan=plan, due_on=later)
    assert (plan.summary, plan.due_on) == ("Revised", later)
    approved = plan_in(PlanStatus.APPROVED)
    with pytest.raises(TransitionNotAllowed):
        services.plan_update(actor=supplier_user, plan=approved, summary="Too late")
    approved.refresh_from_db()
    assert approved.summary == "Tighten downstream security"


def test_action_update_and_delete_rules(plan_in, supplier_user):
    drafting = plan_in(PlanStatus.REQUESTED)
    action = drafting.actions.get()
    services.action_update(actor=supplier_user, action=action, description="Reworded")
    with pytest.raises(ValidationError):
        services.action_update(actor=supplier_user, action=action, status="done")
    approved = plan_in(PlanStatus.APPROVED)
    fixed = ActionFactory(plan=approved)
    with pytest.raises(TransitionNotAllowed):
        services.action_update(actor=supplier_user, action=fixed, due_on=date(2099, 1, 1))
    services.action_update(actor=supplier_user, action=fixed, evidence_note="Progress: 50%")
    with pytest.raises(TransitionNotAllowed):
        services.action_delete(actor=supplier_user, action=fixed)
    services.action_delete(actor=supplier_user, action=action)
    assert not RectificationAction.objects.filter(pk=action.pk).exists()
    fixed.refresh_from_db()
    assert (fixed.evidence_note, fixed.status) == ("Progress: 50%", ActionStatus.OPEN)


def test_penalty_create_by_hand(compliance_user, liable_incident, tier1):
    reported = liable_incident()
    with pytest.raises(TransitionNotAllowed):
        services.penalty_create(
            actor=compliance_user, incident=reported, amount="10.00", currency="CNY"
        )
    confirmed = liable_incident(IncidentStatus.CONFIRMED)
    penalty = services.penalty_create(
        actor=compliance_user, incident=confirmed, amount="10.00", currency="usd", today=TODAY
    )
    assert (penalty.supplier, penalty.amount, penalty.currency) == (tier1, Decimal("10.00"), "USD")
    assert penalty.proposed_on == TODAY
    with pytest.raises(ValidationError):
        services.penalty_create(
            actor=compliance_user, incident=confirmed, amount="10.00", currency="XYZ"
        )
    assert confirmed.penalties.count() == 1


def test_reporting_a_fingerprint_records_it_on_the_timeline(compliance_user, liable_incident):
    incident = liable_incident()
    with pytest.raises(ValidationError):
        services.incident_report_fingerprint(
            actor=compliance_user, incident=incident, fingerprint=" "
        )
    from tests.factories import DisclosureFactory

    # A token that matches no disclosure is refused, saying so (a misread token).
    with pytest.raises(ValidationError, match="matches no disclosure"):
        services.incident_report_fingerprint(
            actor=compliance_user, incident=incident, fingerprint="abcdef0123456789" * 2
        )
    known = DisclosureFactory().fingerprint
    incident = services.incident_report_fingerprint(
        actor=compliance_user, incident=incident, fingerprint=f" {known.upper()} "
    )
    assert incident.leak_fingerprint == known
    assert incident.events.get().kind == EventKind.FINGERPRINT


def test_evidence_size_limits(liable_incident, compliance_user, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.EVIDENCE_MAX_BYTES = 64
    incident = liable_incident()
    for content in (b"", b"%PDF-1.4\n" + b"x" * 100):
        with pytest.raises(ValidationError):
            services.incident_add_evidence(
                actor=compliance_user,
                incident=incident,
                upload=SimpleUploadedFile("x.pdf", content),
            )
    assert not incident.evidence.exists()
    assert _events(incident) == 0


@db_settings
@given(
    amount=st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.decimals(min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=3),
        st.decimals(min_value=MAX_MONEY_AMOUNT - 1, max_value=MAX_MONEY_AMOUNT + 1, places=2),
    )
)
def test_penalty_amounts_are_exact_two_place_decimals(
    second_compliance_user, liable_incident, tier1, amount
):
    """Any Decimal is either kept exactly (positive, at most two places, at most
    MAX_MONEY_AMOUNT) or refused with a validation error that changes nothing."""
    from django.db import transaction

    with transaction.atomic():
        penalty = PenaltyFactory(incident=liable_incident(IncidentStatus.CONFIRMED), supplier=tier1)
        valid = Decimal(0) < amount <= MAX_MONEY_AMOUNT and amount == amount.quantize(
            Decimal("0.01")
        )
        if valid:
            done = services.penalty_update(
                actor=second_compliance_user, penalty=penalty, amount=amount
            )
            if isinstance(done, services.ReviewRequested):  # a reduction: four eyes
                other = UserFactory(role=Role.COMPLIANCE)
                services.penalty_review_decide(actor=other, review=done.review, approve=True)
            penalty.refresh_from_db()
            assert penalty.amount == amount
        else:
            with pytest.raises(ValidationError):
                services.penalty_update(
                    actor=second_compliance_user, penalty=penalty, amount=amount
                )
            penalty.refresh_from_db()
            assert penalty.amount == Decimal("1000000.00")
        transaction.set_rollback(True)
