"""The figures of the summary report and the dashboard, live or from the snapshot.

Live figures are aggregate queries over the user's scoped querysets: what development and
tests show, so that every change shows at once. In production (report caching on) no
request counts: `ScopeFigures.compute_all` folds one GROUP BY per table, keyed by
supplier, into everyone's figures and each supplier's world's, off the request path, and
report_snapshot stores them one row per scope. What a figure depends on the day for
(overdue counts, the last twelve months) is kept day-independent: histograms by due date
and by month, from which the figures of any day are sums. Both forms end in the same
shapes, so the API serializer and the dashboard template cannot tell them apart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.formats import date_format
from django.utils.translation import pgettext

from breaches.choices import OPEN_INCIDENT_STATUSES, PenaltyStatus
from breaches.models import Incident, Penalty, RectificationAction, RectificationPlan
from breaches.selectors import (
    action_overdue_q,
    action_pending_q,
    actions_visible_to,
    incidents_visible_to,
    penalties_visible_to,
    plan_overdue_q,
    plan_pending_q,
    plans_visible_to,
)
from config.formats import format_money
from suppliers.models import Supplier
from suppliers.selectors import lineages

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0.00")
OUTSTANDING_STATUSES = (PenaltyStatus.ISSUED, PenaltyStatus.DISPUTED)

CHART_WIDTH = 420
MONTH_CHART_HEIGHT = 200


# --- Building blocks shared by the live and the snapshot figures ------------------------


def status_counts(qs) -> dict:
    by_status = {
        row["status"]: row["n"]
        for row in qs.order_by().values("status").annotate(n=Count("id")).order_by("status")
    }
    return _counted(by_status)


def _counted(by_status: dict[str, int]) -> dict:
    return {"total": sum(by_status.values()), "by_status": by_status}


def fold_status_severity(rows: Iterable[tuple[str, str, int]]) -> tuple[dict, dict]:
    """Incidents by status, and open incidents by severity, from (status, severity, n)."""
    by_status: dict[str, int] = {}
    open_by_severity: dict[str, int] = {}
    for status, severity, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        if status in OPEN_INCIDENT_STATUSES:
            open_by_severity[severity] = open_by_severity.get(severity, 0) + n
    return by_status, open_by_severity


def month_of(value) -> date:
    """TruncMonth gives a date or, on some backends, a datetime: the month's first day."""
    if hasattr(value, "date"):
        value = value.date()
    return value.replace(day=1)


def month_starts(today: date, count: int = 12) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


def incidents_per_month(incidents, since: date) -> dict[date, int]:
    """Incidents by month of occurrence from `since` on: one GROUP BY on occurred_on."""
    rows = (
        incidents.filter(occurred_on__gte=since)
        .order_by()
        .annotate(month=TruncMonth("occurred_on"))
        .values("month")
        .annotate(n=Count("id"))
    )
    return {month_of(row["month"]): row["n"] for row in rows}


