"""ORM queries compiled once and run many times: for the few reads on a hot path whose answer is a handful of
rows, where building and compiling the queryset costs the process more than the database spends answering it
(the booking transaction's reads: ~0.6–0.9 ms of CPU each through the ORM, ~0.1 ms prepared).

A `Prepared` query is written as an ordinary queryset — `build(**params)` returning a `values_list` — so the
ORM still writes the SQL, names the columns and converts the values. On its first run on a database vendor it is
built with two sample values per parameter and compiled; comparing the compiled parameters tells where each
parameter goes (the SQL must not depend on the values: a shape that does is refused), and the sample values,
prepared here as the ORM prepares them, must equal what the compiler produced (else it is refused too). Each run
then puts the new values in those places and applies the compiled query's converters to the rows.

Only parameters of the kinds `_prepare` knows (whole numbers, text, dates, times with a zone) are allowed; lists
of variable length (an `__in` of the caller's) are not: they change the SQL's shape.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from threading import Lock
from typing import Any

from django.db import connections
from django.db.models import QuerySet


class PreparedError(RuntimeError):
    """A query that cannot be prepared (its SQL depends on the values, or a value is prepared unlike the ORM)."""


def _prepare(value: Any, connection) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, Decimal):
        raise PreparedError("decimal parameters are not prepared (their adaptation depends on the field)")
    return value


class _Compiled:
    def __init__(self, sql: str, params: list, slots: dict[str, list[int]], converters: list) -> None:
        self.sql, self.params, self.slots, self.converters = sql, params, slots, converters


class Prepared:
    """`build(**params)` → a values_list queryset; `samples` gives two different values of each parameter."""

    def __init__(self, build: Callable[..., QuerySet], **samples: tuple[Any, Any]) -> None:
        self.build, self.samples = build, samples
        self._compiled: dict[str, _Compiled] = {}
        self._lock = Lock()

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        first = {name: pair[0] for name, pair in self.samples.items()}

        def compiled(values: dict[str, Any]):
            queryset = self.build(**values)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            return compiler, sql, list(params)

        compiler, sql, params = compiled(first)
        slots: dict[str, list[int]] = {}
        for name, (a, b) in self.samples.items():
            _c, other_sql, other = compiled({**first, name: b})
            if other_sql != sql or len(other) != len(params):
                raise PreparedError(f"the SQL depends on the value of {name!r}")
            slots[name] = [i for i, (x, y) in enumerate(zip(params, other, strict=True)) if x != y]
            if not slots[name] or any(params[i] != _prepare(a, connection) for i in slots[name]):
                raise PreparedError(f"{name!r} is not prepared as the ORM prepares it")
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        converters = list(compiler.get_converters(fields).items())
        return _Compiled(sql, params, slots, converters)

    def rows(self, using: str = "default", **values: Any) -> list[tuple]:
        connection = connections[using]
        key = f"{connection.vendor}:{using}"
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        params = list(compiled.params)
        for name, places in compiled.slots.items():
            prepared = _prepare(values[name], connection)
            for i in places:
                params[i] = prepared
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in map(list, rows):
            for pos, (convs, expression) in compiled.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            converted.append(tuple(row))
        return converted
