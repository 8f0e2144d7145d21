"""Financial products as data: eligibility conditions in the points standards' expression language, pricing
and credit lines.

A product's conditions are parsed by ``points_engine.expr`` (the one rule language of the platform; this
module writes no parser). They read the facts of ``reference/facts.md`` plus two names bound to the
product's ``standard``:

* ``points`` — the enterprise's score under that standard (facts key / column ``score.<standard>``);
* ``grade``  — its grade under that standard (facts key / column ``grade.<standard>``).

The binding is a rewrite of the parsed tree (``points`` → ``score.<standard>``), so both backends read
the same column.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from points_engine import expr
from points_engine.errors import StandardError
from points_engine.facts import FIELD_TYPES

from .errors import ProductError

#: Product kinds (PRODUCT.md glossary / issue #8).
PRODUCT_KINDS: dict[str, tuple[str, str]] = {
    "credit_loan": ("信用贷款", "credit loan"),
    "points_loan": ("创新积分贷", "innovation-points loan"),
    "twin_city_loan": ("双城贷", "twin-city loan"),
    "guarantee": ("担保", "guarantee"),
    "equity": ("股权投资", "equity"),
    "insurance": ("科技保险", "technology insurance"),
}

#: Chongqing 知识价值信用贷款: the grade gives a fixed credit line (reference/finance.md §3.4:
#: A/B/C/D/E = 500/400/300/160/80万). In yuan. The default line table of a ``points_loan``; a product
#: replaces it with its own ``credit_line.by_grade``.
KNOWLEDGE_VALUE_LINES: dict[str, Decimal] = {
    "A": Decimal("5000000"),
    "B": Decimal("4000000"),
    "C": Decimal("3000000"),
    "D": Decimal("1600000"),
    "E": Decimal("800000"),
}

#: A product has at most this many conditions (each takes two bits of the batch path's Int64 mask).
MAX_CONDITIONS = 31

SCORE_PREFIX = "score."
GRADE_PREFIX = "grade."
_BOUND = {"points": SCORE_PREFIX, "grade": GRADE_PREFIX}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Condition:
    id: str
    name_zh: str
    name_en: str
    expr: str
    ast: tuple = field(repr=False)
    fields: tuple[str, ...]  # the facts keys / columns it reads, in first-use order


@dataclass(frozen=True)
class Pricing:
    """Annual rates as fractions (0.0345 = 3.45 % a year). Subsidies are paid by the government or the
    platform and lower the enterprise's cost."""

    rate: Decimal
    guarantee_fee: Decimal = Decimal(0)
    interest_subsidy: Decimal = Decimal(0)
    fee_subsidy: Decimal = Decimal(0)


@dataclass(frozen=True)
class Product:
    id: str
    version: str
    name_zh: str
    name_en: str
    kind: str
    institution: str
    standard: str | None
    conditions: tuple[Condition, ...]
    pricing: Pricing | None
    lines_by_grade: Mapping[str, Decimal] | None
    max_amount: Decimal | None
    source: dict[str, Any] = field(repr=False, compare=False)
    #: The product's total line in yuan (``credit_line.total``): the sum of its approved and not finished
    #: loans may not pass it. None: no total line.
    total_line: Decimal | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Product:
        errors = validate_product(d)
        if errors:
            raise ProductError("产品定义无效 / invalid product: " + "; ".join(errors), errors=errors)
        return _build(d)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.source)

    @property
    def score_field(self) -> str | None:
        return None if self.standard is None else SCORE_PREFIX + self.standard

    @property
    def grade_field(self) -> str | None:
        return None if self.standard is None else GRADE_PREFIX + self.standard

    @property
    def fields(self) -> list[str]:
        """Every facts key / column the product's conditions read."""
        out: list[str] = []
        for c in self.conditions:
            out.extend(f for f in c.fields if f not in out)
        return out

    def credit_line(self, grade: str | None) -> Decimal | None:
        """The line in yuan this product offers at ``grade`` (capped by ``max_amount``); None when the
        product has no line table and no maximum, or the grade is unknown or not in the table."""
        line: Decimal | None = None
        if self.lines_by_grade is not None:
            if grade is None or grade not in self.lines_by_grade:
                return None
            line = self.lines_by_grade[grade]
        if self.max_amount is not None:
            line = self.max_amount if line is None else min(line, self.max_amount)
        return line


