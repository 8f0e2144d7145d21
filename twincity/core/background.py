"""Background work on Django's task interface (django.tasks): what the domains use to hand work to a worker.

A domain's `tasks.py` declares `@task` entry points that load their object by id and call a service; services
enqueue them with `task_enqueue_on_commit`. A task that may be run again safely says so with `task_retries`:

    @task_retries(retries=2, on_give_up=scoring_run_given_up)
    @task(takes_context=True)
    def scoring_run_task(context, *, run_id: int) -> str: ...

The worker (twincity.core.worker, `manage.py run_worker`) then retries it, with exponential backoff, when the
worker running it was lost (killed, out of memory, its machine gone) or when it raised one of `retry_on`; once
no retry is left the task is failed with the reason and `on_give_up(kwargs, reason)` lets the domain mark its own
row (the job or run a page polls) as failed too. The kernel knows no domain: domains register here by decorating.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import Task, TaskResultStatus
from django.utils.module_loading import import_string

logger = logging.getLogger("twincity.tasks")

# Retries never wait longer than this, however many there were.
MAX_BACKOFF_SECONDS = 3600.0


class WorkerLost(Exception):  # noqa: N818 — named for what happened, as the task's error shows it
    """The worker running a task stopped checking in (killed, out of memory, its machine gone) before the task
    finished. Recorded as the failed task's exception; never raised."""


@dataclass(frozen=True)
class RetryPolicy:
    retries: int  # attempts after the first
    backoff_seconds: float | None = None  # the first retry's delay; None: settings.TASKS_RETRY_BACKOFF_SECONDS
    retry_on: tuple[type[BaseException], ...] = ()
    on_give_up: Callable[[dict[str, Any], str], None] | None = field(default=None, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before the attempt after `attempt` (1 for the first): base, 2 × base, 4 × base, …"""
        base = self.backoff_seconds if self.backoff_seconds is not None else settings.TASKS_RETRY_BACKOFF_SECONDS
        return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempt - 1))

    def may_retry(self, attempt: int, exc: BaseException | None = None) -> bool:
        """Whether attempt number `attempt`, lost (exc None) or failed with `exc`, is followed by another."""
        if attempt > self.retries:
            return False
        return exc is None or (isinstance(exc, self.retry_on) and isinstance(exc, Exception))


_POLICIES: dict[str, RetryPolicy] = {}


def task_retries(
    *, retries: int, backoff_seconds: float | None = None, retry_on: tuple[type[BaseException], ...] = (),
    on_give_up: Callable[[dict[str, Any], str], None] | None = None,
) -> Callable[[Task], Task]:
    """Declare how a task is retried (see the module docstring). Put it above `@task`."""

    def register(task: Task) -> Task:
        _POLICIES[task.module_path] = RetryPolicy(retries, backoff_seconds, retry_on, on_give_up)
        return task

    return register


def retry_policy(task_path: str) -> RetryPolicy:
    """The policy of the task at `task_path`; a task that declares none is never retried."""
    if task_path not in _POLICIES:
        try:
            import_string(task_path)  # declaring the task registers its policy (a worker may not have yet)
        except ImportError:
            logger.warning("task %s cannot be imported", task_path)
    return _POLICIES.get(task_path) or RetryPolicy(retries=0)


def task_given_up(task_path: str, kwargs: dict[str, Any], reason: str) -> None:
    """A task failed for good: let its domain mark the work it stood for as failed. Never raises."""
    policy = retry_policy(task_path)
    logger.warning("task given up", extra={"task": task_path, "task_kwargs": kwargs, "reason": reason})
    if policy.on_give_up is None:
        return
    try:
        policy.on_give_up(kwargs, reason)
    except Exception:  # noqa: BLE001 — the periodic recovery sweep catches what this could not mark
        logger.exception("on_give_up of %s failed", task_path)


def _uses_default_database(task: Task) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def task_enqueue_on_commit(task: Task, **kwargs: Any) -> None:
    """Enqueue `task` with `kwargs` once the caller's transaction commits.

    With the database backend the queue entry is written in the caller's transaction itself, so the work and
    its queue entry are committed together or not at all (a crash in between cannot leave a job nobody runs).
    Other backends (Redis) are enqueued right after the commit.
    """
    if _uses_default_database(task):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs), robust=False)


def hashable(value: Any) -> Any:
    """A task argument as a set member: a list (JSON has no tuples) as a tuple."""
    return tuple(hashable(item) for item in value) if isinstance(value, list) else value


def task_live_values(task: Task, key: str) -> set[Any] | None:
    """The values of keyword argument `key` over the tasks of `task` that are queued or running (for the
    recovery sweep: a job whose task is in neither state was lost), lists as tuples. None where the backend cannot
    tell."""
    if _uses_default_database(task):
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(
            task_path=task.module_path, status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING)
        ).values_list("args_kwargs", flat=True)
        return {hashable(row.get("kwargs", {}).get(key)) for row in rows}
    live_values = getattr(task.get_backend(), "live_values", None)  # twincity.core.task_backends.RQBackend
    return live_values(task, key) if live_values is not None else None
