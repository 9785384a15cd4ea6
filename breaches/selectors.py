"""Reads of the breaches app that carry a rule, each written once: what each user may
see of incidents, penalties, plans, actions and reminders (DESIGN section 7), what is
overdue and at which escalation level (DESIGN section 5). The API's fields and filters,
the pages, the reports, the digest and the reminder sweep all ask here; none restates a
condition.

Each rule comes as a Q (for querysets; `prefix` reaches it through a relation) and as a
predicate on a loaded object, and a test holds the two equal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

from django.db import connection
from django.db.models import BigIntegerField, CharField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.formats import format_instant
from suppliers.choices import STAFF_ROLES, Role
from suppliers.models import NDA, Disclosure, Supplier, User
from suppliers.selectors import (
    disclosure_by_fingerprint,
    may_see_fingerprints,
    may_see_nda,
    person_shown_to,
    scope_for,
)

from .choices import (
    PLAN_AWAITING_SUPPLIER,
    SETTLED_PENALTY_STATUSES,
    ActionStatus,
    EventKind,
    PenaltyStatus,
    PlanStatus,
    ReviewKind,
    ReviewState,
    Visibility,
)
from .models import (
    Evidence,
    Incident,
    Penalty,
    PenaltyReview,
    RectificationAction,
    RectificationPlan,
    Reminder,
)

# --- What each user may see -------------------------------------------------------------


def incidents_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Incident.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(
        Q(source_supplier__in=scope.world_ids) | Q(responsible_supplier__in=scope.world_ids)
    )


def penalties_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Penalty.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier=scope.own_supplier_id)


def plans_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = RectificationPlan.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier=scope.own_supplier_id)


def actions_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = RectificationAction.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(plan__supplier=scope.own_supplier_id)


def _by_staff_or_own_supplier_q(scope, person: str) -> Q:
    """Written by the buyer's staff, or by a user of the viewer's own supplier: `person`
    is the author's relation (actor, uploaded_by). An author whose account was removed
    is unknown, and counts as neither."""
    staff = Q(**{f"{person}__role__in": sorted(STAFF_ROLES)})
    if scope.own_supplier_id is None:
        return staff
    return staff | Q(**{f"{person}__supplier": scope.own_supplier_id})


def events_visible_to(user, qs: QuerySet) -> QuerySet:
    """An incident's timeline as `user` may see it. A supplier user sees only shared
    events (never a staff note kept internal), not the events of another supplier's
    penalties and plans, not the fingerprint reported, and not the upload of another
    supplier's evidence (evidence_visible_to: the event follows its file)."""
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(
        Q(penalty__isnull=True) | Q(penalty__supplier=scope.own_supplier_id),
        Q(plan__isnull=True) | Q(plan__supplier=scope.own_supplier_id),
        ~Q(kind=EventKind.EVIDENCE) | _by_staff_or_own_supplier_q(scope, "actor"),
        visibility=Visibility.SHARED,
    ).exclude(kind=EventKind.FINGERPRINT)


def evidence_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    """Evidence as `user` may see (and download) it: staff see all; a supplier user sees,
    on the incidents it sees, the files its own supplier's users uploaded and those staff
    shared, never a staff file kept internal nor another supplier's upload (a sub-vendor's
    user does not get its parent's files, nor the parent the sub-vendor's)."""
    qs = Evidence.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(
        _by_staff_or_own_supplier_q(scope, "uploaded_by"),
        incident__in=incidents_visible_to(user),
        visibility=Visibility.SHARED,
    )


def reviews_awaiting(user) -> QuerySet:
    """The cuts to penalties `user` may decide (four eyes): another staff user's pending
    requests, for an active admin or compliance user; never a waiver or a reduction of a
    penalty the user issued."""
    if user is None or not getattr(user, "can_write", False):
        return PenaltyReview.objects.none()
    return (
        PenaltyReview.objects.filter(state=ReviewState.PENDING)
        .exclude(requested_by=user)
        .exclude(kind__in=[ReviewKind.WAIVER, ReviewKind.REDUCTION], penalty__issued_by=user)
    )


def reminders_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    """Staff see every reminder; a supplier user those about its own plans and penalties."""
    qs = Reminder.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    own = scope.own_supplier_id
    return qs.filter(Q(plan__supplier=own) | Q(penalty__supplier=own))


