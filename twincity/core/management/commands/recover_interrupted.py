from django.core.management.base import BaseCommand
from django.utils import timezone

from twincity.core.recovery import recover_interrupted


class Command(BaseCommand):
    help = (
        "Before the platform starts: mark the work that a stopped process left waiting or running (imports, "
        "scoring runs) as failed, with the reason, so their pages stop waiting. Run it only when no other "
        "platform process is working."
    )

    def handle(self, *args, **options):
        counts = recover_interrupted(started_before=timezone.now())
        summary = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing registered"
        self.stdout.write(f"recover_interrupted: {summary} marked as interrupted")
