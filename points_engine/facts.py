"""Facts tables: the field contract of reference/facts.md, reading CSV/XLSX and coercing values.

A blank cell is *unknown* (null), never zero. Booleans accept ``Y/N``, ``true/false``, ``1/0``,
``是/否`` (case-insensitive). A value that does not fit its field's type raises :class:`FactsError`
naming the row (1-based as in the file, header = row 1) and the column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .errors import FactsError

# ----------------------------------------------------------------------------------------------
# the vocabulary of facts.md
# ----------------------------------------------------------------------------------------------

FACT_TYPES = ("text", "date", "int", "bool", "float")
FACT_UNITS = ("", "万元", "ratio", "days", "years")
FACT_GROUPS = ("identity", "staff", "finance", "ip", "qualification", "sourced", "expert")

#: what ``_y1`` / ``_y2`` / ``_y3`` mean (facts.md: y3 is the latest completed fiscal year)
YEAR_LABELS: dict[int, tuple[str, str]] = {
    3: ("上年度", "last year"),
    2: ("前年度", "the year before"),
    1: ("大前年度", "two years before"),
}

_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "date": pl.Date(),
    "int": pl.Int64(),
    "bool": pl.Boolean(),
    "float": pl.Float64(),
}


@dataclass(frozen=True)
class FactSpec:
    """One field of facts.md: its exact name, type, labels and how a value reads.

    ``label_zh`` / ``label_en`` are short forms for a form label or a table header; for a yearly field
    (``rd_y3``) they name the stem ("研发费用") and :attr:`title_zh` / :attr:`title_en` add the year.
    """

    name: str  # exact facts.md name, e.g. "rd_y3", "employees", "equity_2y"
    type: str  # "text" | "date" | "int" | "bool" | "float"
    label_zh: str
    label_en: str
    unit: str  # "" | "万元" | "ratio" | "days" | "years"
    group: str  # "identity" | "staff" | "finance" | "ip" | "qualification" | "sourced" | "expert"
    stem: str  # "rd" for rd_y1/rd_y2/rd_y3; the name itself otherwise
    year: int | None  # 1, 2, 3 for _y1/_y2/_y3, else None
    default: Any = None  # the facts.md default applied to a blank value (resident, prohibited, compliant)

    @property
    def dtype(self) -> pl.DataType:
        """The polars type of the field's column."""
        return _DTYPES[self.type]

    @property
    def title_zh(self) -> str:
        """``label_zh`` with the year spelled out for a yearly field (``研发费用（上年度）``)."""
        return self.label_zh if self.year is None else f"{self.label_zh}（{YEAR_LABELS[self.year][0]}）"

    @property
    def title_en(self) -> str:
        return self.label_en if self.year is None else f"{self.label_en} ({YEAR_LABELS[self.year][1]})"


def _one(name: str, type: str, zh: str, en: str, group: str, unit: str = "", default: Any = None) -> list[FactSpec]:
    return [FactSpec(name, type, zh, en, unit, group, name, None, default)]


def _yearly(stem: str, zh: str, en: str) -> list[FactSpec]:
    """A money figure of the finance section, carried as ``<stem>_y1``, ``_y2``, ``_y3``."""
    return [FactSpec(f"{stem}_y{y}", "float", zh, en, "万元", "finance", stem, y) for y in (1, 2, 3)]


def _flag(name: str, zh: str, en: str) -> list[FactSpec]:
    return _one(name, "bool", zh, en, "qualification")


def _expert(name: str, zh: str, en: str, type: str = "float") -> list[FactSpec]:
    return _one(name, type, zh, en, "expert")