def may_see_reminder_recipients(user) -> bool:
    """Who a reminder went to names the buyer's staff: staff read it, supplier users not."""
    return scope_for(user).everything


# Escalation (DESIGN section 5): level 1 under 7 days overdue (and due soon), level 2
# from 7 to 13 days, level 3 from 14.
LEVEL_2_FROM_DAYS = 7
LEVEL_3_FROM_DAYS = 14


def escalation_level(days_overdue: int) -> int:
    """The escalation level of an item `days_overdue` days past its due date."""
    if days_overdue >= LEVEL_3_FROM_DAYS:
        return 3
    if days_overdue >= LEVEL_2_FROM_DAYS:
        return 2
    return 1


def days_overdue(due_on: date, today: date) -> int:
    """Days past the due date (negative before it)."""
    return (today - due_on).days


# --- Plans ------------------------------------------------------------------------------


def plan_pending_q(prefix: str = "") -> Q:
    """A plan the supplier still owes (requested or changes requested), due or not."""
    return Q(**{f"{prefix}status__in": sorted(PLAN_AWAITING_SUPPLIER)})


def plan_overdue_q(today: date, prefix: str = "") -> Q:
    """A plan the supplier still owes past its due date."""
    return plan_pending_q(prefix) & Q(**{f"{prefix}due_on__lt": today})


def plan_is_pending(plan) -> bool:
    return plan.status in PLAN_AWAITING_SUPPLIER


def plan_is_overdue(plan, today: date) -> bool:
    return plan_is_pending(plan) and plan.due_on < today


# --- Actions ----------------------------------------------------------------------------


def action_pending_q(prefix: str = "") -> Q:
    """An open action of an approved plan, due or not: its due date is chased."""
    return Q(**{f"{prefix}status": ActionStatus.OPEN, f"{prefix}plan__status": PlanStatus.APPROVED})


def action_overdue_q(today: date, prefix: str = "") -> Q:
    """An open action of an approved plan past its due date."""
    return action_pending_q(prefix) & Q(**{f"{prefix}due_on__lt": today})


def action_is_pending(action, plan_status: str | None = None) -> bool:
    """`plan_status` spares a query when the caller holds the plan already."""
    plan_status = plan_status if plan_status is not None else action.plan.status
    return action.status == ActionStatus.OPEN and plan_status == PlanStatus.APPROVED


def action_is_overdue(action, today: date, plan_status: str | None = None) -> bool:
    return action_is_pending(action, plan_status) and action.due_on < today


# --- Incident rows ----------------------------------------------------------------------
# The incident as every reader gets it (list, detail, the answers to writes): read as
# plain rows by one values() query and shaped once here. On a page of 50 incidents, model
# instances and DRF's field-by-field serializers were most of the request's CPU; a test
# holds this shape equal to DRF's field-by-field one.


def _iso_datetime(value, zone=None) -> str:
    """What DRF's DateTimeField gives: ISO 8601 in the current time zone, UTC as Z.
    A page passes the zone it looked up once (`timezone.localtime` looks it up per call)."""
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


INCIDENT_LIST_COLUMNS = (
    "id",
    "reference",
    "title",
    "description",
    "occurred_on",
    "discovered_on",
    "channel",
    "severity",
    "status",
    "source_supplier_id",
    "responsible_supplier_id",
    "nda_id",
    "no_nda_coverage",
    "liability_overridden",
    "liability_override_reason",
    "leak_fingerprint",
    "owner_id",
    "confirmed_at",
    "created_at",
    "updated_at",
)


def _column(model, name: str) -> str:
    """`"table"."column"` of a model field, quoted for this database."""
    qn = connection.ops.quote_name
    return f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(name).column)}"


def _looked_up(model, column: str, key: str) -> RawSQL:
    """One value of the row the incident's `key` points at, as a scalar subquery rather
    than a join; written out once (an ORM Subquery is compiled again on every request)."""
    table = connection.ops.quote_name(model._meta.db_table)
    return RawSQL(  # noqa: S611 (no input: table and column names from the models)
        f"SELECT {_column(model, column)} FROM {table} "  # noqa: S608 (names are ours)
        f"WHERE {_column(model, model._meta.pk.name)} = {_column(Incident, key)}",
        (),
        output_field=model._meta.get_field(column),
    )


