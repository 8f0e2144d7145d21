"""Matching enterprises and products: a per-enterprise path and a batch path that agree exactly.

Both paths prepare the facts the same way (``points_engine.facts``: facts.md coercion, defaults, ``reg_days``
from ``registered_on`` at the evaluation date) and evaluate each condition's parsed tree with the points
engine's two backends (``expr.compile_py`` for one record, ``expr.compile_pl`` for a frame), which share
float64 arithmetic, tolerant numeric comparisons and three-valued logic.

A condition is **met** (true), **not met** (false) or **unknown** (null: a fact it needs is blank). A
product is ``eligible`` when every condition is met, ``ineligible`` when one is not met, and
``needs_review`` otherwise (none failed, some unknown). Its *mask* packs the conditions two bits each,
condition *i* at bits ``2i`` (not met) and ``2i + 1`` (unknown): ``0`` is eligible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from points_engine import expr
from points_engine.errors import FactsError as PointsFactsError
from points_engine.facts import (
    FACTS,
    FIELD_TYPES,
    coerce_frame,
    coerce_record,
    frame_from_records,
    prepare_frame,
    prepare_row,
)

from .cost import NetCost, net_annual_rate, net_cost
from .errors import FactsError
from .facts import FINANCE_FACTS, finance_column, finance_value
from .product import GRADE_PREFIX, SCORE_PREFIX, Condition, Product, as_products

ELIGIBLE, NEEDS_REVIEW, INELIGIBLE = "eligible", "needs_review", "ineligible"
_VERDICT_ORDER = {ELIGIBLE: 0, NEEDS_REVIEW: 1, INELIGIBLE: 2}
_FAILED_BITS = sum(1 << (2 * i) for i in range(31))  # 0x1555…: the "not met" bit of every condition


def verdict_of(mask: int) -> str:
    if mask == 0:
        return ELIGIBLE
    return INELIGIBLE if mask & _FAILED_BITS else NEEDS_REVIEW


def eligible_of(mask: int) -> bool | None:
    """True (eligible), False (ineligible) or None (needs review): the batch frame's ``eligible.<id>``."""
    return {ELIGIBLE: True, INELIGIBLE: False, NEEDS_REVIEW: None}[verdict_of(mask)]


@dataclass(frozen=True)
class ConditionCheck:
    id: str
    name_zh: str
    name_en: str
    met: bool | None  # None: unknown (a fact it reads is blank)
    values: dict[str, Any]  # the facts it read, as prepared

    @property
    def reason_zh(self) -> str:
        if self.met is None:
            missing = "、".join(_label(k, "zh") for k, v in self.values.items() if v is None)
            return f"待核实：{self.name_zh}（缺少：{missing}）" if missing else f"待核实：{self.name_zh}"
        return f"{'满足' if self.met else '不满足'}：{self.name_zh}"

    @property
    def reason_en(self) -> str:
        if self.met is None:
            missing = ", ".join(_label(k, "en") for k, v in self.values.items() if v is None)
            return f"unknown: {self.name_en} (missing: {missing})" if missing else f"unknown: {self.name_en}"
        return f"{'met' if self.met else 'not met'}: {self.name_en}"


def _label(key: str, lang: str) -> str:
    spec = FACTS.get(key)
    if spec is not None:
        return spec.title_zh if lang == "zh" else spec.title_en
    if key in FINANCE_FACTS:
        return FINANCE_FACTS[key][1] if lang == "zh" else FINANCE_FACTS[key][2]
    if key.startswith(SCORE_PREFIX):
        std = key[len(SCORE_PREFIX) :]
        return f"{std} 积分" if lang == "zh" else f"points under {std}"
    if key.startswith(GRADE_PREFIX):
        std = key[len(GRADE_PREFIX) :]
        return f"{std} 等级" if lang == "zh" else f"grade under {std}"
    return key


@dataclass(frozen=True)
class ProductMatch:
    product: Product = field(repr=False)
    verdict: str
    mask: int
    conditions: tuple[ConditionCheck, ...]
    credit_line: Decimal | None  # yuan, from the grade under the product's standard (None: not known)
    annual_rate: Decimal | None  # net annual rate (None: the product has no pricing)
    cost: NetCost | None  # for the amount and term asked (None when not asked or not priced)

    @property
    def product_id(self) -> str:
        return self.product.id

    @property
    def eligible(self) -> bool | None:
        return eligible_of(self.mask)

    @property
    def reasons_zh(self) -> list[str]:
        return [c.reason_zh for c in self.conditions]

    @property
    def reasons_en(self) -> list[str]:
        return [c.reason_en for c in self.conditions]


# ----------------------------------------------------------------------------------------------
# preparing facts (one place for both paths)
# ----------------------------------------------------------------------------------------------


