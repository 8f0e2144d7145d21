"""Background work in this process: retries and backoff, the recovery of a lost worker's task (and of the job or
run it stood for), the scheduler's claim, /healthz, /metrics, request ids, and 503 for a busy database."""

import json
import logging
import subprocess
import threading
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from twincity.core.background import RetryPolicy, WorkerLost
from twincity.core.models import ScheduleRun, WorkerHeartbeat
from twincity.core.observability import JsonFormatter, KeyValueFormatter, RequestIdFilter
from twincity.core.schedules import Schedule, schedule_claim, schedules_tick
from twincity.core.tests import worker_tasks
from twincity.core.worker import HOSTNAME, tasks_of_lost_workers_recover
from twincity.enterprises.models import Enterprise, ImportJob
from twincity.points import services, tasks
from twincity.points.models import ScoreResult, ScoringRun
from twincity.points.selectors import standard_get
from twincity.points.tasks import scoring_run_task
from twincity.points.tests import scenario
from twincity.testing import Cast


def _run_queue(rounds: int = 1, pause: float = 0.0) -> None:
    """Run what is queued with a worker in this process (batch mode), `rounds` times."""
    for index in range(rounds):
        if index and pause:
            threading.Event().wait(pause)
        call_command("run_worker", "--batch", "--no-scheduler", "--worker-id", f"local-{index}")


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _lost_worker(worker_id: str = "lost-worker") -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(worker_id=worker_id, hostname=HOSTNAME, pid=_dead_pid(),
                                          backend="database", queues="default")


def _claimed_by_lost_worker(result_id: str, *worker_ids: str) -> None:
    DBTaskResult.objects.filter(pk=result_id).update(status=TaskResultStatus.RUNNING, worker_ids=list(worker_ids),
                                                     started_at=timezone.now() - timedelta(seconds=30))


# --- retries ---------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_the_first_delay_and_is_capped():
    policy = RetryPolicy(retries=20, backoff_seconds=30)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert policy.delay(20) == 3600
    assert policy.may_retry(20) and not policy.may_retry(21)


@pytest.mark.django_db(transaction=True)
def test_a_task_that_raises_a_retryable_error_is_retried_after_its_backoff():
    result = worker_tasks.flaky_task.enqueue(failures=2)

    _run_queue()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY  # waiting for its backoff, not failed
    assert row.run_after > timezone.now() - timedelta(seconds=1)
    assert "ConnectionError: attempt 1 failed" in row.traceback

    _run_queue(rounds=6, pause=0.25)
    row.refresh_from_db()
    assert (row.status, row.return_value, len(row.worker_ids)) == (TaskResultStatus.SUCCESSFUL, 3, 3)


@pytest.mark.django_db(transaction=True)
def test_an_error_the_policy_does_not_name_fails_the_task_at_once():
    result = worker_tasks.broken_task.enqueue()
    _run_queue()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.exception_class_path, len(row.worker_ids)) == ("FAILED", "builtins.ValueError", 1)


