"""manage.py run_scoring (--standard ID [--version V] | --kind KIND | --all) [--date YYYY-MM-DD]
                       [--application new|renewal] [--force]

Scores the whole registry inline and prints progress, counts by verdict and the duration. `--kind` (and
`--all`, every kind of evaluation) scores under the version in force on the date — for renewals the one
configured for that year; the runs of `--all` are executed together (one reading of the registry). Idempotent: a standard version already scored (done) at that date is skipped unless
--force, so the start script can call `run_scoring --all` every time.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

import points_engine
from twincity.points import selectors, services
from twincity.points.models import ScoringRun


class Command(BaseCommand):
    help = "Score the registry under a standard version (inline), or under every built-in standard with --all."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version (of the standard) replaces Django's --version (of Django).
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--standard", help="standard id, e.g. scp-v1")
        parser.add_argument("--version", dest="standard_version", help="version (default: the latest)")
        parser.add_argument("--date", help="evaluation date YYYY-MM-DD (default: today)")
        parser.add_argument("--kind", choices=sorted(points_engine.EVALUATION_KINDS),
                            help="a kind of evaluation: the version in force on the date")
        parser.add_argument("--all", action="store_true",
                            help="every kind of evaluation, each under the version in force on the date")
        parser.add_argument("--application", choices=["new", "renewal"], default="new",
                            help="score as new applications (default) or as renewals")
        parser.add_argument("--force", action="store_true", help="run even when a done run exists for that date")
        parser.add_argument("--batch-size", type=int, default=None, help="enterprises per batch")

    def handle(self, *args, standard=None, standard_version=None, kind=None, date=None, all=False, force=False,
               application="new", batch_size=None, **options) -> None:
        if sum(bool(x) for x in (standard, kind, all)) != 1:
            raise CommandError("give one of --standard ID, --kind KIND or --all")
        evaluation_date = self._date(date)
        created = services.standards_builtin_sync()
        for version in created:
            self.stdout.write(f"stored built-in standard {version}")
        if all or kind:
            kinds = sorted(points_engine.EVALUATION_KINDS) if all else [kind]
            targets = [selectors.standard_in_force(kind=k, on=evaluation_date, application=application)
                       for k in kinds]
            for k, target in zip(kinds, targets):
                if target is None:
                    self.stdout.write(f"{k}: no version in force on {evaluation_date}, skipped")
        else:
            target = (selectors.standard_get(standard_id=standard, version=standard_version) if standard_version
                      else selectors.standard_latest(standard_id=standard))
            if target is None:
                raise CommandError(f"unknown standard {standard!r} version {standard_version or '(latest)'}")
            targets = [target]
        runs = [run for target in targets if target is not None
                for run in [self._create(target, evaluation_date, application=application, force=force)] if run]
        if not runs:
            return

        def progress(run_id: int, count: int, total: int) -> None:
            self.stdout.write(f"  {names[run_id]}: {count}/{total}" if len(runs) > 1 else f"  {count}/{total}")

        names = {run.pk: str(run.standard) for run in runs}
        executed = services.scoring_runs_execute(run_ids=[run.pk for run in runs], batch_size=batch_size,
                                                 on_progress=progress)
        failed = []
        for run in executed:
            if run is None:
                continue
            if run.status != ScoringRun.Status.DONE:
                failed.append(f"{run.standard} @ {evaluation_date}: {run.status}: {run.error}")
                continue
            counts = ", ".join(f"{k} {v}" for k, v in sorted(run.verdict_counts.items())) or "none"
            self.stdout.write(self.style.SUCCESS(
                f"{run.standard} @ {evaluation_date}: {run.done} enterprises scored in {run.duration_seconds:.1f}s "
                f"({counts})"
            ))
        if failed:
            raise CommandError("; ".join(failed))

    def _date(self, text: str | None) -> date:
        if not text:
            return timezone.localdate()
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}") from exc

    def _create(self, standard, evaluation_date: date, *, application: str, force: bool) -> ScoringRun | None:
        """A pending run to execute, or None (already scored, or under way elsewhere)."""
        done = ScoringRun.objects.filter(standard=standard, evaluation_date=evaluation_date, application=application,
                                         status=ScoringRun.Status.DONE)
        if done.exists() and not force:
            self.stdout.write(f"{standard} @ {evaluation_date}: already scored, skipped (use --force to run again)")
            return None
        run = services.scoring_run_create(actor=None, standard=standard, evaluation_date=evaluation_date,
                                          application=application, system=True)
        if getattr(run, "joined", False):
            self.stdout.write(f"{standard} @ {evaluation_date}: run {run.public_id} is under way ({run.status}), "
                              "left to it")
            return None
        self.stdout.write(f"{standard} @ {evaluation_date}: run {run.public_id}")
        return run
