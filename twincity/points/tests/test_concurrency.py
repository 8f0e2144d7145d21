"""Two workers picking up the same scoring run at the same moment, with real threads on the real database."""

import threading
from datetime import date

import pytest
from django.db import connection

from twincity.core.errors import InvalidInput
from twincity.enterprises.models import Enterprise
from twincity.points import selectors, services
from twincity.points.models import ScoreResult, ScoringRun
from twincity.points.tests import scenario
from twincity.testing import Cast


@pytest.mark.django_db(transaction=True)
def test_only_one_of_two_workers_executes_a_run():
    cast = Cast.create()
    scenario.seed(cast)
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    run = ScoringRun.objects.create(standard=standard, evaluation_date=date(2026, 6, 30), started_by=cast.olivia)

    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def worker(index):
        barrier.wait()
        try:
            outcomes[index] = services.scoring_run_execute(run_id=run.pk)
        except InvalidInput as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    executed = [o for o in outcomes if isinstance(o, ScoringRun)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(executed) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "run_not_pending"
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.DONE
    # One result per enterprise: the refused worker wrote nothing.
    assert ScoreResult.objects.filter(run=run).count() == Enterprise.objects.count() == run.total == run.done
