"""Writers never starve each other: one scoring run per standard version and date at a time (a second start
joins it), and declaration edits through the API while two scoring runs write answer 2xx, 409 or 503, never 500.
Real threads on the real database."""

import threading
import time
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from twincity.accounts.models import User
from twincity.demo.personas import ALICE_CODE
from twincity.points import selectors, services, tasks
from twincity.points.models import ScoringRun
from twincity.points.tasks import scoring_run_task
from twincity.testing import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_starts_of_the_same_run_at_once_give_one_run():
    cast = Cast.create()
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")

    def start():
        run = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=date(2026, 6, 30))
        tasks.scoring_run_start(run=run)
        return run.pk

    outcomes = run_together(start, start, start)

    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    assert ScoringRun.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path=scoring_run_task.module_path).count() == 1


def test_a_second_start_through_the_api_joins_the_run_under_way(client):
    cast = Cast.create()
    client.force_login(cast.olivia)
    body = {"standard_id": "tsme-2017", "version": "1", "evaluation_date": "2026-06-30"}

    first = client.post("/api/points/runs", body, content_type="application/json")
    second = client.post("/api/points/runs", body, content_type="application/json")

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["public_id"] == second.json()["public_id"]
    assert ScoringRun.objects.count() == 1
    # once it is done, a new start is a new run
    ScoringRun.objects.update(status=ScoringRun.Status.DONE)
    third = client.post("/api/points/runs", body, content_type="application/json")
    assert third.status_code == 202 and third.json()["public_id"] != first.json()["public_id"]


REGISTRY_SIZE = 20_000
EDITS = 200


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer is the contention under test; on "
                    "PostgreSQL the runs' row locks never touch a declaration")
def test_declaration_edits_during_two_scoring_runs_of_a_large_registry_never_answer_500():
    # given: a 20,000-enterprise registry and two scoring runs writing it in chunks, in two threads (two workers)
    from twincity.demo.services import seed

    seed(enterprises=REGISTRY_SIZE, seed=7)
    alice = User.objects.get(username="alice")
    runs = [services.scoring_run_create(actor=None, standard=selectors.standard_latest(standard_id=standard_id),
                                        evaluation_date=date(2026, 6, 30), system=True)
            for standard_id in ("tsme-2017", "innov-2022")]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def score(run):
        return lambda: services.scoring_run_execute(run_id=run.pk)

    def edit(worker: int):
        def edits():
            client = Client()
            client.force_login(alice)
            while not ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).exists():
                time.sleep(0.05)  # edit while the runs write
            for n in range(EDITS // 4):
                started = time.monotonic()
                response = client.put(f"/api/enterprises/{ALICE_CODE}/declarations/{2020 + n % 5}",
                                      {"figures": {"employees": 100 + worker * 1000 + n}},
                                      content_type="application/json")
                with lock:
                    statuses[response.status_code] += 1
                    latencies.append(time.monotonic() - started)
            return True
        return edits

    # when: 200 edits through the API (four clients) while both runs write
    started = time.monotonic()
    outcomes = run_together(score(runs[0]), score(runs[1]), *(edit(worker) for worker in range(4)))
    elapsed = time.monotonic() - started

    # then: every edit succeeded or was told to try again; both runs finished
    assert all(not isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert sum(statuses.values()) == EDITS
    assert set(statuses) <= {200, 409, 503}, statuses
    for run in runs:
        run.refresh_from_db()
        assert (run.status, run.done) == (ScoringRun.Status.DONE, REGISTRY_SIZE), run.error
    latencies.sort()
    print(f"\n{EDITS} edits during two runs of {REGISTRY_SIZE} enterprises: {dict(statuses)}; "
          f"edit latency median {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
          f"{elapsed:.1f} s in all")
