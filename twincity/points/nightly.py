"""The nightly scoring of the registry (the "nightly-scoring" schedule, twincity.points.apps)."""

from datetime import date

import points_engine
from twincity.points import selectors, services
from twincity.points.models import ScoringRun


def registry_scoring_start(*, evaluation_date: date) -> list[ScoringRun]:
    """Start a run of every built-in standard's latest version at `evaluation_date`, by the system: skipped where
    a run of that version and date is done, joined where one is under way. The runs started are executed together
    (one reading of the registry). The runs started or joined."""
    services.standards_builtin_sync()
    runs = []
    for standard_id in sorted({standard.id for standard in points_engine.list_builtin()}):
        standard = selectors.standard_latest(standard_id=standard_id)
        if standard is None:
            continue
        if ScoringRun.objects.filter(standard=standard, evaluation_date=evaluation_date,
                                     status=ScoringRun.Status.DONE).exists():
            continue
        run = services.scoring_run_create(actor=None, standard=standard, evaluation_date=evaluation_date,
                                          system=True)
        runs.append(run)
    services.scoring_runs_start(runs=runs)
    return runs
