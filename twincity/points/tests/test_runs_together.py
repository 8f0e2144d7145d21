"""Runs of one evaluation date executed together (the nightly scoring, `run_scoring --all`): one reading of the
registry and one facts snapshot per enterprise for all of them, each run storing exactly what it stores alone, and
failing alone."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import points_engine
from twincity.enterprises.models import Enterprise
from twincity.points import selectors, services, tasks
from twincity.points.models import FactsSnapshot, ScoreResult, ScoringRun
from twincity.points.tasks import scoring_run_task, scoring_runs_task
from twincity.points.tests import scenario
from twincity.points.tests.test_scoring_columnar import typed, varied_registry

FIVE = ("tsme-2017", "hnte-2016", "innov-2022", "srdi-2022", "scp-v1")
STORED = ("verdict", "route", "score_min", "score_max", "grade", "points", "bands", "reasons", "stage", "peer_group",
          "facts")


def created(standard_ids=FIVE, evaluation_date=scenario.EVAL) -> list[ScoringRun]:
    return [services.scoring_run_create(actor=None, standard=selectors.standard_latest(standard_id=standard_id),
                                        evaluation_date=evaluation_date, system=True) for standard_id in standard_ids]


def stored(run) -> dict[int, dict]:
    return {r.enterprise_id: typed({name: getattr(r, name) for name in STORED})
            for r in ScoreResult.objects.filter(run=run).select_related("snapshot")}


def run_fields(run) -> tuple:
    run.refresh_from_db()
    return (run.status, run.total, run.done, run.verdict_counts, run.reference, run.engine_version, run.error)


@pytest.mark.parametrize("batch_size", [2, None])
def test_runs_executed_together_store_exactly_what_each_stores_alone(cast, batch_size):
    # given: a varied registry, the five standards scored one run after the other
    varied_registry(cast)
    alone = created()
    for run in alone:
        services.scoring_run_execute(run_id=run.pk, batch_size=batch_size)
    expected = {run.standard.standard_id: (stored(run), run_fields(run)[:6]) for run in alone}
    ScoreResult.objects.all().delete()
    FactsSnapshot.objects.all().delete()

    # when: the same five scored together
    together = created()
    progress: list[tuple[int, int, int]] = []
    answered = services.scoring_runs_execute(run_ids=[run.pk for run in together], batch_size=batch_size,
                                             on_progress=lambda *seen: progress.append(seen))

    # then: every run stores what it stored alone, and one snapshot per enterprise serves all five
    assert [run.pk for run in answered] == [run.pk for run in together]
    for run in together:
        assert (stored(run), run_fields(run)[:6]) == expected[run.standard.standard_id], run.standard
    assert FactsSnapshot.objects.count() == Enterprise.objects.count()
    assert {pk: done for pk, done, _total in progress} == {run.pk: Enterprise.objects.count() for run in together}


def test_a_run_that_fails_fails_alone_and_keeps_no_results(cast, monkeypatch):
    varied_registry(cast)
    real = points_engine.score_batch

    def broken_for_hnte(frame, standard, **kwargs):
        if standard.id == "hnte-2016":
            raise RuntimeError("engine exploded")
        return real(frame, standard, **kwargs)

    monkeypatch.setattr(points_engine, "score_batch", broken_for_hnte)
    runs = created(("tsme-2017", "hnte-2016", "scp-v1"))
    services.scoring_runs_execute(run_ids=[run.pk for run in runs])

    statuses = {run.standard.standard_id: run_fields(run)[0] for run in runs}
    assert statuses == {"tsme-2017": "done", "hnte-2016": "failed", "scp-v1": "done"}
    failed = runs[1]
    assert "engine exploded" in failed.error and not failed.results.exists()
    assert runs[0].results.count() == runs[2].results.count() == Enterprise.objects.count()


def test_a_run_already_under_way_is_left_to_whoever_has_it(cast):
    scenario.seed(cast)
    first, second = created(("tsme-2017", "hnte-2016"))
    ScoringRun.objects.filter(pk=first.pk).update(status=ScoringRun.Status.RUNNING)
    answered = services.scoring_runs_execute(run_ids=[first.pk, second.pk])
    assert answered[0] is None and answered[1].status == ScoringRun.Status.DONE
    assert not first.results.exists()


def test_the_nightly_scoring_hands_its_runs_to_one_task(cast, settings):
    settings.POINTS_RUN_INLINE = False
    runs = tasks.registry_scoring_start(evaluation_date=scenario.EVAL)
    assert len(runs) == len(points_engine.list_builtin()) > 1
    task = DBTaskResult.objects.get(task_path=scoring_runs_task.module_path)
    assert sorted(task.args_kwargs["kwargs"]["run_ids"]) == sorted(run.pk for run in runs)
    assert not DBTaskResult.objects.filter(task_path=scoring_run_task.module_path).exists()


def test_runs_whose_task_together_was_lost_are_failed_and_live_ones_left(cast):
    standard = selectors.standard_latest(standard_id="tsme-2017")
    earlier = timezone.now() - timedelta(minutes=5)
    lost, live = (ScoringRun.objects.create(standard=standard, evaluation_date=date(2026, 6, 30),
                                            status=ScoringRun.Status.RUNNING, created_at=earlier) for _ in range(2))
    scoring_runs_task.enqueue(run_ids=[live.pk])
    ScoreResult.objects.create(run=lost, enterprise=cast.alice_co, verdict="pass", facts={})

    assert tasks.scoring_runs_interrupted_fail(timezone.now()) == 1

    assert (run_fields(lost)[0], run_fields(live)[0]) == ("failed", "running")
    assert not lost.results.exists()
    services.scoring_run_given_up({"run_ids": [live.pk]}, "worker lost")
    assert run_fields(live)[0] == "failed" and "worker lost" in live.error


def test_run_scoring_all_executes_the_runs_together(cast):
    import io

    scenario.seed(cast)
    out = io.StringIO()
    call_command("run_scoring", "--all", "--date", "2026-06-30", stdout=out)
    done = ScoringRun.objects.filter(status=ScoringRun.Status.DONE)
    assert done.count() == len(points_engine.EVALUATION_KINDS)
    assert FactsSnapshot.objects.count() == Enterprise.objects.count()
    assert out.getvalue().count("enterprises scored in") == done.count()


@pytest.mark.django_db(transaction=True)
def test_runs_executed_together_by_a_worker_store_what_each_stores_alone():
    # outside a transaction, as a worker runs them (on PostgreSQL: over two connections)
    from twincity.testing import Cast

    cast = Cast.create()
    varied_registry(cast)
    alone = created(("tsme-2017", "hnte-2016", "srdi-2022"))
    for run in alone:
        services.scoring_run_execute(run_id=run.pk, batch_size=2)
    expected = {run.standard.standard_id: (stored(run), run_fields(run)[:6]) for run in alone}
    ScoreResult.objects.all().delete()
    FactsSnapshot.objects.all().delete()

    together = created(("tsme-2017", "hnte-2016", "srdi-2022"))
    services.scoring_runs_execute(run_ids=[run.pk for run in together], batch_size=2)

    for run in together:
        assert (stored(run), run_fields(run)[:6]) == expected[run.standard.standard_id], run.standard
    assert FactsSnapshot.objects.count() == Enterprise.objects.count()
