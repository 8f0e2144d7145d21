"""Speed benchmark of the points engine.

    python benchmarks/points_bench.py --enterprises 1000000 [--sample 2000] [--seed 42]

Generates N deterministic synthetic fact rows (polars, vectorised, seeded), scores them under the five
original built-in standards (``--standards``: tsme-2017, hnte-2016, innov-2022, srdi-2022, scp-v1; ``all``
for every built-in) with the batch path (polars), scores a sample with the single-record path, checks
the two agree on the sample, and prints as its last line one JSON object:
``enterprises, batch_seconds, per_record_seconds_per_row, speedup, peak_rss_mb, identical``.

``batch_seconds`` (wall) and ``batch_cpu_seconds`` (all threads; split into ``batch_user_seconds`` and
``batch_sys_seconds``, the latter mostly the ``batch_page_faults`` of fresh memory) cover one ``score_batch_many`` call
scoring all five standards (the five plans collected together, including the peer-distribution
computation of scp-v1), not the generation of the synthetic data. ``--per-standard`` additionally
times each standard alone with ``score_batch`` beforehand (reported, not included). ``per_record_seconds_per_row`` is the single-record time of
one enterprise under all five standards; ``speedup`` divides it by the batch time per enterprise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from points_engine import explain, list_builtin, load_builtin, score_batch, score_batch_many  # noqa: E402
from points_engine.batch import output_columns  # noqa: E402
from points_engine.synthetic import synthetic_facts  # noqa: E402


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))  # type: ignore[arg-type]
    return a == b


#: the standards of the issue #3 / #7 target (the 2026 standards came later and are not in the figures)
ORIGINAL_FIVE = ("hnte-2016", "innov-2022", "scp-v1", "srdi-2022", "tsme-2017")  # list_builtin order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--standards", default=",".join(ORIGINAL_FIVE), help="comma-separated standard ids, or 'all' (every built-in)"
    )
    parser.add_argument(
        "--per-standard", action="store_true", help="also time each standard alone first (not in batch_seconds)"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    facts = synthetic_facts(args.enterprises, seed=args.seed)
    gen_seconds = time.perf_counter() - t0
    standards = list_builtin() if args.standards == "all" else [load_builtin(i) for i in args.standards.split(",")]

    per_standard = {}
    if args.per_standard:
        # informational only (not part of batch_seconds): each standard alone with score_batch
        for std in standards:
            t1 = time.perf_counter()
            score_batch(facts, std)
            per_standard[std.id] = round(time.perf_counter() - t1, 3)
    load_before = round(os.getloadavg()[0], 2)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0 = time.process_time()
    t0 = time.perf_counter()
    results = score_batch_many(facts, standards)
    batch_seconds = time.perf_counter() - t0
    batch_cpu_seconds = time.process_time() - c0
    r1 = resource.getrusage(resource.RUSAGE_SELF)

    n_sample = min(args.sample, args.enterprises)
    step = max(1, args.enterprises // n_sample)
    idx = list(range(0, step * n_sample, step))[:n_sample]
    sample_rows = facts[idx].to_dicts()
    t0 = time.perf_counter()
    singles = {
        std.id: [explain(r, std, reference=results[std.id].reference).to_row() for r in sample_rows]
        for std in standards
    }
    single_seconds = time.perf_counter() - t0

    identical = True
    mismatches = []
    for std in standards:
        cols = output_columns(std.compiled)
        frame = results[std.id].frame[idx].select(cols)
        for i, brow in enumerate(frame.iter_rows(named=True)):
            srow = singles[std.id][i]
            for c in cols:
                if not _same(srow[c], brow[c]):
                    identical = False
                    if len(mismatches) < 5:
                        mismatches.append((std.id, brow["id"], c, srow[c], brow[c]))

    per_row_single = single_seconds / n_sample
    per_row_batch = batch_seconds / args.enterprises
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdicts = {sid: dict(r.frame["verdict"].value_counts().sort("verdict").iter_rows()) for sid, r in results.items()}
    print(f"generated {args.enterprises} rows in {gen_seconds:.2f}s; per standard (s): {per_standard}", file=sys.stderr)
    print(f"verdicts: {verdicts}", file=sys.stderr)
    for m in mismatches:
        print(f"MISMATCH {m}", file=sys.stderr)
    print(
        json.dumps(
            {
                "enterprises": args.enterprises,
                "standards": len(standards),
                "batch_seconds": round(batch_seconds, 3),
                "batch_cpu_seconds": round(batch_cpu_seconds, 3),
                "batch_user_seconds": round(r1.ru_utime - r0.ru_utime, 3),
                "batch_sys_seconds": round(r1.ru_stime - r0.ru_stime, 3),
                "batch_page_faults": r1.ru_minflt - r0.ru_minflt,
                "threads": pl.thread_pool_size(),
                "load_average_1m_before": load_before,
                "per_standard_seconds": per_standard,
                "sample": n_sample,
                "single_seconds": round(single_seconds, 3),
                "per_record_seconds_per_row": per_row_single,
                "batch_seconds_per_row": per_row_batch,
                "speedup": round(per_row_single / per_row_batch, 1),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "identical": identical,
            }
        )
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
