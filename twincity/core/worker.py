"""The worker side of background work: `manage.py run_worker` runs one of these processes.

Besides running tasks (django-tasks-db's worker loop, or RQ's), every worker keeps a housekeeping thread that,
every settings.TASKS_HEARTBEAT_SECONDS:

1. checks in (WorkerHeartbeat: `/healthz` is unhealthy when no worker checked in for a minute);
2. runs the scheduler's tick (twincity.core.schedules: each due time of each schedule is claimed by exactly one
   worker, however many run);
3. (database backend) recovers the tasks of lost workers: a task left RUNNING by a worker that is gone is
   retried after its backoff if it declared retries left, else failed with the reason, and its domain marks its
   row failed (twincity.core.background). A worker is gone when its process no longer exists (same machine: the
   process table says so at once, e.g. after SIGKILL) or it has not checked in for
   settings.TASKS_WORKER_LOST_SECONDS (another machine).

Why a task is never run twice: the database backend claims a task by locking its row (SELECT … FOR UPDATE SKIP
LOCKED on PostgreSQL; an exclusive transaction on SQLite) and marking it RUNNING in the same transaction; the
recovery above changes a RUNNING task only with a conditional UPDATE on the attempt it saw (status and start
time), so two workers recovering the same lost task change it once.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from traceback import format_exception

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import close_old_connections, connection
from django.db.utils import DatabaseError
from django.tasks import TaskResultStatus
from django.tasks.base import TaskContext
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult

from twincity.core.background import WorkerLost, retry_policy, task_given_up
from twincity.core.middleware import database_is_busy
from twincity.core.models import WorkerHeartbeat
from twincity.core.observability import log_context

logger = logging.getLogger("twincity.tasks")

HOSTNAME = socket.gethostname()[:255]


# --- liveness --------------------------------------------------------------------------------------------------


def worker_checkin(*, worker_id: str, backend: str, queues: str) -> None:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"hostname": HOSTNAME, "pid": os.getpid(), "backend": backend, "queues": queues[:255],
                      "started_at": now, "last_seen": now},
        )


def worker_checkout(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def workers_alive(*, now: datetime | None = None):
    """The workers that checked in within settings.TASKS_WORKER_LOST_SECONDS."""
    now = now or timezone.now()
    return WorkerHeartbeat.objects.filter(last_seen__gte=now - timedelta(seconds=settings.TASKS_WORKER_LOST_SECONDS))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed process that its parent has not reaped yet is a zombie; a reused pid is another program
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            if stat.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"run_worker" in cmdline.read()
    except OSError:
        return True


def worker_is_lost(heartbeat: WorkerHeartbeat | None, *, now: datetime) -> bool:
    if heartbeat is None:  # a worker removes its heartbeat only when it stops, after its task
        return True
    if heartbeat.hostname == HOSTNAME and heartbeat.pid != os.getpid():
        # Same machine: the process table is the truth (a worker blocked on a long SQLite write is alive).
        return not _process_exists(heartbeat.pid)
    return heartbeat.last_seen < now - timedelta(seconds=settings.TASKS_WORKER_LOST_SECONDS)


# --- recovery of the tasks of lost workers (database backend) --------------------------------------------------


def tasks_of_lost_workers_recover(*, now: datetime | None = None) -> dict[str, int]:
    """Retry (after backoff) or fail every RUNNING task whose worker is lost. {"retried": n, "failed": n}."""
    now = now or timezone.now()
    counts = {"retried": 0, "failed": 0}
    running = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
                   .only("id", "task_path", "worker_ids", "started_at", "args_kwargs"))
    if not running:
        return counts
    last_workers = {result.worker_ids[-1] for result in running if result.worker_ids}
    heartbeats = {hb.worker_id: hb for hb in WorkerHeartbeat.objects.filter(worker_id__in=last_workers)}
    for result in running:
        worker_id = result.worker_ids[-1] if result.worker_ids else ""
        heartbeat = heartbeats.get(worker_id)
        if heartbeat is None and result.started_at and result.started_at > now - timedelta(seconds=5):
            continue  # its worker may be checking in for the first time right now
        if not worker_is_lost(heartbeat, now=now):
            continue
        attempt = len(result.worker_ids)
        policy = retry_policy(result.task_path)
        this_attempt = DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING,
                                                   started_at=result.started_at)
        reason = (f"worker lost: {worker_id or '?'} stopped before attempt {attempt} of the task finished "
                  f"(process gone or no check-in since {heartbeat.last_seen.isoformat() if heartbeat else '?'})")
        if policy.may_retry(attempt):
            delay = policy.delay(attempt)
            if this_attempt.update(status=TaskResultStatus.READY, run_after=now + timedelta(seconds=delay)):
                counts["retried"] += 1
                logger.warning("task retried", extra={"task_id": str(result.pk), "task": result.task_path,
                                                      "reason": reason, "retry_in_seconds": delay})
            continue
        if this_attempt.update(status=TaskResultStatus.FAILED, finished_at=now, return_value=None,
                               exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                               traceback=reason):
            counts["failed"] += 1
            task_given_up(result.task_path, result.args_kwargs.get("kwargs", {}), reason)
    return counts


class Worker(DatabaseWorker):
    """django-tasks-db's worker, with the retry policies: a task that raised one of its `retry_on` exceptions
    goes back to the queue after its backoff while it has retries left; one that fails for good is given up."""

    def run_task(self, db_task_result: DBTaskResult) -> None:
        with log_context(f"task:{db_task_result.pk}"):
            logger.info("task started", extra={"task": db_task_result.task_path,
                                               "attempt": len(db_task_result.worker_ids)})
            self._run_task(db_task_result)
            logger.info("task ended", extra={"task": db_task_result.task_path, "status": db_task_result.status})

    def _run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                return_value = task.call(TaskContext(task_result=task_result), *task_result.args,
                                         **task_result.kwargs)
            else:
                return_value = task.call(*task_result.args, **task_result.kwargs)
            db_task_result.set_successful(return_value)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except BaseException as exc:  # noqa: BLE001 — recorded on the task; the worker goes on
            self._failed(db_task_result, exc)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _failed(self, db_task_result: DBTaskResult, exc: BaseException) -> None:
        attempt = len(db_task_result.worker_ids)
        policy = retry_policy(db_task_result.task_path)
        # The worker is being stopped (a second Ctrl-C or SIGTERM): like a lost worker, but it can say so itself,
        # and the retry may start at once.
        stopping = isinstance(exc, (SystemExit, KeyboardInterrupt))
        if policy.may_retry(attempt, None if stopping else exc):
            delay = 0.0 if stopping else policy.delay(attempt)
            DBTaskResult.objects.filter(pk=db_task_result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, run_after=timezone.now() + timedelta(seconds=delay),
                exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
                traceback="".join(format_exception(exc)),
            )
            db_task_result.status = TaskResultStatus.READY
            logger.warning("task retried", extra={"task": db_task_result.task_path, "attempt": attempt,
                                                  "reason": f"{type(exc).__name__}: {exc}", "retry_in_seconds": delay})
            return
        db_task_result.set_failed(exc)
        reason = "worker stopped before the task finished" if stopping else f"{type(exc).__name__}: {exc}"
        task_given_up(db_task_result.task_path, db_task_result.args_kwargs.get("kwargs", {}), reason)
        try:
            task_finished.send(sender=type(db_task_result.task.get_backend()), task_result=db_task_result.task_result)
        except (ImportError, SuspiciousOperation):
            logger.exception("task %s failed unexpectedly", db_task_result.pk)


# --- the housekeeping thread -----------------------------------------------------------------------------------


class Housekeeping(threading.Thread):
    """Checks in, runs the scheduler's tick and recovers lost workers' tasks every TASKS_HEARTBEAT_SECONDS,
    beside the worker loop (see the module docstring). Never dies of a failed round: it logs and tries again."""

    def __init__(self, *, worker_id: str, backend: str, queues: str, scheduler: bool, recover_tasks: bool) -> None:
        super().__init__(name=f"housekeeping-{worker_id}", daemon=True)
        self.worker_id, self.backend, self.queues = worker_id, backend, queues
        self.scheduler, self.recover_tasks = scheduler, recover_tasks
        self.stopping = threading.Event()
        self.rounds = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.round()
                self.stopping.wait(settings.TASKS_HEARTBEAT_SECONDS)
        finally:
            connection.close()

    def round(self) -> None:
        from twincity.core.recovery import RECOVERY_GRACE, recover_interrupted
        from twincity.core.schedules import schedules_tick

        close_old_connections()
        now = timezone.now()
        steps: list[tuple[str, Callable[[], object]]] = [("check-in", lambda: worker_checkin(worker_id=self.worker_id, backend=self.backend,
                                                      queues=self.queues))]
        if self.recover_tasks:
            steps.append(("recovery", lambda: tasks_of_lost_workers_recover(now=now)))
        if self.rounds == 0:
            # Once at start: work a stopped platform left without any task (see twincity.core.recovery).
            steps.append(("interrupted work", lambda: recover_interrupted(started_before=now - RECOVERY_GRACE)))
        if self.scheduler:
            steps.append(("scheduler", lambda: schedules_tick(now=now, worker_id=self.worker_id)))
        for name, step in steps:
            try:
                step()
            except DatabaseError as exc:
                if database_is_busy(exc):  # e.g. SQLite while this worker's own import holds the write lock
                    logger.warning("worker housekeeping: %s waited too long for the database (%s); next round",
                                   name, exc)
                else:
                    logger.exception("worker housekeeping: %s failed; trying again next round", name)
        self.rounds += 1

    def stop(self) -> None:
        self.stopping.set()

