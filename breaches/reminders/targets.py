"""The targets a sweep reads: plans the supplier still owes, open actions of approved
plans and issued penalties with money outstanding (the rules of breaches.selectors), due
within the due-soon notice, without those
already reminded for their latest schedule point. Each query follows a partial index of
the targets, and the already-reminded are left out in SQL, so that a same-day rerun
reads nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from django.db.models import Case, DateField, Exists, F, Func, IntegerField, OuterRef, Value, When

from breaches.choices import ReminderTargetType
from breaches.models import Penalty, RectificationAction, RectificationPlan, Reminder
from breaches.selectors import action_pending_q, penalty_pending_q, plan_pending_q
from config.iteration import batched

from .items import ACTION, PENALTY, PLAN, SweepItem
from .recipients import normalize_email
from .schedule import DUE_SOON_POINT, OVERDUE_POINTS, REPEAT_EVERY_DAYS

# Targets are read in chunks (a server-side cursor on PostgreSQL), so a sweep over a
# million plans holds one chunk in memory at a time.
SWEEP_CHUNK = 2000

# (target_type, plan_id, action_id, due_on, supplier_id, parent_id, incident_id, reference,
#  owner_email, label, penalty_id)
TargetRow = tuple


class DaysSince(Func):
    """Whole days from a date column to `day` (`day - column`), in SQL."""

    output_field = IntegerField()

    def __init__(self, column: str, day: date):
        super().__init__(Value(day, output_field=DateField()), F(column))

    def as_sql(self, compiler, connection, **extra):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        column_sql, column_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"({day_sql}::date - {column_sql})"
        else:
            sql = f"CAST(julianday({day_sql}) - julianday({column_sql}) AS INTEGER)"
        return sql, (*day_params, *column_params)


def without_current_reminder(qs, as_of: date, reminders):
    """Leave out the targets that already have the reminder of their latest schedule
    point, in SQL: a same-day rerun reads nothing instead of every overdue target.
    A reminder's point is never above the latest point reached, so "has one at or
    above the latest point's lower bound" is "has the latest one" (from 14 days on the
    points are 7 apart, hence days - 6)."""
    threshold = Case(
        When(days_since_due__lt=OVERDUE_POINTS[0], then=Value(DUE_SOON_POINT)),
        When(days_since_due__lt=OVERDUE_POINTS[1], then=Value(OVERDUE_POINTS[0])),
        When(days_since_due__lt=OVERDUE_POINTS[2], then=Value(OVERDUE_POINTS[1])),
        When(days_since_due__lt=OVERDUE_POINTS[3], then=Value(OVERDUE_POINTS[2])),
        default=F("days_since_due") - (REPEAT_EVERY_DAYS - 1),
        output_field=IntegerField(),
    )
    reminded = reminders.filter(
        due_on=OuterRef("due_on"), schedule_point__gte=OuterRef("point_floor")
    )
    return (
        qs.annotate(days_since_due=DaysSince("due_on", as_of))
        .annotate(point_floor=threshold)
        .exclude(Exists(reminded))
    )


def nothing_pending(qs, as_of: date, reminders, index_order: tuple[str, ...]) -> bool:
    """Whether every target is already reminded for its latest point (a same-day rerun),
    asked with a plain query before any server-side cursor is opened: PostgreSQL plans a
    cursor serially and for its first rows (1.3 s at full scale), a plain query in
    parallel. The question is asked in the order of the targets' partial index: for the
    first row of an unordered anti-join the planner expects a match early and scans the
    whole table (1,000,000 plans, 0.16 s) where a rerun reads every target anyway, from
    the index (144,000 entries, 0.01 s)."""
    pending = without_current_reminder(qs.order_by(*index_order), as_of, reminders)
    # Not .exists(), which drops the ordering.
    return not pending.values_list("pk", flat=True)[:1]


def plan_targets(as_of: date) -> Iterator[TargetRow]:
    # The filter matches the partial index plan_awaiting_due_idx (status list sorted the
    # same way), which holds only the plans the supplier still owes.
    # In plan order: the reminder and timeline rows are then written, and their
    # references checked, page after page of the plans and incidents instead of at
    # random.
    qs = RectificationPlan.objects.filter(
        plan_pending_q(), due_on__lte=as_of - timedelta(days=DUE_SOON_POINT)
    ).order_by("id")
    reminded = Reminder.objects.filter(action__isnull=True, plan_id=OuterRef("pk"))
    if nothing_pending(qs, as_of, reminded, ("due_on", "id")):  # plan_awaiting_due_idx
        return
    qs = without_current_reminder(qs, as_of, reminded).values_list(
        "id",
        "due_on",
        "supplier_id",
        "supplier__parent_id",
        "incident_id",
        "incident__reference",
        "incident__owner__email",
        "incident__owner__is_active",
    )
    for pid, due_on, sid, parent, iid, ref, owner, owner_active in qs.iterator(SWEEP_CHUNK):
        owner_email = normalize_email(owner) if owner_active else ""
        yield (PLAN, pid, None, due_on, sid, parent, iid, ref, owner_email, "", None)


def action_targets(as_of: date) -> Iterator[TargetRow]:
    # Open actions plan by plan (action_open_plan_idx) merged with the approved plans
    # (plan_approved_idx); in plan order, so that a plan's actions share one event.
    index_order = ("plan_id", "due_on", "id")
    qs = RectificationAction.objects.filter(
        action_pending_q(), due_on__lte=as_of - timedelta(days=DUE_SOON_POINT)
    ).order_by(*index_order)
    reminded = Reminder.objects.filter(action_id=OuterRef("pk"))
    if nothing_pending(qs, as_of, reminded, index_order):
        return
    qs = without_current_reminder(qs, as_of, reminded).values_list(
        "id",
        "due_on",
        "plan_id",
        "plan__supplier_id",
        "plan__supplier__parent_id",
        "plan__incident_id",
        "plan__incident__reference",
        "plan__incident__owner__email",
        "plan__incident__owner__is_active",
        "description",
    )
    for row in qs.iterator(SWEEP_CHUNK):
        aid, due_on, pid, sid, parent, iid, ref, owner, owner_active, description = row
        owner_email = normalize_email(owner) if owner_active else ""
        label = description if len(description) <= 80 else description[:77] + "..."
        yield (ACTION, pid, aid, due_on, sid, parent, iid, ref, owner_email, label, None)


def penalty_targets(as_of: date) -> Iterator[TargetRow]:
    """Issued penalties with money outstanding (penalty_issued_due_idx). Their reminders go
    to the penalised supplier's contacts, then the owner, then the compliance managers
    (DESIGN section 5): no parent's contacts, whose agreement the penalty is not under."""
    index_order = ("due_on", "id")
    qs = Penalty.objects.filter(
        penalty_pending_q(), due_on__lte=as_of - timedelta(days=DUE_SOON_POINT)
    ).order_by(*index_order)
    reminded = Reminder.objects.filter(penalty_id=OuterRef("pk"))
    if nothing_pending(qs, as_of, reminded, index_order):
        return
    qs = without_current_reminder(qs, as_of, reminded).values_list(
        "id",
        "due_on",
        "supplier_id",
        "incident_id",
        "incident__reference",
        "incident__owner__email",
        "incident__owner__is_active",
        "amount",
        "paid_amount",
        "currency",
    )
    for row in qs.iterator(SWEEP_CHUNK):
        nid, due_on, sid, iid, ref, owner, owner_active, amount, paid, currency = row
        owner_email = normalize_email(owner) if owner_active else ""
        label = f"{amount - paid:.2f} {currency} outstanding"
        yield (PENALTY, None, None, due_on, sid, None, iid, ref, owner_email, label, nid)


def target_chunks(as_of: date) -> Iterator[list[TargetRow]]:
    """The targets a chunk at a time: plans first, then actions, then penalties."""
    for source in (plan_targets(as_of), action_targets(as_of), penalty_targets(as_of)):
        yield from batched(source, SWEEP_CHUNK)


def existing_keys(target_type: str, candidates: list[SweepItem]) -> set[tuple]:
    """The (target id, due_on, point) of candidates that already have their reminder: the
    dry run's check, in Python."""
    points = {c.schedule_point for c in candidates}
    if target_type == ReminderTargetType.PENALTY:
        qs = Reminder.objects.filter(
            penalty_id__in=[c.penalty_id for c in candidates], schedule_point__in=points
        ).values_list("penalty_id", "due_on", "schedule_point")
    elif target_type == ReminderTargetType.PLAN:
        qs = Reminder.objects.filter(
            action__isnull=True,
            plan_id__in=[c.plan_id for c in candidates],
            schedule_point__in=points,
        ).values_list("plan_id", "due_on", "schedule_point")
    else:
        qs = Reminder.objects.filter(
            action_id__in=[c.action_id for c in candidates], schedule_point__in=points
        ).values_list("action_id", "due_on", "schedule_point")
    return set(qs)
