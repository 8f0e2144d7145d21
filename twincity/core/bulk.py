"""Fast bulk writes for the platform's heavy paths (imports, scoring results, the audit trail of both, the demo).

`bulk_create` and `bulk_update` build a model instance per row and one large statement per batch (a CASE
expression per column for updates). These helpers adapt only what the driver cannot take as it is (dates,
datetimes, JSON, and decimals on backends other than SQLite) the way the fields themselves do, and run one
prepared statement with executemany. The values stored are the same as the ORM's.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


@contextmanager
def bulk_writes() -> Iterator[None]:
    """Inside a transaction of a long job that writes many rows in short transactions: on PostgreSQL the
    transaction commits without waiting for its WAL to reach the disk (`synchronous_commit = off` for it alone): a
    crash of the server may lose the last such transactions, never half of one nor any other transaction's
    writes, and the job's next ordinary commit waits for all of them. Nothing changes elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
    yield


def insert_frame(model: type[models.Model], frame: Any, *, batch_size: int = 5000) -> int:
    """INSERT the rows of a polars frame whose column names are the model's attnames and whose values are already
    what the database takes: JSON as its text, decimals as their text, dates as dates. On PostgreSQL the frame is
    one COPY (written as CSV by polars, no Python object per cell); elsewhere one executemany per batch. Runs in
    the caller's transaction."""
    import polars as pl

    if frame.height == 0:
        return 0
    fields = _fields(model, frame.columns)
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(f.column or f.name) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # CSV: an unquoted empty value is NULL, a quoted one ("") the empty text; columns that are never NULL
            # read an empty value as empty text either way.
            not_null = ", ".join(ops.quote_name(f.column or f.name) for f in fields if not f.null)
            options = f"FORMAT csv{f', FORCE_NOT_NULL ({not_null})' if not_null else ''}"
            data = frame.write_csv(include_header=False, null_value="", datetime_format="%Y-%m-%dT%H:%M:%S.%f%z")
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH ({options})") as copy:
                copy.write(data)
        else:
            text = frame.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
            for start in range(0, text.height, batch_size):
                cursor.executemany(sql, text.slice(start, batch_size).rows())
    return frame.height
