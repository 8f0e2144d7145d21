"""Shared helpers: run both paths and insist they agree."""

from __future__ import annotations

import math
from typing import Any

from points_engine import explain, score_batch
from points_engine.batch import output_columns


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_paths_agree(rows: list[dict], standard, *, reference=None, evaluation_date=None, application="new") -> list:
    """Score rows with both paths; assert every output column agrees; return the explanations."""
    batch = score_batch(rows, standard, reference=reference, evaluation_date=evaluation_date, application=application)
    ref = batch.reference if reference is None else reference
    cols = output_columns(standard.compiled)
    out = []
    for i, row in enumerate(rows):
        e = explain(row, standard, reference=ref, evaluation_date=evaluation_date, application=application)
        single = e.to_row()
        b = batch.frame.row(i, named=True)
        for c in cols:
            assert same(single[c], b[c]), f"row {i} column {c}: single={single[c]!r} batch={b[c]!r}"
        out.append(e)
    return out


def run(facts: dict, standard, **kw):
    """Both paths on one row; returns the Explanation."""
    return assert_paths_agree([facts], standard, **kw)[0]


def points(e, ind_id: str):
    return next(i for i in e.indicators if i.id == ind_id).points


def band(e, ind_id: str):
    return next(i for i in e.indicators if i.id == ind_id).band
