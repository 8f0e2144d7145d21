"""The scoring algorithm, written once against the two backends of :mod:`points_engine.backends`.

``run_plan(cs, B)`` describes every step of scoring a row with the operations of a backend ``B`` and
returns the named outputs (plain values with :class:`~points_engine.backends.PyBackend`, polars
expressions with :class:`~points_engine.backends.PlBackend`). It reads as the sequence of steps:

1. :func:`hard_conditions` and :func:`direct_routes` — the standard's boolean gates;
2. :func:`peer_group` — the row's stage × cluster (standards with peer groups only);
3. :func:`indicator` for each indicator — value, band and points range of every alternative
   (:func:`alternative`), the best of them (:func:`best_of`), the expert's points (:func:`expert_input`),
   the peer-group weight (:func:`peer_weight`);
4. :func:`categories_and_total` — category sums, caps, negative categories, clamp, floors;
5. :func:`score_test` — pass mark, requirements and grade: whether the score qualifies;
6. :func:`verdict_and_route` — conditions ∧ (score ∨ direct route) in three-valued logic;
7. :func:`reasons` — every reason, in a fixed order.

The order of the backend calls is part of the contract: both paths evaluate the same operations in the
same order, so they agree value for value.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import expr
from .backends import Shown, Text
from .compiled import Alt, Band, CompiledStandard, Component, Ind
from .errors import StandardError

VERDICTS = ("pass", "fail", "expert_dependent", "needs_review", "not_applicable")
ROUTES = ("", "direct", "score")

Piece = tuple[Any, Text, Text]  # (condition, zh, en): a reason that applies where the condition is true


@dataclass
class Plan:
    """What the steps share while the plan is built: the outputs so far, the reasons collected from
    bands, expert inputs and score tests (in plan order), and everything that marks an unknown fact."""

    cs: CompiledStandard
    B: Any
    reference: dict | None = None
    fact_cols: set[str] | None = None
    application: str = "new"
    out: dict[str, Any] = field(default_factory=dict)
    pieces: list[Piece] = field(default_factory=list)
    unknown_fact: list[Any] = field(default_factory=list)
    expert_bad: list[ExpertCheck] = field(default_factory=list)

    @property
    def conditions(self) -> list[Component]:
        """The hard conditions of this kind of application."""
        return self.cs.conditions_for(self.application)

    @property
    def routes(self) -> list[Component]:
        """The direct routes of this kind of application."""
        return self.cs.routes_for(self.application)

    def missing_fields(self, flds: list[str]) -> list[tuple[str, Any]]:
        """``(field, is_null(field))`` for each field."""
        B = self.B
        return [(f, B.is_null(B.field(f))) for f in flds]


class AltRange(NamedTuple):
    """One alternative of an indicator: the points range with unknowns counted as 0 / max (``lo``,
    ``hi``), its band label, whether an unknown fact leaves it open, the raw band range and the value."""

    lo: Any
    hi: Any
    label: Any
    unknown: Any
    blo: Any
    bhi: Any
    value: Any


class IndicatorOut(NamedTuple):
    """An indicator's final (weighted) points range and open-ness, as single.py and batch.py read it."""

    ind: Ind
    lo: Any
    hi: Any
    unknown: Any
    expert_open: Any


class ExpertCheck(NamedTuple):
    """An expert input's validity test and the band it must lie in."""

    ind: Ind
    bad: Any
    lo: Any
    hi: Any


def run_plan(
    cs: CompiledStandard,
    B: Any,
    *,
    reference: dict | None = None,
    fact_cols: set[str] | None = None,
    application: str = "new",
) -> dict[str, Any]:
    """Evaluate a standard with backend B for a new application or a renewal (conditions marked
    ``applies_to`` another mode are left out). Returns the named outputs (values or polars expressions)."""
    p = Plan(cs, B, reference, fact_cols, application)
    conds = hard_conditions(p)
    routes = direct_routes(p)
    code = peer_group(p)
    indicators = [indicator(p, ind, code) for ind in cs.indicators]
    tmin, tmax, floors = categories_and_total(p, indicators)
    score_ok = score_test(p, tmin, tmax, floors, indicators)
    undecided = verdict_and_route(p, conds, routes, score_ok)
    p.out["reasons"] = B.reasons(reasons(p, conds, routes, code, indicators, undecided))
    p.out["__expert_bad"] = list(p.expert_bad)
    p.out["__indicators"] = indicators
    return p.out