def _score_value(key: str, v: Any) -> Any:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if key.startswith(GRADE_PREFIX):
        return str(v).strip()
    if isinstance(v, bool):
        raise FactsError(f"{key}：{v!r} 不是数字 / {key}: {v!r} is not a number")
    try:
        num = float(v)
    except (TypeError, ValueError):
        raise FactsError(f"{key}：{v!r} 不是数字 / {key}: {v!r} is not a number") from None
    if num != num or num in (float("inf"), float("-inf")):
        raise FactsError(f"{key}：{v!r} 不是数字 / {key}: {v!r} is not a number")
    return num


def prepare_facts(facts: Mapping[str, Any], evaluation_date: dt.date) -> dict[str, Any]:
    """One enterprise's facts as both paths see them."""
    try:
        row = prepare_row(coerce_record(facts), evaluation_date)
    except PointsFactsError as exc:
        raise FactsError(str(exc)) from None
    for key in list(row):
        if key.startswith((SCORE_PREFIX, GRADE_PREFIX)):
            row[key] = _score_value(key, row[key])
        elif key in FINANCE_FACTS:
            row[key] = finance_value(key, row[key])
    return row


def _column_type(key: str) -> pl.DataType:
    if key.startswith(SCORE_PREFIX):
        return pl.Float64()
    if key.startswith(GRADE_PREFIX):
        return pl.String()
    if key in FINANCE_FACTS:
        return FINANCE_FACTS[key][0]
    return FIELD_TYPES.get(key, pl.String())


def prepare_batch(facts: pl.DataFrame, products: Sequence[Product], evaluation_date: dt.date) -> pl.LazyFrame:
    """The batch twin of :func:`prepare_facts`: typed columns, defaults, ``reg_days``, and a null column of
    the right type for every fact a product reads that the frame lacks."""
    if "id" not in facts.columns:
        raise FactsError("缺少 id 列 / the facts have no id column")
    try:
        df = coerce_frame(facts)
    except PointsFactsError as exc:
        raise FactsError(str(exc)) from None
    casts = []
    for name in df.columns:
        if name.startswith(SCORE_PREFIX):
            col = df.get_column(name)
            if col.dtype == pl.String:
                col = col.str.strip_chars()
                col = pl.select(pl.when(col == "").then(None).otherwise(col)).to_series().rename(name)
            out = col.cast(pl.Float64, strict=False)
            out = pl.select(pl.when(out.is_nan() | out.is_infinite()).then(None).otherwise(out)).to_series()
            bad = out.is_null() & col.is_not_null()
            if bad.any():
                i = int(bad.arg_true()[0])
                raise FactsError(f"第 {i + 2} 行 {name} 列：不是数字 / row {i + 2}, column {name}: not a number")
            casts.append(out.rename(name))
        elif name.startswith(GRADE_PREFIX):
            col = df.get_column(name).cast(pl.String).str.strip_chars()
            casts.append(pl.select(pl.when(col == "").then(None).otherwise(col)).to_series().rename(name))
        elif name in FINANCE_FACTS:
            casts.append(finance_column(df.get_column(name)))
    if casts:
        df = df.with_columns(casts)
    lf = prepare_frame(df.lazy(), df.columns, evaluation_date)
    present = set(lf.collect_schema().names())
    missing = []
    for p in products:
        for f in p.fields:
            if f not in present:
                missing.append(pl.lit(None, dtype=_column_type(f)).alias(f))
                present.add(f)
    return lf.with_columns(missing) if missing else lf


# ----------------------------------------------------------------------------------------------
# per-enterprise path
# ----------------------------------------------------------------------------------------------

_PY_CACHE: dict[tuple, expr.PyFn] = {}


def _py(c: Condition) -> expr.PyFn:
    fn = _PY_CACHE.get(c.ast)
    if fn is None:
        fn = _PY_CACHE[c.ast] = expr.compile_py(c.ast)
    return fn


def _truth(v: Any) -> bool | None:
    return None if v is None else bool(v)


def match_product(
    row: Mapping[str, Any], product: Product, *, amount: Decimal | None = None, term_months: int | None = None
) -> ProductMatch:
    """One product against one enterprise's *prepared* facts (see :func:`prepare_facts`)."""
    checks = []
    mask = 0
    for i, c in enumerate(product.conditions):
        met = _truth(_py(c)(row))  # type: ignore[arg-type]
        if met is False:
            mask |= 1 << (2 * i)
        elif met is None:
            mask |= 1 << (2 * i + 1)
        checks.append(ConditionCheck(c.id, c.name_zh, c.name_en, met, {f: row.get(f) for f in c.fields}))
    grade = row.get(product.grade_field) if product.grade_field else None
    pricing = product.pricing
    cost = None
    if pricing is not None and amount is not None and term_months is not None:
        cost = net_cost(pricing, amount, term_months)
    return ProductMatch(
        product=product,
        verdict=verdict_of(mask),
        mask=mask,
        conditions=tuple(checks),
        credit_line=product.credit_line(grade),
        annual_rate=None if pricing is None else net_annual_rate(pricing),
        cost=cost,
    )


def rank_key(m: ProductMatch) -> tuple:
    """Eligible first, then needs review, then ineligible; within each, the cheapest net annual rate first
    (unpriced products last), then the product id."""
    rate = m.annual_rate
    return (_VERDICT_ORDER[m.verdict], rate is None, rate if rate is not None else Decimal(0), m.product.id)