_TABLE: list[FactSpec] = [
    # identity and profile
    *_one("id", "text", "记录标识", "record id", "identity"),
    *_one("credit_code", "text", "统一社会信用代码", "unified social credit code", "identity"),
    *_one("name", "text", "企业名称", "enterprise name", "identity"),
    *_one("city", "text", "注册地", "city of registration", "identity"),
    *_one("industry_cluster", "text", "重点产业集群", "industry cluster", "identity"),
    *_one("reg_days", "int", "注册天数", "days since registration", "identity", "days"),
    *_one("registered_on", "date", "注册日期", "registration date", "identity"),
    *_one("op_years", "int", "实际经营年数", "years of operation", "identity", "years"),
    *_one("resident", "bool", "境内居民企业", "resident enterprise", "identity", default=True),
    *_one("prohibited", "bool", "产品属禁止/限制/淘汰类", "prohibited/restricted/eliminated products", "identity",
          default=False),
    *_one("compliant", "bool", "无重大事故与失信记录", "no major accident or dishonesty record", "identity",
          default=True),
    *_one("is_sme", "bool", "中小企业", "SME (2011 classification)", "identity"),
    # staff
    *_one("employees", "int", "职工总数", "employees", "staff"),
    *_one("tech_staff", "int", "科技人员数", "S&T staff", "staff"),
    *_one("rd_staff", "int", "研发人员数", "R&D staff", "staff"),
    # finance (万元)
    *_yearly("sales", "销售收入", "sales revenue"),
    *_yearly("oprev", "营业收入", "operating revenue"),
    *_yearly("main", "主营业务收入", "main-business revenue"),
    *_yearly("na", "净资产", "net assets (year end)"),
    *_yearly("assets", "资产总额", "total assets"),
    *_yearly("liab", "负债总额", "total liabilities"),
    *_yearly("rd", "研发费用", "R&D expenses"),
    *_one("rd_dom_3y", "float", "近三年境内研发费用", "domestic R&D, last 3 years", "finance", "万元"),
    *_yearly("cost", "成本费用支出总额", "total costs and expenses"),
    *_yearly("total_income", "总收入（高企口径）", "total income (HNTE definition)"),
    *_yearly("hitech_rev", "高新技术产品(服务)收入", "high-tech product/service revenue"),
    *_yearly("net_profit", "净利润", "net profit"),
    *_yearly("tax", "纳税总额", "taxes paid"),
    *_one("equity_2y", "float", "近两年新增股权融资", "new equity financing, last 2 years", "finance", "万元"),
    *_one("equity_3y", "float", "近三年新增股权融资", "new equity financing, last 3 years", "finance", "万元"),
    *_yearly("tech_contract", "技术合同成交额", "technology contract turnover"),
    # intellectual property and results
    *_one("ip_I_self", "int", "自主研发Ⅰ类知识产权数", "self-developed class-I IP", "ip"),
    *_one("ip_I_acq", "int", "受让取得Ⅰ类知识产权数", "acquired class-I IP", "ip"),
    *_one("ip_I_hv", "int", "高价值Ⅰ类知识产权数", "high-value class-I IP", "ip"),
    *_one("ip_II", "int", "Ⅱ类知识产权数", "class-II IP", "ip"),
    *_one("transforms_3y", "int", "近三年科技成果转化数", "S&T results converted, last 3 years", "ip"),
    # qualifications and flags
    *_flag("hnte_valid", "有效期内高新技术企业", "valid high-tech enterprise certificate"),
    *_flag("prov_rd_inst", "省部级以上研发机构", "provincial or higher R&D institution"),
    *_flag("nat_award_5y_top3", "近五年国家级科技奖励（前三）", "national S&T award in 5 years (top 3)"),
    *_flag("sci_award_3y", "近三年国家级或省级科技奖励", "national or provincial S&T award in 3 years"),
    *_flag("led_standard_5y", "近五年主导制定标准", "led a standard in 5 years"),
    *_flag("innov_title", "国家级创新/知识产权示范称号", "national innovation or IP demonstration title"),
    *_flag("sei", "主导产品属战略性新兴产业", "main product in a strategic emerging industry"),
    *_one("niche_years", "int", "从事细分市场年数", "years in the niche market", "qualification", "years"),
    *_flag("maker_top500_3y", "近三年创客中国500强", "Maker China top 500 in 3 years"),
    *_flag("tsme_valid", "有效期内科技型中小企业", "valid technology-based SME registration"),
    *_flag("innov_valid", "有效期内创新型中小企业", "valid innovative SME title"),
    *_flag("srdi_valid", "有效期内专精特新中小企业", "valid specialised-and-innovative SME title"),
    *_flag("award_3y_top3", "近三年省部级以上科技奖励（前三）", "provincial or higher S&T award in 3 years (top 3)"),
    *_flag("nat_award_3y_top3", "近三年国家级科技奖励（前三）", "national S&T award in 3 years (top 3)"),
    *_flag("market_position_ok", "细分市场占有率较为靠前（评审判断）", "leading niche-market position (reviewer)"),
    *_flag("market_top3_cn", "细分市场占有率国内前三", "top 3 in the domestic niche market"),
    *_flag("key_chain_link", "六基领域或产业链关键环节（评审判断）", "basic field or key chain link (reviewer)"),
    # sourced inputs
    *_one("market_share", "float", "细分市场占有率", "niche-market share", "sourced", "ratio"),
    *_one("quality_score", "float", "专精特新发展评价得分（本年度）", "SRDI development score (this year)", "sourced"),
    *_one("quality_score_prev", "float", "专精特新发展评价得分（上年度）", "SRDI development score (last year)",
          "sourced"),
    # expert inputs
    *_expert("x_ip_adv", "技术的先进程度", "advancement of the technology"),
    *_expert("x_ip_sup", "核心支持作用", "core support of the IP"),
    *_expert("x_ip_count", "知识产权数量", "number of IP items"),
    *_expert("x_ip_acq", "知识产权获得方式", "how the IP was obtained"),
    *_expert("x_std", "参与标准制定", "standard-setting participation"),
    *_expert("x_transform", "科技成果转化能力", "S&T conversion capability"),
    *_expert("x_rdmgmt", "研究开发组织管理水平", "R&D organisation and management"),
    *_expert("x_growth_na", "净资产增长率得分", "net-asset growth points"),
    *_expert("x_growth_sales", "销售收入增长率得分", "sales growth points"),
    *_expert("x_field", "主导产品所属领域", "field of the main product"),
    *_expert("x_digital", "数字化水平", "digital level"),
    *_expert("x_quality_items", "质量管理条目数", "quality-management items", "int"),
    *_expert("x_local", "特色化指标", "local specialty indicators"),
    *_expert("x_inst", "研发机构级别", "level of R&D institution", "text"),
]

