"""Demo-data benchmark: `seed_demo` for N enterprises into a fresh, migrated SQLite file.

    .venv/bin/python benchmarks/seed_bench.py --enterprises 100000 --seed 2026

Prints timings; the last line is a JSON object with enterprises, seconds (wall time of the seed_demo call),
cpu_seconds (its CPU time, generator process included: the figure that does not depend on what else the
machine is doing), load_average, declarations, flagged, qualifications and peak_memory_mb.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the generator process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="twincity-seed-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SQLITE_NAME"] = str(workdir / "bench.sqlite3")  # absolute: BASE_DIR / "/abs" == "/abs"
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated {connection.settings_dict['NAME']} in {time.perf_counter() - t0:.1f}s")

    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    call_command("seed_demo", enterprises=args.enterprises, seed=args.seed, verbosity=0)
    seconds, cpu_seconds = time.perf_counter() - t0, _cpu_seconds() - cpu0
    load = os.getloadavg()[0]
    print(f"seed_demo --enterprises {args.enterprises} --seed {args.seed}: {seconds:.1f}s wall, "
          f"{cpu_seconds:.1f}s CPU (this process + the generator process), load average {load:.1f}")

    t0 = time.perf_counter()
    call_command("seed_demo", enterprises=args.enterprises, seed=args.seed, verbosity=0)
    print(f"second run (nothing to do): {time.perf_counter() - t0:.2f}s")

    counts = {
        "enterprises": Enterprise.objects.count(),
        "declarations": AnnualDeclaration.objects.count(),
        "flagged": AnnualDeclaration.objects.exclude(flags=[]).count(),
        "qualifications": Qualification.objects.count(),
    }
    print("rows: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB")
    if not args.keep:
        connection.close()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    else:
        print(f"kept {workdir}")
    print(json.dumps({"enterprises": counts["enterprises"], "seconds": round(seconds, 2),
                      "cpu_seconds": round(cpu_seconds, 2), "load_average": round(load, 1),
                      "declarations": counts["declarations"], "flagged": counts["flagged"],
                      "qualifications": counts["qualifications"], "peak_memory_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
