"""What the operators' page shows: schedules with their last and next run, the workers, the task queue."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.tasks import TaskResultStatus, default_task_backend
from django.tasks.exceptions import TaskResultDoesNotExist

from twincity.core.metrics import task_counts
from twincity.core.models import ScheduleRun, WorkerHeartbeat
from twincity.core.schedules import schedule_list
from twincity.core.worker import worker_is_lost

OUTCOME_LABELS = {
    TaskResultStatus.READY: ("waiting", "等待执行", ""),
    TaskResultStatus.RUNNING: ("running", "执行中", "warn"),
    TaskResultStatus.SUCCESSFUL: ("succeeded", "成功", "ok"),
    TaskResultStatus.FAILED: ("failed", "失败", "bad"),
}


@dataclass(frozen=True)
class Outcome:
    key: str  # waiting / running / succeeded / failed / unknown
    label: str
    css: str
    detail: str = ""


@dataclass(frozen=True)
class ScheduleRow:
    name: str
    spec: str
    description: str
    task_path: str
    last_due_at: datetime | None
    last_finished_at: datetime | None
    outcome: Outcome | None
    next_at: datetime


def run_outcome(run: ScheduleRun) -> tuple[Outcome, datetime | None]:
    """The outcome of a schedule's run, as its task backend knows it, and when it finished."""
    if run.error or not run.task_id:
        return Outcome("failed", "失败", "bad", run.error or "not enqueued"), None
    try:
        result = default_task_backend.get_result(run.task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return Outcome("unknown", "未知", "", "the task's record is gone"), None
    key, label, css = OUTCOME_LABELS.get(result.status, ("unknown", "未知", ""))
    detail = ""
    if result.status == TaskResultStatus.FAILED and result.errors:
        error = result.errors[-1]
        lines = [line for line in error.traceback.strip().splitlines() if line.strip()]
        detail = lines[-1][:300] if lines else error.exception_class_path
    return Outcome(key, label, css, detail), result.finished_at


def schedule_rows(*, now: datetime) -> list[ScheduleRow]:
    rows = []
    for schedule in schedule_list():
        last = ScheduleRun.objects.filter(schedule=schedule.name).order_by("-due_at").first()
        outcome, finished_at = run_outcome(last) if last is not None else (None, None)
        rows.append(ScheduleRow(
            name=schedule.name, spec=schedule.spec, description=str(schedule.description),
            task_path=schedule.task_path, last_due_at=last.due_at if last else None, last_finished_at=finished_at,
            outcome=outcome, next_at=schedule.next_at(now),
        ))
    return rows


@dataclass(frozen=True)
class WorkerRow:
    worker_id: str
    hostname: str
    pid: int
    queues: str
    started_at: datetime
    last_seen: datetime
    alive: bool


def worker_rows(*, now: datetime) -> list[WorkerRow]:
    return [
        WorkerRow(hb.worker_id, hb.hostname, hb.pid, hb.queues, hb.started_at, hb.last_seen,
                  alive=not worker_is_lost(hb, now=now))
        for hb in WorkerHeartbeat.objects.order_by("-last_seen")[:50]
    ]


def queue_rows() -> list[tuple[str, dict[str, int]]]:
    """[(queue, {status: tasks})], for the task backend in use (settings.TASKS_BACKEND)."""
    return sorted(task_counts().items()) if settings.TASKS_BACKEND != "immediate" else []
