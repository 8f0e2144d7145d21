"""Tasks for the worker tests. Real worker processes import them by path, so they live in the code tree."""

import os
import time

from django.tasks import TaskContext, task

from twincity.core.background import task_retries


def _append(path: str, line: str) -> None:
    # One short write with O_APPEND: lines of concurrent processes never interleave.
    with open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


@task
def record_task(*, path: str, key: str) -> int:
    """Write `key` and the worker's pid as one line of `path`: the test counts the runs."""
    _append(path, f"{key} {os.getpid()}")
    return os.getpid()


@task
def hang_task(*, path: str) -> None:
    """Say it started, then hang until the worker is killed."""
    _append(path, f"started {os.getpid()}")
    time.sleep(600)


@task_retries(retries=1, backoff_seconds=0.5)
@task(takes_context=True)
def hang_once_task(context: TaskContext, *, path: str) -> int:
    """Hang in the first attempt (the test kills its worker); succeed in the retry."""
    _append(path, f"attempt {context.attempt} {os.getpid()}")
    if context.attempt == 1:
        time.sleep(600)
    return context.attempt


@task_retries(retries=2, backoff_seconds=0.2, retry_on=(ConnectionError,))
@task(takes_context=True)
def flaky_task(context: TaskContext, *, failures: int) -> int:
    """Raise a retryable error in the first `failures` attempts."""
    if context.attempt <= failures:
        raise ConnectionError(f"attempt {context.attempt} failed")
    return context.attempt


@task_retries(retries=2, backoff_seconds=0.2, retry_on=(ConnectionError,))
@task
def broken_task() -> None:
    """Raise an error that its policy does not retry."""
    raise ValueError("not retryable")
