"""Background work with real worker processes (`manage.py run_worker`) on the test database: several workers
run each task once, a killed worker's task is retried or failed with the reason, a schedule runs once per due
time, /healthz follows the workers. Each test starts its workers after its data is committed (transactional)."""

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from twincity.core.background import WorkerLost
from twincity.core.models import ScheduleRun, WorkerHeartbeat
from twincity.core.schedules import _SCHEDULES
from twincity.core.tests import worker_tasks
from twincity.core.tests.workers import running_workers, start_worker, stop_workers, wait_for
from twincity.testing import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def _finished(count: int):
    return lambda: DBTaskResult.objects.filter(
        status__in=(TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    ).count() >= count


def _checked_in(count: int):
    return lambda: WorkerHeartbeat.objects.count() >= count


def test_two_workers_run_500_tasks_each_exactly_once(tmp_path, client):
    # given: two workers that have checked in
    out = tmp_path / "runs.txt"
    with running_workers(["w1", "w2"], tmp_path, "--no-scheduler") as workers:
        wait_for(_checked_in(2), timeout=60, what="two workers to check in", log_dir=tmp_path)
        assert client.get("/healthz").status_code == 200

        # when: 500 tasks are enqueued
        started = time.monotonic()
        for key in range(500):
            worker_tasks.record_task.enqueue(path=str(out), key=str(key))
        wait_for(_finished(500), timeout=180, what="500 tasks to finish", log_dir=tmp_path)
        elapsed = time.monotonic() - started

        # then: every task ran once, each by one worker, and both workers took part
        lines = out.read_text().split()
        keys, pids = lines[0::2], lines[1::2]
        assert sorted(keys, key=int) == [str(key) for key in range(500)]
        assert Counter(keys).most_common(1)[0][1] == 1
        assert set(pids) == {str(worker.pid) for worker in workers}, Counter(pids)
        results = list(DBTaskResult.objects.values_list("status", "worker_ids"))
        assert {status for status, _ in results} == {TaskResultStatus.SUCCESSFUL}
        assert all(len(worker_ids) == 1 for _, worker_ids in results)
        print(f"\n500 tasks on two workers ({connection.vendor}): {elapsed:.1f} s; per worker {Counter(pids)}")

    # and /healthz turns unhealthy when the workers stop
    assert WorkerHeartbeat.objects.count() == 0  # they checked out when they stopped
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["ok"] is False


def test_a_task_whose_worker_is_killed_fails_with_the_reason(tmp_path):
    out = tmp_path / "runs.txt"
    victim = start_worker("victim", tmp_path, "--no-scheduler")
    try:
        result = worker_tasks.hang_task.enqueue(path=str(out))
        wait_for(lambda: out.exists() and "started" in out.read_text(), timeout=60, what="the task to start",
                 log_dir=tmp_path)

        # when: the worker is killed mid-task, and another worker starts
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        with running_workers(["rescuer"], tmp_path, "--no-scheduler"):
            wait_for(_finished(1), timeout=60, what="the lost task to be failed", log_dir=tmp_path)
    finally:
        stop_workers(victim)

    # then: the task is failed, with the reason, and was not run again (it declares no retries)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == f"{WorkerLost.__module__}.WorkerLost"
    assert "worker lost: victim stopped before attempt 1" in row.traceback
    assert row.worker_ids == ["victim"]
    assert out.read_text().count("started") == 1


def test_a_task_whose_worker_is_killed_is_retried_by_another_when_it_declares_retries(tmp_path):
    out = tmp_path / "runs.txt"
    victim = start_worker("victim", tmp_path, "--no-scheduler")
    try:
        result = worker_tasks.hang_once_task.enqueue(path=str(out))
        wait_for(lambda: out.exists() and "attempt 1" in out.read_text(), timeout=60, what="the first attempt",
                 log_dir=tmp_path)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        with running_workers(["rescuer"], tmp_path, "--no-scheduler"):
            wait_for(_finished(1), timeout=60, what="the retry to finish", log_dir=tmp_path)
    finally:
        stop_workers(victim)

    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.return_value, row.worker_ids) == (TaskResultStatus.SUCCESSFUL, 2, ["victim", "rescuer"])
    assert [line.split()[:2] for line in out.read_text().splitlines()] == [["attempt", "1"], ["attempt", "2"]]