# ----------------------------------------------------------------------------------------------
# 1. conditions and direct routes
# ----------------------------------------------------------------------------------------------


def hard_conditions(p: Plan) -> list[Any]:
    """Each hard condition's three-valued result (``__c.<id>``)."""
    return [p.B.let(f"__c.{c.id}", p.B.expr(c.ast)) for c in p.conditions]


def direct_routes(p: Plan) -> list[Any]:
    """Each direct route's three-valued result (``__r.<id>``)."""
    return [p.B.let(f"__r.{r.id}", p.B.expr(r.ast)) for r in p.routes]


# ----------------------------------------------------------------------------------------------
# 2. peer group
# ----------------------------------------------------------------------------------------------


def group_code(cs: CompiledStandard, B: Any) -> tuple[Any, Any]:
    """The stage index and the peer-group code (stage * n_clusters + cluster) of a row."""
    stage = B.lit(len(cs.stage_ids) - 1)
    for idx, ast in reversed(cs.stage_rules):
        stage = B.if_(B.expr(ast), idx, stage)
    stage = B.let("__stage", stage)
    cf = B.field(cs.cluster_field)
    cluster = B.select([(B.cmp("==", cf, c), i) for i, c in enumerate(cs.clusters)], cs.default_cluster)
    code = B.let("__code", B.add(B.mul(stage, len(cs.clusters)), cluster))
    return stage, code


def peer_group(p: Plan) -> Any:
    """The row's peer-group code (None for a standard without peer groups); outputs stage and group."""
    if not p.cs.peer:
        return None
    B, cs = p.B, p.cs
    stage, code = group_code(cs, B)
    p.out["stage"] = B.gather(cs.stage_ids, stage)
    p.out["peer_group"] = B.gather(cs.group_keys, code)
    p.unknown_fact.append(B.is_null(code))
    return code


# ----------------------------------------------------------------------------------------------
# 3. indicators
# ----------------------------------------------------------------------------------------------


def indicator(p: Plan, ind: Ind, code: Any) -> IndicatorOut:
    """One indicator: its alternatives, the best of them, the expert's points and the peer weight.
    Outputs ``band.<id>``, ``points.<id>`` (None while a range) and ``max.<id>``."""
    B = p.B
    alt_ranges = [alternative(p, ind, alt, code) for alt in ind.alts]
    lo, hi, label, unknown, blo, bhi = best_of(p, ind, alt_ranges)
    lo, hi, unknown, expert_open = expert_input(p, ind, lo, hi, unknown, blo, bhi)
    lo, hi, mx = peer_weight(p, ind, lo, hi, code)
    lo = B.let(f"__lo.{ind.id}", lo)
    hi = B.let(f"__hi.{ind.id}", hi)
    unknown = B.let(f"__unknown.{ind.id}", unknown)
    expert_open = B.let(f"__xopen.{ind.id}", expert_open)
    p.out[f"band.{ind.id}"] = label
    p.out[f"points.{ind.id}"] = B.if_(B.cmp("==", lo, hi), lo, None)
    p.out[f"max.{ind.id}"] = mx
    p.unknown_fact.append(unknown)
    return IndicatorOut(ind, lo, hi, unknown, expert_open)


def alternative(p: Plan, ind: Ind, alt: Alt, code: Any) -> AltRange:
    """The points range of one way of scoring an indicator (its value banded by the alternative's
    banding; an unknown value leaves ``[0, max]`` open)."""
    B = p.B
    key = f"{ind.id}.{alt.id}"
    if alt.btype == "expert":
        lo, hi = alt.spec.get("min", 0), alt.spec.get("max", ind.max_points)
        label = B.gather(["expert"], 0)  # a one-entry look-up: the batch path chooses labels by position
        return AltRange(B.lit(lo), B.lit(hi), label, B.lit(False), B.lit(lo), B.lit(hi), None)
    v = B.let(f"__v.{key}", B.expr(alt.ast))
    if alt.btype in ("thresholds", "map", "flag"):
        plo, phi, label, review = banded_points(p, alt, key, v)
    elif alt.btype == "linear":
        plo, phi, label, review = linear_points(p, ind, alt, key, v)
    elif alt.btype == "percentile":
        plo, phi, label, review = percentile_points(p, ind, key, v, code)
    else:  # pragma: no cover - validated
        raise StandardError(f"unknown banding {alt.btype}")
    unknown = B.let(f"__unk.{key}", B.or_([B.is_null(plo), review]))
    same_range = phi is plo
    plo = B.let(f"__plo.{key}", plo)
    phi = plo if same_range else B.let(f"__phi.{key}", phi)
    return AltRange(
        B.let(f"__alo.{key}", B.coalesce(plo, 0)),
        B.let(f"__ahi.{key}", B.coalesce(phi, ind.max_points)),
        label,
        unknown,
        plo,
        phi,
        v,
    )