#: Every field of facts.md, in facts.md order.
FACTS: dict[str, FactSpec] = {f.name: f for f in _TABLE}
assert len(FACTS) == len(_TABLE), "duplicate fact name"


def _of_type(t: str) -> list[str]:
    return [f.name for f in FACTS.values() if f.type == t]


TEXT_FIELDS = _of_type("text")
DATE_FIELDS = _of_type("date")
INT_FIELDS = _of_type("int")
BOOL_FIELDS = _of_type("bool")
FLOAT_FIELDS = _of_type("float")

#: Defaults stated in facts.md (applied when the value is blank).
DEFAULTS: dict[str, Any] = {f.name: f.default for f in FACTS.values() if f.default is not None}

FIELD_TYPES: dict[str, pl.DataType] = {f.name: f.dtype for f in FACTS.values()}
KNOWN_FIELDS = frozenset(FIELD_TYPES)

_TRUE = {"y", "yes", "true", "t", "1", "1.0", "是"}
_FALSE = {"n", "no", "false", "f", "0", "0.0", "否"}


def _bad(row: int, column: str, value: Any, what: str) -> FactsError:
    return FactsError(
        f"第 {row} 行 {column} 列：{value!r} 不是{_ZH[what]} / row {row}, column {column}: "
        f"{value!r} is not {what}",
        row=row,
        column=column,
    )


_ZH = {"a number": "数字", "an integer": "整数", "a boolean": "是/否值", "a date": "日期 (YYYY-MM-DD)"}