def incident_list_values(queryset):
    """`queryset.values()` of INCIDENT_LIST_COLUMNS for incident_list_rows. On PostgreSQL
    each row also carries its asset ids (newest first, as the viewset prefetches them)
    as an array read in the same statement; elsewhere incident_list_rows reads them with
    a second query."""
    # Names by scalar subqueries, not joins: PostgreSQL plans a five-table join in about
    # 0.8 ms (the join order search), the same page with subqueries in 0.1 ms, and a
    # page with a cursor position or a filter is planned on every request.
    names = {
        "source_supplier_name": _looked_up(Supplier, "name", "source_supplier_id"),
        "responsible_supplier_name": _looked_up(Supplier, "name", "responsible_supplier_id"),
        "nda_reference": _looked_up(NDA, "reference", "nda_id"),
        "nda_supplier_id": _looked_up(NDA, "supplier_id", "nda_id"),
        "owner_username": _looked_up(User, "username", "owner_id"),
        "owner_role": _looked_up(User, "role", "owner_id"),
    }
    if connection.vendor != "postgresql":
        return queryset.values(*INCIDENT_LIST_COLUMNS, **names)
    from django.contrib.postgres.fields import ArrayField

    # The asset ids as an array, written out like the names: an ORM ArraySubquery is
    # compiled again on every request (docs/benchmarks.md, session 11).
    links = Incident.assets.through
    asset_ids = RawSQL(  # noqa: S611 (no input: table and column names from the models)
        f"ARRAY(SELECT {_column(links, 'confidentialasset')} "  # noqa: S608 (names are ours)
        f"FROM {connection.ops.quote_name(links._meta.db_table)} "
        f"WHERE {_column(links, 'incident')} = {_column(Incident, 'id')} "
        f"ORDER BY {_column(links, 'confidentialasset')} DESC)",
        (),
        output_field=ArrayField(BigIntegerField()),
    )
    # Times as UTC text (to_char): reading them as datetimes and formatting them back
    # was a fifth of the page's CPU. incident_list_rows and IncidentCursorPagination
    # read the `<field>_utc` columns.
    columns = [c for c in INCIDENT_LIST_COLUMNS if c not in TIMESTAMP_COLUMNS]
    times = {f"{name}_utc": _utc_text(name) for name in TIMESTAMP_COLUMNS}
    return queryset.values(*columns, **names, **times, asset_ids=asset_ids)


TIMESTAMP_COLUMNS = ("confirmed_at", "created_at", "updated_at")


def _utc_text(name: str) -> RawSQL:
    """`2026-11-24T09:30:00.123456`: the column in UTC, microseconds always written."""
    return RawSQL(  # noqa: S611 (no input: a column name from the model)
        f"to_char({_column(Incident, name)} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
        (),
        output_field=CharField(),
    )


def utc_text_position(text: str) -> str:
    """A cursor position from a `<field>_utc` text, as Django parses it back."""
    return text + "+00:00"


def _iso_from_utc_text(text: str, zone) -> str:
    """What DRF's DateTimeField gives for that instant (see _iso_datetime)."""
    if zone is UTC or getattr(zone, "key", None) == "UTC":
        return (text[:-7] if text.endswith(".000000") else text) + "Z"
    return _iso_datetime(datetime.fromisoformat(utc_text_position(text)), zone)


_VALUES_BASE: dict[str, QuerySet] = {}


def incident_values() -> QuerySet:
    """incident_list_values over every incident, built once per process and cloned per
    request (a clone costs 0.01 ms; building the values() query cost 0.34 ms, more than
    compiling it). Scope and filters are applied to the clone."""
    base = _VALUES_BASE.get(connection.vendor)
    if base is None:
        base = _VALUES_BASE[connection.vendor] = incident_list_values(Incident.objects.all())
    return base.all()


