"""The columnar batch path (polars, lazy, one pass per standard, no per-row Python).

``score_batch`` scores a whole facts table. For a standard with percentile (peer-group) indicators it
needs a *reference distribution*: pass one to reuse a frozen distribution, or let the run compute one
from the scored population; either way the distribution used is returned in ``BatchResult.reference``
so the caller can store it with the run. With an explicit reference, every row's result depends only
on that row and the reference: other rows never move it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import expr
from .backends import PlBackend, decode_reasons
from .compiled import CompiledStandard, Ind
from .errors import ExpertInputError, StandardError
from .facts import FIELD_TYPES, coerce_frame, frame_from_records, prepare_frame
from .plan import group_code, run_plan
from .standard import APPLICATIONS, Standard

REFERENCE_FORMAT = 1


@dataclass(frozen=True)
class BatchResult:
    """``frame``: one row per input row (columns documented in README.md); ``reference``: the frozen
    peer distribution used (None for standards without percentile indicators)."""

    frame: pl.DataFrame
    reference: dict[str, Any] | None
    standard_id: str
    version: str
    evaluation_date: dt.date | None
    application: str = "new"  # "new" or "renewal": which conditions were tested


def referenced_fields(standard: Standard, application: str | None = None) -> list[str]:
    """Every fact field a standard reads (including expert inputs and the peer-group fields): for one
    kind of application, or (None) for either. Branches a switch turns off read nothing."""
    cs = standard.compiled
    out: list[str] = []
    comps = cs.conditions + cs.routes
    if application is not None:
        comps = cs.conditions_for(application) + cs.routes_for(application)
    for c in comps:
        out += expr.fields(c.ast)
    for ind in cs.indicators:
        for alt in ind.alts:
            out += expr.fields(alt.ast) if alt.ast else []
        if ind.expert_field:
            out.append(ind.expert_field)
    if cs.peer:
        for _, ast in cs.stage_rules:
            out += expr.fields(ast)
        out.append(cs.cluster_field)
    return list(dict.fromkeys(out))


def _to_frame(facts: pl.DataFrame | Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    if isinstance(facts, pl.DataFrame):
        return coerce_frame(facts)
    return frame_from_records(facts)


def _complete(df: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Add absent fact columns as typed nulls (unknown) and an ``id`` when the table has none."""
    add = []
    if "id" not in df.columns:
        add.append(pl.int_range(1, pl.len() + 1).cast(pl.String).alias("id"))
    for f in dict.fromkeys(referenced_fields(standard) + ["registered_on", "reg_days"]):
        if f not in df.columns and f in FIELD_TYPES:
            add.append(pl.lit(None, dtype=FIELD_TYPES[f]).alias(f))
    return df.with_columns(add) if add else df


def build_reference(
    standard: Standard, facts: pl.DataFrame | Sequence[Mapping[str, Any]], *, evaluation_date: dt.date | None = None
) -> dict[str, Any] | None:
    """Compute the frozen peer distribution of a population (None if the standard needs none)."""
    df = _complete(_to_frame(facts), standard)
    evaluation_date = evaluation_date or dt.date.today()
    return _build_reference(standard.compiled, prepare_frame(df.lazy(), df.columns, evaluation_date))


def _build_reference(cs: CompiledStandard, lf: pl.LazyFrame) -> dict[str, Any] | None:
    ref, _shared = _build_reference_sharing(cs, lf)
    return ref


