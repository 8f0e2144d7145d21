"""manage.py run_worker [--queues default] [--no-scheduler] [--batch] [--max-tasks N]

Runs background tasks (imports, scoring runs, schedules) with the configured task backend
(settings.TASKS_BACKEND): the database worker, or an RQ worker on Redis. Beside the task loop a housekeeping
thread checks in, runs the scheduler's tick and recovers the tasks of lost workers (twincity.core.worker).
Run as many as you like, on one machine or several: no task and no due time of a schedule runs twice.

SIGTERM or Ctrl-C lets the running task finish, then stops; a second one stops at once (the task is then
recovered by the other workers, or by this one when it starts again).
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

from twincity.core.worker import HOSTNAME, Housekeeping, Worker, worker_checkout


class Command(BaseCommand):
    help = "Run a background worker (tasks, schedules, recovery of lost workers' tasks)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queues", default="default", help="queues to run, comma-separated ('*': all)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between looks at an empty queue (database backend)")
        parser.add_argument("--no-scheduler", action="store_false", dest="scheduler",
                            help="do not run the schedules' tick in this worker")
        parser.add_argument("--batch", action="store_true", help="run the queued tasks, then stop")
        parser.add_argument("--max-tasks", type=int, default=None, help="stop after this many tasks")
        parser.add_argument("--worker-id", default="", help="unique among the workers (default: host-pid-random)")

    def handle(self, *args, queues: str, interval: float, scheduler: bool, batch: bool, max_tasks: int | None,
               worker_id: str, **options) -> None:
        backend = settings.TASKS_BACKEND
        worker_id = (worker_id or f"{HOSTNAME}-{os.getpid()}-{get_random_string(6)}")[-64:]
        queue_names = [name.strip() for name in queues.split(",") if name.strip()]
        housekeeping = Housekeeping(worker_id=worker_id, backend=backend, queues=",".join(queue_names),
                                    scheduler=scheduler, recover_tasks=backend == "database")
        if backend not in ("database", "redis"):
            raise CommandError(f"TASKS_BACKEND={backend} runs tasks where they are enqueued: there is no worker to run")
        self.stderr.write(f"run_worker {worker_id}: {backend} backend, queues {','.join(queue_names)}"
                          f"{', scheduler' if scheduler else ''}")
        housekeeping.round()  # check in (and recover, and schedule) before taking the first task
        housekeeping.start()
        try:
            if backend == "database":
                worker = Worker(queue_names=queue_names, interval=interval, batch=batch, backend_name="default",
                                startup_delay=not batch, max_tasks=max_tasks, worker_id=worker_id,
                                excluded_queue_names=[])
                worker.configure_signals()
                worker.run()
            else:
                import django_rq

                from twincity.core.task_backends import TaskJob

                names = list(settings.RQ_QUEUES) if "*" in queue_names else queue_names
                rq_worker = django_rq.get_worker(*names, job_class=TaskJob, name=worker_id)
                rq_worker.work(burst=batch, max_jobs=max_tasks, with_scheduler=True)
        finally:
            housekeeping.stop()
            housekeeping.join(timeout=5)
            worker_checkout(worker_id=worker_id)
