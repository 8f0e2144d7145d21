"""Periodic jobs declared in code: each domain registers its schedules in AppConfig.ready(), the workers run them.

    schedule_register(Schedule("nightly-scoring", "twincity.points.tasks.registry_scoring_task",
                               cron="0 2 * * *", description="..."))

A schedule names a task (by its import path) and when it is due: a cron expression in the platform's time zone
(settings.TIME_ZONE; evaluated by cronsim) or a fixed interval (`every`, counted from the Unix epoch, so every
worker computes the same due times). Each worker's housekeeping thread calls `schedules_tick` every few seconds;
the tick claims the latest due time of each schedule by inserting a ScheduleRun row, whose unique constraint on
(schedule, due time) lets exactly one worker win, and enqueues the task in the same transaction (database backend:
the claim and the queue entry commit together). A due time more than `catch_up` old is not run any more: a
platform that was stopped over night does not run last night's job at noon (set a longer catch_up for that).

The kernel knows no domain: the task is named by its path and imported only when it is due.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError
from django.db import IntegrityError, transaction
from django.tasks import Task
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from twincity.core.models import ScheduleRun

logger = logging.getLogger("twincity.tasks")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Schedule:
    name: str
    task_path: str  # "twincity.<domain>.tasks.<task>"
    cron: str | None = None  # "0 2 * * *": minute hour day month weekday, in settings.TIME_ZONE
    every: timedelta | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str | Promise = ""
    catch_up: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise ValueError(f"schedule {self.name!r}: give exactly one of cron and every")
        if self.cron is not None:
            try:
                CronSim(self.cron, timezone.now())
            except CronSimError as exc:
                raise ValueError(f"schedule {self.name!r}: invalid cron expression {self.cron!r}: {exc}") from exc
        if self.every is not None and self.every < timedelta(seconds=1):
            raise ValueError(f"schedule {self.name!r}: every must be at least one second")

    @property
    def spec(self) -> str:
        if self.cron is not None:
            return self.cron
        assert self.every is not None
        return f"every {_duration(self.every)}"

    def due_at(self, now: datetime) -> datetime:
        """The latest due time at or before `now`."""
        if self.every is not None:
            periods = (now - EPOCH) // self.every
            return EPOCH + periods * self.every
        assert self.cron is not None
        local = timezone.localtime(now)
        # cronsim in reverse starts from the whole second; a non-zero microsecond makes that second count.
        return next(CronSim(self.cron, local.replace(microsecond=max(local.microsecond, 1)), reverse=True))

    def next_at(self, now: datetime) -> datetime:
        """The first due time after `now`."""
        if self.every is not None:
            return self.due_at(now) + self.every
        assert self.cron is not None
        return next(CronSim(self.cron, timezone.localtime(now)))

    @property
    def task(self) -> Task:
        task = import_string(self.task_path)
        if not isinstance(task, Task):
            raise TypeError(f"schedule {self.name!r}: {self.task_path} is not a task")
        return task


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


_SCHEDULES: dict[str, Schedule] = {}


def schedule_register(schedule: Schedule) -> None:
    """Add (or replace, by name) a periodic job."""
    _SCHEDULES[schedule.name] = schedule


def schedule_list() -> list[Schedule]:
    return sorted(_SCHEDULES.values(), key=lambda schedule: schedule.name)


def schedule_get(name: str) -> Schedule | None:
    return _SCHEDULES.get(name)


def schedule_claim(schedule: Schedule, *, due_at: datetime, worker_id: str) -> ScheduleRun | None:
    """Claim one due time and enqueue its task; None when another worker claimed it first."""
    if ScheduleRun.objects.filter(schedule=schedule.name, due_at=due_at).exists():
        return None
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(schedule=schedule.name, due_at=due_at, worker_id=worker_id[:64])
            try:
                result = schedule.task.enqueue(**schedule.kwargs)
            except (ImportError, TypeError, ValueError) as exc:  # a broken declaration: say so on the page
                logger.exception("schedule %s could not enqueue its task", schedule.name)
                run.error = f"{type(exc).__name__}: {exc}"[:2000]
            else:
                run.task_id = str(result.id)
            run.save(update_fields=["task_id", "error"])
    except IntegrityError:
        return None  # the unique constraint: another worker has this due time
    logger.info("schedule due", extra={"schedule": schedule.name, "due_at": due_at.isoformat(),
                                       "task_id": run.task_id})
    return run


def schedules_tick(*, now: datetime, worker_id: str) -> list[ScheduleRun]:
    """Claim and enqueue every schedule that is due (and not older than its catch_up); the runs this worker won."""
    claimed = []
    for schedule in schedule_list():
        due_at = schedule.due_at(now)
        if now - due_at > schedule.catch_up:
            continue
        run = schedule_claim(schedule, due_at=due_at, worker_id=worker_id)
        if run is not None:
            claimed.append(run)
    return claimed