def incident_list_rows(rows: list[dict], user) -> list[dict]:
    """Rows read by incident_values() (scoped and filtered by the caller), shaped as the
    API gives an incident: what `user` may not see (a parent's NDA) is left out."""
    if rows and "asset_ids" in rows[0]:
        assets = {row["id"]: row["asset_ids"] for row in rows}
    else:
        assets = {row["id"]: [] for row in rows}
        links = (
            Incident.assets.through.objects.filter(incident_id__in=list(assets))
            .order_by("-confidentialasset_id")  # newest first, as the viewset prefetches
            .values_list("incident_id", "confidentialasset_id")
        )
        for incident_id, asset_id in links:
            assets[incident_id].append(asset_id)
    zone = timezone.get_current_timezone()
    if rows and "created_at_utc" in rows[0]:
        at, suffix = partial(_iso_from_utc_text, zone=zone), "_utc"
    else:
        at, suffix = partial(_iso_datetime, zone=zone), ""
    confirmed_key, created_key, updated_key = (f"{n}{suffix}" for n in TIMESTAMP_COLUMNS)
    fingerprints_shown = may_see_fingerprints(user)
    staff_viewer = scope_for(user).everything
    out = []
    for row in rows:
        confirmed_at = row[confirmed_key]
        item = {
            "id": row["id"],
            "reference": row["reference"],
            "title": row["title"],
            "description": row["description"],
            "assets": assets[row["id"]],
            "occurred_on": row["occurred_on"].isoformat(),
            "discovered_on": row["discovered_on"].isoformat(),
            "channel": row["channel"],
            "severity": row["severity"],
            "status": row["status"],
            "source_supplier": row["source_supplier_id"],
            "source_supplier_name": row["source_supplier_name"],
            "responsible_supplier": row["responsible_supplier_id"],
            "responsible_supplier_name": row["responsible_supplier_name"],
            "nda": row["nda_id"],
            "nda_reference": row["nda_reference"],
            "no_nda_coverage": row["no_nda_coverage"],
            "liability_overridden": row["liability_overridden"],
            "liability_override_reason": row["liability_override_reason"],
            "leak_fingerprint": row["leak_fingerprint"],
            "owner": row["owner_id"],
            "owner_username": row["owner_username"]
            if staff_viewer
            else person_shown_to(user, username=row["owner_username"], role=row["owner_role"])
            or None,
            "confirmed_at": at(confirmed_at) if confirmed_at else None,
            "created_at": at(row[created_key]),
            "updated_at": at(row[updated_key]),
        }
        # A sub-vendor's user does not see its parent's agreement.
        if row["nda_id"] is not None and not may_see_nda(user, row["nda_supplier_id"]):
            item["nda"] = None
            item["nda_reference"] = None
        if not fingerprints_shown:
            del item["leak_fingerprint"]
        out.append(item)
    return out


# incident_values()'s SQL for one incident by id, compiled once per process (by alias).
_BY_ID: dict[str, str] = {}


def visible_incident_row(user, incident_id) -> dict | None:
    """incident_values()'s row of the incident `incident_id`, if `user` may see it, else
    None (as for an id that is not an incident's). For a viewer who sees every incident,
    on PostgreSQL, the statement incident_values() compiles is kept per process and run
    with the id: the ORM compiled and read the same one-row query on every detail
    request (docs/benchmarks.md, session 13). tests/test_perf_serializers.py holds the two
    reads equal, column for column."""
    try:
        incident_id = int(incident_id)
    except (TypeError, ValueError):
        return None
    if not 0 < incident_id < 2**63:
        return None

    def through_the_orm() -> dict | None:
        rows = incidents_visible_to(user, incident_values()).filter(pk=incident_id).order_by()
        return next(iter(rows), None)

    if not scope_for(user).everything or connection.vendor != "postgresql":
        return through_the_orm()
    sql = _BY_ID.get(connection.alias)
    if sql is None:
        query = incident_values().filter(pk=incident_id).order_by().query
        sql, params = query.get_compiler(connection.alias).as_sql()
        if list(params) != [incident_id]:  # not the one-parameter statement it was
            return through_the_orm()
        _BY_ID[connection.alias] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [incident_id])
        row = cursor.fetchone()
        names = [column.name for column in cursor.description]
    return None if row is None else dict(zip(names, row, strict=True))


def incident_row(incident_id: int, user) -> dict:
    """One incident in its one shape (the caller has checked the user may see it)."""
    rows = list(incident_values().filter(pk=incident_id))
    return incident_list_rows(rows, user)[0]


# --- Penalties --------------------------------------------------------------------------
# Money is chased too (DESIGN section 5): an issued penalty with an amount outstanding past
# its due date is overdue. The dashboard, the lists, the detail page, the API field
# `overdue`, the deadlines page and the reminder sweep all ask here.