def band_test(B: Any, v: Any, band: Band, btype: str) -> Any:
    """Whether value ``v`` lies in ``band`` (bounds with the tolerance of expr.tolerance)."""
    if btype in ("map", "flag"):
        return B.cmp("==", v, band.equals)
    # boundaries are literals: the tolerant threshold is computed once, here, for both backends
    conds = []
    if band.lower is not None:
        t = expr.tolerance(band.lower)
        if band.lower_inclusive:
            conds.append(B.cmp(">=", v, band.lower - t))
        else:
            conds.append(B.cmp(">", v, band.lower + t))
    if band.upper is not None:
        t = expr.tolerance(band.upper)
        if band.upper_inclusive:
            conds.append(B.cmp("<=", v, band.upper + t))
        else:
            conds.append(B.cmp("<", v, band.upper - t))
    if not conds:
        return B.not_(B.is_null(v))
    return conds[0] if len(conds) == 1 else B.and_(conds)


_band_cond = band_test  # the old name


def banded_points(p: Plan, alt: Alt, key: str, v: Any) -> tuple[Any, Any, Any, Any]:
    """Thresholds, map and flag bandings: the first band the value falls in (``__b.<key>``), its
    points range, label and whether it is a review band (which adds its review reason)."""
    B = p.B
    tests = [band_test(B, v, band, alt.btype) for band in alt.bands]
    idx = B.let(f"__b.{key}", B.select([(c, i) for i, c in enumerate(tests)], None))
    label = B.gather([b.label for b in alt.bands], idx)
    plo = B.gather([b.lo for b in alt.bands], idx)
    has_range = any(b.lo != b.hi for b in alt.bands)
    phi = B.gather([b.hi for b in alt.bands], idx) if has_range else plo
    if any(b.review for b in alt.bands):
        review = B.gather([b.review is not None for b in alt.bands], idx)
    else:
        review = B.lit(False)
    for i, b in enumerate(alt.bands):
        if b.review:
            p.pieces.append((B.cmp("==", idx, i), b.review["zh"], b.review["en"]))
    return plo, phi, label, review


def linear_points(p: Plan, ind: Ind, alt: Alt, key: str, v: Any) -> tuple[Any, Any, Any, Any]:
    """Linear banding: ``max_points × clip((v − from) / (to − from), 0, 1)``."""
    B = p.B
    lo_, hi_ = alt.spec["from"], alt.spec["to"]
    span = float(hi_) - float(lo_)
    t = B.div(B.sub(v, float(lo_)), span)
    t = B.min2(B.max2(t, 0.0), 1.0)
    plo = phi = B.let(f"__p.{key}", B.mul(t, float(ind.max_points)))
    label = B.gather(["linear"], B.if_(B.is_null(v), None, 0))  # a look-up (see alternative)
    return plo, phi, label, B.lit(False)


def percentile_points(p: Plan, ind: Ind, key: str, v: Any, code: Any) -> tuple[Any, Any, Any, Any]:
    """Percentile banding: ``max_points × rank / Q``, the rank of v among its peer group's cuts in
    the frozen reference (``__rank.<key>``)."""
    B, cs = p.B, p.cs
    if p.reference is None or not cs.peer:
        raise StandardError("百分位指标需要参照分布 / a percentile indicator needs a reference distribution")
    union, table = percentile_table(cs, p.reference, ind.id)
    j = B.search_right(union, v)
    # to_int: a table without any cuts (indicator unknown for everyone) is all None
    looked_up = B.to_int(B.gather(table, B.add(B.mul(code, len(union) + 1), j)))
    rank = B.let(f"__rank.{key}", B.if_(B.is_null(v), None, looked_up))
    plo = phi = B.div(B.mul(rank, float(ind.max_points)), float(cs.quantiles))
    label = B.gather([f"{r}/{cs.quantiles}" for r in range(cs.quantiles + 1)], rank)
    return plo, phi, label, B.lit(False)


