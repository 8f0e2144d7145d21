"""A small, safe expression language for indicator formulas and conditions.

Formulas in a standard are strings such as ``ratio(rd_y3, sales_y3)`` or
``employees <= 500 and sales_y3 <= 20000``. They are parsed into a tuple AST (never ``eval``-ed) and
compiled to two backends that must agree value for value:

* ``compile_py(ast)`` -> a closure ``f(row: dict) -> value`` (single-record path);
* ``compile_pl(ast)`` -> a ``polars.Expr`` (batch path).

Semantics (identical in both backends):

* an unknown fact is ``null``; arithmetic and comparisons with ``null`` give ``null``;
* ``and`` / ``or`` / ``not`` use three-valued (Kleene) logic: ``false and null`` is ``false``,
  ``true or null`` is ``true``;
* ``a / b`` and ``ratio(a, b)`` are ``null`` when ``b == 0`` (undefined, never a number);
* ``growth(base, cur)`` is ``cur / base - 1``, ``null`` when ``base == 0``;
* ``max_of`` / ``min_of`` are ``null`` if any argument is ``null`` (an unknown could be the extreme);
* ``if(c, a, b)`` is ``null`` when ``c`` is ``null``; ``coalesce(a, b, ...)`` is the first known value;
* ``last_years(n, y1, y2, y3)`` sums the last ``n`` fiscal years (n >= 3: y1+y2+y3; 2: y2+y3; else y3);
* ``is_null(a)``, ``floor(a)``;
* ``switch('name')`` is the value of a standard's switch (``switches.name.value``, a boolean set by an
  administrator). :func:`bind` replaces it by that literal before compiling and folds the constant
  ``and`` / ``or`` it sits in, so a switched-off branch reads no facts at all.

Numbers are IEEE float64 (or Python ints for integer literals); every operation is a single
correctly rounded float64 operation applied in the same order in both backends, so the two paths
make the same decision at an exact band boundary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import polars as pl

from .errors import StandardError

FUNCTIONS: dict[str, tuple[int, int | None]] = {
    # name: (min args, max args or None for variadic)
    "ratio": (2, 2),
    "growth": (2, 2),
    "max_of": (1, None),
    "min_of": (1, None),
    "if": (3, 3),
    "coalesce": (1, None),
    "is_null": (1, 1),
    "last_years": (4, 4),
    "floor": (1, 1),
    "switch": (1, 1),
}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<str>'[^']*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/(),<>]))"
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_CMP = {"<", "<=", ">", ">=", "==", "!="}


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise StandardError(
                f"表达式无法解析（位置 {pos}）: {text!r} / cannot parse expression at position {pos}: {text!r}"
            )
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def error(self, what: str) -> StandardError:
        return StandardError(f"表达式错误：{what}: {self.text!r} / expression error: {what}: {self.text!r}")

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise self.error(f"expected {value or 'a token'}")
        self.i += 1
        return tok

    def parse(self) -> tuple:
        node = self.or_()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def or_(self) -> tuple:
        node = self.and_()
        while self.peek() == ("name", "or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.not_()
        while self.peek() == ("name", "and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> tuple:
        if self.peek() == ("name", "not"):
            self.take()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self) -> tuple:
        node = self.add()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in _CMP:
            self.take()
            node = ("cmp", tok[1], node, self.add())
        return node

    def add(self) -> tuple:
        node = self.mul()
        while (tok := self.peek()) and tok[1] in ("+", "-") and tok[0] == "op":
            self.take()
            node = ("arith", tok[1], node, self.mul())
        return node

    def mul(self) -> tuple:
        node = self.unary()
        while (tok := self.peek()) and tok[1] in ("*", "/") and tok[0] == "op":
            self.take()
            node = ("arith", tok[1], node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> tuple:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end")
        kind, val = tok
        if kind == "num":
            self.take()
            return ("lit", float(val) if any(c in val for c in ".eE") else int(val))
        if kind == "str":
            self.take()
            return ("lit", val[1:-1])
        if kind == "op" and val == "(":
            self.take()
            node = self.or_()
            self.take(")")
            return node
        if kind == "name":
            self.take()
            if val == "true":
                return ("lit", True)
            if val == "false":
                return ("lit", False)
            if val == "null":
                return ("lit", None)
            if val in _KEYWORDS:
                raise self.error(f"unexpected {val!r}")
            if self.peek() == ("op", "("):
                if val not in FUNCTIONS:
                    raise self.error(f"unknown function {val!r}")
                self.take("(")
                args = [self.or_()]
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.or_())
                self.take(")")
                lo, hi = FUNCTIONS[val]
                if len(args) < lo or (hi is not None and len(args) > hi):
                    raise self.error(f"wrong number of arguments to {val}")
                if val == "switch" and not (args[0][0] == "lit" and isinstance(args[0][1], str)):
                    raise self.error("switch() takes the switch name as a quoted string")
                return ("call", val, tuple(args))
            return ("field", val)
        raise self.error(f"unexpected {val!r}")


_CACHE: dict[str, tuple] = {}


def parse(text: str) -> tuple:
    """Parse an expression string to a tuple AST (raises StandardError)."""
    if not isinstance(text, str):
        raise StandardError(f"表达式必须是字符串 / expression must be a string: {text!r}")
    ast = _CACHE.get(text)
    if ast is None:
        ast = _CACHE[text] = _Parser(text).parse()
    return ast


def fields(ast: tuple) -> list[str]:
    """The fact fields an AST reads, in first-use order."""
    out: list[str] = []

    def walk(n: tuple) -> None:
        tag = n[0]
        if tag == "field":
            if n[1] not in out:
                out.append(n[1])
        elif tag == "lit":
            return
        elif tag in ("not", "neg"):
            walk(n[1])
        elif tag in ("and", "or"):
            walk(n[1])
            walk(n[2])
        elif tag in ("cmp", "arith"):
            walk(n[2])
            walk(n[3])
        elif tag == "call":
            for a in n[2]:
                walk(a)

    walk(ast)
    return out


def fallback_fields(ast: tuple) -> set[str]:
    """Fields read only inside ``coalesce(...)`` (a blank or absent one has a fallback)."""
    inside: set[str] = set()
    outside: set[str] = set()

    def walk(n: tuple, in_coalesce: bool) -> None:
        tag = n[0]
        if tag == "field":
            (inside if in_coalesce else outside).add(n[1])
        elif tag in ("not", "neg"):
            walk(n[1], in_coalesce)
        elif tag in ("and", "or"):
            walk(n[1], in_coalesce)
            walk(n[2], in_coalesce)
        elif tag in ("cmp", "arith"):
            walk(n[2], in_coalesce)
            walk(n[3], in_coalesce)
        elif tag == "call":
            for a in n[2]:
                walk(a, in_coalesce or n[1] == "coalesce")

    walk(ast, False)
    return inside - outside


def reason_fields(ast: tuple) -> list[str]:
    """Fields whose being unknown can make the expression unknown: all fields except those read only
    as ``coalesce(field, …, <literal>)`` arguments (they always have a default)."""
    defaulted: set[str] = set()
    elsewhere: set[str] = set()

    def walk(n: tuple) -> None:
        tag = n[0]
        if tag == "field":
            elsewhere.add(n[1])
        elif tag in ("not", "neg"):
            walk(n[1])
        elif tag in ("and", "or"):
            walk(n[1])
            walk(n[2])
        elif tag in ("cmp", "arith"):
            walk(n[2])
            walk(n[3])
        elif tag == "call":
            args = n[2]
            if n[1] == "coalesce" and args[-1][0] == "lit" and args[-1][1] is not None:
                for a in args[:-1]:
                    if a[0] == "field":
                        defaulted.add(a[1])
                    else:
                        walk(a)
                return
            for a in args:
                walk(a)

    walk(ast)
    return [f for f in fields(ast) if f in elsewhere or f not in defaulted]


def switch_names(ast: tuple) -> list[str]:
    """The switches an AST reads (``switch('name')``), in first-use order."""
    out: list[str] = []

    def walk(n: tuple) -> None:
        tag = n[0]
        if tag == "call":
            if n[1] == "switch":
                if n[2][0][1] not in out:
                    out.append(n[2][0][1])
                return
            for a in n[2]:
                walk(a)
        elif tag in ("not", "neg"):
            walk(n[1])
        elif tag in ("and", "or"):
            walk(n[1])
            walk(n[2])
        elif tag in ("cmp", "arith"):
            walk(n[2])
            walk(n[3])

    walk(ast)
    return out


def is_boolean(n: tuple) -> bool:
    """Whether a node always gives a boolean or null (so ``true and n`` is ``n`` in both backends)."""
    from .facts import FIELD_TYPES

    tag = n[0]
    if tag in ("cmp", "and", "or", "not"):
        return True
    if tag == "lit":
        return isinstance(n[1], bool)
    if tag == "call":
        return n[1] == "is_null"
    if tag == "field":
        typ = FIELD_TYPES.get(n[1])
        return typ is not None and typ == pl.Boolean
    return False


def bind(ast: tuple, switches: dict[str, bool]) -> tuple:
    """Replace ``switch('name')`` by its literal value and fold the constants it leaves in
    ``and`` / ``or`` / ``not`` (Kleene logic: ``false and x`` is false, ``true or x`` is true, even
    for an unknown x). Raises StandardError for a switch the standard does not define."""

    def walk(n: tuple) -> tuple:
        tag = n[0]
        if tag == "call" and n[1] == "switch":
            name = n[2][0][1]
            if name not in switches:
                raise StandardError(f"未定义的开关 {name!r} / undefined switch {name!r}")
            return ("lit", bool(switches[name]))
        if tag == "call":
            return ("call", n[1], tuple(walk(a) for a in n[2]))
        if tag == "neg":
            return ("neg", walk(n[1]))
        if tag == "not":
            a = walk(n[1])
            return ("lit", not a[1]) if a[0] == "lit" and isinstance(a[1], bool) else ("not", a)
        if tag in ("and", "or"):
            a, b = walk(n[1]), walk(n[2])
            absorbing, neutral = (False, True) if tag == "and" else (True, False)
            for x, y in ((a, b), (b, a)):
                if x == ("lit", absorbing):
                    return x
                if x == ("lit", neutral) and is_boolean(y):
                    return y
            return (tag, a, b)
        if tag in ("cmp", "arith"):
            return (tag, n[1], walk(n[2]), walk(n[3]))
        return n

    return walk(ast) if switch_names(ast) else ast


# ----------------------------------------------------------------------------------------------
# Python backend
# ----------------------------------------------------------------------------------------------

PyFn = Callable[[dict[str, Any]], Any]


def _py_div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    return a / b


#: Relative tolerance of numeric comparisons: a value within TOL * max(1, |boundary|) of a boundary
#: counts as on it, so a decimal input whose exact ratio equals the boundary (115/100 - 1 = 15%) is not
#: pushed to the wrong side by binary rounding. Both backends apply the identical float64 test.
TOL = 1e-9


def tolerance(b: float) -> float:
    return TOL * max(1.0, abs(b))


def py_num_cmp(op: str, a: Any, b: Any) -> Any:
    """Tolerant numeric comparison (None if either side is unknown)."""
    if a is None or b is None:
        return None
    t = TOL * max(1.0, abs(b))
    if op == ">=":
        return a >= b - t
    if op == ">":
        return a > b + t
    if op == "<=":
        return a <= b + t
    if op == "<":
        return a < b - t
    if op == "==":
        return abs(a - b) <= t
    return abs(a - b) > t


def pl_num_cmp(op: str, a: pl.Expr, b: pl.Expr | float) -> pl.Expr:
    """The batch twin of :func:`py_num_cmp`. A known (literal) ``b`` has its tolerance and bounds
    computed here, once, with the same float64 operations as per row."""
    if isinstance(b, pl.Expr):
        t: Any = TOL * pl.max_horizontal(pl.lit(1.0), b.cast(pl.Float64).abs())
    else:
        t = tolerance(float(b))
    if op == ">=":
        return a >= b - t
    if op == ">":
        return a > b + t
    if op == "<=":
        return a <= b + t
    if op == "<":
        return a < b - t
    if op == "==":
        return (a - b).abs() <= t
    return (a - b).abs() > t


_NON_NUMERIC_TAGS = {"not", "and", "or", "cmp"}


def is_numeric_cmp(ast: tuple) -> bool:
    """Whether a comparison node compares numbers (tolerant) rather than text/booleans (exact)."""
    from .facts import FIELD_TYPES

    for side in (ast[2], ast[3]):
        tag = side[0]
        if tag == "lit" and (side[1] is None or isinstance(side[1], (str, bool))):
            return False
        if tag in _NON_NUMERIC_TAGS:
            return False
        if tag == "call" and side[1] == "is_null":
            return False
        if tag == "field":
            typ = FIELD_TYPES.get(side[1])
            if typ is not None and not typ.is_numeric():
                return False
    return True


def _py_cmp(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def compile_py(ast: tuple) -> PyFn:
    tag = ast[0]
    if tag == "lit":
        v = ast[1]
        return lambda r: v
    if tag == "field":
        name = ast[1]
        return lambda r: r.get(name)
    if tag == "neg":
        f = compile_py(ast[1])

        def neg(r: dict) -> Any:
            v = f(r)
            return None if v is None else -v

        return neg
    if tag == "not":
        f = compile_py(ast[1])

        def not_(r: dict) -> Any:
            v = f(r)
            return None if v is None else (not v)

        return not_
    if tag == "and":
        fa, fb = compile_py(ast[1]), compile_py(ast[2])

        def and_(r: dict) -> Any:
            return kleene_and(fa(r), fb(r))

        return and_
    if tag == "or":
        fa, fb = compile_py(ast[1]), compile_py(ast[2])

        def or_(r: dict) -> Any:
            return kleene_or(fa(r), fb(r))

        return or_
    if tag == "cmp":
        op, fa, fb = ast[1], compile_py(ast[2]), compile_py(ast[3])
        if is_numeric_cmp(ast):
            return lambda r: py_num_cmp(op, fa(r), fb(r))
        return lambda r: _py_cmp(op, fa(r), fb(r))
    if tag == "arith":
        op, fa, fb = ast[1], compile_py(ast[2]), compile_py(ast[3])
        if op == "/":
            return lambda r: _py_div(fa(r), fb(r))

        def arith(r: dict) -> Any:
            a, b = fa(r), fb(r)
            if a is None or b is None:
                return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            return a * b

        return arith
    if tag == "call":
        name, args = ast[1], [compile_py(a) for a in ast[2]]
        if name == "ratio":
            fa, fb = args
            return lambda r: _py_div(fa(r), fb(r))
        if name == "growth":
            fbase, fcur = args

            def growth(r: dict) -> Any:
                q = _py_div(fcur(r), fbase(r))
                return None if q is None else q - 1

            return growth
        if name in ("max_of", "min_of"):
            agg = max if name == "max_of" else min

            def extreme(r: dict) -> Any:
                vals = [f(r) for f in args]
                if any(v is None for v in vals):
                    return None
                return agg(vals)

            return extreme
        if name == "if":
            fc, fa, fb = args

            def if_(r: dict) -> Any:
                c = fc(r)
                if c is None:
                    return None
                return fa(r) if c else fb(r)

            return if_
        if name == "coalesce":

            def coalesce(r: dict) -> Any:
                for f in args:
                    v = f(r)
                    if v is not None:
                        return v
                return None

            return coalesce
        if name == "is_null":
            f = args[0]
            return lambda r: f(r) is None
        if name == "floor":
            f = args[0]

            def floor(r: dict) -> Any:
                v = f(r)
                return None if v is None else float(math.floor(v))

            return floor
        if name == "last_years":
            fn, f1, f2, f3 = args

            def last_years(r: dict) -> Any:
                n = fn(r)
                if n is None:
                    return None
                a1, a2, a3 = f1(r), f2(r), f3(r)
                if n >= 3:
                    return None if a1 is None or a2 is None or a3 is None else a1 + a2 + a3
                if n >= 2:
                    return None if a2 is None or a3 is None else a2 + a3
                return a3

            return last_years
    raise StandardError(f"unknown expression node {ast!r}")


def kleene_and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return bool(a) and bool(b)


def kleene_or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return bool(a) or bool(b)


# ----------------------------------------------------------------------------------------------
# Polars backend
# ----------------------------------------------------------------------------------------------

NULL = pl.lit(None)


def pl_div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b == 0).then(NULL).otherwise(a.cast(pl.Float64) / b)


def pl_if(c: pl.Expr, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(c.is_null()).then(NULL).when(c).then(a).otherwise(b)


def never_null(ast: tuple) -> bool:
    """Whether an expression is known never to be null, whatever the facts (from its form alone: a
    known literal, ``coalesce`` ending in one, ``is_null``, and operations on such)."""
    tag = ast[0]
    if tag == "lit":
        return ast[1] is not None
    if tag in ("not", "neg"):
        return never_null(ast[1])
    if tag in ("and", "or"):
        return never_null(ast[1]) and never_null(ast[2])
    if tag == "cmp":
        return never_null(ast[2]) and never_null(ast[3])
    if tag == "arith":
        return ast[1] != "/" and never_null(ast[2]) and never_null(ast[3])
    if tag == "call":
        name, args = ast[1], ast[2]
        if name == "is_null":
            return True
        if name == "coalesce":
            return any(never_null(a) for a in args)
        if name == "if":
            return all(never_null(a) for a in args)
        if name == "floor":
            return never_null(args[0])
    return False


def compile_pl(ast: tuple) -> pl.Expr:
    tag = ast[0]
    if tag == "lit":
        return pl.lit(ast[1])
    if tag == "field":
        return pl.col(ast[1])
    if tag == "neg":
        return -compile_pl(ast[1])
    if tag == "not":
        return ~compile_pl(ast[1])
    if tag == "and":
        return compile_pl(ast[1]) & compile_pl(ast[2])
    if tag == "or":
        return compile_pl(ast[1]) | compile_pl(ast[2])
    if tag == "cmp":
        op, a, b = ast[1], compile_pl(ast[2]), compile_pl(ast[3])
        if is_numeric_cmp(ast):
            rhs = ast[3]
            if rhs[0] == "lit" and isinstance(rhs[1], (int, float)) and not isinstance(rhs[1], bool):
                return pl_num_cmp(op, a, rhs[1])
            return pl_num_cmp(op, a, b)
        return {
            "<": a.__lt__,
            "<=": a.__le__,
            ">": a.__gt__,
            ">=": a.__ge__,
            "==": a.__eq__,
            "!=": a.__ne__,
        }[op](b)
    if tag == "arith":
        op, a, b = ast[1], compile_pl(ast[2]), compile_pl(ast[3])
        if op == "/":
            return pl_div(a, b)
        return {"+": a.__add__, "-": a.__sub__, "*": a.__mul__}[op](b)
    if tag == "call":
        name, args = ast[1], [compile_pl(a) for a in ast[2]]
        if name == "ratio":
            return pl_div(args[0], args[1])
        if name == "growth":
            return pl_div(args[1], args[0]) - 1
        if name in ("max_of", "min_of"):
            any_null = pl.any_horizontal([a.is_null() for a in args])
            ext = pl.max_horizontal(args) if name == "max_of" else pl.min_horizontal(args)
            return pl.when(any_null).then(NULL).otherwise(ext)
        if name == "if":
            if never_null(ast[2][0]):  # a condition that is never unknown needs no null branch
                return pl.when(args[0]).then(args[1]).otherwise(args[2])
            return pl_if(*args)
        if name == "coalesce":
            return pl.coalesce(args)
        if name == "is_null":
            return args[0].is_null()
        if name == "floor":
            return args[0].cast(pl.Float64).floor()
        if name == "last_years":
            n, a1, a2, a3 = args
            if never_null(ast[2][0]):
                return pl.when(n >= 3).then(a1 + a2 + a3).when(n >= 2).then(a2 + a3).otherwise(a3)
            return (
                pl.when(n.is_null())
                .then(NULL)
                .when(n >= 3)
                .then(a1 + a2 + a3)
                .when(n >= 2)
                .then(a2 + a3)
                .otherwise(a3)
            )
    raise StandardError(f"unknown expression node {ast!r}")
