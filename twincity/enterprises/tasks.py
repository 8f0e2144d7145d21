"""Background entry points of the registry: load by id, call the service; and the bridges that hand an import
job to a worker (`import_job_start`) or find the jobs whose task was lost (`import_jobs_interrupted_fail`), which
need the task itself. twincity.enterprises.imports.jobs does not import this module."""

from django.conf import settings
from django.tasks import TaskContext, task
from django.utils import timezone

from twincity.core.background import task_enqueue_on_commit, task_live_values, task_retries
from twincity.enterprises.imports.jobs import (
    INTERRUPTED_MESSAGE,
    import_job_given_up,
    import_job_retry_reset,
    import_job_run,
)
from twincity.enterprises.models import ImportJob


@task_retries(retries=1, on_give_up=import_job_given_up)
@task(takes_context=True)
def import_job_task(context: TaskContext, *, job_id: int) -> None:
    """Run an import job of the import page. Retried once if its worker is lost (nothing was written)."""
    if context.attempt > 1:
        import_job_retry_reset(job_id=job_id)
    import_job_run(job_id=job_id)


def import_job_start(*, job: ImportJob) -> None:
    """Run the job inline (settings.IMPORT_RUN_INLINE: tests that check the page's outcome in one request) or hand
    it to a worker as a task, enqueued with the caller's commit.

    The job row is the source of truth: the page polls it, and a job is claimed (pending → running) exactly
    once, whichever worker runs it and however often its task is retried.
    """
    if getattr(settings, "IMPORT_RUN_INLINE", False):
        import_job_run(job_id=job.pk)
        return
    task_enqueue_on_commit(import_job_task, job_id=job.pk)


def import_jobs_interrupted_fail(started_before) -> int:
    """Mark the jobs created before `started_before` that are still waiting or running although no task for them
    is queued or running (their task was lost) as failed, saying why, so their pages stop polling and the
    person knows to upload again. Nothing of such a job was written: an import writes in one transaction."""
    stale = ImportJob.objects.filter(
        status__in=(ImportJob.Status.PENDING, ImportJob.Status.RUNNING), created_at__lt=started_before
    )
    live = task_live_values(import_job_task, "job_id")
    if live is None:  # the task backend cannot tell which tasks are alive: leave the jobs to it
        return 0
    return stale.exclude(pk__in={job_id for job_id in live if job_id is not None}).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        result={"message": INTERRUPTED_MESSAGE},
    )