@pytest.fixture
def test_schedule(tmp_path, monkeypatch):
    """The schedule the workers load (SCHEDULE_MODULES), registered in this process too for the page."""
    out = tmp_path / "ticks.txt"
    monkeypatch.setenv("TEST_SCHEDULE_FILE", str(out))
    import importlib

    from twincity.core.tests import schedules_for_tests

    importlib.reload(schedules_for_tests)
    yield out
    _SCHEDULES.pop("test-every-2s", None)


def test_a_schedule_runs_once_per_due_time_with_two_workers_and_shows_on_its_page(tmp_path, test_schedule, client):
    env = {"SCHEDULE_MODULES": "twincity.core.tests.schedules_for_tests", "TEST_SCHEDULE_FILE": str(test_schedule)}
    with running_workers(["s1", "s2"], tmp_path, **env):
        wait_for(_checked_in(2), timeout=60, what="two workers to check in", log_dir=tmp_path)
        wait_for(lambda: ScheduleRun.objects.filter(schedule="test-every-2s").count() >= 4, timeout=60,
                 what="four due times of the test schedule", log_dir=tmp_path)
    runs = list(ScheduleRun.objects.filter(schedule="test-every-2s").order_by("due_at"))

    # each due time was claimed once (by one of the two workers) and its task ran once
    due_times = [run.due_at for run in runs]
    assert len(set(due_times)) == len(due_times)
    assert all(b - a == timedelta(seconds=2) for a, b in zip(due_times, due_times[1:]))
    assert {run.worker_id for run in runs} <= {"s1", "s2"}
    ran = DBTaskResult.objects.filter(pk__in=[run.task_id for run in runs], status=TaskResultStatus.SUCCESSFUL)
    assert test_schedule.read_text().count("tick") == ran.count() >= len(runs) - 1  # the last may still wait
    assert all(len(worker_ids) == 1 for worker_ids in ran.values_list("worker_ids", flat=True))

    # the page lists it with its last run, the outcome and the next run
    client.force_login(Cast.create().olivia)
    page = client.get("/ops/schedules/").content.decode()
    assert 'data-schedule="test-every-2s"' in page and 'data-schedule="nightly-scoring"' in page
    assert runs[-1].due_at.astimezone().strftime("%H:%M:%S") in page or "test-every-2s" in page
    assert 'data-outcome="succeeded"' in page or 'data-outcome="waiting"' in page


def test_an_import_started_on_the_page_is_finished_by_a_worker_in_another_process(tmp_path, client, settings):
    # given: the web side (this process) only enqueues: no worker runs yet
    settings.MEDIA_ROOT = tmp_path / "media"
    cast = Cast.create()
    client.force_login(cast.alice)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from twincity.enterprises.models import AnnualDeclaration, ImportJob
    from twincity.testing import ALICE_CODE

    upload = SimpleUploadedFile("d.csv", f"credit_code,fiscal_year,sales\n{ALICE_CODE},2024,10\n".encode(),
                                content_type="text/csv")
    client.post("/enterprises/import/", {"kind": "declarations", "action": "import", "file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PENDING
    assert DBTaskResult.objects.get().task_path == "twincity.enterprises.tasks.import_job_task"

    # when: a worker in another process (the web process may be restarted meanwhile) runs the queue
    with running_workers(["importer"], tmp_path, "--batch", "--no-scheduler",
                         MEDIA_DIR=str(settings.MEDIA_ROOT)) as (worker,):
        worker.wait(timeout=60)

    # then: the job is done and its page shows the result
    job.refresh_from_db()
    assert (job.status, job.result["created"]) == ("done", 1)
    assert AnnualDeclaration.objects.get(enterprise=cast.alice_co).sales == 10
    assert os.path.exists(settings.MEDIA_ROOT / job.stored_path)
    page = client.get(f"/enterprises/import/jobs/{job.pk}/").content.decode()
    assert "hx-trigger" not in page