def month_chart(counts: dict[date, int], today: date) -> dict:
    """Bars for the twelve months up to today's. `counts` holds the months from the first
    bar on (later ones too: they count in the total and the scale, as they always have)."""
    months = month_starts(today)
    top = max(counts.values(), default=0) or 1
    plot_height = MONTH_CHART_HEIGHT - 40
    slot = CHART_WIDTH / len(months)
    bars = []
    for index, month in enumerate(months):
        n = counts.get(month, 0)
        height = round(plot_height * n / top, 1)
        x = round(index * slot + slot * 0.15, 1)
        bars.append(
            {
                "x": x,
                "y": round(20 + plot_height - height, 1),
                "width": round(slot * 0.7, 1),
                "height": height,
                # The month as the reader's language names it: "Jan" and "January 2026"
                # in English, "1月" and "2026年1月" in Chinese.
                "label": date_format(month, pgettext("a month on the chart's axis", "M")),
                "title": date_format(month, "YEAR_MONTH_FORMAT"),
                "value": n,
                "label_x": round(x + slot * 0.35, 1),
                "value_y": round(20 + plot_height - height - 4, 1),
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": MONTH_CHART_HEIGHT,
        "axis_y": 20 + plot_height,
        "label_y": MONTH_CHART_HEIGHT - 6,
        "total": sum(counts.values()),
    }


def penalty_top_suppliers(penalties) -> list[dict]:
    """The ten largest penalty totals by supplier (and currency), waived ones left out."""
    return list(
        penalties.exclude(status=PenaltyStatus.WAIVED)
        .order_by()
        .values("supplier_id", "supplier__name", "currency")
        .annotate(total=Sum("amount"))
        .order_by("-total", "supplier__name")[:10]
    )


def supplier_chart(rows: list[dict]) -> dict:
    top = max((row["total"] for row in rows), default=Decimal(0)) or Decimal(1)
    label_width, bar_space, row_height = 150, 120, 26
    bars = []
    for index, row in enumerate(rows):
        width = round(float(bar_space * row["total"] / top), 1)
        y = 10 + index * row_height
        name = row["supplier__name"]
        bars.append(
            {
                "y": y,
                "text_y": y + 15,
                "width": max(width, 1),
                "label": name if len(name) <= 20 else name[:19] + "…",
                "name": name,
                "value": format_money(row["total"], row["currency"]),
                "value_x": label_width + max(width, 1) + 6,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": 20 + row_height * len(rows),
        "bar_x": label_width,
    }


# --- Live figures, in the user's scope ---------------------------------------------------


def live_summary(user, as_of: date) -> dict:
    """The summary report's data (before serialization) in the user's scope, as of a day."""
    plans = plans_visible_to(user)
    penalties = penalties_visible_to(user)
    zero = Value(0, output_field=MONEY)
    totals = (
        penalties.order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            amount_total=Coalesce(
                Sum(Case(When(status=PenaltyStatus.WAIVED, then=zero), default=F("amount"))),
                zero,
            ),
            paid_total=Coalesce(Sum("paid_amount"), zero),
            outstanding_total=Coalesce(
                Sum(
                    Case(
                        When(status=PenaltyStatus.WAIVED, then=zero),
                        default=F("amount") - F("paid_amount"),
                        output_field=MONEY,
                    )
                ),
                zero,
            ),
            waived_total=Coalesce(
                Sum(Case(When(status=PenaltyStatus.WAIVED, then=F("amount")), default=zero)),
                zero,
            ),
        )
        .order_by("currency")
    )
    return {
        "as_of": as_of,
        "incidents": status_counts(incidents_visible_to(user)),
        "penalties": status_counts(penalties),
        "rectification_plans": status_counts(plans),
        "overdue": {
            "plans": overdue_plans(user, as_of).count(),
            "actions": overdue_actions(user, as_of).count(),
        },
        "penalty_totals": [
            {
                "currency": row["currency"],
                "count": row["count"],
                "amount": row["amount_total"],
                "paid": row["paid_total"],
                "outstanding": row["outstanding_total"],
                "waived": row["waived_total"],
            }
            for row in totals
        ],
    }


def overdue_plans(user, today: date):
    return plans_visible_to(user).filter(plan_overdue_q(today))


def overdue_actions(user, today: date):
    return actions_visible_to(user).filter(action_overdue_q(today))


def live_dashboard(user, today: date) -> dict:
    """The dashboard's whole-scope figures (counts, money, charts) in the user's scope."""
    incidents = incidents_visible_to(user)
    # One scan gives both panels: counts by (status, severity), at most 6 x 4 rows.
    by_status, open_by_severity = fold_status_severity(
        incidents.order_by().values_list("status", "severity").annotate(n=Count("id"))
    )
    penalties = penalties_visible_to(user)
    money = list(
        penalties.order_by()
        .values("currency")
        .annotate(
            outstanding=Sum(
                F("amount") - F("paid_amount"), filter=Q(status__in=OUTSTANDING_STATUSES)
            ),
            collected=Sum("paid_amount"),
            proposed=Sum("amount", filter=Q(status=PenaltyStatus.PROPOSED)),
        )
        .order_by("currency")
    )
    return {
        "status_counts": by_status,
        "severity_counts": open_by_severity,
        "overdue_plans_count": overdue_plans(user, today).count(),
        "overdue_actions_count": overdue_actions(user, today).count(),
        "money": money,
        "month_chart": month_chart(
            incidents_per_month(incidents, since=month_starts(today)[0]), today
        ),
        "supplier_chart": supplier_chart(penalty_top_suppliers(penalties)),
    }


# --- Snapshot figures: day-independent aggregates, everyone's and each supplier's --------

EVERYONE = "all"  # the scope name of what every staff user sees


def supplier_scope_name(supplier_id: int) -> str:
    """The scope name of a supplier user's figures: its supplier's world."""
    return f"supplier-{supplier_id}"


def _sum_before(histogram: list[tuple[str, int]], day: date) -> int:
    # ISO dates order as strings: no need to parse thousands of them per request.
    limit = day.isoformat()
    return sum(n for due_on, n in histogram if due_on < limit)


class _Tally:
    """One scope's aggregates while compute_all folds the grouped rows."""

    def __init__(self) -> None:
        self.incidents: dict[tuple[str, str], int] = defaultdict(int)
        self.by_month: dict[date, int] = defaultdict(int)
        self.penalties: list[tuple[str, str, int, Decimal, Decimal]] = []
        self.top: list[dict] = []
        self.plans: dict[str, int] = {}
        self.plans_awaiting: dict[str, int] = defaultdict(int)
        self.actions_pending: dict[str, int] = defaultdict(int)

    def figures(self) -> ScopeFigures:
        return ScopeFigures(
            incidents=[(status, severity, n) for (status, severity), n in self.incidents.items()],
            incidents_by_month=dict(self.by_month),
            penalties=sorted(self.penalties, key=lambda row: (row[0], row[1])),
            top_suppliers=self.top,
            plans_by_status=dict(sorted(self.plans.items())),
            plans_awaiting_by_due_on=sorted(self.plans_awaiting.items()),
            actions_pending_by_due_on=sorted(self.actions_pending.items()),
        )


@dataclass(frozen=True)
class ScopeFigures:
    """Everything the summary and the dashboard show for one scope (everyone, or one
    supplier's world), in some kilobytes of JSON whatever the volume: counts by status,
    penalty sums per (currency, status), the top ten penalty totals by supplier,
    incidents by month from thirteen months before the refresh (the dashboard's chart
    shows the twelve up to today), and the count of plans awaiting the supplier and of
    open actions in approved plans per due date (overdue = due before the day, for any
    day: the summary takes `as_of`). Payload version 2; money travels as decimal
    strings, dates as ISO strings."""

    VERSION = 2

    incidents: list[tuple[str, str, int]]  # status, severity, n
    incidents_by_month: dict[date, int]
    penalties: list[tuple[str, str, int, Decimal, Decimal]]  # currency, status, n, amount, paid
    top_suppliers: list[dict]  # supplier_id, supplier__name, currency, total
    plans_by_status: dict[str, int]
    plans_awaiting_by_due_on: list[tuple[str, int]]  # ISO day, n; ascending
    actions_pending_by_due_on: list[tuple[str, int]]

    @classmethod
    def compute_all(cls, today: date, *, min_incidents: int = 1) -> dict[str, ScopeFigures]:
        """Everyone's figures (EVERYONE) and those of each supplier whose world holds at
        least `min_incidents` incidents (supplier_scope_name), from GROUP BY queries
        keyed by supplier: the work kept off requests. A smaller supplier's figures are
        cheap to count live. Each grouped row is folded into every scope that sees it,
        by the rules of the selectors: an incident into each supplier whose world holds
        its source or its liable supplier (the chains up the tree of both); a penalty,
        plan or action into its own supplier's only."""
        everyone = _Tally()
        tallies: dict[str, _Tally] = {EVERYONE: everyone}
        by_pair = _incidents_by_pair()
        worlds_of_pair, world_sizes = _worlds(by_pair)
        kept = {s for s, size in world_sizes.items() if size >= max(min_incidents, 1)}
        for supplier_id in kept:
            tallies[supplier_scope_name(supplier_id)] = _Tally()
        seeing_pair = {
            pair: [everyone, *(tallies[supplier_scope_name(s)] for s in worlds if s in kept)]
            for pair, worlds in worlds_of_pair.items()
        }

        def own(supplier_id: int) -> list[_Tally]:
            if supplier_id in kept:
                return [everyone, tallies[supplier_scope_name(supplier_id)]]
            return [everyone]

        for source, responsible, status, severity, n in by_pair:
            for tally in seeing_pair[(source, responsible)]:
                tally.incidents[(status, severity)] += n
        for source, responsible, month, n in (
            Incident.objects.filter(occurred_on__gte=month_starts(today, 13)[0])
            .order_by()
            .annotate(month=TruncMonth("occurred_on"))
            .values_list("source_supplier_id", "responsible_supplier_id", "month")
            .annotate(n=Count("id"))
        ):
            for tally in seeing_pair.get((source, responsible), (everyone,)):
                tally.by_month[month_of(month)] += n

        sums: dict[tuple[str, str], list] = {}  # (currency, status): n, amount, paid
        totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)  # not waived
        for supplier_id, currency, status, n, amount, paid in (
            Penalty.objects.order_by()
            .values_list("supplier_id", "currency", "status")
            .annotate(n=Count("id"), amount=Sum("amount"), paid=Sum("paid_amount"))
        ):
            if supplier_id in kept:
                mine = tallies[supplier_scope_name(supplier_id)]
                mine.penalties.append((currency, status, n, amount, paid))
            summed = sums.setdefault((currency, status), [0, ZERO, ZERO])
            summed[0] += n
            summed[1] += amount
            summed[2] += paid
            if status != PenaltyStatus.WAIVED:
                totals[(supplier_id, currency)] += amount
        everyone.penalties = [(c, s, n, a, p) for (c, s), (n, a, p) in sums.items()]
        # penalty_top_suppliers: by total, then name. Names are read for the rows that
        # may rank (the ten largest totals and their ties) and the kept suppliers'.
        by_total = sorted(totals.items(), key=lambda item: -item[1])
        cutoff = by_total[min(9, len(by_total) - 1)][1] if by_total else ZERO
        shown = [(key, total) for key, total in by_total if total >= cutoff or key[0] in kept]
        names = dict(
            Supplier.objects.filter(pk__in={key[0] for key, _total in shown}).values_list(
                "pk", "name"
            )
        )
        ranked = sorted(
            (
                {
                    "supplier_id": supplier_id,
                    "supplier__name": names[supplier_id],
                    "currency": currency,
                    "total": total,
                }
                for (supplier_id, currency), total in shown
            ),
            key=lambda row: (-row["total"], row["supplier__name"]),
        )
        everyone.top = [row for row in ranked if row["total"] >= cutoff][:10]
        for top in ranked:
            if top["supplier_id"] in kept:
                mine = tallies[supplier_scope_name(top["supplier_id"])]
                if len(mine.top) < 10:
                    mine.top.append(top)

        for supplier_id, status, n in (
            RectificationPlan.objects.order_by()
            .values_list("supplier_id", "status")
            .annotate(n=Count("id"))
        ):
            for tally in own(supplier_id):
                tally.plans[status] = tally.plans.get(status, 0) + n
        for attribute, qs, supplier in (
            ("plans_awaiting", RectificationPlan.objects.filter(plan_pending_q()), "supplier"),
            (
                "actions_pending",
                RectificationAction.objects.filter(action_pending_q()),
                "plan__supplier",
            ),
        ):
            # Everyone's by day alone; the kept suppliers' by supplier and day.
            for day, n in qs.order_by().values_list("due_on").annotate(n=Count("id")):
                getattr(everyone, attribute)[day.isoformat()] += n
            for supplier_id, day, n in (
                qs.filter(**{f"{supplier}__in": kept})
                .order_by()
                .values_list(f"{supplier}_id", "due_on")
                .annotate(n=Count("id"))
            ):
                getattr(tallies[supplier_scope_name(supplier_id)], attribute)[day.isoformat()] += n
        return {name: tally.figures() for name, tally in tallies.items()}

    # JSON: Decimal as strings (exact), dates as ISO strings.

    def to_payload(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "incidents_by_status_severity": sorted(list(row) for row in self.incidents),
            "incidents_by_month": sorted(
                [month.isoformat(), n] for month, n in self.incidents_by_month.items()
            ),
            "penalties_by_currency_status": [
                [currency, status, n, str(amount), str(paid)]
                for currency, status, n, amount, paid in self.penalties
            ],
            "penalty_top_suppliers": [
                {**row, "total": str(row["total"])} for row in self.top_suppliers
            ],
            "plans_by_status": self.plans_by_status,
            "plans_awaiting_supplier_by_due_on": [
                list(row) for row in self.plans_awaiting_by_due_on
            ],
            "open_actions_in_approved_plans_by_due_on": [
                list(row) for row in self.actions_pending_by_due_on
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ScopeFigures:
        return cls(
            incidents=[tuple(row) for row in payload["incidents_by_status_severity"]],
            incidents_by_month={
                date.fromisoformat(month): n for month, n in payload["incidents_by_month"]
            },
            penalties=[
                (currency, status, n, Decimal(amount), Decimal(paid))
                for currency, status, n, amount, paid in payload["penalties_by_currency_status"]
            ],
            top_suppliers=[
                {**row, "total": Decimal(row["total"])} for row in payload["penalty_top_suppliers"]
            ],
            plans_by_status=dict(payload["plans_by_status"]),
            plans_awaiting_by_due_on=[
                tuple(row) for row in payload["plans_awaiting_supplier_by_due_on"]
            ],
            actions_pending_by_due_on=[
                tuple(row) for row in payload["open_actions_in_approved_plans_by_due_on"]
            ],
        )

    # The figures of a day, in the live shapes.

    def overdue_plans(self, as_of: date) -> int:
        return _sum_before(self.plans_awaiting_by_due_on, as_of)

    def overdue_actions(self, as_of: date) -> int:
        return _sum_before(self.actions_pending_by_due_on, as_of)

    def summary(self, as_of: date) -> dict:
        """What live_summary gives in this scope, as of that day."""
        incidents, _severity = fold_status_severity(self.incidents)
        penalty_statuses: dict[str, int] = {}
        totals: dict[str, dict] = {}
        for currency, status, n, amount, paid in self.penalties:
            penalty_statuses[status] = penalty_statuses.get(status, 0) + n
            row = totals.setdefault(
                currency,
                {
                    "currency": currency,
                    "count": 0,
                    "amount": ZERO,
                    "paid": ZERO,
                    "outstanding": ZERO,
                    "waived": ZERO,
                },
            )
            row["count"] += n
            row["paid"] += paid
            if status == PenaltyStatus.WAIVED:
                row["waived"] += amount
            else:
                row["amount"] += amount
                row["outstanding"] += amount - paid
        return {
            "as_of": as_of,
            "incidents": _counted(dict(sorted(incidents.items()))),
            "penalties": _counted(dict(sorted(penalty_statuses.items()))),
            "rectification_plans": _counted(dict(sorted(self.plans_by_status.items()))),
            "overdue": {"plans": self.overdue_plans(as_of), "actions": self.overdue_actions(as_of)},
            "penalty_totals": [totals[currency] for currency in sorted(totals)],
        }

    def dashboard(self, today: date) -> dict:
        """What live_dashboard gives in this scope, on that day."""
        by_status, open_by_severity = fold_status_severity(self.incidents)
        money: dict[str, dict] = {}
        for currency, status, _n, amount, paid in self.penalties:
            row = money.setdefault(
                currency,
                {"currency": currency, "outstanding": None, "collected": None, "proposed": None},
            )
            # SUM over no rows is NULL: a sum starts only at its first matching group.
            row["collected"] = _plus(row["collected"], paid)
            if status in OUTSTANDING_STATUSES:
                row["outstanding"] = _plus(row["outstanding"], amount - paid)
            if status == PenaltyStatus.PROPOSED:
                row["proposed"] = _plus(row["proposed"], amount)
        first_month = month_starts(today)[0]
        return {
            "status_counts": by_status,
            "severity_counts": open_by_severity,
            "overdue_plans_count": self.overdue_plans(today),
            "overdue_actions_count": self.overdue_actions(today),
            "money": [money[currency] for currency in sorted(money)],
            "month_chart": month_chart(
                {m: n for m, n in self.incidents_by_month.items() if m >= first_month}, today
            ),
            "supplier_chart": supplier_chart(self.top_suppliers),
        }


def _incidents_by_pair() -> list[tuple]:
    """(source, liable supplier, status, severity, n) over every incident."""
    return list(
        Incident.objects.order_by()
        .values_list("source_supplier_id", "responsible_supplier_id", "status", "severity")
        .annotate(n=Count("id"))
    )


def _worlds(by_pair: list[tuple]) -> tuple[dict[tuple, frozenset[int]], dict[int, int]]:
    """The suppliers whose world holds the incidents of each (source, liable supplier)
    pair (the chains up the tree of both: incidents_visible_to's rule), and the size of
    each supplier's world."""
    chains = lineages()
    worlds_of_pair: dict[tuple, frozenset[int]] = {}
    sizes: dict[int, int] = defaultdict(int)
    for source, responsible, _status, _severity, n in by_pair:
        pair = (source, responsible)
        worlds = worlds_of_pair.get(pair)
        if worlds is None:
            worlds = frozenset(s for x in pair if x is not None for s in chains.get(x, (x,)))
            worlds_of_pair[pair] = worlds
        for supplier_id in worlds:
            sizes[supplier_id] += n
    return worlds_of_pair, sizes


def supplier_world_sizes() -> dict[int, int]:
    """How many incidents each supplier's users see (the benchmark picks by it)."""
    return dict(_worlds(_incidents_by_pair())[1])


def _plus(total: Decimal | None, amount: Decimal) -> Decimal:
    return amount if total is None else total + amount
