"""The scoring algorithm, written once against two interchangeable backends.

``run_plan(cs, B)`` describes every step of scoring a row with the operations of a backend ``B``:

* :class:`PyBackend` evaluates them on one Python dict (the single-record path, ``explain``);
* :class:`PlBackend` builds polars expressions over all rows (the batch path, ``score_batch``).

Both backends implement each operation with the same IEEE float64 arithmetic in the same order and the
same three-valued null logic, so the paths agree exactly, including at band boundaries; the tests
check them against each other.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import expr
from .errors import StandardError
from .facts import DEFAULTS

VERDICTS = ("pass", "fail", "expert_dependent", "needs_review", "not_applicable")


# ----------------------------------------------------------------------------------------------
# compiled standard
# ----------------------------------------------------------------------------------------------


@dataclass
class Band:
    label: str
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    lo: float
    hi: float
    equals: Any = None
    review: dict | None = None


@dataclass
class Alt:
    id: str
    ast: tuple | None
    fields: list[str]
    btype: str
    bands: list[Band]
    spec: dict


@dataclass
class Ind:
    id: str
    name_zh: str
    name_en: str
    category: str
    max_points: float
    alts: list[Alt]
    expert_field: str | None
    higher_is_better: bool


@dataclass
class Component:
    id: str
    name_zh: str
    name_en: str
    ast: tuple
    fields: list[str]


class CompiledStandard:
    """A standard's data turned into the structures run_plan walks (built once, cached)."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d
        self.id = d["id"]
        self.version = str(d["version"])
        self.conditions = [self._component(c) for c in d.get("conditions", [])]
        self.routes = [self._component(c) for c in d.get("direct_routes", [])]
        self.categories = d["categories"]
        self.cat_by_id = {c["id"]: c for c in self.categories}
        self.indicators = [self._indicator(i) for i in d["indicators"]]
        score = d.get("score", {})
        self.pass_mark = score.get("pass_mark")
        self.pass_inclusive = score.get("pass_inclusive", True)
        self.requirements = score.get("requirements", [])
        self.clamp = score.get("clamp")
        self.grades = d.get("grades")
        self.on_condition_fail = d.get("on_condition_fail", "fail")
        self.peer = d.get("peer_groups")
        self.percentile_inds = [
            (ind, alt) for ind in self.indicators for alt in ind.alts if alt.btype == "percentile"
        ]
        if self.peer:
            self._compile_peer(self.peer)

    @staticmethod
    def _component(c: dict) -> Component:
        ast = expr.parse(c["expr"])
        return Component(c["id"], c["name_zh"], c["name_en"], ast, expr.reason_fields(ast))

    def _indicator(self, d: dict) -> Ind:
        alts_src = d["best_of"] if "best_of" in d else [{"id": "main", **d}]
        alts = []
        for a in alts_src:
            b = a["banding"]
            ast = expr.parse(a["value"]) if b["type"] != "expert" else None
            bands: list[Band] = []
            if b["type"] in ("thresholds", "map"):
                for band in b["bands"]:
                    pts = band["points"]
                    lo, hi = (pts, pts) if not isinstance(pts, list) else pts
                    bands.append(
                        Band(
                            band["label"],
                            band.get("lower"),
                            band.get("lower_inclusive", True),
                            band.get("upper"),
                            band.get("upper_inclusive", False),
                            lo,
                            hi,
                            band.get("equals"),
                            band.get("review"),
                        )
                    )
            elif b["type"] == "flag":
                bands = [
                    Band(b.get("true_label", "yes"), None, True, None, False, b["true_points"], b["true_points"], True),
                    Band(b.get("false_label", "no"), None, True, None, False, b["false_points"], b["false_points"], False),
                ]
            alts.append(Alt(a.get("id", "main"), ast, expr.reason_fields(ast) if ast else [], b["type"], bands, b))
        return Ind(
            d["id"],
            d["name_zh"],
            d["name_en"],
            d["category"],
            d["max_points"],
            alts,
            d.get("expert_field"),
            d.get("direction", "higher") == "higher",
        )

    def _compile_peer(self, p: dict) -> None:
        self.stage_ids = [s["id"] for s in p["stages"]]
        self.stage_rules = [(i, expr.parse(s["when"])) for i, s in enumerate(p["stages"][:-1])]
        self.stage_fields: list[str] = []
        for _, ast in self.stage_rules:
            for f in expr.reason_fields(ast):
                if f not in self.stage_fields:
                    self.stage_fields.append(f)
        self.clusters = list(p["clusters"])
        self.cluster_field = p.get("cluster_field", "industry_cluster")
        self.default_cluster = self.clusters.index(p.get("default_cluster", self.clusters[-1]))
        self.quantiles = int(p["quantiles"])
        self.min_peer_size = int(p.get("min_peer_size", 30))
        self.scale = p.get("scale", 1000)
        self.group_keys = [f"{s}|{c}" for s in self.stage_ids for c in self.clusters]
        # effective weight factor per (indicator, group code): points = raw * factor
        core_cats = {c["id"] for c in self.categories if c.get("kind", "core") == "core"}
        weighted = [i for i in self.indicators if i.category in core_cats]
        self.weight_factor: dict[str, list[float]] = {i.id: [] for i in weighted}
        self.weight_max: dict[str, list[float]] = {i.id: [] for i in weighted}
        mults = p.get("cluster_multipliers") or {}
        for s in self.stage_ids:
            ws = p["stage_weights"][s]
            for c in self.clusters:
                m = mults.get(c, {})
                raw = {i.id: ws.get(i.id, 0) * m.get(i.id, 1) for i in weighted}
                total = sum(raw.values())
                for i in weighted:
                    share = raw[i.id] / total
                    self.weight_max[i.id].append(self.scale * share)
                    self.weight_factor[i.id].append(self.scale * share / i.max_points)

    def group_code_of(self, stage: int, cluster: int) -> int:
        return stage * len(self.clusters) + cluster


