"""manage.py backup PATH — a consistent copy of the whole database (pg_dump custom format, or SQLite's backup API)."""

from django.core.management.base import BaseCommand, CommandError

from twincity.core import backup


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the whole database to PATH while the platform runs: a pg_dump custom-format "
        "archive on PostgreSQL, a SQLite database file (online backup API) on SQLite. Restore it with "
        "`manage.py restore PATH`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the backup file to write (replaced if it exists)")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, path: str, database: str, **options) -> None:
        try:
            result = backup.backup(path, alias=database)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"backup: {result.engine} database ({result.tables} tables) written to {result.path} "
            f"({result.bytes / 1e6:.1f} MB)"
        ))