def best_of(p: Plan, ind: Ind, alt_ranges: list[AltRange]) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Combine the alternatives: the maximum of their minima and of their maxima; the reported band is
    that of the alternative giving the most certain points. Returns lo, hi, label, unknown, blo, bhi."""
    B = p.B
    if len(alt_ranges) == 1:
        r = alt_ranges[0]
        return r.lo, r.hi, r.label, r.unknown, r.blo, r.bhi
    lo = alt_ranges[0].lo
    hi = alt_ranges[0].hi
    for j, r in enumerate(alt_ranges[1:]):
        lo = B.let(f"__blo{j}.{ind.id}", B.max2(lo, r.lo))
        hi = B.let(f"__bhi{j}.{ind.id}", B.max2(hi, r.hi))
    unknown = B.and_([B.cmp("!=", lo, hi), B.or_([r.unknown for r in alt_ranges])])
    label = B.select([(B.cmp("==", r.lo, lo), r.label) for r in alt_ranges], None)
    return lo, hi, label, unknown, lo, hi


def expert_input(p: Plan, ind: Ind, lo: Any, hi: Any, unknown: Any, blo: Any, bhi: Any) -> tuple[Any, Any, Any, Any]:
    """An expert's points for an indicator that takes them: valid inside the computed band (and among
    the allowed values) replace the range; outside it marks the row (reason + ExpertCheck).
    Returns lo, hi, unknown and whether the points still wait for the expert."""
    B = p.B
    if not ind.expert_field:
        return lo, hi, unknown, B.lit(False)
    fact_cols = p.fact_cols
    x = B.field(ind.expert_field) if (fact_cols is None or ind.expert_field in fact_cols) else B.lit(None)
    given = B.not_(B.is_null(x))
    pure = ind.alts[0].btype == "expert"
    alo = blo if pure else B.coalesce(blo, 0)
    ahi = bhi if pure else B.coalesce(bhi, ind.max_points)
    bad_parts = [B.cmp("<", x, alo), B.cmp(">", x, ahi)]
    allowed = ind.alts[0].spec.get("allowed")
    if allowed:
        bad_parts.append(B.and_([B.cmp("!=", x, a) for a in allowed]))
    bad = B.let(f"__xbad.{ind.id}", B.and_([given, B.or_(bad_parts)]))
    ok = B.and_([given, B.not_(bad)])
    lo = B.if_(ok, x, lo)
    hi = B.if_(ok, x, hi)
    expert_open = B.and_([B.not_(ok), B.cmp("!=", lo, hi)])
    unknown = B.and_([B.not_(ok), unknown])
    p.expert_bad.append(ExpertCheck(ind, bad, alo, ahi))
    p.pieces.append(
        (bad, f"专家评分 {ind.expert_field} 超出计算档位", f"expert input {ind.expert_field} is outside its computed band")
    )
    return lo, hi, unknown, expert_open


def peer_weight(p: Plan, ind: Ind, lo: Any, hi: Any, code: Any) -> tuple[Any, Any, Any]:
    """Scale a core indicator's points by its peer group's effective weight (peer-group standards);
    returns lo, hi and the indicator's maximum."""
    cs, B = p.cs, p.B
    if cs.peer is None or ind.id not in cs.weight_factor:
        return lo, hi, ind.max_points
    f = B.gather(cs.weight_factor[ind.id], code)
    return B.mul(lo, f), B.mul(hi, f), B.gather(cs.weight_max[ind.id], code)


# ----------------------------------------------------------------------------------------------
# 4.-5. categories, total and the score test
# ----------------------------------------------------------------------------------------------


