"""`python manage.py send_reminders [--as-of YYYY-MM-DD] [--dry-run] [--send-now]`: the
same reminder sweep the beat runs daily, by hand."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from breaches import reminders
from breaches.reminders import SweepItem

# Reminders (and messages) listed at the default verbosity; -v 2 lists every one.
ITEMS_SHOWN = 100


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, got {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Run the reminder sweep: record the reminders due (one per target and schedule "
        "point) and send one message per recipient. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Count overdue days as of this date (YYYY-MM-DD).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be sent; write and send nothing.",
        )
        parser.add_argument(
            "--send-now",
            action="store_true",
            help="Send the messages in this process instead of queueing them for the worker.",
        )

    def handle(self, *args, as_of=None, dry_run=False, send_now=False, **options):
        day = _as_of(as_of) if as_of else None
        everything = options.get("verbosity", 1) >= 2
        verbose = options.get("verbosity", 1) >= 1
        shown: list[SweepItem] = []

        def show(items: list[SweepItem]) -> None:
            # Each batch as it is written, never the whole sweep in memory (a full-scale
            # sweep records 550,000 reminders): all of them with -v 2, else the first.
            if everything:
                for item in items:
                    self.stdout.write(self._item_line(item))
            elif verbose and len(shown) < ITEMS_SHOWN:
                shown.extend(items[: ITEMS_SHOWN - len(shown)])

        header = f"Reminder sweep as of {(day or timezone.localdate()):%Y-%m-%d}"
        header += " (dry run: nothing written, nothing sent)" if dry_run else ""
        if everything:
            self.stdout.write(header)
        result = reminders.run_sweep(
            as_of=day,
            dry_run=dry_run,
            enqueue=not send_now,
            enqueue_after_commit=False,
            keep_items=False,
            on_items=show,
        )
        # Handed to the broker here, once the sweep has committed, so that what is
        # printed is what the broker took.
        queued = None if dry_run or send_now else reminders.hand_over(result)
        if not everything:
            self.stdout.write(header)
        if verbose:
            for item in shown:
                self.stdout.write(self._item_line(item))
            if not everything and result.created > len(shown):
                self.stdout.write(
                    f"  ... and {result.created - len(shown)} more (-v 2 lists every one)"
                )
            messages = list(result.messages.items())
            listed = messages if everything else messages[:ITEMS_SHOWN]
            for recipient, count in listed:
                self.stdout.write(f"  message to {recipient}: {count} item{'s' * (count != 1)}")
            if len(messages) > len(listed):
                self.stdout.write(
                    f"  ... and {len(messages) - len(listed)} more messages (-v 2 lists them)"
                )
        verb = "Would record" if dry_run else "Recorded"
        self.stdout.write(
            f"{verb} {result.created} reminder{'s' * (result.created != 1)}; "
            f"{len(result.messages)} message{'s' * (len(result.messages) != 1)} "
            f"({'would be sent' if dry_run else 'one per recipient'})."
        )
        pending = result.requeued_message_ids
        if dry_run:
            if pending:
                self.stdout.write(f"Would re-queue {len(pending)} undelivered message(s).")
            return
        if send_now:
            outcomes: dict[str, int] = {}
            older = reminders.undelivered_message_ids(exclude_sweep=result.sweep_id)
            for message_id in result.message_ids + older:
                outcome = reminders.deliver_message(message_id=message_id, final_attempt=True)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing"
            self.stdout.write(f"Sent now: {summary}.")
        else:
            self._report_queued(result, queued)

    @staticmethod
    def _item_line(item: SweepItem) -> str:
        if item.penalty_id is not None:
            target = f"penalty #{item.penalty_id} payment, {item.label}"
        elif item.action_id is None:
            target = "plan"
        else:
            target = f"action #{item.action_id} {item.label}"
        when = "due soon" if item.schedule_point < 0 else f"{item.days_overdue} days overdue"
        to = ", ".join(item.recipients) or "nobody (no reminder contacts)"
        plan = "" if item.plan_id is None else f"plan #{item.plan_id} "
        return (
            f"  {item.incident_reference} {plan}{target}: {when}, "
            f"due {item.due_on:%Y-%m-%d}, point {item.schedule_point}, "
            f"level {item.level} -> {to}"
        )

    def _report_queued(self, result, queued: int) -> None:
        """What the broker took: the sweep's own messages first, then the re-queued."""
        new, pending = len(result.message_ids), len(result.requeued_message_ids)
        if queued == new + pending:
            self.stdout.write(
                f"Queued {new} message(s) for the worker"
                + (f", re-queued {pending} undelivered." if pending else ".")
            )
            return
        left = new + pending - queued
        self.stdout.write(
            self.style.WARNING(
                f"Queued {queued} of {new + pending} message(s) for the worker: the broker "
                f"did not take the other {left}. They stay pending in the database for the "
                "next sweep to queue."
            )
        )