def match(
    enterprise_facts: Mapping[str, Any],
    products: Iterable[Product | Mapping[str, Any]],
    *,
    amount: Decimal | int | str | None = None,
    term_months: int | None = None,
    evaluation_date: dt.date | None = None,
) -> list[ProductMatch]:
    """Every product for one enterprise, ranked (:func:`rank_key`), each with the reason for every
    condition, the credit line at its grade and, when ``amount`` (yuan) and ``term_months`` are given, the
    net cost of that loan."""
    if (amount is None) != (term_months is None):
        raise ValueError("金额与期限须同时给出 / give both the amount and the term, or neither")
    items = as_products(products)
    row = prepare_facts(enterprise_facts, evaluation_date or dt.date.today())
    asked = None if amount is None else Decimal(amount)
    out = [match_product(row, p, amount=asked, term_months=term_months) for p in items]
    return sorted(out, key=rank_key)


# ----------------------------------------------------------------------------------------------
# batch path
# ----------------------------------------------------------------------------------------------


def _mask_expr(product: Product) -> pl.Expr:
    parts = []
    for i, c in enumerate(product.conditions):
        e = expr.compile_pl(c.ast)
        parts.append(
            pl.when(e.is_null())
            .then(pl.lit(1 << (2 * i + 1), dtype=pl.Int64))
            .when(e)
            .then(pl.lit(0, dtype=pl.Int64))
            .otherwise(pl.lit(1 << (2 * i), dtype=pl.Int64))
        )
    if not parts:
        return pl.lit(0, dtype=pl.Int64)
    return pl.sum_horizontal(parts)  # the bits are disjoint: the sum is the OR


def _eligible_expr(mask: pl.Expr) -> pl.Expr:
    return (
        pl.when(mask == 0)
        .then(pl.lit(True))
        .when((mask & pl.lit(_FAILED_BITS, dtype=pl.Int64)) != 0)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


def match_batch(
    facts: pl.DataFrame | Sequence[Mapping[str, Any]],
    products: Iterable[Product | Mapping[str, Any]],
    *,
    evaluation_date: dt.date | None = None,
    detail: bool = True,
) -> pl.DataFrame:
    """Every enterprise of a facts frame (the registry) against every product, in one polars plan.

    Columns: ``id``, then per product ``eligible.<product id>`` (Boolean: true eligible, false ineligible,
    null needs review) and, with ``detail``, ``mask.<product id>`` (Int64, the conditions' two bits each, as
    in :attr:`ProductMatch.mask`; :func:`decode_mask` reads it).
    """
    items = as_products(products)
    if isinstance(facts, pl.DataFrame):
        df = facts
    else:
        try:
            df = frame_from_records(facts)
        except PointsFactsError as exc:
            raise FactsError(str(exc)) from None
    lf = prepare_batch(df, items, evaluation_date or dt.date.today())
    if not detail:  # eligibility alone is the Kleene AND of the conditions: no masks to build
        return lf.select(pl.col("id"), *(_all_expr(p).alias(f"eligible.{p.id}") for p in items)).collect()
    masks = [_mask_expr(p).alias(f"mask.{p.id}") for p in items]
    lf = lf.select(pl.col("id"), *masks)
    out = [pl.col("id")]
    for p in items:
        out.append(_eligible_expr(pl.col(f"mask.{p.id}")).alias(f"eligible.{p.id}"))
        out.append(pl.col(f"mask.{p.id}"))
    return lf.select(out).collect()


def _all_expr(product: Product) -> pl.Expr:
    """True when every condition is met, false when one is not, null otherwise (Kleene AND)."""
    parts = [expr.compile_pl(c.ast) for c in product.conditions]
    if not parts:
        return pl.lit(True)
    out = parts[0].cast(pl.Boolean)
    for e in parts[1:]:
        out = out & e
    return out


def decode_mask(product: Product, mask: int) -> list[tuple[str, bool | None]]:
    """(condition id, met) for each condition of ``product`` from a batch mask."""
    out: list[tuple[str, bool | None]] = []
    for i, c in enumerate(product.conditions):
        bits = (mask >> (2 * i)) & 3
        out.append((c.id, True if bits == 0 else (False if bits == 1 else None)))
    return out


def whitelist(result: pl.DataFrame, product_id: str) -> list[str]:
    """The ids eligible for a product in a :func:`match_batch` result (the institution's whitelist before
    consent is applied)."""
    return result.filter(pl.col(f"eligible.{product_id}")).get_column("id").cast(pl.String).to_list()


def eligible_pairs(result: pl.DataFrame) -> int:
    """How many (enterprise, product) pairs are eligible in a :func:`match_batch` result."""
    cols = [c for c in result.columns if c.startswith("eligible.")]
    if not cols:
        return 0
    return int(result.select(pl.sum_horizontal([pl.col(c).fill_null(False).cast(pl.Int64) for c in cols]).sum()).item())