# --- a lost worker's scoring run ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_was_lost_is_scored_again_from_scratch_by_the_retry():
    cast = Cast.create()
    scenario.seed(cast)
    standard = standard_get(standard_id="tsme-2017", version="1")
    run = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=date(2026, 6, 30))
    tasks.scoring_run_start(run=run)
    result = DBTaskResult.objects.get(task_path=scoring_run_task.module_path)
    # the lost worker had claimed the run and saved part of it
    _claimed_by_lost_worker(result.id, _lost_worker().worker_id)
    ScoringRun.objects.filter(pk=run.pk).update(status=ScoringRun.Status.RUNNING, done=1)
    ScoreResult.objects.create(run=run, enterprise=cast.alice_co, verdict="pass", facts={})

    assert tasks_of_lost_workers_recover() == {"retried": 1, "failed": 0}
    DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now())  # skip the backoff
    _run_queue()

    run.refresh_from_db()
    assert run.status == ScoringRun.Status.DONE
    assert ScoreResult.objects.filter(run=run).count() == Enterprise.objects.count() == run.done
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == ["lost-worker", "local-0"]


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_last_retry_was_lost_fails_with_the_reason_and_keeps_no_results():
    cast = Cast.create()
    standard = standard_get(standard_id="tsme-2017", version="1")
    run = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=date(2026, 6, 30))
    tasks.scoring_run_start(run=run)
    result = DBTaskResult.objects.get(task_path=scoring_run_task.module_path)
    _lost_worker()
    _claimed_by_lost_worker(result.id, "a", "b", "lost-worker")  # the third attempt: no retry left
    ScoringRun.objects.filter(pk=run.pk).update(status=ScoringRun.Status.RUNNING)
    ScoreResult.objects.create(run=run, enterprise=cast.alice_co, verdict="pass", facts={})

    assert tasks_of_lost_workers_recover() == {"retried": 0, "failed": 1}

    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.exception_class_path) == ("FAILED", f"{WorkerLost.__module__}.WorkerLost")
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.FAILED
    assert "interrupted" in run.error and "worker lost: lost-worker" in run.error
    assert not ScoreResult.objects.filter(run=run).exists()


@pytest.mark.django_db(transaction=True)
def test_a_task_of_a_live_worker_is_left_alone():
    result = worker_tasks.record_task.enqueue(path="/dev/null", key="x")
    WorkerHeartbeat.objects.create(worker_id="busy", hostname="elsewhere", pid=1, backend="database", queues="default")
    _claimed_by_lost_worker(result.id, "busy")
    assert tasks_of_lost_workers_recover() == {"retried": 0, "failed": 0}
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.RUNNING


def test_the_sweep_fails_only_work_whose_task_is_gone(cast):
    earlier = timezone.now() - timedelta(minutes=5)
    orphan = ImportJob.objects.create(created_by=cast.alice, kind="declarations", filename="a.csv",
                                      status=ImportJob.Status.RUNNING, created_at=earlier)
    queued = ImportJob.objects.create(created_by=cast.alice, kind="declarations", filename="b.csv",
                                      created_at=earlier)
    from twincity.enterprises.tasks import import_job_task

    import_job_task.enqueue(job_id=queued.pk)

    call_command("recover_interrupted")

    orphan.refresh_from_db()
    queued.refresh_from_db()
    assert (orphan.status, queued.status) == ("failed", "pending")
    assert "interrupted" in orphan.result["message"]


# --- schedules ---------------------------------------------------------------------------------------------------


def test_due_times_of_an_interval_and_of_a_cron_schedule():
    every = Schedule("t", "twincity.core.tests.worker_tasks.record_task", every=timedelta(minutes=15))
    now = datetime(2026, 11, 29, 10, 7, 30, 5, tzinfo=timezone.get_current_timezone())
    assert every.due_at(now).astimezone(now.tzinfo).strftime("%H:%M") == "10:00"
    assert every.next_at(now).astimezone(now.tzinfo).strftime("%H:%M") == "10:15"
    nightly = Schedule("n", "twincity.core.tests.worker_tasks.record_task", cron="0 2 * * *")
    assert nightly.due_at(now).strftime("%Y-%m-%d %H:%M") == "2026-11-29 02:00"
    assert nightly.next_at(now).strftime("%Y-%m-%d %H:%M") == "2026-11-30 02:00"
    with pytest.raises(ValueError):
        Schedule("bad", "x", cron="61 * * * *")


