"""Run the notifications sweep by hand: fan out lost events, batch and send the mail,
attempt the due webhooks; here (--inline) or through the workers."""

from django.core.management.base import BaseCommand

from notifications.fanout import sweep


class Command(BaseCommand):
    help = "Fan out pending events, send the batch mail and the due webhooks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inline", action="store_true", help="Send here instead of queueing for workers."
        )

    def handle(self, *args, inline: bool = False, **options):
        result = sweep(inline=inline)
        self.stdout.write(
            f"{result.fanned_out} event(s) fanned out, {len(result.mails)} mail(s), "
            f"{len(result.webhooks)} webhook delivery(ies) "
            f"{'sent' if inline else 'queued'}."
        )