def coerce_value(field: str, value: Any, *, row: int = 2) -> Any:
    """Coerce one value to the type of ``field`` (single-record path). Unknown fields pass through."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    typ = FIELD_TYPES.get(field)
    if typ is None:
        return value
    if isinstance(typ, pl.String):
        return str(value)
    if isinstance(typ, pl.Boolean):
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise _bad(row, field, value, "a boolean")
    if isinstance(typ, pl.Date):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise _bad(row, field, value, "a date") from None
    if isinstance(value, bool):
        raise _bad(row, field, value, "a number")
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise _bad(row, field, value, "a number") from None
    if num != num or num in (float("inf"), float("-inf")):
        raise _bad(row, field, value, "a number")
    if isinstance(typ, pl.Int64):
        if num != int(num):
            raise _bad(row, field, value, "an integer")
        return int(num)
    return num


def coerce_record(facts: Mapping[str, Any], *, row: int = 2) -> dict[str, Any]:
    return {k: coerce_value(k, v, row=row) for k, v in facts.items()}


def _coerce_column(s: pl.Series, typ: pl.DataType) -> pl.Series:
    """Coerce a String column; raise FactsError at the first value that does not fit."""
    name = s.name
    stripped = s.str.strip_chars()
    blank = stripped.is_null() | (stripped == "")
    stripped = pl.select(pl.when(blank).then(None).otherwise(stripped)).to_series()
    if isinstance(typ, pl.String):
        return stripped.rename(name)
    if isinstance(typ, pl.Boolean):
        low = stripped.str.to_lowercase()
        out = pl.select(
            pl.when(low.is_in(list(_TRUE))).then(True).when(low.is_in(list(_FALSE))).then(False)
        ).to_series()
        what = "a boolean"
    elif isinstance(typ, pl.Date):
        out = stripped.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        what = "a date"
    else:
        out = stripped.cast(pl.Float64, strict=False)
        out = pl.select(pl.when(out.is_nan() | out.is_infinite()).then(None).otherwise(out)).to_series()
        what = "a number"
        if isinstance(typ, pl.Int64):
            frac = out.is_not_null() & (out != out.floor())
            if frac.any():
                i = int(frac.arg_true()[0])
                raise _bad(i + 2, name, stripped[i], "an integer")
            out = out.cast(pl.Int64)
    bad = out.is_null() & stripped.is_not_null()
    if bad.any():
        i = int(bad.arg_true()[0])
        raise _bad(i + 2, name, stripped[i], what)
    return out.rename(name)


def coerce_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Coerce known fact columns of a frame to their contract types (String columns are parsed)."""
    cols = []
    for name in df.columns:
        s = df.get_column(name)
        typ = FIELD_TYPES.get(name)
        if typ is None:
            cols.append(s)
            continue
        if s.dtype == typ:
            cols.append(s)
        elif s.dtype == pl.String or s.dtype == pl.Null:
            cols.append(_coerce_column(s.cast(pl.String), typ))
        elif isinstance(typ, (pl.Float64, pl.Int64)) and s.dtype.is_numeric():
            if isinstance(typ, pl.Int64) and s.dtype.is_float():
                cols.append(_coerce_column(s.cast(pl.String), typ))
            else:
                cols.append(s.cast(typ))
        else:
            cols.append(_coerce_column(s.cast(pl.String), typ))
    return pl.DataFrame(cols)


def frame_from_records(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Build a typed facts frame from dicts (values are coerced as in :func:`coerce_value`)."""
    rows = [coerce_record(r, row=i + 2) for i, r in enumerate(records)]
    names: list[str] = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    data = {}
    for n in names:
        vals = [r.get(n) for r in rows]
        typ = FIELD_TYPES.get(n)
        if typ is None:
            vals = [None if v is None else str(v) for v in vals]
            typ = pl.String()
        data[n] = pl.Series(n, vals, dtype=typ)
    return pl.DataFrame(data)


def read_facts(path: str | Path) -> pl.DataFrame:
    """Read a .csv or .xlsx facts file into a typed polars DataFrame (facts.md coercion).

    Known fact columns get their contract types; other columns are kept as text.
    Raises FactsError (naming row and column) for a value that does not fit its type.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FactsError(f"文件不存在 / file not found: {path}")
    if suffix == ".csv":
        try:
            raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        except pl.exceptions.PolarsError as exc:
            raise FactsError(f"无法读取 CSV / cannot read CSV {path}: {exc}") from None
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path)
    else:
        raise FactsError(f"不支持的文件类型 / unsupported file type: {path.suffix} (use .csv or .xlsx)")
    raw = raw.rename({c: c.strip().lstrip("\ufeff") for c in raw.columns})
    return coerce_frame(raw)


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return repr(v)
    return str(v)


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many unrelated types for corrupt files
        raise FactsError(f"无法读取 XLSX / cannot read XLSX {path}: {exc}") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise FactsError(f"空文件 / empty file: {path}")
    names = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
    body = [list(r) for r in rows]
    wb.close()
    while body and all(v is None for v in body[-1]):  # trailing blank rows; inner ones keep numbering
        body.pop()
    cols: list[list[str | None]] = [
        [_cell_text(r[i]) if i < len(r) else None for r in body] for i in range(len(names))
    ]
    return pl.DataFrame({n: pl.Series(n, c, dtype=pl.String) for n, c in zip(names, cols, strict=True)})


# ----------------------------------------------------------------------------------------------
# preparing facts for the plan
# ----------------------------------------------------------------------------------------------


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
