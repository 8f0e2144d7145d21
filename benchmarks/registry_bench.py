"""Registry benchmark: a fresh database with N demo enterprises, scored under the five standards, then a
declarations file for every enterprise imported, and imported again.

    .venv/bin/python benchmarks/registry_bench.py --enterprises 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_prod_bench .venv/bin/python benchmarks/registry_bench.py ...

The database is new for every run: a SQLite file in a temporary folder, or, with DATABASE_URL set, a PostgreSQL
database created beside the one it names (its name + "_registry_<pid>", on the same server) and dropped at the
end (--keep keeps either). Steps, each timed:

- seed: `seed_demo` for N enterprises (three fiscal years of declarations, qualifications; not in the targets);
- scoring: a scoring run for each of the five standards of issue #3 (tsme-2017, hnte-2016, innov-2022,
  srdi-2022, scp-v1; their latest versions), executed together as the nightly scoring and `run_scoring --all` do
  it (`scoring_runs_execute`: one reading of the registry for the five), or with `--one-by-one` one after the
  other (per_standard_seconds then says each one's time);
- import: a declarations CSV with one row per enterprise for the current fiscal year (all created), through the
  import service (all or nothing, an audit entry per row), as the import page and `import_registry` do it;
- reimport: the same file again (nothing changes, nothing is written).

`--skip-scoring` leaves the scoring step out (seed, then import and re-import only).
`--scoring-only` stops after the scoring (the import figures are then null).
`--seed-only` seeds and keeps the database (its location is printed), for `--from`: `--from PATH` (SQLite: a
seeded file, copied) or `--from NAME` (PostgreSQL: a seeded database, the template of the new one) starts from it
instead of seeding (seed_seconds is then the copy's), so runs while iterating skip the minutes of seeding.

The last line is one JSON object: enterprises, database, scoring_seconds, import_seconds, reimport_seconds,
peak_rss_mb (this process), with seed_seconds, per_standard_seconds, cpu_seconds and the load average besides.
cpu_seconds are this process's (`<step>_workers`: its worker processes', e.g. the planners of an import's first
pass, with the fork server they are forked from); on PostgreSQL `<step>_db_server` adds the CPU of this connection's server backend
(read from /proc: a server on the same machine), not counting the server's background writers nor the second
connection that writes results of runs executed together (POINTS_RUN_WRITERS=1 leaves it out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_bench import write_declarations  # noqa: E402

FIVE = ("tsme-2017", "hnte-2016", "innov-2022", "srdi-2022", "scp-v1")


def _admin(url: str) -> tuple[str, str]:
    """(maintenance database URL, the named database) of a PostgreSQL URL."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _pg(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database (its location is printed)")
    parser.add_argument("--skip-scoring", action="store_true", help="seed, then import and re-import only")
    parser.add_argument("--scoring-only", action="store_true",
                        help="seed and score only (no import steps: their figures are null)")
    parser.add_argument("--one-by-one", action="store_true",
                        help="score the five standards one run after the other (default: together, as the nightly "
                             "scoring does, reading the registry once)")
    parser.add_argument("--seed-only", action="store_true", help="seed, keep the database and stop (for --from)")
    parser.add_argument("--from", dest="template", default="",
                        help="start from a database --seed-only kept (SQLite file path or PostgreSQL database name)")
    args = parser.parse_args(argv)
    if args.seed_only:
        args.keep = True

    workdir = Path(tempfile.mkdtemp(prefix="twincity-registry-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.pop("DEBUG", None)
    base_url = os.environ.get("DATABASE_URL", "")
    pg_database = ""
    if base_url:
        import urllib.parse

        admin_url, name = _admin(base_url)
        pg_database = f"{name}_registry_{os.getpid()}"
        template = f' TEMPLATE "{args.template}"' if args.template else ""
        _pg(admin_url, f'CREATE DATABASE "{pg_database}"{template}')
        os.environ["DATABASE_URL"] = urllib.parse.urlunsplit(
            urllib.parse.urlsplit(base_url)._replace(path=f"/{pg_database}"))
    else:
        os.environ["SQLITE_NAME"] = str(workdir / "registry.sqlite3")  # absolute: BASE_DIR / "/abs" == "/abs"
        if args.template:
            shutil.copyfile(args.template, workdir / "registry.sqlite3")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from twincity.demo import services as demo
    from twincity.enterprises.imports import import_apply
    from twincity.enterprises.models import AnnualDeclaration, Enterprise
    from twincity.enterprises.services import fiscal_year_max
    from twincity.points import selectors, services
    from twincity.points.models import ScoringRun

    cpu: dict[str, float] = {}

    def server_cpu() -> float | None:
        """CPU seconds of this connection's PostgreSQL backend so far (a server on this machine), else None."""
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def children_cpu() -> float:
        """CPU seconds of this process's ended children, and of the fork server (`core.processes`) with its
        ended children (the pool processes it forked: not this process's children)."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = usage.ru_utime + usage.ru_stime
        from multiprocessing import forkserver

        pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
        if pid:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return seconds
            seconds += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
        return seconds

    def timed(label: str, work):
        t0, c0, s0, w0 = time.perf_counter(), time.process_time(), server_cpu(), children_cpu()
        result = work()
        cpu[label] = round(cpu.get(label, 0.0) + time.process_time() - c0, 1)
        workers = children_cpu() - w0  # worker processes that ended during the step (an import's planners)
        if workers >= 0.05:
            cpu[f"{label}_workers"] = round(cpu.get(f"{label}_workers", 0.0) + workers, 1)
        s1 = server_cpu()
        if s0 is not None and s1 is not None:
            cpu[f"{label}_db_server"] = round(cpu.get(f"{label}_db_server", 0.0) + s1 - s0, 1)
        return time.perf_counter() - t0, result

    try:
        load_before = os.getloadavg()[0]
        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        print(f"database: {vendor} {connection.settings_dict['NAME']}", file=sys.stderr)
        if args.template:
            seed_seconds = 0.0
            print(f"from {args.template}: {Enterprise.objects.count()} enterprises", file=sys.stderr, flush=True)
        else:
            seed_seconds, seeded = timed("seed", lambda: demo.seed(enterprises=args.enterprises, seed=args.seed))
            print(f"seed: {seed_seconds:.1f}s, {seeded.enterprises} enterprises, {seeded.declarations} declarations",
                  file=sys.stderr, flush=True)
        if args.seed_only:
            connection.close()
            print(f"seeded: {pg_database or workdir / 'registry.sqlite3'}", file=sys.stderr)
            return 0

        services.standards_builtin_sync()
        per_standard = {}
        scoring_started = time.perf_counter()
        runs = [] if args.skip_scoring else [
            services.scoring_run_create(actor=None, standard=selectors.standard_latest(standard_id=standard_id),
                                        evaluation_date=date_today(), system=True) for standard_id in FIVE]
        if args.one_by_one:
            for standard_id, run in zip(FIVE, runs):
                seconds, run = timed("scoring", lambda run=run: services.scoring_run_execute(run_id=run.pk))
                per_standard[standard_id] = round(seconds, 2)
                print(f"scoring {run.standard}: {seconds:.1f}s, {run.done} enterprises", file=sys.stderr, flush=True)
        elif runs:
            seconds, _scored = timed("scoring", lambda: services.scoring_runs_execute(run_ids=[r.pk for r in runs]))
            print(f"scoring the five together: {seconds:.1f}s", file=sys.stderr, flush=True)
        for run in runs:
            run.refresh_from_db()
            if run.status != ScoringRun.Status.DONE or run.done != args.enterprises:
                raise SystemExit(f"{run.standard}: {run.status} {run.done}: {run.error}")
        scoring_seconds = time.perf_counter() - scoring_started
        if args.scoring_only:
            import_seconds = reimport_seconds = None
            peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            return _report(args, vendor, scoring_seconds, import_seconds, reimport_seconds, peak_rss_mb,
                           seed_seconds, per_standard, cpu, load_before)

        year = fiscal_year_max()
        codes = list(Enterprise.objects.order_by("credit_code").values_list("credit_code", flat=True))
        declarations = workdir / "declarations.csv"
        write_declarations(declarations, codes, random.Random(args.seed), fiscal_year=year)
        before = AnnualDeclaration.objects.count()
        import_seconds, first = timed("import", lambda: import_apply(
            actor=None, kind="declarations", path=declarations, filename=declarations.name))
        print(f"import of {len(codes)} declarations for {year}: {import_seconds:.1f}s, created={first.created} "
              f"updated={first.updated}", file=sys.stderr, flush=True)
        reimport_seconds, again = timed("reimport", lambda: import_apply(
            actor=None, kind="declarations", path=declarations, filename=declarations.name))
        changed = again.created + again.updated
        print(f"re-import: {reimport_seconds:.1f}s, changed={changed}", file=sys.stderr)
        if changed or AnnualDeclaration.objects.count() != before + first.created:
            raise SystemExit("the re-import changed something")
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        connection.close()
        if args.keep:
            print(f"kept: {pg_database or workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if pg_database:
                _pg(admin_url, f'DROP DATABASE IF EXISTS "{pg_database}"')
    return _report(args, vendor, scoring_seconds, import_seconds, reimport_seconds, peak_rss_mb, seed_seconds,
                   per_standard, cpu, load_before)


def _report(args, vendor, scoring_seconds, import_seconds, reimport_seconds, peak_rss_mb, seed_seconds,
            per_standard, cpu, load_before) -> int:
    print(json.dumps({
        "enterprises": args.enterprises,
        "database": vendor,
        "scoring_seconds": round(scoring_seconds, 2),
        "import_seconds": None if import_seconds is None else round(import_seconds, 2),
        "reimport_seconds": None if reimport_seconds is None else round(reimport_seconds, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "seed_seconds": round(seed_seconds, 2),
        "per_standard_seconds": per_standard,
        "cpu_seconds": cpu,
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }))
    return 0


def date_today():
    from django.utils import timezone

    return timezone.localdate()


if __name__ == "__main__":
    sys.exit(main())
