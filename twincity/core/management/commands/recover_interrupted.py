from django.core.management.base import BaseCommand
from django.utils import timezone

from twincity.enterprises.services_import import import_jobs_interrupted_fail
from twincity.points.services import scoring_runs_interrupted_fail


class Command(BaseCommand):
    help = (
        "Before the platform starts: mark the imports and scoring runs that a stopped process left waiting or "
        "running as failed, with the reason, so their pages stop waiting. Run it only when no other "
        "platform process is working."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        jobs = import_jobs_interrupted_fail(started_before=now)
        runs = scoring_runs_interrupted_fail(started_before=now)
        self.stdout.write(f"recover_interrupted: {jobs} import job(s), {runs} scoring run(s) marked as interrupted")
