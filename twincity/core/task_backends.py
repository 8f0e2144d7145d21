"""The Redis task backend (TASKS_BACKEND=redis): django-tasks-rq's RQ backend, taught the retry policies that
tasks declare (twincity.core.background.task_retries).

RQ keeps its own books: a job whose worker dies is found by RQ's registry cleanup (AbandonedJobError) and, like
one that raised, retried while it has retries left (with the policy's backoff), else failed, and the domain's
`on_give_up` marks its row failed.
"""

from functools import cached_property
from typing import Any

import django_rq
from django_tasks.base import TASK_MAX_PRIORITY, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, failed_callback, success_callback
from django_tasks_rq.backend import RQBackend as BaseRQBackend
from rq import Callback, Retry
from rq.exceptions import AbandonedJobError
from rq.job import JobStatus
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from twincity.core.background import hashable, retry_policy, task_given_up


class TaskJob(Job):
    """django-tasks-rq's job, counting attempts from RQ's retries: `TaskContext.attempt` is 2 in the first retry
    (the domain tasks reset their row for a retry), which RQ's results alone do not always tell."""

    @cached_property
    def task_result(self):
        result = Job.task_result.func(self)  # type: ignore[attr-defined]
        retries = retry_policy(self.func_name).retries
        if retries and self.retries_left is not None:
            missing = (retries - self.retries_left + 1) - len(result.worker_ids)
            if missing > 0:
                result.worker_ids[:0] = ["(earlier attempt)"] * missing
        return result


def _on_failure(job: Job, connection, exc_type, exc_value, traceback) -> None:
    failed_callback(job, connection, exc_type, exc_value, traceback)
    policy = retry_policy(job.func_name)
    lost = isinstance(exc_value, AbandonedJobError)
    if not lost and not isinstance(exc_value, policy.retry_on):
        job.retries_left = 0  # the policy retries only what it names (and lost workers)
    if not job.retries_left:
        reason = ("worker lost: it stopped before the task finished" if lost
                  else f"{exc_type.__name__}: {exc_value}")
        task_given_up(job.func_name, dict(job.kwargs), reason)


class RQBackend(BaseRQBackend):
    """django-tasks-rq's `enqueue`, with the task's retry policy and a failure callback that gives up for good."""

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        policy = retry_policy(task.module_path)
        task_result = TaskResult(
            task=task, id=get_random_id(), status=TaskResultStatus.READY, enqueued_at=None, started_at=None,
            last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs, backend=self.alias, errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=TaskJob)
        retry = None
        if policy.retries:
            retry = Retry(max=policy.retries, interval=[int(policy.delay(n)) for n in range(1, policy.retries + 1)])
        job = queue.create_job(
            task.module_path, args=args, kwargs=kwargs, job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(_on_failure), on_success=Callback(success_callback),
            meta={"backend_name": self.alias}, retry=retry,
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
        return task_result

    def live_values(self, task, key: str) -> set[Any]:
        """The `key` keyword argument of every queued, scheduled, deferred or running job of `task`."""
        queue = django_rq.get_queue(task.queue_name, job_class=TaskJob)
        ids = set(queue.get_job_ids())
        for registry in (StartedJobRegistry, ScheduledJobRegistry, DeferredJobRegistry):
            ids.update(registry(queue=queue).get_job_ids())
        jobs = TaskJob.fetch_many(sorted(ids), connection=queue.connection)
        return {hashable(job.kwargs.get(key)) for job in jobs
                if job is not None and job.func_name == task.module_path}

