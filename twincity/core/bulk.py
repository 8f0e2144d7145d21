"""A fast bulk INSERT for the platform's heavy writes (the demo registry today; imports and scoring results next).

`bulk_create` builds a model instance per row and one huge multi-row statement per batch; `bulk_insert` adapts
only what the driver cannot take as it is (dates, datetimes, JSON, and decimals on backends other than SQLite)
the way the fields themselves do, and runs one prepared statement with executemany.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection


def bulk_insert(model, rows: Sequence[Sequence[Any]], columns: Sequence[str], *, constants: dict[str, Any] | None = None,
            batch_size: int) -> int:
    """INSERT rows (value sequences in `columns` order, by attname) with executemany, in batches.

    `bulk_create` builds a model instance per row and one huge multi-row statement per batch, and spent about
    0.5 ms a row here; this adapts only what the driver cannot take as it is (dates, datetimes, JSON, and
    decimal strings on backends other than SQLite) the way the fields themselves do, and runs one prepared
    statement. JSON values that are the same object (the shared provenance dicts) are serialised once.
    """
    ops = connection.ops
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    constants = constants or {}
    fields = [by_attname[name] for name in (*columns, *constants)]
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, f in enumerate(fields):
        internal = f.get_internal_type()
        if internal == "JSONField":
            memo: dict[int, Any] = {}  # by id(): every row stays alive until the call returns

            def adapt_json(value: Any, f=f, memo=memo) -> Any:
                key = id(value) if value else (type(value), 0)
                adapted = memo.get(key)
                if adapted is None:
                    adapted = memo[key] = ops.adapt_json_value(value, f.encoder)
                return adapted

            converters.append((i, adapt_json))
        elif internal == "DateField":
            converters.append((i, ops.adapt_datefield_value))
        elif internal == "DateTimeField":
            converters.append((i, ops.adapt_datetimefield_value))
        elif internal == "DecimalField" and connection.vendor != "sqlite":
            # SQLite gets the decimal string itself, which is what Django's own Decimal adapter sends it.
            converters.append((i, lambda v, f=f: ops.adapt_decimalfield_value(
                Decimal(v), f.max_digits, f.decimal_places)))
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )

    def adapted(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i, convert in row_converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        return values

    # Constant columns (the timestamps) are adapted once and appended to every row.
    width = len(columns)
    row_converters = [(i, convert) for i, convert in converters if i < width]
    constant_values = list(constants.values())
    for i, convert in converters:
        if i >= width and constant_values[i - width] is not None:
            constant_values[i - width] = convert(constant_values[i - width])

    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, [adapted(row) + constant_values for row in rows[start:start + batch_size]])
    return len(rows)
