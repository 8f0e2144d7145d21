"""Facts tables: the field contract of reference/facts.md, reading CSV/XLSX and coercing values.

A blank cell is *unknown* (null), never zero. Booleans accept ``Y/N``, ``true/false``, ``1/0``,
``是/否`` (case-insensitive). A value that does not fit its field's type raises :class:`FactsError`
naming the row (1-based as in the file, header = row 1) and the column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from .errors import FactsError

_YEARS = ("_y1", "_y2", "_y3")


def _years(*stems: str) -> list[str]:
    return [s + y for s in stems for y in _YEARS]


TEXT_FIELDS = ["id", "credit_code", "name", "city", "industry_cluster", "x_inst"]
DATE_FIELDS = ["registered_on"]
INT_FIELDS = [
    "reg_days",
    "op_years",
    "employees",
    "tech_staff",
    "rd_staff",
    "ip_I_self",
    "ip_I_acq",
    "ip_I_hv",
    "ip_II",
    "transforms_3y",
    "niche_years",
    "x_quality_items",
]
BOOL_FIELDS = [
    "resident",
    "prohibited",
    "compliant",
    "is_sme",
    "hnte_valid",
    "prov_rd_inst",
    "nat_award_5y_top3",
    "sci_award_3y",
    "led_standard_5y",
    "innov_title",
    "sei",
    "maker_top500_3y",
]
FLOAT_FIELDS = [
    *_years(
        "sales",
        "oprev",
        "main",
        "na",
        "assets",
        "liab",
        "rd",
        "cost",
        "total_income",
        "hitech_rev",
        "net_profit",
        "tax",
        "tech_contract",
    ),
    "rd_dom_3y",
    "equity_2y",
    "equity_3y",
    # expert points (may be fractional in some local schemes; validated against bands)
    "x_ip_adv",
    "x_ip_sup",
    "x_ip_count",
    "x_ip_acq",
    "x_std",
    "x_transform",
    "x_rdmgmt",
    "x_growth_na",
    "x_growth_sales",
    "x_field",
    "x_digital",
    "x_local",
]

#: Defaults stated in facts.md (applied when the value is blank).
DEFAULTS: dict[str, Any] = {"resident": True, "prohibited": False, "compliant": True}

FIELD_TYPES: dict[str, pl.DataType] = {
    **{f: pl.String() for f in TEXT_FIELDS},
    **{f: pl.Date() for f in DATE_FIELDS},
    **{f: pl.Int64() for f in INT_FIELDS},
    **{f: pl.Boolean() for f in BOOL_FIELDS},
    **{f: pl.Float64() for f in FLOAT_FIELDS},
}
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
    except Exception as exc:  # openpyxl raises many types for corrupt files
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