def _build_reference_sharing(cs: CompiledStandard, lf: pl.LazyFrame) -> tuple[dict[str, Any] | None, pl.DataFrame]:
    """The reference, and the columns computed for it (stage, peer-group code and the percentile
    values, one row per input row, named as the scoring plan names them) so that plan reuses them."""
    if not cs.percentile_inds:
        return None, pl.DataFrame()
    B = PlBackend()
    _, code = group_code(cs, B)
    for ind, alt in cs.percentile_inds:
        assert alt.ast is not None  # percentile alternatives always have a value expression
        B.let(f"__v.{ind.id}.{alt.id}", expr.compile_pl(alt.ast))
    for stage in B.stages:
        lf = lf.with_columns(stage)
    n_cl = len(cs.clusters)
    q, m = cs.quantiles, cs.min_peer_size
    own = {f"__v.{ind.id}.{alt.id}": f"__v.{ind.id}" for ind, alt in cs.percentile_inds}
    shared = lf.select(["__stage", "__code", *own]).collect()
    vcols = list(own.values())
    # lazy: each table reads the shared columns where they are (no filtered copy of them)
    data = (
        shared.lazy()
        .select([pl.col("__code"), *[pl.col(c).cast(pl.Float64).alias(v) for c, v in own.items()]])
        .filter(pl.col("__code").is_not_null())
        .with_columns((pl.col("__code") // n_cl).alias("__stage_idx"), pl.lit(0).alias("__all"))
    )

    def cut_exprs() -> list[pl.Expr]:
        out = []
        for c in vcols:
            # nulls sort last, so the first n values are the known ones (no drop_nulls copy and no
            # when/then around the gather: both made polars evaluate the sort far more slowly)
            vals = pl.col(c).sort(nulls_last=True)
            n = pl.col(c).count().cast(pl.Int64)
            # nearest-rank cut k (1..Q): the ceil(k*n/Q)-th smallest value, in integer arithmetic
            idx = (pl.int_range(1, q + 1, dtype=pl.Int64) * n + (q - 1)) // q - 1
            out += [n.alias(f"n:{c}"), vals.gather(idx.clip(0)).alias(f"cuts:{c}")]
        return out

    def table(key: str) -> dict[Any, dict[str, Any]]:
        rows = {row[key]: row for row in data.group_by(key).agg(cut_exprs()).collect().to_dicts()}
        for row in rows.values():
            for c in vcols:
                if not row[f"n:{c}"]:
                    row[f"cuts:{c}"] = None  # a group without known values has no cuts
        return rows

    by_code = table("__code")
    by_stage: dict[Any, dict[str, Any]] | None = None
    everyone: dict[Any, dict[str, Any]] | None = None
    population = shared.height - shared.get_column("__code").null_count()
    groups: dict[str, Any] = {}
    for s_idx, s in enumerate(cs.stage_ids):
        for c_idx, c in enumerate(cs.clusters):
            key = f"{s}|{c}"
            own = by_code.get(s_idx * n_cl + c_idx, {})
            g = groups.setdefault(key, {"n": {}, "source": {}, "cuts": {}})
            for ind, _ in cs.percentile_inds:
                col = f"__v.{ind.id}"
                n_own = int(own.get(f"n:{col}") or 0)
                if n_own >= m:
                    src, row = key, own
                else:
                    if by_stage is None:
                        by_stage = table("__stage_idx")
                    srow = by_stage.get(s_idx, {})
                    if int(srow.get(f"n:{col}") or 0) >= m:
                        src, row = f"{s}|*", srow
                    else:
                        if everyone is None:
                            everyone = table("__all")
                        src, row = "*|*", everyone.get(0, {})
                cuts = row.get(f"cuts:{col}")
                g["n"][ind.id] = n_own
                g["source"][ind.id] = src
                g["cuts"][ind.id] = None if not cuts else [float(x) for x in cuts]
    reference = {
        "format": REFERENCE_FORMAT,
        "standard": cs.id,
        "version": cs.version,
        "quantiles": q,
        "min_peer_size": m,
        "population": int(population),
        "groups": groups,
    }
    return reference, shared


def check_reference(cs: CompiledStandard, reference: dict[str, Any]) -> None:
    if not isinstance(reference, dict) or reference.get("standard") != cs.id:
        raise StandardError(
            f"参照分布不属于标准 {cs.id} / the reference distribution is not for standard {cs.id}"
        )
    if reference.get("quantiles") != cs.quantiles:
        raise StandardError(
            f"参照分布的分位数 {reference.get('quantiles')} 与标准 {cs.quantiles} 不符 / "
            f"reference quantiles {reference.get('quantiles')} do not match the standard ({cs.quantiles})"
        )


def _check_application(application: str) -> None:
    if application not in APPLICATIONS:
        raise ValueError(f"application must be one of {APPLICATIONS}, not {application!r}")


def points_dtype(cs: CompiledStandard, ind: Ind) -> pl.DataType | None:
    """The narrow integer type that holds every value of ``points.<id>`` of an indicator whose points
    are whole numbers by construction (banded alternatives with whole-number points, no expert input,
    no peer weight: the plan only looks those numbers up, takes 0 or the maximum for an unknown value
    and the larger of two alternatives), else None (the column keeps the plan's type). One byte a row
    instead of eight; the values, and what JSON, CSV and ``to_dicts`` make of them, are the same."""
    if ind.expert_field or (cs.peer and ind.id in cs.weight_factor):
        return None
    values: list[Any] = [0, ind.max_points]
    for alt in ind.alts:
        if alt.btype not in ("thresholds", "map", "flag"):
            return None
        values += [v for b in alt.bands for v in (b.lo, b.hi) if v is not None]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    lo, hi = min(values), max(values)
    for dtype, bits in ((pl.Int8, 8), (pl.Int16, 16), (pl.Int32, 32)):
        if -(1 << (bits - 1)) <= lo and hi < 1 << (bits - 1):
            return dtype()
    return None


def output_columns(cs: CompiledStandard) -> list[str]:
    cols = ["id", "standard", "version", "verdict", "route", "score_min", "score_max", "grade"]
    if cs.peer:
        cols += ["stage", "peer_group"]
    cols.append("reasons")
    cols += [f"points.{i.id}" for i in cs.indicators]
    cols += [f"band.{i.id}" for i in cs.indicators]
    return cols


def score_batch(
    facts: pl.DataFrame | Sequence[Mapping[str, Any]],
    standard: Standard,
    *,
    evaluation_date: dt.date | None = None,
    reference: dict[str, Any] | None = None,
    on_error: str = "raise",
    keep_input: bool = True,
    application: str = "new",
) -> BatchResult:
    """Score every row of ``facts`` under ``standard`` (columnar, polars).

    ``evaluation_date`` (default: today) is used to derive ``reg_days`` from ``registered_on``.
    ``application`` is ``"new"`` (an application, the default) or ``"renewal"`` (复核): conditions the
    standard marks ``applies_to`` the other mode are not tested.

    ``on_error="raise"`` raises ExpertInputError at the first expert input outside its band (row =
    1-based file row, header = 1); ``on_error="mark"`` gives that row verdict ``needs_review`` with the
    reason instead. ``keep_input`` appends the input columns (other than ``id``) to the output.
    """
    if on_error not in ("raise", "mark"):
        raise ValueError("on_error must be 'raise' or 'mark'")
    _check_application(application)
    evaluation_date = evaluation_date or dt.date.today()
    job = _plan(_to_frame(facts), standard, evaluation_date, reference, keep_input, application)
    return _finish(job, job.query.collect(), on_error)


def score_batch_many(
    facts: pl.DataFrame | Sequence[Mapping[str, Any]],
    standards: Sequence[Standard],
    *,
    evaluation_date: dt.date | None = None,
    references: Mapping[str, dict[str, Any] | None] | None = None,
    on_error: str = "raise",
    keep_input: bool = True,
    application: str = "new",
) -> dict[str, BatchResult]:
    """``score_batch`` of one facts table under several standards, keyed by standard id.

    The facts are coerced once and the standards' plans are collected together
    (``polars.collect_all``), so polars can run them concurrently. ``references`` maps a standard id
    to its frozen reference (missing or None: computed from the population, as in score_batch).
    Each result is identical to ``score_batch(facts, standard, ...)``.
    """
    if on_error not in ("raise", "mark"):
        raise ValueError("on_error must be 'raise' or 'mark'")
    _check_application(application)
    ids = [s.compiled.id for s in standards]
    if len(set(ids)) != len(ids):
        raise ValueError("score_batch_many: each standard may appear only once")
    evaluation_date = evaluation_date or dt.date.today()
    df = _to_frame(facts)
    refs = references or {}
    jobs = [_plan(df, std, evaluation_date, refs.get(std.compiled.id), keep_input, application) for std in standards]
    frames = pl.collect_all([job.query for job in jobs])
    return {job.cs.id: _finish(job, frame, on_error) for job, frame in zip(jobs, frames, strict=True)}


@dataclass
class _Job:
    cs: CompiledStandard
    query: pl.LazyFrame
    out: dict[str, Any]
    mask_cols: list[str]
    bad_cols: list[str]
    reference: dict[str, Any] | None
    evaluation_date: dt.date
    application: str
    helpers: pl.LazyFrame  # __xlo / __xhi / __xband of the expert inputs (see _raise_expert)


def _plan(
    df: pl.DataFrame,
    standard: Standard,
    evaluation_date: dt.date,
    reference: dict[str, Any] | None,
    keep_input: bool,
    application: str = "new",
) -> _Job:
    """The lazy scoring query of one standard over an already coerced facts frame (the peer
    reference, when the standard needs one and none is given, is computed here)."""
    cs = standard.compiled
    input_cols = [c for c in df.columns if c != "id"]
    df = _complete(df, standard)
    lf = prepare_frame(df.lazy(), df.columns, evaluation_date)
    shared = pl.DataFrame()
    if cs.percentile_inds:
        if reference is None:
            reference, shared = _build_reference_sharing(cs, lf)
            lf = pl.concat([lf, shared.lazy()], how="horizontal")  # computed once, for both
        else:
            check_reference(cs, reference)
    else:
        reference = None
    B = PlBackend(known=set(shared.columns))
    out = run_plan(cs, B, reference=reference, fact_cols=set(df.columns), application=application)
    for stage in B.stages:
        lf = lf.with_columns(stage)
    bad_cols = [f"__xbad.{ind.id}" for ind, *_ in out["__expert_bad"]]
    exprs = [pl.col("id").cast(pl.String), pl.lit(cs.id).alias("standard"), pl.lit(cs.version).alias("version")]
    rm = out["reasons"]
    mask_cols = [f"__reasons{i}" for i in range(len(rm.masks))]
    for name in output_columns(cs)[3:]:
        if name == "grade" and "grade" not in out:
            exprs.append(pl.lit(None, dtype=pl.String).alias("grade"))
            continue
        if name == "reasons":
            if rm.text is not None:
                exprs.append(rm.text.alias("reasons"))
            exprs += [m.alias(c) for m, c in zip(rm.masks, mask_cols, strict=True)]
            continue
        e = out[name]
        e = e if isinstance(e, pl.Expr) else pl.lit(e)
        if name in ("score_min", "score_max") and not cs.has_score:
            e = e.cast(pl.Float64)  # no score: a typed null column
        exprs.append(e.alias(name))
    narrow = {f"points.{ind.id}": points_dtype(cs, ind) for ind in cs.indicators}
    if any(narrow.values()):
        # only where the plan's column is indeed whole numbers (a strict cast: never a silent change)
        schema = lf.select([e for e in exprs if narrow.get(e.meta.output_name())]).collect_schema()
        cast = {c: dtype for c, dtype in narrow.items() if dtype is not None and schema[c].is_integer()}
        exprs = [e.cast(cast[n]) if (n := e.meta.output_name()) in cast else e for e in exprs]
    exprs += [pl.col(c) for c in bad_cols]
    # the band an expert input must lie in is only read to word the error of the first bad row: a
    # separate query, collected for that one row (never for the whole table)
    helpers = []
    for ind, _bad, alo, ahi in out["__expert_bad"]:
        helpers += [_lit(alo).alias(f"__xlo.{ind.id}"), _lit(ahi).alias(f"__xhi.{ind.id}")]
        helpers += [_lit(out[f"band.{ind.id}"]).alias(f"__xband.{ind.id}")]
    if keep_input:
        exprs += [pl.col(c) for c in input_cols]
    return _Job(
        cs, lf.select(exprs), out, mask_cols, bad_cols, reference, evaluation_date, application,
        lf.select([pl.col("id"), *helpers]),  # the id column gives the literals the height of the table
    )


def _lit(v: Any) -> pl.Expr:
    return v if isinstance(v, pl.Expr) else pl.lit(v)


def _finish(job: _Job, result: pl.DataFrame, on_error: str) -> BatchResult:
    cs, out = job.cs, job.out
    if out["reasons"].text is None:
        result = decode_reasons(result, out["reasons"], job.mask_cols)
    result = result.select(output_columns(cs) + [c for c in result.columns if c not in output_columns(cs)])
    if job.bad_cols:
        if on_error == "raise":
            _raise_expert(result, out["__expert_bad"], job.helpers)
        result = result.drop(job.bad_cols)
    return BatchResult(result, job.reference, cs.id, cs.version, job.evaluation_date, job.application)


def _raise_expert(result: pl.DataFrame, bad: list, helpers: pl.LazyFrame) -> None:
    cols = [f"__xbad.{ind.id}" for ind, *_ in bad]
    any_bad = pl.any_horizontal([pl.col(c).fill_null(False) for c in cols])
    idx = result.select(any_bad.arg_true()).to_series()
    if idx.len() == 0:
        return
    i = int(idx[0])
    row = helpers.slice(i, 1).collect()
    for ind, *_ in bad:
        if result[f"__xbad.{ind.id}"][i]:
            col = ind.expert_field
            x = result[col][i] if col in result.columns else None
            lo, hi, band = row[f"__xlo.{ind.id}"][0], row[f"__xhi.{ind.id}"][0], row[f"__xband.{ind.id}"][0]
            raise expert_error(i + 2, col, x, lo, hi, band, result["id"][i])


def expert_error(row: int | None, column: str, x: Any, lo: Any, hi: Any, band: Any, rid: Any) -> ExpertInputError:
    where = f"第 {row} 行 " if row is not None else ""
    where_en = f"row {row}, " if row is not None else ""
    return ExpertInputError(
        f"{where}{column} 列（id={rid}）：专家评分 {x} 不在计算档位 {band} 的区间 [{lo}, {hi}] 内 / "
        f"{where_en}column {column} (id={rid}): expert input {x} is outside the computed band {band} [{lo}, {hi}]",
        row=row,
        column=column,
        band=None if band is None else str(band),
        allowed=(lo, hi),
    )