def penalty_pending_q(prefix: str = "") -> Q:
    """An issued penalty with an amount still outstanding, due or not: its payment is chased."""
    return Q(**{f"{prefix}status": PenaltyStatus.ISSUED, f"{prefix}due_on__isnull": False}) & Q(
        **{f"{prefix}paid_amount__lt": F(f"{prefix}amount")}
    )


def penalty_overdue_q(today: date, prefix: str = "") -> Q:
    """An issued penalty with an amount outstanding past its due date."""
    return penalty_pending_q(prefix) & Q(**{f"{prefix}due_on__lt": today})


def penalty_to_acknowledge_q(prefix: str = "") -> Q:
    """An issued penalty its supplier has not acknowledged yet."""
    return Q(**{f"{prefix}status": PenaltyStatus.ISSUED, f"{prefix}acknowledged_at__isnull": True})


def penalty_is_pending(penalty) -> bool:
    return (
        penalty.status == PenaltyStatus.ISSUED
        and penalty.due_on is not None
        and penalty.paid_amount < penalty.amount
    )


def penalty_is_overdue(penalty, today: date) -> bool:
    return penalty_is_pending(penalty) and penalty.due_on < today


# Who may do what to a penalty (DESIGN sections 4 and 7). Each returns the reason a user
# is refused, or None: the services raise it, the pages show only the acts that get None.


def _is_penalised_supplier_user(user, penalty) -> bool:
    return (
        user is not None
        and user.is_active
        and user.role == Role.SUPPLIER
        and user.supplier_id == penalty.supplier_id
    )


def penalty_dispute_refusal(user, penalty) -> str | None:
    if _is_penalised_supplier_user(user, penalty) or getattr(user, "can_write", False):
        return None
    return str(_("Only the penalised supplier or compliance staff may dispute."))


def penalty_cut_refusal(user, penalty, kind: str) -> str | None:
    """Four eyes: a waiver or a reduction is never made by the issuer."""
    if not getattr(user, "can_write", False):
        return str(_("Only compliance staff change what a penalty claims."))
    if kind in (ReviewKind.WAIVER, ReviewKind.REDUCTION) and penalty.issued_by_id == user.pk:
        if kind == ReviewKind.WAIVER:
            return str(_("Four eyes: a waiver must be made by someone other than the issuer."))
        return str(_("Four eyes: a reduction must be made by someone other than the issuer."))
    return None


def penalty_acknowledge_refusal(user, penalty) -> str | None:
    """Only the penalised supplier's users acknowledge, once, an issued penalty. (The
    status and the "once" are conflicts the service raises as 409s.)"""
    if not _is_penalised_supplier_user(user, penalty):
        return str(_("Only the penalised supplier acknowledges a penalty."))
    return None


def penalty_acknowledge_conflict(penalty) -> str | None:
    if penalty.status != PenaltyStatus.ISSUED:
        return str(_("Only an issued penalty can be acknowledged."))
    if penalty.acknowledged_at is not None:
        # The instant in the reader's time zone, named (UTC on the API, as before).
        return _("This penalty was acknowledged already, on %(when)s.") % {
            "when": format_instant(penalty.acknowledged_at)
        }
    return None


def _below_clause(penalty, amount: Decimal, currency: str) -> bool:
    nda = penalty.incident.nda
    if nda is None:
        return False  # no clause to fall below (liability decided by hand)
    return currency != nda.penalty_currency or amount < nda.penalty_amount


def penalty_review_kind(penalty, *, to: str, amount: Decimal | None) -> str | None:
    """Which four-eyes act (ReviewKind) a transition to `to` (upheld at `amount`) is, if
    any: a waiver, an issue below the NDA clause, a reduction."""
    if to == PenaltyStatus.WAIVED:
        return ReviewKind.WAIVER
    if to == PenaltyStatus.ISSUED and penalty.status == PenaltyStatus.PROPOSED:
        issued_amount = amount if amount is not None else penalty.amount
        if _below_clause(penalty, issued_amount, penalty.currency):
            return ReviewKind.ISSUE_BELOW_CLAUSE
    if amount is not None and amount < penalty.amount:
        return ReviewKind.REDUCTION
    return None


# --- Fingerprints -----------------------------------------------------------------------


