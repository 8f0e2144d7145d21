"""The single-record path: score one enterprise and explain every step (pure Python, no polars)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import expr
from .backends import PyBackend, join_reasons
from .batch import _check_application, check_reference, expert_error, output_columns
from .errors import StandardError
from .facts import coerce_record, prepare_row
from .plan import run_plan
from .standard import Standard


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    name_zh: str
    name_en: str
    category: str
    value: Any  # the raw computed value (of the alternative that gave the points, for best_of)
    band: str | None
    points: float | None  # exact points, None while a range is open
    points_min: float | None
    points_max: float | None
    max_points: float | None
    next_band: dict[str, Any] | None = None  # {"label", "value", "inclusive", "points"} where computable
    alternatives: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ConditionResult:
    """A hard condition or direct route as tested for this record: ``met`` is True, False or None
    (unknown), ``values`` the facts it reads (None = unknown), so a page can show value and bar."""

    id: str
    name_zh: str
    name_en: str
    met: bool | None
    values: dict[str, Any]
    applies_to: str | None = None


@dataclass(frozen=True)
class Explanation:
    standard_id: str
    version: str
    verdict: str
    route: str
    score_min: float | None
    score_max: float | None
    grade: str | None
    reasons: list[tuple[str, str]]
    indicators: list[IndicatorResult]
    stage: str | None = None
    peer_group: str | None = None
    evaluation_date: dt.date | None = None
    id: str | None = None
    peer_grouped: bool = False  # the standard normalises within peer groups (stage/peer_group columns)
    application: str = "new"  # "new" or "renewal": which conditions were tested
    conditions: list[ConditionResult] = field(default_factory=list)
    direct_routes: list[ConditionResult] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        """The exact score, or None while it is a range."""
        return self.score_min if self.score_min == self.score_max else None

    def to_row(self) -> dict[str, Any]:
        """The result in the batch/CSV row shape (same column names and values as score_batch)."""
        row: dict[str, Any] = {
            "id": self.id,
            "standard": self.standard_id,
            "version": self.version,
            "verdict": self.verdict,
            "route": self.route,
            "score_min": self.score_min,
            "score_max": self.score_max,
            "grade": self.grade,
        }
        if self.peer_grouped:
            row["stage"], row["peer_group"] = self.stage, self.peer_group
        row["reasons"] = join_reasons(self.reasons)
        for ind in self.indicators:
            row[f"points.{ind.id}"] = ind.points
        for ind in self.indicators:
            row[f"band.{ind.id}"] = ind.band
        return row


def explain(
    facts: Mapping[str, Any],
    standard: Standard,
    *,
    evaluation_date: dt.date | None = None,
    reference: dict[str, Any] | None = None,
    application: str = "new",
) -> Explanation:
    """Score one enterprise and explain it. ``facts`` uses the field names of facts.md.

    Standards with percentile indicators need ``reference`` (the frozen peer distribution that
    score_batch returned). ``application`` is ``"new"`` (default) or ``"renewal"``, as in score_batch.
    Raises ExpertInputError for an expert input outside its band.
    """
    _check_application(application)
    cs = standard.compiled
    evaluation_date = evaluation_date or dt.date.today()
    if cs.percentile_inds:
        if reference is None:
            raise StandardError(
                f"标准 {cs.id} 含同类组百分位指标，需要参照分布 / standard {cs.id} has peer-group "
                "percentile indicators: pass reference= (BatchResult.reference)"
            )
        check_reference(cs, reference)
    row = prepare_row(coerce_record(facts), evaluation_date)
    B = PyBackend(row)
    out = run_plan(cs, B, reference=reference if cs.percentile_inds else None, application=application)
    for ind, bad, lo, hi in out["__expert_bad"]:
        if bad:
            raise expert_error(None, ind.expert_field, row.get(ind.expert_field), lo, hi, out[f"band.{ind.id}"], row.get("id"))
    lets = B.lets
    indicators = []
    for ind, lo, hi, _unknown, _xopen in out["__indicators"]:
        alts = []
        for alt in ind.alts:
            key = f"{ind.id}.{alt.id}"
            v = lets.get(f"__v.{key}")
            alts.append(
                {
                    "id": alt.id,
                    "value": v,
                    "band": _alt_band(alt, lets, key, cs),
                    "next_band": _next_band(alt, v, lets, key, ind, cs, reference),
                }
            )
        best = _best_alt(ind, alts, lets)
        indicators.append(
            IndicatorResult(
                id=ind.id,
                name_zh=ind.name_zh,
                name_en=ind.name_en,
                category=ind.category,
                value=best["value"],
                band=out[f"band.{ind.id}"],
                points=out[f"points.{ind.id}"],
                points_min=lo,
                points_max=hi,
                max_points=out[f"max.{ind.id}"],
                next_band=best["next_band"],
                alternatives=alts if len(alts) > 1 else [],
            )
        )
    return Explanation(
        standard_id=cs.id,
        version=cs.version,
        verdict=out["verdict"],
        route=out["route"],
        score_min=out["score_min"],
        score_max=out["score_max"],
        grade=out.get("grade"),
        reasons=out["reasons"],
        indicators=indicators,
        stage=out.get("stage"),
        peer_group=out.get("peer_group"),
        evaluation_date=evaluation_date,
        id=None if row.get("id") is None else str(row.get("id")),
        peer_grouped=bool(cs.peer),
        application=application,
        conditions=[_component_result(c, lets, "__c", row) for c in cs.conditions_for(application)],
        direct_routes=[_component_result(r, lets, "__r", row) for r in cs.routes_for(application)],
    )


def _component_result(c: Any, lets: dict, prefix: str, row: dict) -> ConditionResult:
    met = lets.get(f"{prefix}.{c.id}")
    return ConditionResult(
        id=c.id,
        name_zh=c.name_zh,
        name_en=c.name_en,
        met=None if met is None else bool(met),
        values={f: row.get(f) for f in expr.fields(c.ast)},
        applies_to=c.applies_to,
    )


def _alt_band(alt: Any, lets: dict, key: str, cs: Any) -> str | None:
    idx = lets.get(f"__b.{key}")
    if idx is not None:
        return alt.bands[idx].label
    if alt.btype == "expert":
        return "expert"
    rank = lets.get(f"__rank.{key}")
    if rank is not None:
        return f"{rank}/{cs.quantiles}"
    if alt.btype == "linear" and lets.get(f"__v.{key}") is not None:
        return "linear"
    return None


def _best_alt(ind: Any, alts: list[dict], lets: dict) -> dict:
    if len(alts) == 1:
        return alts[0]
    best, best_lo = alts[0], -1.0
    for alt, a in zip(ind.alts, alts, strict=True):
        idx = lets.get(f"__b.{ind.id}.{alt.id}")
        lo = alt.bands[idx].lo if idx is not None and alt.bands else -1.0
        if lo > best_lo:
            best, best_lo = a, lo
    return best


def _next_band(alt: Any, v: Any, lets: dict, key: str, ind: Any, cs: Any, reference: Any) -> dict | None:
    """What value of the indicator would reach the next better band (None where not computable)."""
    if v is None or isinstance(v, (bool, str)):
        return None
    if alt.btype == "thresholds":
        idx = lets.get(f"__b.{key}")
        if idx is None:
            return None
        cur = alt.bands[idx]
        best = None
        for b in alt.bands:
            if b.hi <= cur.hi:
                continue
            if b.lower is not None and b.lower > v:
                cand = {"label": b.label, "value": b.lower, "inclusive": b.lower_inclusive, "points": b.lo if b.lo == b.hi else [b.lo, b.hi]}
                if best is None or b.lower < best["value"]:
                    best = cand
            elif b.upper is not None and b.upper < v:
                cand = {"label": b.label, "value": b.upper, "inclusive": b.upper_inclusive, "points": b.lo if b.lo == b.hi else [b.lo, b.hi]}
                if best is None or b.upper > best["value"]:
                    best = cand
        return best
    if alt.btype == "linear":
        if v < alt.spec["to"]:
            return {"label": "max", "value": alt.spec["to"], "inclusive": True, "points": ind.max_points}
        return None
    if alt.btype == "percentile":
        rank = lets.get(f"__rank.{key}")
        code = lets.get("__code")
        if rank is None or code is None or rank >= cs.quantiles:
            return None
        cuts = reference["groups"][cs.group_keys[code]]["cuts"].get(ind.id) or []
        if rank < len(cuts):
            return {"label": f"{rank + 1}/{cs.quantiles}", "value": cuts[rank], "inclusive": True, "points": None}
    return None


__all__ = ["ConditionResult", "Explanation", "IndicatorResult", "explain", "output_columns"]
