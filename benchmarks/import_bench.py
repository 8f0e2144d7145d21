"""Import benchmark: a deterministic N-row enterprises file and an N-row declarations file into a fresh SQLite file.

    .venv/bin/python benchmarks/import_bench.py --rows 100000

Prints timings; the last line is a JSON object with rows, enterprises_seconds, declarations_seconds and
reimport_seconds (both files imported again: nothing changes, nothing is written).
"""

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 (no I, O, S, V, Z)


def credit_codes(n: int, rng: random.Random) -> list[str]:
    from stdnum.cn import uscc

    codes: set[str] = set()
    regions = ["500107", "500112", "510100", "510107", "510116"]
    while len(codes) < n:
        body = "91" + rng.choice(regions) + "".join(rng.choice(ALPHABET) for _ in range(9))
        codes.add(body + uscc.calc_check_digit(body))
    return sorted(codes)


def write_declarations(path: Path, codes: list[str], rng: random.Random, fiscal_year: int = 2025) -> None:
    """A declarations CSV: one row per credit code for fiscal_year, plausible figures (万元), sales verified."""
    figures = [
        "employees",
        "tech_staff",
        "rd_staff",
        "sales",
        "oprev",
        "main",
        "na",
        "assets",
        "liab",
        "rd",
        "rd_dom",
        "cost",
        "total_income",
        "hitech_rev",
        "net_profit",
        "tax",
        "equity_new",
        "tech_contract",
    ]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["credit_code", "fiscal_year", *figures, "sales__source", "sales__verified"])
        for code in codes:
            employees = rng.randint(5, 2000)
            sales = rng.randint(100, 500000) / 10
            assets = rng.randint(100, 900000) / 10
            liab = round(assets * rng.random(), 1)
            rd = round(sales * rng.uniform(0.01, 0.12), 1)
            writer.writerow(
                [
                    code,
                    fiscal_year,
                    employees,
                    employees // 3,
                    employees // 5,
                    sales,
                    sales,
                    round(sales * 0.9, 1),
                    round(assets - liab, 1),
                    assets,
                    liab,
                    rd,
                    round(rd * 0.9, 1),
                    round(sales * 0.85, 1),
                    sales,
                    round(sales * 0.7, 1),
                    round(sales * 0.06, 1),
                    round(sales * 0.03, 1),
                    "",
                    round(sales * 0.02, 1),
                    "tax",
                    "Y",
                ]
            )


def write_files(directory: Path, rows: int, seed: int = 20261127) -> tuple[Path, Path]:
    rng = random.Random(seed)
    codes = credit_codes(rows, rng)
    enterprises = directory / "enterprises.csv"
    with open(enterprises, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "credit_code (统一社会信用代码)",
                "name (企业名称)",
                "city (注册地)",
                "district",
                "registered_on",
                "industry_cluster",
                "industry_code",
                "size_class",
                "resident",
                "prohibited",
                "compliant",
                "is_sme",
                "ip_I_self",
                "ip_I_acq",
                "ip_I_hv",
                "ip_II",
                "transforms_3y",
            ]
        )
        for i, code in enumerate(codes):
            writer.writerow(
                [
                    code,
                    f"基准测试企业{i:06d}有限公司",
                    rng.choice(["chongqing", "chengdu"]),
                    "高新区",
                    f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(["ic", "ev", "ict", "materials", "biomed", "other"]),
                    f"C{rng.randint(1000, 4399)}",
                    rng.choice(["micro", "small", "medium", "large"]),
                    "Y",
                    "N",
                    "Y",
                    rng.choice(["Y", "N", ""]),
                    rng.randint(0, 30),
                    rng.randint(0, 5),
                    rng.randint(0, 3),
                    rng.randint(0, 80),
                    rng.randint(0, 20),
                ]
            )
    declarations = directory / "declarations.csv"
    write_declarations(declarations, codes, rng)
    return enterprises, declarations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="twincity-import-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SQLITE_NAME"] = str(workdir / "bench.sqlite3")  # absolute: BASE_DIR / "/abs" == "/abs"
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from twincity.core.models import AuditEntry
    from twincity.enterprises.imports import import_apply
    from twincity.enterprises.models import AnnualDeclaration, Enterprise

    started = time.perf_counter()
    enterprises, declarations = write_files(workdir, args.rows)
    print(
        f"generated {args.rows} rows x 2 files in {time.perf_counter() - started:.1f}s "
        f"({enterprises.stat().st_size / 1e6:.1f} MB + {declarations.stat().st_size / 1e6:.1f} MB) in {workdir}"
    )
    call_command("migrate", verbosity=0)
    print(f"database: {connection.settings_dict['NAME']}")

    cpu: dict[str, float] = {}

    def timed(kind: str, path: Path, label: str) -> tuple[float, object]:
        t0, c0 = time.perf_counter(), time.process_time()
        result = import_apply(actor=None, kind=kind, path=path, filename=path.name)
        cpu[label] = cpu.get(label, 0.0) + time.process_time() - c0
        return time.perf_counter() - t0, result

    enterprises_seconds, r1 = timed("enterprises", enterprises, "enterprises")
    print(f"enterprises:  {enterprises_seconds:6.1f}s  created={r1.created} updated={r1.updated}")
    declarations_seconds, r2 = timed("declarations", declarations, "declarations")
    print(
        f"declarations: {declarations_seconds:6.1f}s  created={r2.created} updated={r2.updated} flagged={r2.flagged}"
    )
    t0 = time.perf_counter()
    _, r3 = timed("enterprises", enterprises, "reimport")
    _, r4 = timed("declarations", declarations, "reimport")
    reimport_seconds = time.perf_counter() - t0
    print(
        f"re-import of both: {reimport_seconds:6.1f}s  changed={r3.created + r3.updated + r4.created + r4.updated}"
    )
    # Wall-clock time depends on what else the machine runs; CPU time of this process much less so.
    print("cpu seconds: " + ", ".join(f"{label}={seconds:.1f}" for label, seconds in cpu.items()))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    counts = (Enterprise.objects.count(), AnnualDeclaration.objects.count(), AuditEntry.objects.count())
    print(f"rows in the database: enterprises={counts[0]} declarations={counts[1]} audit entries={counts[2]}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB")
    if not args.keep:
        connection.close()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    print(
        json.dumps(
            {
                "rows": args.rows,
                "enterprises_seconds": round(enterprises_seconds, 2),
                "declarations_seconds": round(declarations_seconds, 2),
                "reimport_seconds": round(reimport_seconds, 2),
                "peak_memory_mb": round(peak_mb),
                "cpu_seconds": {label: round(seconds, 1) for label, seconds in cpu.items()},
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