def categories_and_total(p: Plan, indicators: list[IndicatorOut]) -> tuple[Any, Any, list[Any]]:
    """Category sums (capped; ``category.<id>`` outputs), the total range (negative categories subtract,
    then the clamp) as ``score_min``/``score_max``, and each category floor's three-valued test.
    A conditions-only standard has no score: both ends are None."""
    B, cs = p.B, p.cs
    if not cs.has_score:
        p.out["score_min"] = p.out["score_max"] = B.lit(None)
        return None, None, []
    tmin: Any = B.lit(0)
    tmax: Any = B.lit(0)
    floors = []
    for cat in cs.categories:
        members = [(i.lo, i.hi) for i in indicators if i.ind.category == cat["id"]]
        if not members:
            continue
        smin, smax = members[0]
        for lo, hi in members[1:]:
            smin, smax = B.add(smin, lo), B.add(smax, hi)
        if cat.get("cap") is not None:
            smin, smax = B.min2(smin, cat["cap"]), B.min2(smax, cat["cap"])
        smin = B.let(f"__cmin.{cat['id']}", smin)
        smax = B.let(f"__cmax.{cat['id']}", smax)
        p.out[f"category.{cat['id']}"] = B.if_(B.cmp("==", smin, smax), smin, None)
        if cat.get("kind", "core") == "negative":
            tmin, tmax = B.sub(tmin, smax), B.sub(tmax, smin)
        else:
            tmin, tmax = B.add(tmin, smin), B.add(tmax, smax)
        if cat.get("floor") is not None:
            fl = cat["floor"]
            ok = B.if_(B.cmp(">=", smin, fl), True, B.if_(B.cmp("<", smax, fl), False, None))
            floors.append(ok)
            p.pieces.append(
                (B.cmp("==", ok, False), f"{cat['name_zh']}得分低于{fl}分", f"{cat['name_en']} score below {fl}")
            )
    if cs.clamp is not None:
        lo_c, hi_c = cs.clamp
        tmin = B.min2(B.max2(tmin, lo_c), hi_c)
        tmax = B.min2(B.max2(tmax, lo_c), hi_c)
    tmin = B.let("__tmin", tmin)
    tmax = B.let("__tmax", tmax)
    p.out["score_min"], p.out["score_max"] = tmin, tmax
    return tmin, tmax, floors


def score_test(p: Plan, tmin: Any, tmax: Any, floors: list[Any], indicators: list[IndicatorOut]) -> Any:
    """Whether the score qualifies (``__score_ok``, three-valued): the floors, the pass mark, the
    requirements on single indicators and, for graded standards, a determined grade (``grade`` output)."""
    B, cs = p.B, p.cs
    score_parts = list(floors)
    if cs.pass_mark is not None:
        pm = cs.pass_mark
        if cs.pass_inclusive:
            ok = B.if_(B.cmp(">=", tmin, pm), True, B.if_(B.cmp("<", tmax, pm), False, None))
            zh, en = f"总分低于{pm}分", f"total score below {pm}"
        else:
            ok = B.if_(B.cmp(">", tmin, pm), True, B.if_(B.cmp("<=", tmax, pm), False, None))
            zh, en = f"总分未超过{pm}分", f"total score not above {pm}"
        score_parts.append(ok)
        p.pieces.append((B.cmp("==", ok, False), zh, en))
    for rq in cs.requirements:
        lo, hi = next((i.lo, i.hi) for i in indicators if i.ind.id == rq["indicator"])
        v = rq["min_exclusive"]
        ok = B.if_(B.cmp(">", lo, v), True, B.if_(B.cmp("<=", hi, v), False, None))
        score_parts.append(ok)
        p.pieces.append((B.cmp("==", ok, False), rq["name_zh"], rq["name_en"]))
    if cs.grades:
        score_parts.append(grade(p, tmin, tmax))
    return B.let("__score_ok", B.and_(score_parts))


def grade(p: Plan, tmin: Any, tmax: Any) -> Any:
    """The grade (``grade`` output) when both ends of the range fall in the same grade; returns the
    test "the grade is determined" (True or None)."""
    B, cs = p.B, p.cs
    grades = cs.grades or []
    labels = [g["grade"] for g in grades]
    if len(set(labels)) == len(labels):
        # grade positions (integers) instead of label strings: the same test, far cheaper in polars
        gmin = B.select([(B.cmp(">=", tmin, g["min"]), i) for i, g in enumerate(grades)], None)
        gmax = B.select([(B.cmp(">=", tmax, g["min"]), i) for i, g in enumerate(grades)], None)
        graded = B.cmp("==", gmin, gmax)
        p.out["grade"] = B.gather(labels, B.if_(graded, gmin, None))
    else:
        gmin = B.select([(B.cmp(">=", tmin, g["min"]), g["grade"]) for g in grades], None)
        gmax = B.select([(B.cmp(">=", tmax, g["min"]), g["grade"]) for g in grades], None)
        graded = B.cmp("==", gmin, gmax)
        p.out["grade"] = B.if_(graded, gmin, None)
    return B.if_(graded, True, None)


