"""benchmarks/booking_bench.py at a tiny size (a fresh SQLite file, a few clients): it runs end to end and its last
line is the JSON the issue asks for, with no overlapping booking."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_booking_benchmark_runs_small_and_reports_its_figures(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_NAME")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "booking_bench.py"),
            "--instruments",
            "30",
            "--bookings",
            "600",
            "--searches",
            "5",
            "--clients",
            "4",
            "--seconds",
            "5",
            "--attempts",
            "40",
            "--hot",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for name in (
        "instruments",
        "bookings",
        "search_p95_ms",
        "clients",
        "attempts",
        "bookings_per_second",
        "overlaps",
        "database",
    ):
        assert name in figures, name
    assert (figures["instruments"], figures["bookings"], figures["clients"], figures["database"]) == (
        30,
        600,
        4,
        "sqlite",
    )
    assert figures["attempts"] == 40
    assert figures["made"] + figures["conflicts"] + figures["refused"] + figures["errors"] == 40
    assert figures["made"] > 0
    assert figures["overlaps"] == 0
    assert figures["search_queries"] == 2  # the page and its prices, whatever the data
    assert list(tmp_path.iterdir()) == []  # the temporary database is removed
