"""`python manage.py import_suppliers suppliers|contacts|ndas FILE [--dry-run] [--actor NAME]`:
load suppliers (with parents), contacts or NDAs from a CSV or XLSX file through the
services (documents.imports). Every bad row is listed; any bad row imports nothing."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from documents.imports import KINDS, import_file
from suppliers.choices import Role
from suppliers.models import User


class Command(BaseCommand):
    help = "Import suppliers, contacts or NDAs from CSV or XLSX (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check only; change nothing.")
        parser.add_argument(
            "--actor",
            help="The staff user recorded as doing it (default: the first active admin).",
        )

    def handle(self, *args, kind: str, file: Path, dry_run: bool, actor: str | None, **options):
        if actor:
            user = User.objects.filter(username=actor, is_active=True).first()
        else:
            user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("No such active user: name one with --actor.")
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        started = time.monotonic()
        try:
            report = import_file(
                actor=user, kind=kind, content=content, filename=file.name, dry_run=dry_run
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        for message in report.file_errors:
            self.stderr.write(f"file: {message}")
        for bad in report.bad_rows:
            for reason in bad.reasons:
                self.stderr.write(f"line {bad.line}: {reason}")
        if not report.ok:
            raise CommandError(
                f"{len(report.bad_rows)} bad row(s) of {report.rows}: nothing was imported."
            )
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{report.rows} rows checked, {verb} {report.created} {kind} ({seconds:.1f} s)."
        )
