from datetime import date, timedelta

from django.core.management import call_command
from django.utils import timezone

from twincity.enterprises.models import ImportJob
from twincity.points.models import ScoreResult, ScoringRun
from twincity.points.selectors import standard_get


def test_work_left_unfinished_by_a_stopped_process_is_marked_failed(cast, capsys):
    standard = standard_get(standard_id="tsme-2017", version="1")
    earlier = timezone.now() - timedelta(minutes=5)
    running = ScoringRun.objects.create(standard=standard, evaluation_date=date(2026, 6, 30),
                                        status=ScoringRun.Status.RUNNING, created_at=earlier, total=2, done=1)
    ScoreResult.objects.create(run=running, enterprise=cast.alice_co, verdict="pass", facts={})
    finished = ScoringRun.objects.create(standard=standard, evaluation_date=date(2026, 6, 30),
                                         status=ScoringRun.Status.DONE, created_at=earlier)
    ScoreResult.objects.create(run=finished, enterprise=cast.alice_co, verdict="pass", facts={})
    job = ImportJob.objects.create(created_by=cast.alice, kind=ImportJob.Kind.DECLARATIONS, filename="d.csv",
                                   status=ImportJob.Status.RUNNING, created_at=earlier)

    call_command("recover_interrupted")

    running.refresh_from_db()
    job.refresh_from_db()
    finished.refresh_from_db()
    assert (running.status, job.status, finished.status) == ("failed", "failed", "done")
    assert "was interrupted" in running.error and "was interrupted" in job.result["message"]
    assert running.finished_at is not None and job.finished_at is not None
    assert not ScoreResult.objects.filter(run=running).exists()  # no partial results behind a failed run
    assert ScoreResult.objects.filter(run=finished).count() == 1
    assert "1 import job(s), 1 scoring run(s)" in capsys.readouterr().out
