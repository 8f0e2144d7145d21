"""Fast bulk writes for the platform's heavy paths (imports, scoring results, the audit trail of both, the demo).

`bulk_create` and `bulk_update` build a model instance per row and one large statement per batch (a CASE
expression per column for updates). These helpers adapt only what the driver cannot take as it is (dates,
datetimes, JSON, and decimals on backends other than SQLite) the way the fields themselves do, and run one
prepared statement with executemany. The values stored are the same as the ORM's.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models

Converter = Callable[[Any], Any]


def _converters(fields: Sequence[models.Field]) -> list[tuple[int, Converter]]:
    ops = connection.ops
    converters: list[tuple[int, Converter]] = []
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
            # SQLite gets the decimal itself (Django registers str() as its adapter), as the ORM sends it.
            def adapt_decimal(value: Any, f: Any = f) -> Any:
                return ops.adapt_decimalfield_value(Decimal(value), f.max_digits, f.decimal_places)

            converters.append((i, adapt_decimal))
    return converters


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _execute(sql: str, rows: Sequence[Sequence[Any]], fields: list[models.Field], constants: list[Any],
             batch_size: int) -> None:
    width = len(fields) - len(constants)
    converters = _converters(fields)
    row_converters = [(i, convert) for i, convert in converters if i < width]
    constant_values = list(constants)
    for i, convert in converters:
        if i >= width and constant_values[i - width] is not None:
            constant_values[i - width] = convert(constant_values[i - width])

    def adapted(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i, convert in row_converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        return values + constant_values

    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, [adapted(row) for row in rows[start:start + batch_size]])


def bulk_insert(model: type[models.Model], rows: Sequence[Sequence[Any]], columns: Sequence[str], *,
                constants: dict[str, Any] | None = None, batch_size: int = 2000) -> int:
    """INSERT rows (value sequences in `columns` order, by attname) with executemany, in batches; `constants`
    are the same for every row (timestamps). JSON values that are the same object are serialised once."""
    constants = constants or {}
    fields = _fields(model, [*columns, *constants])
    ops = connection.ops
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column or f.name) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    _execute(sql, rows, fields, list(constants.values()), batch_size)
    return len(rows)


def bulk_update(model: type[models.Model], rows: Sequence[Sequence[Any]], columns: Sequence[str], *,
                constants: dict[str, Any] | None = None, batch_size: int = 2000) -> int:
    """UPDATE rows by primary key: each row holds the values of `columns` (by attname), then the primary key;
    `constants` are set on every row (updated_at)."""
    constants = constants or {}
    names = [*columns, *constants]
    pk = model._meta.pk
    assert pk is not None
    fields = _fields(model, names)
    ops = connection.ops
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        ops.quote_name(model._meta.db_table),
        ", ".join(f"{ops.quote_name(f.column or f.name)} = %s" for f in fields),
        ops.quote_name(pk.column or pk.name),
    )
    # The key goes last, after the constants: move it behind them for each row.
    width = len(columns)
    reordered = [(*row[:width], *constants.values(), row[width]) for row in rows]
    _execute_keyed(sql, reordered, fields, batch_size)
    return len(rows)


def _execute_keyed(sql: str, rows: Sequence[Sequence[Any]], fields: list[models.Field], batch_size: int) -> None:
    converters = _converters(fields)

    def adapted(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i, convert in converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        return values

    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, [adapted(row) for row in rows[start:start + batch_size]])
