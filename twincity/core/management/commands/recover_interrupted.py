from django.core.management.base import BaseCommand
from django.utils import timezone

from twincity.core.recovery import recover_interrupted


class Command(BaseCommand):
    help = (
        "Mark the work (imports, scoring runs) that is still waiting or running although its task was lost as "
        "failed, with the reason, so their pages stop waiting. Work whose task is queued or running is left alone, "
        "so it is safe while workers run; the workers do the same every minute (schedule recover-interrupted)."
    )

    def handle(self, *args, **options):
        counts = recover_interrupted(started_before=timezone.now())
        summary = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing registered"
        self.stdout.write(f"recover_interrupted: {summary} marked as interrupted")