# ----------------------------------------------------------------------------------------------
# backends
# ----------------------------------------------------------------------------------------------


class PyBackend:
    """Evaluates the plan on one prepared fact dict."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.lets: dict[str, Any] = {}

    _fns: dict[tuple, Any] = {}

    def expr(self, ast: tuple) -> Any:
        fn = self._fns.get(ast)
        if fn is None:
            fn = self._fns[ast] = expr.compile_py(ast)
        return fn(self.row)

    def field(self, name: str) -> Any:
        return self.row.get(name)

    def let(self, name: str, v: Any) -> Any:
        self.lets[name] = v
        return v

    @staticmethod
    def lit(v: Any) -> Any:
        return v

    @staticmethod
    def add(a: Any, b: Any) -> Any:
        return None if a is None or b is None else a + b

    @staticmethod
    def sub(a: Any, b: Any) -> Any:
        return None if a is None or b is None else a - b

    @staticmethod
    def mul(a: Any, b: Any) -> Any:
        return None if a is None or b is None else a * b

    @staticmethod
    def div(a: Any, b: Any) -> Any:
        return None if a is None or b is None else a / b

    @staticmethod
    def min2(a: Any, b: Any) -> Any:
        return None if a is None or b is None else (a if a <= b else b)

    @staticmethod
    def max2(a: Any, b: Any) -> Any:
        return None if a is None or b is None else (a if a >= b else b)

    @staticmethod
    def cmp(op: str, a: Any, b: Any) -> Any:
        return expr._py_cmp(op, a, b)

    @staticmethod
    def and_(xs: list) -> Any:
        out: Any = True
        for x in xs:
            out = expr.kleene_and(out, x)
        return out

    @staticmethod
    def or_(xs: list) -> Any:
        out: Any = False
        for x in xs:
            out = expr.kleene_or(out, x)
        return out

    @staticmethod
    def not_(a: Any) -> Any:
        return None if a is None else not a

    @staticmethod
    def is_null(a: Any) -> bool:
        return a is None

    @staticmethod
    def if_(c: Any, a: Any, b: Any) -> Any:
        return None if c is None else (a if c else b)

    @staticmethod
    def select(pairs: list[tuple[Any, Any]], default: Any = None) -> Any:
        for c, v in pairs:
            if c is True:
                return v
        return default

    @staticmethod
    def gather(values: list, idx: Any) -> Any:
        return None if idx is None else values[idx]

    @staticmethod
    def to_int(b: Any) -> Any:
        return None if b is None else int(b)

    @staticmethod
    def search_right(sorted_values: list[float], v: Any) -> Any:
        return None if v is None else bisect.bisect_right(sorted_values, v)

    @staticmethod
    def coalesce(a: Any, b: Any) -> Any:
        return b if a is None else a

    @staticmethod
    def reasons(pieces: list[tuple[Any, str, str]]) -> list[tuple[str, str]]:
        return [(zh, en) for c, zh, en in pieces if c is True]


def _lit(v: Any) -> pl.Expr:
    return v if isinstance(v, pl.Expr) else pl.lit(v)


class PlBackend:
    """Builds polars expressions; ``stages`` is a list of with_columns batches."""

    def __init__(self) -> None:
        self.stages: list[list[pl.Expr]] = []
        self.depth: dict[str, int] = {}  # let name -> stage index (1 + deepest let it reads)

    def expr(self, ast: tuple) -> pl.Expr:
        return expr.compile_pl(ast)

    def field(self, name: str) -> pl.Expr:
        return pl.col(name)

    #: cheap wrappers (coalesce of a column) that are cheaper inline than as a column
    INLINE = ("__alo.", "__ahi.")

    def let(self, name: str, v: Any) -> pl.Expr:
        e = _lit(v)
        roots = e.meta.root_names()
        if not roots or name.startswith(self.INLINE):
            return e  # constants and cheap wrappers stay inline
        depth = 1 + max((self.depth.get(r, -1) for r in roots), default=-1)
        while len(self.stages) <= depth:
            self.stages.append([])
        self.stages[depth].append(e.alias(name))
        self.depth[name] = depth
        return pl.col(name)

    @staticmethod
    def lit(v: Any) -> pl.Expr:
        return pl.lit(v)

    @staticmethod
    def add(a: Any, b: Any) -> pl.Expr:
        return _lit(a) + _lit(b)

    @staticmethod
    def sub(a: Any, b: Any) -> pl.Expr:
        return _lit(a) - _lit(b)

    @staticmethod
    def mul(a: Any, b: Any) -> pl.Expr:
        return _lit(a) * _lit(b)

    @staticmethod
    def div(a: Any, b: Any) -> pl.Expr:
        return _lit(a) / _lit(b)

    @staticmethod
    def min2(a: Any, b: Any) -> pl.Expr:
        a, b = _lit(a), _lit(b)
        return pl.when(a.is_null() | b.is_null()).then(None).when(a <= b).then(a).otherwise(b)

    @staticmethod
    def max2(a: Any, b: Any) -> pl.Expr:
        a, b = _lit(a), _lit(b)
        return pl.when(a.is_null() | b.is_null()).then(None).when(a >= b).then(a).otherwise(b)

    @staticmethod
    def cmp(op: str, a: Any, b: Any) -> pl.Expr:
        a, b = _lit(a), _lit(b)
        return {
            "<": a.__lt__,
            "<=": a.__le__,
            ">": a.__gt__,
            ">=": a.__ge__,
            "==": a.__eq__,
            "!=": a.__ne__,
        }[op](b)

    @staticmethod
    def and_(xs: list) -> pl.Expr:
        out = pl.lit(True)
        for x in xs:
            out = out & _lit(x)
        return out

    @staticmethod
    def or_(xs: list) -> pl.Expr:
        out = pl.lit(False)
        for x in xs:
            out = out | _lit(x)
        return out

    @staticmethod
    def not_(a: Any) -> pl.Expr:
        return ~_lit(a)

    @staticmethod
    def is_null(a: Any) -> pl.Expr:
        return _lit(a).is_null()

    @staticmethod
    def if_(c: Any, a: Any, b: Any) -> pl.Expr:
        c = _lit(c)
        return pl.when(c.is_null()).then(None).when(c).then(_lit(a)).otherwise(_lit(b))

    @staticmethod
    def select(pairs: list[tuple[Any, Any]], default: Any = None) -> pl.Expr:
        if not pairs:
            return _lit(default)
        chain: Any = pl
        for c, v in pairs:
            chain = chain.when(_lit(c)).then(_lit(v))
        return chain.otherwise(_lit(default))

    @staticmethod
    def gather(values: list, idx: Any) -> pl.Expr:
        return pl.lit(pl.Series(values, strict=False)).gather(_lit(idx))

    @staticmethod
    def to_int(b: Any) -> pl.Expr:
        return _lit(b).cast(pl.Int64)

    @staticmethod
    def search_right(sorted_values: list[float], v: Any) -> pl.Expr:
        v = _lit(v).cast(pl.Float64)
        found = pl.lit(pl.Series(sorted_values, dtype=pl.Float64)).search_sorted(v, side="right")
        return pl.when(v.is_null()).then(None).otherwise(found.cast(pl.Int64))

    @staticmethod
    def coalesce(a: Any, b: Any) -> pl.Expr:
        return pl.coalesce(_lit(a), _lit(b))

    def reasons(self, pieces: list[tuple[Any, str, str]]) -> ReasonMasks:
        """Reasons are packed into Int64 bit masks (62 reasons per mask); decode_reasons turns the
        few distinct masks into text after the pass, far cheaper than building strings per row."""
        masks = []
        for start in range(0, len(pieces), 62):
            chunk = pieces[start : start + 62]
            bits = [
                pl.when(_lit(c)).then(pl.lit(1 << k, dtype=pl.Int64)).otherwise(pl.lit(0, dtype=pl.Int64))
                for k, (c, _zh, _en) in enumerate(chunk)
            ]
            # the bits are distinct, so OR-ing them is their sum (and cheaper than sum_horizontal)
            mask = bits[0]
            for b in bits[1:]:
                mask = mask | b
            masks.append(mask)
        return ReasonMasks(masks, [f"{zh} / {en}" for _c, zh, en in pieces])


@dataclass
class ReasonMasks:
    masks: list[pl.Expr]
    texts: list[str]


def decode_reasons(df: pl.DataFrame, rm: ReasonMasks, mask_cols: list[str], name: str = "reasons") -> pl.DataFrame:
    """Replace the mask columns of ``df`` by the reason text (same format as join_reasons).

    Only the few distinct mask combinations are turned into text; the column is a polars Enum of
    those texts (cheap for millions of rows; it reads and writes as plain strings)."""
    keep = [c for c in df.columns if c not in mask_cols]
    if not mask_cols:
        return df.select(keep).with_columns(pl.lit("").alias(name))
    if len(mask_cols) == 1:
        key = pl.col(mask_cols[0])
    else:
        key = pl.struct(mask_cols).hash(7)
    keyed = df.with_columns(key.alias("__rkey"))
    distinct = keyed.select(["__rkey", *mask_cols]).unique()
    if distinct["__rkey"].n_unique() != distinct.height:  # a hash collision: fall back to a join
        texts = [_mask_text(rm, row) for row in distinct.select(mask_cols).iter_rows()]
        lookup = distinct.select(mask_cols).with_columns(pl.Series(name, texts, dtype=pl.String))
        return df.join(lookup, on=mask_cols, how="left", maintain_order="left").select([*keep, name])
    mapping = {row[0]: _mask_text(rm, row[1:]) for row in distinct.iter_rows()}
    enum = pl.Enum(sorted(set(mapping.values())))
    text = pl.col("__rkey").replace_strict(mapping, return_dtype=enum)
    return keyed.select([*keep, text.alias(name)])


def _mask_text(rm: ReasonMasks, masks: tuple) -> str:
    parts = []
    for chunk, m in enumerate(masks):
        for k in range(62):
            if m >> k & 1:
                parts.append(rm.texts[chunk * 62 + k])
    return "; ".join(parts)


def join_reasons(reasons: list[tuple[str, str]]) -> str:
    """The batch ``reasons`` column format of a reasons list."""
    return "; ".join(f"{zh} / {en}" for zh, en in reasons)


# ----------------------------------------------------------------------------------------------
# the plan
# ----------------------------------------------------------------------------------------------


def _band_cond(B: Any, v: Any, band: Band, btype: str) -> Any:
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


def run_plan(
    cs: CompiledStandard, B: Any, *, reference: dict | None = None, fact_cols: set[str] | None = None
) -> dict[str, Any]:
    """Evaluate a standard with backend B. Returns the named outputs (values or polars expressions)."""
    out: dict[str, Any] = {}
    pieces: list[tuple[Any, str, str]] = []  # (condition, zh, en), in a fixed order
    unknown_fact: list[Any] = []  # anything here being true means an unknown fact is involved

    def missing_fields(flds: list[str]) -> list[tuple[str, Any]]:
        return [(f, B.is_null(B.field(f))) for f in flds]

    # 1. hard conditions and direct routes --------------------------------------------------------
    conds = [B.let(f"__c.{c.id}", B.expr(c.ast)) for c in cs.conditions]
    routes = [B.let(f"__r.{r.id}", B.expr(r.ast)) for r in cs.routes]

    # 2. peer group (stage x cluster) ------------------------------------------------------------
    code = None
    if cs.peer:
        stage, code = group_code(cs, B)
        out["stage"] = B.gather(cs.stage_ids, stage)
        out["peer_group"] = B.gather(cs.group_keys, code)
        unknown_fact.append(B.is_null(code))

    # 3. indicators ----------------------------------------------------------------------------
    ind_out = []
    expert_bad_all = []
    for ind in cs.indicators:
        alt_ranges = []
        for alt in ind.alts:
            key = f"{ind.id}.{alt.id}"
            if alt.btype == "expert":
                lo, hi = alt.spec.get("min", 0), alt.spec.get("max", ind.max_points)
                alt_ranges.append((B.lit(lo), B.lit(hi), B.lit("expert"), B.lit(False), B.lit(lo), B.lit(hi), None))
                continue
            v = B.let(f"__v.{key}", B.expr(alt.ast))
            if alt.btype in ("thresholds", "map", "flag"):
                pairs = [_band_cond(B, v, band, alt.btype) for band in alt.bands]
                idx = B.let(f"__b.{key}", B.select([(c, i) for i, c in enumerate(pairs)], None))
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
                        pieces.append((B.cmp("==", idx, i), b.review["zh"], b.review["en"]))
            elif alt.btype == "linear":
                lo_, hi_ = alt.spec["from"], alt.spec["to"]
                span = float(hi_) - float(lo_)
                t = B.div(B.sub(v, float(lo_)), span)
                t = B.min2(B.max2(t, 0.0), 1.0)
                plo = phi = B.let(f"__p.{key}", B.mul(t, float(ind.max_points)))
                label = B.if_(B.is_null(v), None, "linear")
                review = B.lit(False)
            elif alt.btype == "percentile":
                if reference is None or not cs.peer:
                    raise StandardError("百分位指标需要参照分布 / a percentile indicator needs a reference distribution")
                union, table = percentile_table(cs, reference, ind.id)
                j = B.search_right(union, v)
                # to_int: a table without any cuts (indicator unknown for everyone) is all None
                rank = B.let(f"__rank.{key}", B.to_int(B.gather(table, B.add(B.mul(code, len(union) + 1), j))))
                plo = phi = B.div(B.mul(rank, float(ind.max_points)), float(cs.quantiles))
                label = B.gather([f"{r}/{cs.quantiles}" for r in range(cs.quantiles + 1)], rank)
                review = B.lit(False)
            else:  # pragma: no cover - validated
                raise StandardError(f"unknown banding {alt.btype}")
            unknown = B.let(f"__unk.{key}", B.or_([B.is_null(plo), review]))
            same_range = phi is plo
            plo = B.let(f"__plo.{key}", plo)
            phi = plo if same_range else B.let(f"__phi.{key}", phi)
            alt_ranges.append(
                (
                    B.let(f"__alo.{key}", B.coalesce(plo, 0)),
                    B.let(f"__ahi.{key}", B.coalesce(phi, ind.max_points)),
                    label,
                    unknown,
                    plo,
                    phi,
                    v,
                )
            )

        # combine alternatives (best of)
        if len(alt_ranges) == 1:
            lo, hi, label, unknown, blo, bhi, _ = alt_ranges[0]
        else:
            lo = alt_ranges[0][0]
            hi = alt_ranges[0][1]
            for j, r in enumerate(alt_ranges[1:]):
                lo = B.let(f"__blo{j}.{ind.id}", B.max2(lo, r[0]))
                hi = B.let(f"__bhi{j}.{ind.id}", B.max2(hi, r[1]))
            unknown = B.and_([B.cmp("!=", lo, hi), B.or_([r[3] for r in alt_ranges])])
            # the reported band is that of the alternative giving the most certain points
            label = B.select([(B.cmp("==", r[0], lo), r[2]) for r in alt_ranges], None)
            blo, bhi = lo, hi

        expert_open = B.lit(False)
        if ind.expert_field:
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
            expert_bad_all.append((ind, bad, alo, ahi))
            pieces.append((bad, f"专家评分 {ind.expert_field} 超出计算档位", f"expert input {ind.expert_field} is outside its computed band"))

        weighted = cs.peer is not None and ind.id in cs.weight_factor
        mx: Any = ind.max_points
        if weighted:
            f = B.gather(cs.weight_factor[ind.id], code)
            lo, hi = B.mul(lo, f), B.mul(hi, f)
            mx = B.gather(cs.weight_max[ind.id], code)
        lo = B.let(f"__lo.{ind.id}", lo)
        hi = B.let(f"__hi.{ind.id}", hi)
        unknown = B.let(f"__unknown.{ind.id}", unknown)
        expert_open = B.let(f"__xopen.{ind.id}", expert_open)
        out[f"band.{ind.id}"] = label
        out[f"points.{ind.id}"] = B.if_(B.cmp("==", lo, hi), lo, None)
        out[f"max.{ind.id}"] = mx
        unknown_fact.append(unknown)
        ind_out.append((ind, lo, hi, unknown, expert_open))

    # 4. categories and total -------------------------------------------------------------------
    tmin: Any = B.lit(0)
    tmax: Any = B.lit(0)
    floors = []
    for cat in cs.categories:
        members = [(lo, hi) for ind, lo, hi, _, _ in ind_out if ind.category == cat["id"]]
        if not members:
            continue
        smin, smax = members[0]
        for lo, hi in members[1:]:
            smin, smax = B.add(smin, lo), B.add(smax, hi)
        if cat.get("cap") is not None:
            smin, smax = B.min2(smin, cat["cap"]), B.min2(smax, cat["cap"])
        smin = B.let(f"__cmin.{cat['id']}", smin)
        smax = B.let(f"__cmax.{cat['id']}", smax)
        out[f"category.{cat['id']}"] = B.if_(B.cmp("==", smin, smax), smin, None)
        if cat.get("kind", "core") == "negative":
            tmin, tmax = B.sub(tmin, smax), B.sub(tmax, smin)
        else:
            tmin, tmax = B.add(tmin, smin), B.add(tmax, smax)
        if cat.get("floor") is not None:
            fl = cat["floor"]
            ok = B.if_(B.cmp(">=", smin, fl), True, B.if_(B.cmp("<", smax, fl), False, None))
            floors.append(ok)
            pieces.append(
                (B.cmp("==", ok, False), f"{cat['name_zh']}得分低于{fl}分", f"{cat['name_en']} score below {fl}")
            )
    if cs.clamp is not None:
        lo_c, hi_c = cs.clamp
        tmin = B.min2(B.max2(tmin, lo_c), hi_c)
        tmax = B.min2(B.max2(tmax, lo_c), hi_c)
    tmin = B.let("__tmin", tmin)
    tmax = B.let("__tmax", tmax)
    out["score_min"], out["score_max"] = tmin, tmax

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
        pieces.append((B.cmp("==", ok, False), zh, en))
    for rq in cs.requirements:
        lo, hi = next((lo, hi) for ind, lo, hi, _, _ in ind_out if ind.id == rq["indicator"])
        v = rq["min_exclusive"]
        ok = B.if_(B.cmp(">", lo, v), True, B.if_(B.cmp("<=", hi, v), False, None))
        score_parts.append(ok)
        pieces.append((B.cmp("==", ok, False), rq["name_zh"], rq["name_en"]))
    if cs.grades:
        labels = [g["grade"] for g in cs.grades]
        if len(set(labels)) == len(labels):
            # grade positions (integers) instead of label strings: the same test, far cheaper in polars
            gmin = B.select([(B.cmp(">=", tmin, g["min"]), i) for i, g in enumerate(cs.grades)], None)
            gmax = B.select([(B.cmp(">=", tmax, g["min"]), i) for i, g in enumerate(cs.grades)], None)
            graded = B.cmp("==", gmin, gmax)
            out["grade"] = B.gather(labels, B.if_(graded, gmin, None))
        else:
            gmin = B.select([(B.cmp(">=", tmin, g["min"]), g["grade"]) for g in cs.grades], None)
            gmax = B.select([(B.cmp(">=", tmax, g["min"]), g["grade"]) for g in cs.grades], None)
            graded = B.cmp("==", gmin, gmax)
            out["grade"] = B.if_(graded, gmin, None)
        score_parts.append(B.if_(graded, True, None))
    score_ok = B.let("__score_ok", B.and_(score_parts))

    # 5. decision --------------------------------------------------------------------------------
    cond_all = B.and_(conds)
    direct = B.or_(routes)
    qualifies = B.let("__q", B.and_([cond_all, B.or_([score_ok, direct])]))
    any_bad = B.or_([b for _, b, _, _ in expert_bad_all]) if expert_bad_all else B.lit(False)
    any_unknown = B.or_(
        [B.is_null(c) for c in conds] + [B.is_null(r) for r in routes] + unknown_fact
    )
    fail_word = "not_applicable" if cs.on_condition_fail == "not_applicable" else "fail"
    verdict = B.select(
        [
            (any_bad, "needs_review"),
            (B.cmp("==", cond_all, False), fail_word),
            (B.cmp("==", qualifies, True), "pass"),
            (B.cmp("==", qualifies, False), "fail"),
            (any_unknown, "needs_review"),
        ],
        "expert_dependent",
    )
    out["verdict"] = verdict
    passed = B.cmp("==", qualifies, True)
    out["route"] = B.select(
        [
            (B.and_([passed, B.cmp("==", direct, True)]), "direct"),
            (passed, "score"),
        ],
        "",
    )
    undecided = B.is_null(qualifies)

    # 6. reasons (fixed order) -------------------------------------------------------------------
    reason_list: list[tuple[Any, str, str]] = []
    for c, cv in zip(cs.conditions, conds, strict=True):
        reason_list.append((B.cmp("==", cv, False), f"不满足条件：{c.name_zh}", f"condition not met: {c.name_en}"))
    for c, cv in zip(cs.conditions, conds, strict=True):
        reason_list.extend(_unknown_pieces(B, cv, c.fields, c.name_zh, c.name_en, missing_fields))
    if cs.peer:
        reason_list.extend(
            _unknown_pieces(B, code, cs.stage_fields, "企业阶段", "enterprise stage", missing_fields)
        )
    for r, rv in zip(cs.routes, routes, strict=True):
        reason_list.append((B.cmp("==", rv, True), f"直接认定：{r.name_zh}", f"direct confirmation: {r.name_en}"))
    for r, rv in zip(cs.routes, routes, strict=True):
        reason_list.extend(
            (B.and_([undecided, c]), zh, en)
            for c, zh, en in _unknown_pieces(B, rv, r.fields, r.name_zh, r.name_en, missing_fields)
        )
    for ind, lo, hi, unknown, xopen in ind_out:
        flds = [f for a in ind.alts for f in a.fields]
        flds = list(dict.fromkeys(flds))
        for c, zh, en in _unknown_pieces(B, None, flds, ind.name_zh, ind.name_en, missing_fields, gate=unknown):
            reason_list.append((B.and_([undecided, c]), zh, en))
        reason_list.append((B.and_([undecided, xopen]), f"{ind.name_zh}：待专家评分", f"{ind.name_en}: expert points pending"))
    reason_list.extend(pieces)
    out["reasons"] = B.reasons(reason_list)
    out["__expert_bad"] = [(ind, bad, alo, ahi) for ind, bad, alo, ahi in expert_bad_all]
    out["__indicators"] = ind_out
    return out


def _unknown_pieces(
    B: Any,
    value: Any,
    flds: list[str],
    name_zh: str,
    name_en: str,
    missing_fields: Any,
    gate: Any = None,
) -> list[tuple[Any, str, str]]:
    """Reasons naming each unknown field of a component whose value is unknown."""
    is_unknown = B.is_null(value) if gate is None else gate
    miss = missing_fields(flds)
    pieces = [
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


def prepare_row(facts: dict[str, Any], evaluation_date: Any) -> dict[str, Any]:
    """Apply facts.md defaults and derive reg_days from registered_on (single-record path)."""
    row = dict(facts)
    for k, v in DEFAULTS.items():
        if row.get(k) is None:
            row[k] = v
    if row.get("reg_days") is None and row.get("registered_on") is not None and evaluation_date is not None:
        row["reg_days"] = (evaluation_date - row["registered_on"]).days
    return row


def prepare_frame(lf: pl.LazyFrame, columns: list[str], evaluation_date: Any) -> pl.LazyFrame:
    """The batch twin of prepare_row."""
    exprs = []
    for k, v in DEFAULTS.items():
        exprs.append(pl.col(k).fill_null(v) if k in columns else pl.lit(v).alias(k))
    if "registered_on" in columns and evaluation_date is not None:
        derived = (pl.lit(evaluation_date) - pl.col("registered_on")).dt.total_days()
        base = pl.col("reg_days") if "reg_days" in columns else pl.lit(None, dtype=pl.Int64)
        exprs.append(pl.coalesce(base, derived).cast(pl.Int64).alias("reg_days"))
    return lf.with_columns(exprs)