def _decimal(v: Any) -> Decimal | None:
    """A money or rate value: a string, an int or a Decimal (never a float, whose binary value is not the
    decimal written)."""
    if isinstance(v, bool) or isinstance(v, float):
        return None
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def bind_standard(ast: tuple, standard: str | None) -> tuple:
    """Rewrite the fields ``points`` / ``grade`` to ``score.<standard>`` / ``grade.<standard>``."""

    def walk(n: tuple) -> tuple:
        tag = n[0]
        if tag == "field" and n[1] in _BOUND:
            return ("field", _BOUND[n[1]] + str(standard))
        if tag == "call":
            return ("call", n[1], tuple(walk(a) for a in n[2]))
        if tag in ("neg", "not"):
            return (tag, walk(n[1]))
        if tag in ("and", "or"):
            return (tag, walk(n[1]), walk(n[2]))
        if tag in ("cmp", "arith"):
            return (tag, n[1], walk(n[2]), walk(n[3]))
        return n

    return walk(ast)


def validate_product(d: Any) -> list[str]:
    """Human-readable errors ("path: 中文 / English"); [] when the product is valid."""
    errs: list[str] = []
    if not isinstance(d, Mapping):
        return ["product: 必须是对象 / must be an object"]
    for key in ("id", "version", "name_zh", "name_en", "kind", "institution"):
        if not isinstance(d.get(key), str) or not d.get(key):
            errs.append(f"{key}: 必填文本 / required text")
    if isinstance(d.get("id"), str) and d["id"] and not _ID.match(d["id"]):
        errs.append("id: 只能含字母、数字、_ . - / letters, digits, _ . - only")
    if isinstance(d.get("kind"), str) and d["kind"] not in PRODUCT_KINDS:
        errs.append(f"kind: 未知类型 {d['kind']!r} / unknown kind (one of {', '.join(PRODUCT_KINDS)})")
    standard = d.get("standard")
    if standard is not None and (not isinstance(standard, str) or not standard):
        errs.append("standard: 必须是评价标准编号 / must be a standard id")
    conditions = d.get("conditions", [])
    if not isinstance(conditions, list):
        errs.append("conditions: 必须是列表 / must be a list")
        conditions = []
    if len(conditions) > MAX_CONDITIONS:
        errs.append(f"conditions: 最多 {MAX_CONDITIONS} 条 / at most {MAX_CONDITIONS}")
    seen: set[str] = set()
    for i, c in enumerate(conditions):
        where = f"conditions[{i}]"
        if not isinstance(c, Mapping):
            errs.append(f"{where}: 必须是对象 / must be an object")
            continue
        for key in ("id", "name_zh", "name_en", "expr"):
            if not isinstance(c.get(key), str) or not c.get(key):
                errs.append(f"{where}.{key}: 必填文本 / required text")
        cid = c.get("id")
        if isinstance(cid, str):
            if cid in seen:
                errs.append(f"{where}.id: 重复 {cid!r} / duplicate")
            seen.add(cid)
        text = c.get("expr")
        if not isinstance(text, str) or not text:
            continue
        try:
            ast = expr.parse(text)
        except StandardError as exc:
            errs.append(f"{where}.expr: {exc}")
            continue
        if expr.switch_names(ast):
            errs.append(f"{where}.expr: 产品条件不使用开关 / product conditions take no switch()")
            continue
        for name in expr.fields(ast):
            if name in _BOUND:
                if not standard:
                    errs.append(f"{where}.expr: 使用 {name} 须指定 standard / {name} needs the product's standard")
            elif name not in FIELD_TYPES:
                errs.append(f"{where}.expr: 未知事实 {name!r} / unknown fact {name!r} (see facts.md)")
        if not expr.is_boolean(ast):  # the standards' own rule of a yes/no test
            errs.append(f"{where}.expr: 条件必须是是/否判断 / a condition must be a yes/no test")
    pricing = d.get("pricing")
    if pricing is not None:
        if not isinstance(pricing, Mapping):
            errs.append("pricing: 必须是对象 / must be an object")
        else:
            if "rate" not in pricing:
                errs.append("pricing.rate: 必填 / required")
            for key in ("rate", "guarantee_fee", "interest_subsidy", "fee_subsidy"):
                if key in pricing:
                    v = _decimal(pricing[key])
                    if v is None or v < 0 or v >= 1:
                        errs.append(f"pricing.{key}: 须为 [0, 1) 的十进制年利率文本 / an annual rate in [0, 1) as a decimal string")
    line = d.get("credit_line")
    if line is not None:
        if not isinstance(line, Mapping):
            errs.append("credit_line: 必须是对象 / must be an object")
        else:
            by_grade = line.get("by_grade")
            if by_grade is not None:
                if not isinstance(by_grade, Mapping) or not by_grade:
                    errs.append("credit_line.by_grade: 必须是 等级→元 / must map grade → yuan")
                else:
                    if not standard:
                        errs.append("credit_line.by_grade: 须指定 standard / needs the product's standard")
                    for g, v in by_grade.items():
                        amount = _decimal(v)
                        if amount is None or amount < 0:
                            errs.append(f"credit_line.by_grade.{g}: 须为非负金额（元） / a non-negative amount in yuan")
            for key in ("max_amount", "total"):
                if key in line:
                    amount = _decimal(line[key])
                    if amount is None or amount <= 0:
                        errs.append(f"credit_line.{key}: 须为正金额（元） / a positive amount in yuan")
            unknown = sorted(set(line) - {"by_grade", "max_amount", "total"})
            if unknown:
                errs.append(f"credit_line: 未知字段 {', '.join(map(str, unknown))} / unknown keys")
    return errs


