"""manage.py restore PATH [--force] — replace the whole database with a backup made by `manage.py backup`."""

from django.core.management.base import BaseCommand, CommandError

from twincity.core import backup


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup written by `manage.py backup` (same engine). Refuses a database "
        "that already has tables unless --force. Stop the app servers and workers first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="a backup file written by manage.py backup")
        parser.add_argument("--force", action="store_true",
                            help="replace a database that already has tables (everything in it is lost)")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, path: str, force: bool, database: str, **options) -> None:
        try:
            result = backup.restore(path, force=force, alias=database)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"restore: {result.engine} database restored from {result.path} ({result.tables} tables). "
            "Run `manage.py migrate` if this code is newer than the backup."
        ))
