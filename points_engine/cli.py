"""Command line: ``twincity points score|standards`` (runs without a database).

    twincity points standards
    twincity points score (--standard ID [--version V] | --kind KIND) --input FACTS.csv|.xlsx --output RESULTS.csv
                          [--evaluation-date YYYY-MM-DD] [--application new|renewal]
                          [--reference REF.json] [--save-reference REF.json]

``--kind`` scores under the built-in standard of that evaluation kind in force on the evaluation date
(default today): ``--kind srdi --evaluation-date 2026-03-31`` uses srdi-2022, ``2026-04-01`` srdi-2026.
A renewal scored under older rules names them: ``--standard srdi-2022 --application renewal``.

Exit codes: 0 success, 2 bad input (unknown standard, missing column, bad value, expert input outside
its band); the error, naming row and column, goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

import polars as pl

from . import expr
from .batch import referenced_fields, score_batch
from .errors import EngineError, FactsError
from .facts import DEFAULTS, read_facts
from .standard import (
    APPLICATIONS,
    EVALUATION_KINDS,
    Standard,
    list_builtin,
    load_builtin,
    parse_expr,
    standard_in_force,
)

EXIT_BAD_INPUT = 2


def required_columns(standard: Standard, application: str = "new") -> list[str]:
    """Columns a facts file must have for ``standard``: ``id`` and every fact it reads for this kind
    of application, except expert inputs (x_*), fields with a facts.md default, fields read only inside
    ``coalesce`` (they have a fallback), fields of a branch a switch turns off, and reg_days when
    registered_on can stand in. A blank *cell* is always allowed."""
    d = standard.to_dict()
    texts = [
        c["expr"]
        for c in d.get("conditions", []) + d.get("direct_routes", [])
        if c.get("applies_to") in (None, application)
    ]
    for ind in d.get("indicators", []):
        texts += [alt["value"] for alt in ind.get("best_of", [ind]) if alt.get("value")]
    texts += [s["when"] for s in (d.get("peer_groups") or {}).get("stages", []) if s.get("when")]
    optional: set[str] = set()
    for t in texts:
        optional |= expr.fallback_fields(parse_expr(d, t))
    cols = ["id"]
    for f in referenced_fields(standard, application):
        if f.startswith("x_") or f in DEFAULTS or f in cols or f in optional:
            continue
        cols.append(f)
    return cols


def _check_columns(df: pl.DataFrame, standard: Standard, application: str = "new") -> None:
    for col in required_columns(standard, application):
        if col in df.columns:
            continue
        if col == "reg_days" and "registered_on" in df.columns:
            continue
        raise FactsError(
            f"缺少必需列 {col}（第 1 行表头）/ missing required column {col} (header, row 1)", row=1, column=col
        )


def _cmd_standards(_args: argparse.Namespace) -> int:
    print("id\tversion\tkind\teffective_from\tsuperseded_from\tregion\tprovisional\tname")
    for s in list_builtin():
        superseded = s.superseded_from.isoformat() if s.superseded_from else ""
        print(
            f"{s.id}\t{s.version}\t{s.kind or ''}\t{s.effective_from.isoformat()}\t{superseded}\t{s.region}\t"
            f"{str(s.provisional).lower()}\t{s.name_zh} / {s.name_en}"
        )
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    eval_date = dt.date.fromisoformat(args.evaluation_date) if args.evaluation_date else None
    if args.kind:
        if args.version:
            raise ValueError("--version goes with --standard, not --kind")
        standard = standard_in_force(args.kind, eval_date or dt.date.today())
    else:
        standard = load_builtin(args.standard, args.version)
    facts = read_facts(args.input)
    _check_columns(facts, standard, args.application)
    reference = None
    if args.reference:
        with open(args.reference, encoding="utf-8") as fh:
            reference = json.load(fh)
    result = score_batch(
        facts, standard, evaluation_date=eval_date, reference=reference, application=args.application
    )
    frame = result.frame
    out_cols = frame.columns
    frame.select(out_cols).write_csv(args.output)
    if args.save_reference and result.reference is not None:
        with open(args.save_reference, "w", encoding="utf-8") as fh:
            json.dump(result.reference, fh, ensure_ascii=False, indent=1)
    counts = frame.group_by("verdict").len().sort("verdict").rows()
    summary = ", ".join(f"{v}={n}" for v, n in counts)
    print(
        f"{standard.id} v{standard.version} ({args.application}): {frame.height} rows -> {args.output} ({summary})",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twincity", description="twincity command line")
    sub = parser.add_subparsers(dest="group", required=True)
    points = sub.add_parser("points", help="innovation points engine / 创新积分引擎")
    psub = points.add_subparsers(dest="command", required=True)
    p_std = psub.add_parser("standards", help="list standards and versions / 列出标准及版本")
    p_std.set_defaults(func=_cmd_standards)
    p_score = psub.add_parser("score", help="score a facts file / 对事实表评分")
    which = p_score.add_mutually_exclusive_group(required=True)
    which.add_argument("--standard", help="a built-in standard id (see `points standards`)")
    which.add_argument(
        "--kind", choices=sorted(EVALUATION_KINDS), help="the standard of this evaluation kind in force on the evaluation date"
    )
    p_score.add_argument("--version")
    p_score.add_argument("--input", required=True, help=".csv or .xlsx facts file")
    p_score.add_argument("--output", required=True, help="results .csv")
    p_score.add_argument(
        "--evaluation-date", help="YYYY-MM-DD (default today): derives reg_days; with --kind, picks the version in force"
    )
    p_score.add_argument(
        "--application", choices=APPLICATIONS, default="new", help="new application (default) or renewal (复核)"
    )
    p_score.add_argument("--reference", help="frozen peer distribution (JSON) to score against")
    p_score.add_argument("--save-reference", help="write the peer distribution used (JSON)")
    p_score.set_defaults(func=_cmd_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except EngineError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
