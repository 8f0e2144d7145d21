"""Facts of tech finance that the points vocabulary (``reference/facts.md``, a contract read by
``points_engine.facts``) does not hold: what the platform records about an enterprise's equity rounds
(股贷债保, 投贷联动). Product conditions read them beside the facts.md names; they never rename or shadow one.

| name | type | meaning |
|---|---|---|
| ``equity_rounds`` | int | equity rounds recorded on the platform closed on or before the evaluation date (0: none) |
| ``equity_last_round_days`` | int | days from the latest such round to the evaluation date (blank: no round) |
| ``equity_stage`` | text | that round's stage: ``angel``, ``seed``, ``pre_a``, ``a``, ``b``, ``c``, ``d_plus``, ``pre_ipo``, ``strategic`` (blank: no round) |

The expression language has no date values, so a round's date is read as days, as ``registered_on`` is
read as ``reg_days``. A blank value is unknown, as everywhere (a condition reading it needs review).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .errors import FactsError

#: name → (polars type, 中文, English)
FINANCE_FACTS: dict[str, tuple[pl.DataType, str, str]] = {
    "equity_rounds": (pl.Int64(), "股权融资轮次", "equity rounds recorded"),
    "equity_last_round_days": (pl.Int64(), "距最近一轮股权融资天数", "days since the last equity round"),
    "equity_stage": (pl.String(), "最近一轮股权融资阶段", "stage of the last equity round"),
}

#: The stages a round may name (``equity_stage``), earliest first.
EQUITY_STAGES: tuple[str, ...] = ("angel", "seed", "pre_a", "a", "b", "c", "d_plus", "pre_ipo", "strategic")


def finance_value(key: str, value: Any) -> Any:
    """One finance fact's value as both paths read it (blank → None); raises FactsError when it does not fit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    dtype = FINANCE_FACTS[key][0]
    if dtype == pl.String:
        return str(value).strip()
    if isinstance(value, bool):
        raise FactsError(f"{key}：{value!r} 不是整数 / {key}: {value!r} is not an integer")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FactsError(f"{key}：{value!r} 不是整数 / {key}: {value!r} is not an integer") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise FactsError(f"{key}：{value!r} 不是整数 / {key}: {value!r} is not an integer")
    return int(number)


def finance_column(series: pl.Series) -> pl.Series:
    """The batch twin of :func:`finance_value` for one column."""
    name = series.name
    dtype = FINANCE_FACTS[name][0]
    if series.dtype == dtype and dtype != pl.String:
        return series
    if series.dtype in (pl.String, pl.Null) or dtype == pl.String:
        values = [finance_value(name, v) for v in series.to_list()]
        return pl.Series(name, values, dtype=dtype)
    if series.dtype.is_integer():
        return series.cast(dtype)
    return pl.Series(name, [finance_value(name, v) for v in series.to_list()], dtype=dtype)
