"""The schedule of DESIGN section 5: a target is reminded 3 days before its due date
("due soon", point -3), then 1, 3, 7 and 14 days overdue, then every 7 days. A point
is a number of days from the due date; the escalation level of a point is the rule of
breaches.selectors."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext, ngettext

from breaches.selectors import escalation_level

DUE_SOON_POINT = -3
OVERDUE_POINTS = (1, 3, 7, 14)
REPEAT_EVERY_DAYS = 7


def latest_point(days_overdue: int) -> int | None:
    """The latest schedule point reached `days_overdue` days after the due date (negative
    before it), or None before the due-soon notice."""
    if days_overdue < DUE_SOON_POINT:
        return None
    last = OVERDUE_POINTS[-1]
    if days_overdue < last:
        return _POINTS_BEFORE_LAST[days_overdue - DUE_SOON_POINT]
    return last + (days_overdue - last) // REPEAT_EVERY_DAYS * REPEAT_EVERY_DAYS


# The point reached on each day from the due-soon notice to the last fixed point.
_POINTS_BEFORE_LAST = tuple(
    max(p for p in (DUE_SOON_POINT, *OVERDUE_POINTS) if p <= day)
    for day in range(DUE_SOON_POINT, OVERDUE_POINTS[-1])
)


def next_point(point: int) -> int:
    if point == DUE_SOON_POINT:
        return OVERDUE_POINTS[0]
    later = [p for p in OVERDUE_POINTS if p > point]
    return later[0] if later else point + REPEAT_EVERY_DAYS


def next_step_text(*, point: int, due_on: date, has_parent: bool) -> str:
    """What happens next if the item stays outstanding: the next escalation, in the
    active language. Its dates are calendar days (from the due date), never shifted."""
    nxt = next_point(point)
    when = due_on + timedelta(days=nxt)
    values = {"due_on": f"{due_on:%Y-%m-%d}", "when": f"{when:%Y-%m-%d}", "days": nxt}
    if point == DUE_SOON_POINT:
        return (
            gettext(
                "Due on %(due_on)s. If it is not done by then, overdue reminders start on "
                "%(when)s; from 7 days overdue the incident owner is copied."
            )
            % values
        )
    level = escalation_level(point)
    next_level = escalation_level(nxt)
    if next_level > level == 1:
        if has_parent:
            text = ngettext(
                "If it is still outstanding on %(when)s (%(days)s day overdue), the reminder "
                "escalates to level 2: the incident owner and the parent supplier's contacts "
                "will be copied.",
                "If it is still outstanding on %(when)s (%(days)s days overdue), the reminder "
                "escalates to level 2: the incident owner and the parent supplier's contacts "
                "will be copied.",
                nxt,
            )
        else:
            text = ngettext(
                "If it is still outstanding on %(when)s (%(days)s day overdue), the reminder "
                "escalates to level 2: the incident owner will be copied.",
                "If it is still outstanding on %(when)s (%(days)s days overdue), the reminder "
                "escalates to level 2: the incident owner will be copied.",
                nxt,
            )
        return text % values
    if next_level > level == 2:
        return (
            ngettext(
                "If it is still outstanding on %(when)s (%(days)s day overdue), the reminder "
                "escalates to level 3: the compliance managers will be copied.",
                "If it is still outstanding on %(when)s (%(days)s days overdue), the reminder "
                "escalates to level 3: the compliance managers will be copied.",
                nxt,
            )
            % values
        )
    if level == 3:
        return (
            ngettext(
                "The compliance managers are informed. Reminders repeat every 7 days; the "
                "next goes out on %(when)s (%(days)s day overdue).",
                "The compliance managers are informed. Reminders repeat every 7 days; the "
                "next goes out on %(when)s (%(days)s days overdue).",
                nxt,
            )
            % values
        )
    return (
        ngettext(
            "Next reminder on %(when)s (%(days)s day overdue) if it is still outstanding.",
            "Next reminder on %(when)s (%(days)s days overdue) if it is still outstanding.",
            nxt,
        )
        % values
    )
