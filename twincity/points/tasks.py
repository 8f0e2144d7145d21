"""Background work of innovation points: the tasks (load by id, call the service), and how runs are handed to
them. Services know nothing of tasks; views, the API and the nightly schedule start runs through this module."""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db import transaction
from django.tasks import TaskContext, task
from django.utils import timezone

import points_engine
from twincity.core.background import task_enqueue_on_commit, task_live_values, task_retries
from twincity.core.errors import InvalidInput
from twincity.points import selectors, services
from twincity.points.models import ScoreResult, ScoringRun
from twincity.points.services import (
    INTERRUPTED_ERROR,
    scoring_run_execute,
    scoring_run_given_up,
    scoring_run_retry_reset,
    scoring_runs_execute,
)


@task_retries(retries=2, on_give_up=scoring_run_given_up)
@task(takes_context=True)
def scoring_run_task(context: TaskContext, *, run_id: int) -> str:
    """Score the registry for one run. Retried (twice, with backoff) if its worker is lost: the retry drops what
    the lost attempt saved and scores the whole registry again. Answers the run's status."""
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
    if context.attempt > 1:
        for run_id in run_ids:
            scoring_run_retry_reset(run_id=run_id)
    runs = scoring_runs_execute(run_ids=run_ids)
    return [run.status if run is not None else "already started" for run in runs]


@task
def registry_scoring_task() -> list[str]:
    """The nightly scoring of the registry (the "nightly-scoring" schedule): a run of every built-in standard's
    latest version at today's date, executed together (skipped where one is done today, joined where one is under
    way). Answers the runs."""
    runs = registry_scoring_start(evaluation_date=timezone.localdate())
    return [f"{run.standard} {run.status}" for run in runs]


def scoring_run_start(*, run: ScoringRun) -> None:
    """Execute a run now (settings.POINTS_RUN_INLINE: tests that check the outcome in one request) or hand it to a
    worker as a task, enqueued with the caller's commit. A run that `scoring_run_create` joined is already
    under way and is not started again.

    The run row is the source of truth: pages poll it, and it is claimed (pending → running) exactly once."""
    scoring_runs_start(runs=[run])


def scoring_runs_start(*, runs: Iterable[ScoringRun]) -> None:
    """`scoring_run_start` of several runs at once: executed together (`scoring_runs_execute`, one reading of the
    registry per evaluation date), inline or as one task. Runs that `scoring_run_create` joined are left to the
    task that has them."""
    runs = list(runs)
    run_ids = [run.pk for run in runs if not getattr(run, "joined", False)]
    if not run_ids:
        return
    if getattr(settings, "POINTS_RUN_INLINE", False):
        if len(run_ids) == 1:
            scoring_run_execute(run_id=run_ids[0])
        else:
            scoring_runs_execute(run_ids=run_ids)
        for run in runs:
            run.refresh_from_db()
        return

    if len(run_ids) == 1:
        task_enqueue_on_commit(scoring_run_task, run_id=run_ids[0])
    else:
        task_enqueue_on_commit(scoring_runs_task, run_ids=run_ids)


def registry_scoring_start(*, evaluation_date: date) -> list[ScoringRun]:
    """Start a run of every built-in standard's latest version at `evaluation_date`, by the system: skipped where
    a run of that version and date is done, joined where one is under way. The runs started are executed together
    (one reading of the registry). The runs started or joined."""
    services.standards_builtin_sync()
    runs = []
    for standard_id in sorted({standard.id for standard in points_engine.list_builtin()}):
        standard = selectors.standard_latest(standard_id=standard_id)
        if standard is None:
            continue
        if ScoringRun.objects.filter(standard=standard, evaluation_date=evaluation_date,
                                     status=ScoringRun.Status.DONE).exists():
            continue
        run = services.scoring_run_create(actor=None, standard=standard, evaluation_date=evaluation_date,
                                          system=True)
        runs.append(run)
    scoring_runs_start(runs=runs)
    return runs


def scoring_runs_interrupted_fail(started_before) -> int:
    """Mark the runs created before `started_before` that are still pending or running although no task for them
    is queued or running (their task was lost) as failed, saying why, and drop any results they saved, so a
    failed run never shows partial results."""

    live = task_live_values(scoring_run_task, "run_id")
    together = task_live_values(scoring_runs_task, "run_ids")
    if live is None or together is None:  # the task backend cannot tell which tasks are alive: leave the runs to it
        return 0
    live_ids = {run_id for run_id in live if run_id is not None}
    live_ids.update(run_id for run_ids in together if run_ids for run_id in run_ids)
    stale = ScoringRun.objects.filter(
        status__in=(ScoringRun.Status.PENDING, ScoringRun.Status.RUNNING), created_at__lt=started_before
    ).exclude(pk__in=live_ids)
    with transaction.atomic():
        ScoreResult.objects.filter(run__in=stale).delete()
        return stale.update(status=ScoringRun.Status.FAILED, finished_at=timezone.now(), error=INTERRUPTED_ERROR)