# ----------------------------------------------------------------------------------------------
# 6. verdict and route
# ----------------------------------------------------------------------------------------------


def verdict_and_route(p: Plan, conds: list[Any], routes: list[Any], score_ok: Any) -> Any:
    """``qualifies = all(conditions) ∧ (score_ok ∨ any(direct routes))`` (``__q``) and the verdict:
    a bad expert input → needs_review; a failed condition → fail (or not_applicable); qualifies → pass;
    cannot qualify → fail; an unknown fact involved → needs_review; else expert_dependent. The route
    is direct / score for a pass (direct / empty for a conditions-only standard). Returns "the
    decision is open" (qualifies unknown)."""
    B, cs = p.B, p.cs
    cond_all = B.and_(conds)
    direct = B.or_(routes)
    qualifies = B.let("__q", B.and_([cond_all, B.or_([score_ok, direct])]))
    any_bad = B.or_([c.bad for c in p.expert_bad]) if p.expert_bad else B.lit(False)
    any_unknown = B.or_([B.is_null(c) for c in conds] + [B.is_null(r) for r in routes] + p.unknown_fact)
    fail_word = "not_applicable" if cs.on_condition_fail == "not_applicable" else "fail"
    p.out["verdict"] = B.select(
        [
            (any_bad, "needs_review"),
            (B.cmp("==", cond_all, False), fail_word),
            (B.cmp("==", qualifies, True), "pass"),
            (B.cmp("==", qualifies, False), "fail"),
            (any_unknown, "needs_review"),
        ],
        "expert_dependent",
        vocabulary=VERDICTS,
    )
    passed = B.cmp("==", qualifies, True)
    by_rule = [(passed, "score")] if cs.has_score else []
    p.out["route"] = B.select(
        [(B.and_([passed, B.cmp("==", direct, True)]), "direct"), *by_rule], "", vocabulary=ROUTES
    )
    return B.is_null(qualifies)


# ----------------------------------------------------------------------------------------------
# 7. reasons
# ----------------------------------------------------------------------------------------------


def reasons(
    p: Plan, conds: list[Any], routes: list[Any], code: Any, indicators: list[IndicatorOut], undecided: Any
) -> list[Piece]:
    """Every reason in a fixed order: failed conditions; unknown facts of conditions and of the stage;
    direct routes that hold; unknown facts of routes and indicators and pending expert points (only
    while the decision is open); then the band, expert and score reasons collected on the way."""
    B, cs = p.B, p.cs
    out: list[Piece] = []
    for c, cv in zip(p.conditions, conds, strict=True):
        zh, en = failed_condition_text(p, c)
        out.append((B.cmp("==", cv, False), zh, en))
    for c, cv in zip(p.conditions, conds, strict=True):
        out.extend(unknown_pieces(p, cv, c.fields, c.name_zh, c.name_en))
    if cs.peer:
        out.extend(unknown_pieces(p, code, cs.stage_fields, "企业阶段", "enterprise stage"))
    for r, rv in zip(p.routes, routes, strict=True):
        out.append((B.cmp("==", rv, True), f"直接认定：{r.name_zh}", f"direct confirmation: {r.name_en}"))
    for r, rv in zip(p.routes, routes, strict=True):
        out.extend((B.and_([undecided, c]), zh, en) for c, zh, en in unknown_pieces(p, rv, r.fields, r.name_zh, r.name_en))
    for i in indicators:
        ind = i.ind
        flds = list(dict.fromkeys(f for a in ind.alts for f in a.fields))
        for c, zh, en in unknown_pieces(p, None, flds, ind.name_zh, ind.name_en, gate=i.unknown):
            out.append((B.and_([undecided, c]), zh, en))
        out.append(
            (B.and_([undecided, i.expert_open]), f"{ind.name_zh}：待专家评分", f"{ind.name_en}: expert points pending")
        )
    out.extend(p.pieces)
    return out


