"""manage.py import_registry --kind enterprises|declarations FILE [--dry-run] [--as USERNAME]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from twincity.accounts.models import User
from twincity.core.errors import ApplicationError
from twincity.enterprises.imports import KINDS, ImportRejected, import_apply, import_plan

ERRORS_PRINTED = 50


class Command(BaseCommand):
    help = (
        "Import enterprises or annual declarations from a CSV or XLSX file, all or nothing. Without --as the "
        "import acts as the system: audit entries have no actor and the context 'import <file name>'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count the changes; write nothing"
        )
        parser.add_argument("--as", dest="username", help="act as this user (their access rules apply)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self, *args, file: Path, kind: str, dry_run: bool, username: str | None, no_progress: bool, **options
    ) -> None:
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        actor = None
        if username:
            actor = User.objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"no such user: {username}")
        bar = tqdm(
            total=0,
            unit="step",  # a real import checks every row, then writes it: two steps per row
            file=sys.stderr,
            disable=no_progress,
            dynamic_ncols=True,
            desc="check" if dry_run else "check, then write",
        )

        def on_progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        service = import_plan if dry_run else import_apply
        try:
            result = service(actor=actor, kind=kind, path=file, filename=file.name, on_progress=on_progress)
        except ImportRejected as exc:
            bar.close()
            for error in exc.errors[:ERRORS_PRINTED]:
                self.stderr.write(
                    f"row {error.row}, {error.column or '-'}, {error.value!r}: {error.reason_zh} ({error.reason_en})"
                )
            if exc.error_count > ERRORS_PRINTED:
                self.stderr.write(f"… and {exc.error_count - ERRORS_PRINTED} more")
            raise CommandError(exc.message) from None
        except ApplicationError as exc:
            bar.close()
            raise CommandError(exc.message) from None
        bar.close()
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{file.name}: {result.rows} rows; {result.created} {verb} created, {result.updated} {verb} updated, "
            f"{result.unchanged} unchanged"
            + (f"; {result.flagged} flagged" if kind == "declarations" else "")
        )