def _build(d: Mapping[str, Any]) -> Product:
    standard = d.get("standard")
    conditions = []
    for c in d.get("conditions", []):
        ast = bind_standard(expr.parse(c["expr"]), standard)
        conditions.append(Condition(c["id"], c["name_zh"], c["name_en"], c["expr"], ast, tuple(expr.fields(ast))))
    pricing = None
    if d.get("pricing") is not None:
        p = d["pricing"]
        zero = Decimal(0)
        pricing = Pricing(
            rate=_decimal(p["rate"]) or zero,
            guarantee_fee=_decimal(p.get("guarantee_fee", 0)) or zero,
            interest_subsidy=_decimal(p.get("interest_subsidy", 0)) or zero,
            fee_subsidy=_decimal(p.get("fee_subsidy", 0)) or zero,
        )
    line = d.get("credit_line") or {}
    lines: Mapping[str, Decimal] | None = None
    if line.get("by_grade") is not None:
        lines = {str(g): _decimal(v) or Decimal(0) for g, v in line["by_grade"].items()}
    elif d["kind"] == "points_loan" and standard:
        lines = dict(KNOWLEDGE_VALUE_LINES)
    max_amount = _decimal(line["max_amount"]) if "max_amount" in line else None
    total_line = _decimal(line["total"]) if "total" in line else None
    return Product(
        id=d["id"],
        version=d["version"],
        name_zh=d["name_zh"],
        name_en=d["name_en"],
        kind=d["kind"],
        institution=d["institution"],
        standard=standard,
        conditions=tuple(conditions),
        pricing=pricing,
        lines_by_grade=lines,
        max_amount=max_amount,
        source=copy.deepcopy(dict(d)),
        total_line=total_line,
    )


def as_products(products: Any) -> list[Product]:
    """Products or product dicts, validated, with unique ids."""
    out = [p if isinstance(p, Product) else Product.from_dict(p) for p in products]
    ids = [p.id for p in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ProductError(f"产品编号重复 / duplicate product ids: {', '.join(dup)}", errors=dup)
    return out