def failed_condition_text(p: Plan, c: Component) -> tuple[Text, Text]:
    """"不满足条件：<name>" / "condition not met: <name>", the name stating the measure and the bar;
    with the row's values (``show``) appended: "（实际：营业收入（上年度） 1200.00万元）"."""
    zh: Text = f"不满足条件：{c.name_zh}"
    en: Text = f"condition not met: {c.name_en}"
    if not c.show:
        return zh, en
    zh_parts: list[Any] = [zh, "（实际："]
    en_parts: list[Any] = [en, " (actual: "]
    for k, s in enumerate(c.show):
        v = p.B.expr(s.ast)
        if k:
            zh_parts.append("；")
            en_parts.append("; ")
        if s.label_zh:
            zh_parts.append(f"{s.label_zh} ")
        if s.label_en:
            en_parts.append(f"{s.label_en} ")
        zh_parts.append(Shown(v, s.fmt, 0, s.rounding))
        en_parts.append(Shown(v, s.fmt, 1, s.rounding))
    zh_parts.append("）")
    en_parts.append(")")
    return tuple(zh_parts), tuple(en_parts)


def unknown_pieces(
    p: Plan, value: Any, flds: list[str], name_zh: str, name_en: str, gate: Any = None
) -> list[Piece]:
    """Reasons naming each unknown field of a component whose value is unknown (or, with no field
    unknown, saying it is undefined)."""
    B = p.B
    is_unknown = B.is_null(value) if gate is None else gate
    miss = p.missing_fields(flds)
    pieces: list[Piece] = [
        (B.and_([is_unknown, m]), f"需复核：{name_zh}缺少数据 {f}", f"needs review: {name_en} needs {f}")
        for f, m in miss
    ]
    none_missing = B.and_([B.not_(m) for _, m in miss]) if miss else B.lit(True)
    pieces.append(
        (
            B.and_([is_unknown, none_missing]),
            f"需复核：{name_zh}无法计算（分母为零或数据不足）",
            f"needs review: {name_en} is undefined (zero base or insufficient data)",
        )
    )
    return pieces


# ----------------------------------------------------------------------------------------------
# percentile look-up tables
# ----------------------------------------------------------------------------------------------

_TABLE_CACHE: dict[tuple[int, str, str], tuple[dict, tuple[list[float], list[int | None]]]] = {}


def percentile_table(cs: CompiledStandard, reference: dict, ind_id: str) -> tuple[list[float], list[int | None]]:
    """Cached :func:`build_percentile_table` (a reference is treated as immutable once used)."""
    key = (id(reference), cs.id, ind_id)
    hit = _TABLE_CACHE.get(key)
    if hit is not None and hit[0] is reference:
        return hit[1]
    if len(_TABLE_CACHE) > 256:
        _TABLE_CACHE.clear()
    table = build_percentile_table(cs, reference, ind_id)
    _TABLE_CACHE[key] = (reference, table)
    return table


def build_percentile_table(cs: CompiledStandard, reference: dict, ind_id: str) -> tuple[list[float], list[int | None]]:
    """Lookup structures for the peer-group rank ``#{cuts of the row's group <= v}``.

    ``union`` is the sorted set of every group's cuts; with ``j = #{u in union : u <= v}``,
    ``table[code * (len(union) + 1) + j]`` is the rank of v in group ``code`` (None: group without
    data). Both paths use it, and it equals counting the cuts directly.
    """
    per_group: list[list[float] | None] = []
    for key in cs.group_keys:
        g = reference["groups"].get(key)
        if g is None:
            raise StandardError(f"参照分布缺少同类组 {key} / reference distribution lacks peer group {key}")
        cuts = g["cuts"].get(ind_id)
        if cuts is not None and len(cuts) != cs.quantiles:
            raise StandardError(f"参照分布 {key}/{ind_id} 的分位点个数不对 / wrong number of cuts in {key}/{ind_id}")
        per_group.append(None if not cuts else [float(c) for c in cuts])
    union = sorted({c for cuts in per_group if cuts for c in cuts})
    table: list[int | None] = []
    for cuts in per_group:
        for j in range(len(union) + 1):
            if cuts is None:
                table.append(None)
            else:
                table.append(bisect.bisect_right(cuts, union[j - 1]) if j > 0 else 0)
    return union, table


__all__ = ["VERDICTS", "Component", "Plan", "build_percentile_table", "group_code", "percentile_table", "run_plan"]