@dataclass(frozen=True)
class FingerprintFinding:
    """What a fingerprint found on a leaked copy says about an incident: the disclosure it
    is (None: it matches no disclosure) and whether the incident names its asset (only
    then is the recipient the prime suspect)."""

    disclosure: Disclosure | None
    asset_named: bool

    @property
    def prime_suspect(self) -> bool:
        return self.disclosure is not None and self.asset_named

    def text(self) -> str:
        if self.disclosure is None:
            return str(_("This fingerprint matches no disclosure."))
        if self.asset_named:
            return _("It is the copy disclosed to %(supplier)s (%(asset)s): the prime suspect.") % {
                "supplier": self.disclosure.supplier.name,
                "asset": self.disclosure.asset.code,
            }
        return _(
            "It is the copy of %(asset)s disclosed to %(supplier)s, an asset this incident "
            "does not name: not a suspect unless the asset is added to the incident."
        ) % {"asset": self.disclosure.asset.code, "supplier": self.disclosure.supplier.name}


def fingerprint_finding(incident: Incident, fingerprint: str) -> FingerprintFinding:
    disclosure = disclosure_by_fingerprint(fingerprint) if fingerprint else None
    named = disclosure is not None and incident.assets.filter(pk=disclosure.asset_id).exists()
    return FingerprintFinding(disclosure=disclosure, asset_named=named)


# --- Closing an incident ----------------------------------------------------------------


def close_blockers(penalties, plans) -> list[str]:
    """Why an incident cannot close (DESIGN section 4: every penalty paid or waived, every
    plan verified), one sentence per penalty or plan in the way; empty when it may close.
    The service refuses with these sentences and the incident page shows them."""
    reasons = []
    for penalty in penalties:
        if penalty.status in SETTLED_PENALTY_STATUSES:
            continue
        reasons.append(
            _(
                "The penalty of %(amount)s %(currency)s is %(status)s with %(outstanding)s "
                "%(currency)s outstanding: closing needs it paid or waived."
            )
            % {
                "amount": f"{penalty.amount:.2f}",
                "currency": penalty.currency,
                "status": penalty.get_status_display().lower(),
                "outstanding": f"{penalty.outstanding:.2f}",
            }
        )
    for plan in plans:
        if plan.status == PlanStatus.VERIFIED:
            continue
        reasons.append(
            _("The rectification plan is %(status)s: closing needs it verified.")
            % {"status": plan.get_status_display().lower()}
        )
    return reasons


# --- Actions: who may change them -------------------------------------------------------
# The plan's supplier drafts its actions while the plan awaits it; staff also while it is
# approved (a measure added or corrected during follow-up). A done action is fixed, but
# its evidence (note, files) may still be added. Removing an action is for drafts only.
ACTION_EDITABLE_BY_STAFF = frozenset({*PLAN_AWAITING_SUPPLIER, PlanStatus.APPROVED})


def may_write_plan(user, plan) -> bool:
    return getattr(user, "can_write", False) or (
        user is not None
        and user.is_active
        and user.role == Role.SUPPLIER
        and user.supplier_id == plan.supplier_id
    )


def action_edit_refusal(user, action, plan) -> str | None:
    """Why `user` may not change the action's description, owner or due date now."""
    if not may_write_plan(user, plan):
        return str(_("Only the supplier or compliance staff edit this plan's actions."))
    editable = ACTION_EDITABLE_BY_STAFF if user.can_write else PLAN_AWAITING_SUPPLIER
    if plan.status not in editable:
        return _("Actions of a %(status)s plan are fixed.") % {"status": plan.get_status_display()}
    if action.status == ActionStatus.DONE:
        return str(_("A done action cannot change."))
    return None


def action_delete_refusal(user, action, plan) -> str | None:
    if not may_write_plan(user, plan):
        return str(_("Only the supplier or compliance staff edit this plan's actions."))
    if plan.status not in PLAN_AWAITING_SUPPLIER:
        return _("Actions of a %(status)s plan cannot be removed.") % {
            "status": plan.get_status_display().lower()
        }
    return None


def action_evidence_refusal(user, action, plan) -> str | None:
    """Files are attached to an action by its plan's supplier or staff, until the plan is
    verified."""
    if not may_write_plan(user, plan):
        return str(_("Only the supplier or compliance staff add evidence to this action."))
    if plan.status == PlanStatus.VERIFIED:
        return str(_("The plan is verified: its evidence is closed."))
    return None
