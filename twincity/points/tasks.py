"""Background entry points of innovation points: load by id, call the service."""

from django.tasks import TaskContext, task
from django.utils import timezone

from twincity.core.background import task_retries
from twincity.points.services import scoring_run_given_up


@task_retries(retries=2, on_give_up=scoring_run_given_up)
@task(takes_context=True)
def scoring_run_task(context: TaskContext, *, run_id: int) -> str:
    """Score the registry for one run. Retried (twice, with backoff) if its worker is lost: the retry drops what
    the lost attempt saved and scores the whole registry again. Answers the run's status."""
    from twincity.core.errors import InvalidInput
    from twincity.points.services import scoring_run_execute, scoring_run_retry_reset

    if context.attempt > 1:
        scoring_run_retry_reset(run_id=run_id)
    try:
        return scoring_run_execute(run_id=run_id).status
    except InvalidInput as exc:
        if exc.code == "run_not_pending":  # another task of the same run got there first: nothing to do
            return "already started"
        raise


@task_retries(retries=2, on_give_up=scoring_run_given_up)
@task(takes_context=True)
def scoring_runs_task(context: TaskContext, *, run_ids: list[int]) -> list[str]:
    """Score the registry for several runs together (`scoring_runs_execute`: one reading of the registry per
    evaluation date). Retried like `scoring_run_task`. Answers each run's status."""
    from twincity.points.services import scoring_run_retry_reset, scoring_runs_execute

    if context.attempt > 1:
        for run_id in run_ids:
            scoring_run_retry_reset(run_id=run_id)
    runs = scoring_runs_execute(run_ids=run_ids)
    return [run.status if run is not None else "already started" for run in runs]


@task
def registry_scoring_task() -> list[str]:
    """The nightly scoring of the registry: a run of every built-in standard's latest version at today's date,
    executed together by one task (skipped where one is done today, joined where one is under way). Answers the
    runs."""
    from twincity.points.nightly import registry_scoring_start

    runs = registry_scoring_start(evaluation_date=timezone.localdate())
    return [f"{run.standard} {run.status}" for run in runs]
