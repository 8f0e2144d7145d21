"""The kernel's own periodic tasks: the recovery sweep and the pruning of old task records."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from twincity.core.recovery import RECOVERY_GRACE, recover_interrupted


@task
def recover_interrupted_task() -> dict[str, int]:
    """Mark work whose task was lost as failed (twincity.core.recovery)."""
    return recover_interrupted(started_before=timezone.now() - RECOVERY_GRACE)


@task
def prune_task_records_task(*, days: int = 30) -> dict[str, int]:
    """Forget finished tasks and schedule runs older than `days`, and workers gone for a day."""
    from django_tasks_db.models import DBTaskResult

    from twincity.core.models import ScheduleRun, WorkerHeartbeat

    now = timezone.now()
    before = now - timedelta(days=days)
    tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    runs, _ = ScheduleRun.objects.filter(due_at__lt=before).delete()
    workers, _ = WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return {"tasks": tasks, "schedule_runs": runs, "workers": workers}