@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_once_claim_a_due_time_once():
    schedule = Schedule("race", "twincity.core.tests.worker_tasks.record_task", every=timedelta(minutes=1),
                        kwargs={"path": "/dev/null", "key": "race"})
    due_at = schedule.due_at(timezone.now())
    barrier = threading.Barrier(4)
    won: list[object] = []

    def tick(worker_id):
        barrier.wait()
        try:
            won.append(schedule_claim(schedule, due_at=due_at, worker_id=worker_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len([run for run in won if run is not None]) == 1
    run = ScheduleRun.objects.get(schedule="race")
    assert DBTaskResult.objects.filter(pk=run.task_id).count() == DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_due_time_older_than_its_catch_up_is_skipped():
    now = timezone.localtime().replace(hour=12, minute=0)
    claimed = schedules_tick(now=now, worker_id="w")  # nightly scoring was due at 02:00: too late today
    assert "nightly-scoring" not in {run.schedule for run in claimed}
    assert "recover-interrupted" in {run.schedule for run in claimed}
    assert schedules_tick(now=now, worker_id="w2") == []


def test_only_administrators_see_the_schedules_page(cast, client):
    client.force_login(cast.alice)
    assert client.get("/ops/schedules/").status_code == 403
    client.force_login(cast.olivia)
    page = client.get("/ops/schedules/").content.decode()
    assert 'data-schedule="nightly-scoring"' in page and "0 2 * * *" in page
    assert "no worker has checked in" in page


# --- /healthz, /metrics, request ids, a busy database -------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]["ok"], body["cache"]["ok"], body["worker"]["ok"]) == (
        "unhealthy", True, True, False)

    heartbeat = WorkerHeartbeat.objects.create(worker_id="w", hostname="h", pid=1, backend="database", queues="d")
    assert client.get("/healthz").status_code == 200

    WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(last_seen=timezone.now() - timedelta(seconds=61))
    response = client.get("/healthz")
    assert response.status_code == 503 and "no worker checked in for 60 s" in response.json()["worker"]["detail"]


@pytest.mark.django_db
def test_metrics_answer_in_prometheus_text_format(client, settings):
    worker_tasks.record_task.enqueue(path="/dev/null", key="m")
    client.get("/healthz")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert '# TYPE twincity_http_requests_total counter' in text
    assert 'twincity_http_requests_total{method="GET",status="503",view="core:health"}' in text
    assert 'twincity_http_request_duration_seconds_bucket{le="0.005",view="core:health"}' in text
    assert 'twincity_tasks{queue="default",status="READY"} 1.0' in text
    assert 'twincity_tasks_failed{queue="default"} 0.0' in text
    assert "twincity_workers_alive 0.0" in text

    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_so_do_its_log_lines(client, caplog):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"})["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "not ok\n"})["X-Request-ID"]
    assert len(generated) == 32 and generated != "abc-123"

    with caplog.at_level(logging.INFO, logger="twincity.requests"):
        client.get("/healthz", headers={"X-Request-ID": "req-42"})
    record = [r for r in caplog.records if r.name == "twincity.requests"][-1]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["path"], line["status"], line["view"]) == ("req-42", "/healthz", 503,
                                                                                "core:health")
    assert "request_id=req-42" in KeyValueFormatter().format(record)


def _locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_a_database_lock_that_times_out_answers_503_with_retry_after(cast, client, monkeypatch):
    from twincity.enterprises import selectors

    monkeypatch.setattr(selectors, "enterprise_search", _locked)
    client.force_login(cast.olivia)

    api = client.get("/api/enterprises/")
    assert api.status_code == 503 and api["Retry-After"] == "2"
    assert api.json() == {"message": api.json()["message"], "code": "unavailable", "extra": {"retry_after": 2}}

    page = client.get("/enterprises/")
    assert page.status_code == 503 and page["Retry-After"] == "2"
    assert "系统繁忙" in page.content.decode()


def test_other_database_errors_are_not_disguised_as_busy(cast, client, monkeypatch):
    from twincity.enterprises import selectors

    def broken(*args, **kwargs):
        raise OperationalError("no such table: enterprises_enterprise")

    monkeypatch.setattr(selectors, "enterprise_search", broken)
    client.raise_request_exception = False
    client.force_login(cast.olivia)
    assert client.get("/enterprises/").status_code == 500
