"""Speed benchmark of the finance matching engine.

    python benchmarks/matching_bench.py --enterprises 1000000 --products 200 [--sample 500] [--seed 42] [--detail]

Generates N deterministic synthetic enterprises (``points_engine.synthetic`` plus a city, points and a grade
under ``scp-v1``) and P deterministic products whose conditions cover every kind the issue names (points or
grade, clusters, cities, qualifications, years since registration, revenue range, compliance) with varied
thresholds, matches the whole registry against every product with the batch path
(``match_batch(..., detail=False)``: the eligibility of every pair, what a whitelist needs), matches a
sample with the per-enterprise path (``match``), checks the two agree on the sample (eligibility and, from a
detailed batch of the sample rows, every condition's mask), and prints as its last line one JSON object:
``enterprises, products, seconds, cpu_seconds, eligible_pairs, per_record_seconds_per_row, speedup,
peak_rss_mb, identical``.

``seconds`` (wall) and ``cpu_seconds`` (all threads) cover one ``match_batch`` call, not the generation of
the data. ``per_record_seconds_per_row`` is the per-enterprise path's time for one enterprise against all P
products; ``speedup`` divides it by the batch time per enterprise. ``--detail`` also times the batch with
the per-condition masks (``detail_seconds``; memory grows with P × N Int64 values).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from finance_engine import as_products, eligible_pairs, match, match_batch  # noqa: E402
from points_engine.synthetic import CLUSTERS, synthetic_facts  # noqa: E402

EVALUATION_DATE = "2026-11-29"
CITIES = ["chongqing", "chengdu", "xian", "guiyang"]
QUALIFICATIONS = ["hnte_valid", "tsme_valid", "srdi_valid", "innov_valid"]


def registry(n: int, seed: int) -> pl.DataFrame:
    base = synthetic_facts(n, seed=seed)
    i = pl.int_range(0, n, dtype=pl.UInt64)

    def h(k: int) -> pl.Expr:
        return i.hash(seed * 7919 + k)

    return base.with_columns(
        pl.lit(pl.Series(CITIES)).gather(h(1) % len(CITIES)).alias("city"),
        pl.when(h(2) % 20 == 0).then(None).otherwise((h(3) % 100_000).cast(pl.Float64) / 100).alias("score.scp-v1"),
        pl.when(h(4) % 25 == 0).then(None).otherwise(pl.lit(pl.Series(list("ABCDE"))).gather(h(5) % 5)).alias(
            "grade.scp-v1"
        ),
        (h(6) % 5 == 0).alias("tsme_valid"),
        (h(7) % 9 == 0).alias("srdi_valid"),
        (h(8) % 6 == 0).alias("innov_valid"),
    )


def products(p: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for j in range(p):
        conds: list[tuple[str, str]] = []
        add = lambda name, expr, conds=conds: conds.append((name, expr))  # noqa: E731

        if rnd.random() < 0.5:
            add("points", f"points >= {rnd.choice([300, 450, 500, 600, 700])}")
        else:
            grades = "ABCDE"[: rnd.randint(1, 4)]
            add("grade", " or ".join(f"grade == '{g}'" for g in grades))
        if rnd.random() < 0.6:
            clusters = rnd.sample(CLUSTERS, rnd.randint(1, 4))
            add("clusters", " or ".join(f"industry_cluster == '{c}'" for c in clusters))
        if rnd.random() < 0.7:
            cities = rnd.sample(CITIES[:2], rnd.randint(1, 2))
            add("cities", " or ".join(f"city == '{c}'" for c in cities))
        if rnd.random() < 0.6:
            quals = rnd.sample(QUALIFICATIONS, rnd.randint(1, 2))
            add("qualifications", " or ".join(quals))
        if rnd.random() < 0.6:
            add("years", f"reg_days >= {365 * rnd.randint(1, 5)}")
        if rnd.random() < 0.6:
            lo = rnd.choice([0, 100, 500, 1000, 2000])
            add("revenue", f"oprev_y3 >= {lo} and oprev_y3 <= {lo * 20 + 5000}")
        add("compliance", "compliant and not prohibited")
        out.append({
            "id": f"p{j:04d}", "version": "1", "kind": rnd.choice(["credit_loan", "points_loan", "twin_city_loan"]),
            "institution": f"bank{j % 12}", "name_zh": f"产品{j}", "name_en": f"product {j}", "standard": "scp-v1",
            "conditions": [{"id": f"c{k}", "name_zh": n, "name_en": n, "expr": e} for k, (n, e) in enumerate(conds)],
            "pricing": {"rate": f"0.0{rnd.randint(28, 45)}"},
        })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--detail", action="store_true", help="also time the batch with per-condition masks")
    args = parser.parse_args(argv)
    import datetime as dt

    on = dt.date.fromisoformat(EVALUATION_DATE)
    frame = registry(args.enterprises, args.seed)
    items = as_products(products(args.products, args.seed))

    w0, c0 = time.perf_counter(), time.process_time()
    result = match_batch(frame, items, evaluation_date=on, detail=False)
    seconds, cpu_seconds = time.perf_counter() - w0, time.process_time() - c0
    pairs = eligible_pairs(result)

    detail_seconds = None
    if args.detail:
        w0 = time.perf_counter()
        match_batch(frame, items, evaluation_date=on, detail=True)
        detail_seconds = time.perf_counter() - w0

    step = max(1, args.enterprises // args.sample)
    positions = list(range(0, args.enterprises, step))[: args.sample]
    rows = frame[positions].to_dicts()
    w0 = time.perf_counter()
    singles = [{m.product_id: m for m in match(row, items, evaluation_date=on)} for row in rows]
    per_record = (time.perf_counter() - w0) / len(rows)

    sample_batch = match_batch(frame[positions], items, evaluation_date=on, detail=True)
    identical = True
    for k, (pos, single) in enumerate(zip(positions, singles)):
        for p in items:
            m = single[p.id]
            if (
                result[pos, f"eligible.{p.id}"] != m.eligible
                or sample_batch[k, f"eligible.{p.id}"] != m.eligible
                or sample_batch[k, f"mask.{p.id}"] != m.mask
            ):
                identical = False

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "enterprises": args.enterprises,
        "products": args.products,
        "conditions": sum(len(p.conditions) for p in items),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "eligible_pairs": pairs,
        "per_record_seconds_per_row": round(per_record, 6),
        "speedup": round(per_record / (seconds / args.enterprises), 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "identical": identical,
        "sample": len(rows),
        "load_average": [round(x, 2) for x in __import__("os").getloadavg()],
    }
    if detail_seconds is not None:
        report["detail_seconds"] = round(detail_seconds, 3)
    print(json.dumps(report))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
