"""Spreadsheet exports that cannot carry formulas: every CSV and XLSX the platform writes goes through these.

A text cell that starts with = + - @ (or a tab or carriage return) is a formula to Excel and LibreOffice
("formula injection", OWASP CSV Injection). CSV text cells get a leading apostrophe, which spreadsheets show as
text and hide; XLSX text cells are written as strings, never as formulas. Numbers and booleans are values, never
text, so they are left as they are; dates are ISO text in both.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> str:
    """One CSV cell: text made inert, other values as their plain text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True,
              chunk: int = 1000) -> Iterator[str]:
    """CSV text in pieces (the UTF-8 BOM first, so Excel reads Chinese), for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(name) for name in header])
    yield ("\ufeff" if bom else "") + buffer.getvalue()
    pending: list[list[str]] = []
    for row in rows:
        pending.append([csv_text(value) for value in row])
        if len(pending) >= chunk:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(pending)
            pending.clear()
            yield buffer.getvalue()
    if pending:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(pending)
        yield buffer.getvalue()


def xlsx_bytes(sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook; text is stored as text (never a formula), decimals as numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)

    def cell(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()  # as the CSV has it: ISO text, the same in every locale
        if isinstance(value, str):
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"  # openpyxl would store "=…" as a formula
            return text
        return value

    sheet.append([cell(name) for name in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
