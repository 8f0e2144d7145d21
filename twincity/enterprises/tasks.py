"""Background entry points of the registry: load by id, call the service."""

from django.tasks import TaskContext, task

from twincity.core.background import task_retries
from twincity.enterprises.imports.jobs import import_job_given_up


@task_retries(retries=1, on_give_up=import_job_given_up)
@task(takes_context=True)
def import_job_task(context: TaskContext, *, job_id: int) -> None:
    """Run an import job of the import page. Retried once if its worker is lost (nothing was written)."""
    from twincity.enterprises.imports.jobs import import_job_retry_reset, import_job_run

    if context.attempt > 1:
        import_job_retry_reset(job_id=job_id)
    import_job_run(job_id=job_id)
