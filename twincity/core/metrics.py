"""The task queue's figures, for `/metrics` (Prometheus) and the operators' page: read from the task backend at
the moment they are asked for, so every web process answers the same, whichever process ran the tasks."""

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from twincity.core.models import WorkerHeartbeat


def task_counts() -> dict[str, dict[str, int]]:
    """{queue: {status: tasks}} with the statuses READY (the queue's depth), RUNNING, FAILED, SUCCESSFUL."""
    counts: dict[str, dict[str, int]] = {}
    if settings.TASKS_BACKEND == "database":
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.order_by().values("queue_name", "status").annotate(n=Count("id"))
        for row in rows:
            counts.setdefault(row["queue_name"], {})[row["status"]] = row["n"]
    elif settings.TASKS_BACKEND == "redis":
        import django_rq
        from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

        for name in settings.RQ_QUEUES:
            queue = django_rq.get_queue(name)
            counts[name] = {
                TaskResultStatus.READY: queue.count,
                TaskResultStatus.RUNNING: StartedJobRegistry(queue=queue).count,
                TaskResultStatus.FAILED: FailedJobRegistry(queue=queue).count,
                TaskResultStatus.SUCCESSFUL: FinishedJobRegistry(queue=queue).count,
            }
    return counts


class TaskQueueCollector(Collector):
    """twincity_tasks{queue, status} (READY is the queue's depth; FAILED counts the failures kept, see the
    prune-task-records schedule) and twincity_workers_alive."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tasks = GaugeMetricFamily("twincity_tasks", "Background tasks by queue and status (READY = queue depth).",
                                  labels=["queue", "status"])
        for queue, statuses in sorted(task_counts().items()):
            for status in TaskResultStatus.values:
                tasks.add_metric([queue, status], statuses.get(status, 0))
        yield tasks
        failed = GaugeMetricFamily("twincity_tasks_failed", "Background tasks that failed (kept for 30 days).",
                                   labels=["queue"])
        for queue, statuses in sorted(task_counts().items()):
            failed.add_metric([queue], statuses.get(TaskResultStatus.FAILED, 0))
        yield failed
        since = timezone.now() - timedelta(seconds=settings.TASKS_WORKER_LOST_SECONDS)
        alive = GaugeMetricFamily("twincity_workers_alive", "Workers that checked in within the lost-after time.")
        alive.add_metric([], WorkerHeartbeat.objects.filter(last_seen__gte=since).count())
        yield alive
