"""The two interchangeable backends of the plan.

* :class:`PyBackend` evaluates every operation on one Python dict (the single-record path, ``explain``);
* :class:`PlBackend` builds polars expressions over all rows (the batch path, ``score_batch``).

Both implement each operation with the same IEEE float64 arithmetic in the same order and the same
three-valued null logic, so the paths agree exactly, including at band boundaries. Reasons are a list
of ``(zh, en)`` pairs in the Python backend and Int64 bit masks in the polars one
(:func:`decode_reasons` turns the few distinct masks into text).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import expr

# ----------------------------------------------------------------------------------------------
# values shown in reasons
# ----------------------------------------------------------------------------------------------

#: How a value shown in a reason reads. Numbers are rounded to a fixed number of decimals through an
#: integer, computed with the same float64 operations in both backends, so the text is the same in both
#: paths. ``down`` (the default) rounds towards −∞ and ``up`` towards +∞, so a value just short of a
#: ``≥`` bar (or just over a ``≤`` bar, with ``up``) never reads as the bar itself; a value within the
#: comparison tolerance of a step (expr.TOL, relative) counts as on it, so 1499.99 reads 1499.99.
SHOW_FORMATS = ("money", "percent", "number", "years", "count")
SHOW_ROUNDING = ("down", "up")
UNKNOWN_TEXT = ("未知", "unknown")


@dataclass(frozen=True)
class Shown:
    """A value inside a reason text: ``value`` (a backend value), how it reads (``fmt``) and in which
    language (0 = 中文, 1 = English)."""

    value: Any
    fmt: str
    lang: int
    rounding: str = "down"


Text = str | tuple  # a reason text: plain, or a tuple of str and Shown parts


def _decimals(fmt: str) -> int:
    return {"money": 2, "percent": 4, "number": 2}.get(fmt, 0)


def _split(a: int, places: int) -> str:
    return f"{a // 10**places}.{a % 10**places:0{places}d}"


def format_py(v: Any, fmt: str, lang: int, rounding: str = "down") -> str:
    """A shown value as text (single-record path)."""
    if v is None:
        return UNKNOWN_TEXT[lang]
    if fmt in ("years", "count"):
        n = int(v)
        return (f"{n}年", f"{n} years")[lang] if fmt == "years" else (f"{n}项", f"{n}")[lang]
    x = v * float(10 ** _decimals(fmt))
    t = expr.TOL * max(1.0, abs(x))
    n = math.floor(x + t) if rounding == "down" else math.ceil(x - t)
    sign, a = ("-" if n < 0 else ""), abs(n)
    if fmt == "money":
        return sign + (f"{_split(a, 2)}万元" if lang == 0 else f"{_split(a, 4)} M CNY")
    if fmt == "percent":
        return f"{sign}{_split(a, 2)}%"
    return sign + _split(a, 2)


def format_pl(v: pl.Expr, fmt: str, lang: int, rounding: str = "down") -> pl.Expr:
    """The batch twin of :func:`format_py` (string operations on the integer, never a float cast)."""
    if fmt in ("years", "count"):
        n = v.cast(pl.Int64).cast(pl.String)
        suffix = {("years", 0): "年", ("years", 1): " years", ("count", 0): "项", ("count", 1): ""}[(fmt, lang)]
        text = pl.concat_str([n, pl.lit(suffix)])
    else:
        x = v.cast(pl.Float64) * float(10 ** _decimals(fmt))
        t = expr.TOL * pl.max_horizontal(pl.lit(1.0), x.abs())
        n = ((x + t).floor() if rounding == "down" else (x - t).ceil()).cast(pl.Int64)
        a = n.abs()

        def split(places: int) -> pl.Expr:
            return pl.concat_str(
                [(a // 10**places).cast(pl.String), pl.lit("."), (a % 10**places).cast(pl.String).str.zfill(places)]
            )

        if fmt == "money":
            body = pl.concat_str([split(2), pl.lit("万元")]) if lang == 0 else pl.concat_str([split(4), pl.lit(" M CNY")])
        elif fmt == "percent":
            body = pl.concat_str([split(2), pl.lit("%")])
        else:
            body = split(2)
        text = pl.concat_str([pl.when(n < 0).then(pl.lit("-")).otherwise(pl.lit("")), body])
    return pl.when(v.is_null()).then(pl.lit(UNKNOWN_TEXT[lang])).otherwise(text)


def render_py(t: Text) -> str:
    return t if isinstance(t, str) else "".join(
        p if isinstance(p, str) else format_py(p.value, p.fmt, p.lang, p.rounding) for p in t
    )


def render_pl(t: Text) -> pl.Expr:
    if isinstance(t, str):
        return pl.lit(t)
    return pl.concat_str(
        [pl.lit(p) if isinstance(p, str) else format_pl(_lit(p.value), p.fmt, p.lang, p.rounding) for p in t]
    )


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
    def select(pairs: list[tuple[Any, Any]], default: Any = None, vocabulary: tuple[str, ...] = ()) -> Any:
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
    def reasons(pieces: list[tuple[Any, Text, Text]]) -> list[tuple[str, str]]:
        return [(render_py(zh), render_py(en)) for c, zh, en in pieces if c is True]


def _lit(v: Any) -> pl.Expr:
    return v if isinstance(v, pl.Expr) else pl.lit(v)


def text_series(values: list, vocabulary: tuple[str, ...] = ()) -> pl.Series:
    """A look-up table of texts (band labels, verdicts, routes, grades, stages, peer groups) as a polars
    Enum of its distinct texts in sorted order: a gathered column is then one byte per row (UInt8)
    instead of a 16-byte string view, it sorts as the texts do and reads and writes as plain strings
    (``cast(pl.String)``, CSV, JSON, ``to_dicts``). The categories depend only on the table (and on
    ``vocabulary``, texts added to them), so the frames of one standard (chunks of a run) have the same
    dtype; with a vocabulary (verdicts, routes) the column has the same dtype under every standard."""
    return pl.Series(values, dtype=pl.Enum(sorted({v for v in values if v is not None} | set(vocabulary))))


def _is_texts(values: list) -> bool:
    return any(isinstance(v, str) for v in values) and all(v is None or isinstance(v, str) for v in values)


def _is_number(v: Any) -> bool:
    """A known (Python) number, not a column and not a boolean."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class PlBackend:
    """Builds polars expressions; ``stages`` is a list of with_columns batches."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.stages: list[list[pl.Expr]] = []
        self.depth: dict[str, int] = {}  # let name -> stage index (1 + deepest let it reads)
        self.known = known or set()  # lets already computed as columns of the input
        self.gathers: dict[tuple, str] = {}  # (values, index column) -> let name
        self.looked_up: dict[int, tuple[pl.Expr, list, Any]] = {}  # id(result) -> (result, values, index)
        self.never_true: dict[int, pl.Expr] = {}  # id -> expression that is False or null

    def expr(self, ast: tuple) -> pl.Expr:
        return expr.compile_pl(ast)

    def field(self, name: str) -> pl.Expr:
        return pl.col(name)

    #: cheap wrappers (coalesce of a column) that are cheaper inline than as a column
    INLINE = ("__alo.", "__ahi.")

    def let(self, name: str, v: Any) -> pl.Expr:
        if name in self.known:
            return pl.col(name)
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
        if _is_number(b):
            # a known bound: ``a > b`` is null exactly when a is, and then a (null) is the result
            return pl.when(_lit(a) > b).then(pl.lit(b)).otherwise(_lit(a))
        a, b = _lit(a), _lit(b)
        return pl.when(a.is_null() | b.is_null()).then(None).when(a <= b).then(a).otherwise(b)

    @staticmethod
    def max2(a: Any, b: Any) -> pl.Expr:
        if _is_number(b):
            return pl.when(_lit(a) < b).then(pl.lit(b)).otherwise(_lit(a))
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

    def if_(self, c: Any, a: Any, b: Any) -> pl.Expr:
        c = _lit(c)
        # cheaper forms with the same three-valued result (an unknown c gives null in each)
        if a is False and b is None:
            e = ~c & pl.lit(None, dtype=pl.Boolean)
            self.never_true[id(e)] = e  # False or null
            return e
        if a is True and b is None:
            return c | pl.lit(None, dtype=pl.Boolean)
        if a is True and isinstance(b, pl.Expr) and self.never_true.get(id(b)) is b:
            return c | b  # b is False or null: where c is false the result is b, where c is unknown null
        if b is None:
            return pl.when(c).then(_lit(a))
        if a is None:
            return pl.when(~c).then(_lit(b))
        return pl.when(c.is_null()).then(None).when(c).then(_lit(a)).otherwise(_lit(b))

    def select(self, pairs: list[tuple[Any, Any]], default: Any = None, vocabulary: tuple[str, ...] = ()) -> pl.Expr:
        """The value of the first pair whose condition is true, else ``default``. ``vocabulary``: every
        text a choice between texts can take (its Enum's categories, the same under every standard)."""
        if not pairs:
            return _lit(default)
        values = [v for _c, v in pairs]
        if all(isinstance(v, str) for v in values) and (default is None or isinstance(default, str)):
            # text choices: choose a position (integers are far cheaper to choose between) and look
            # the text up once
            texts = list(dict.fromkeys([*values, *([default] if default is not None else [])]))
            pos: Any = pl
            for c, v in pairs:
                pos = pos.when(_lit(c)).then(pl.lit(texts.index(v), dtype=pl.UInt32))
            other = None if default is None else pl.lit(texts.index(default), dtype=pl.UInt32)
            idx = pos.otherwise(pl.lit(other, dtype=pl.UInt32) if other is None else other)
            return pl.lit(text_series(texts, vocabulary)).gather(idx)
        if default is None:
            looked_up = self._select_looked_up(pairs)
            if looked_up is not None:
                return looked_up
        chain: Any = pl
        for c, v in pairs:
            chain = chain.when(_lit(c)).then(_lit(v))
        return chain.otherwise(_lit(default))

    def _select_looked_up(self, pairs: list[tuple[Any, Any]]) -> pl.Expr | None:
        """A choice between texts looked up in tables (band labels of an indicator's alternatives):
        choose the position in the tables put end to end, then look it up once (None: not such a
        choice)."""
        table: list[Any] = []
        chain: Any = pl
        for c, v in pairs:
            src = self.looked_up.get(id(v)) if isinstance(v, pl.Expr) else None
            if src is None or src[0] is not v or not all(x is None or isinstance(x, str) for x in src[1]):
                return None
            _e, values, idx = src
            chain = chain.when(_lit(c)).then(_lit(idx).cast(pl.Int64) + len(table))
            table += values
        return pl.lit(text_series(table)).gather(chain.otherwise(pl.lit(None, dtype=pl.Int64)))

    def gather(self, values: list, idx: Any) -> pl.Expr:
        table = text_series(values) if _is_texts(values) else pl.Series(values, strict=False)
        e = pl.lit(table).gather(_lit(idx))
        if isinstance(idx, pl.Expr) and idx.meta.is_column():
            # the same look-up by the same column (a peer group's weight, read for lo and hi) is
            # computed once
            key = (tuple((type(v), v) for v in values), idx.meta.output_name())
            name = self.gathers.get(key)
            if name is None:
                name = self.gathers[key] = f"__gather{len(self.gathers)}"
                e = self.let(name, e)
            else:
                e = pl.col(name)
        self.looked_up[id(e)] = (e, list(values), idx)
        return e

    @staticmethod
    def to_int(b: Any) -> pl.Expr:
        return _lit(b).cast(pl.Int64)

    @staticmethod
    def search_right(sorted_values: list[float], v: Any) -> pl.Expr:
        """``#{sorted_values <= v}``; for an unknown v some position (the caller masks it out, once,
        after the look-up it feeds: percentile_points)."""
        table = pl.Series(sorted_values, dtype=pl.Float64)
        # the same search_sorted kernel, applied to the values batch by batch: as an expression over
        # the literal table polars must see the whole column at once, which stops the streaming
        # engine there (the column and everything around it materialised at full length)
        return (
            _lit(v)
            .cast(pl.Float64)
            .map_batches(
                lambda s: table.search_sorted(s, side="right").cast(pl.Int64),  # UInt32 or UInt64 (runtime)
                return_dtype=pl.Int64,
                is_elementwise=True,
            )
        )

    @staticmethod
    def coalesce(a: Any, b: Any) -> pl.Expr:
        return pl.coalesce(_lit(a), _lit(b))

    def reasons(self, pieces: list[tuple[Any, Text, Text]]) -> ReasonMasks:
        """Reasons are packed into Int64 bit masks (62 reasons per mask); decode_reasons turns the
        few distinct masks into text after the pass, far cheaper than building strings per row.
        Reasons that show a row's values (conditions with ``show``) are text built per row instead."""
        if any(not isinstance(t, str) for _c, zh, en in pieces for t in (zh, en)):
            parts = [
                pl.when(_lit(c)).then(pl.concat_str([render_pl(zh), pl.lit(" / "), render_pl(en)]))
                for c, zh, en in pieces
            ]
            text = pl.concat_list(parts).list.drop_nulls().list.join("; ") if parts else pl.lit("")
            return ReasonMasks([], [], text)
        masks = []
        for start in range(0, len(pieces), 62):
            chunk = pieces[start : start + 62]
            # 16 bits at a time in a UInt16 (an eighth of the memory traffic of Int64 bits), then
            # the four words are placed in the Int64 mask; the bits are distinct, so OR-ing them is
            # their sum (and cheaper than sum_horizontal)
            words = []
            for w in range(0, len(chunk), 16):
                bits = [
                    pl.when(_lit(c)).then(pl.lit(1 << k, dtype=pl.UInt16)).otherwise(pl.lit(0, dtype=pl.UInt16))
                    for k, (c, _zh, _en) in enumerate(chunk[w : w + 16])
                ]
                word = bits[0]
                for b in bits[1:]:
                    word = word | b
                word = word.cast(pl.Int64)
                words.append(word * pl.lit(1 << w, dtype=pl.Int64) if w else word)
            mask = words[0]
            for word in words[1:]:
                mask = mask | word
            masks.append(mask)
        return ReasonMasks(masks, [f"{zh} / {en}" for _c, zh, en in pieces])


@dataclass
class ReasonMasks:
    masks: list[pl.Expr]
    texts: list[str]
    text: pl.Expr | None = None  # the whole reasons text per row, when some reason shows values


def decode_reasons(df: pl.DataFrame, rm: ReasonMasks, mask_cols: list[str], name: str = "reasons") -> pl.DataFrame:
    """Replace the mask columns of ``df`` by the reason text (same format as join_reasons).

    Only the few distinct mask combinations are turned into text; the column is a polars Enum of
    those texts (cheap for millions of rows; it reads and writes as plain strings)."""
    keep = [c for c in df.columns if c not in mask_cols]
    if not mask_cols:
        return df.select(keep).with_columns(pl.lit("").alias(name))
    if len(mask_cols) <= 2:
        # one exact key per row (two masks side by side in an Int128): no hash, no collision
        if len(mask_cols) == 1:
            key = pl.col(mask_cols[0])
        else:
            key = pl.col(mask_cols[0]).cast(pl.Int128) + pl.col(mask_cols[1]).cast(pl.Int128) * pl.lit(
                1 << 62, dtype=pl.Int128
            )
        keyed = df.with_columns(key.alias("__rkey"))
        low = (1 << 62) - 1
        mapping = {
            k: _mask_text(rm, (k,) if len(mask_cols) == 1 else (k & low, k >> 62))
            for k in keyed.get_column("__rkey").unique().to_list()
        }
        enum = pl.Enum(sorted(set(mapping.values())))
        keys = pl.Series(list(mapping), dtype=keyed.schema["__rkey"])
        values = pl.Series(list(mapping.values()), dtype=enum)
        return keyed.select([*keep, pl.col("__rkey").replace_strict(keys, values).alias(name)])
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

