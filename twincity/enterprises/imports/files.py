"""Reading an import file: CSV or XLSX in, one record of raw cell values per row out. No database, no cleaning:
the values are cleaned by the registry's one validation (twincity.enterprises.validation) in `rows`.

Conventions (facts.md): field names are the contract; a header cell may be `name`, `name (中文标签)` or the
Chinese label alone. Row numbers are those a person sees in a spreadsheet: the header is row 1, the first
record row 2. A blank cell is left out of its record: it changes nothing (see validation for how to clear).
"""

import codecs
import csv
import difflib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from django.utils import timezone
from openpyxl.utils.exceptions import InvalidFileException

from twincity.enterprises.fields import (
    DECLARATION_FIGURES,
    DECLARATION_KEY_FIELDS,
    ENTERPRISE_FIELDS,
    FieldSpec,
)

ImportKind = Literal["enterprises", "declarations"]
KINDS: tuple[ImportKind, ...] = ("enterprises", "declarations")
FORMATS = ("csv", "xlsx")

SOURCE_SUFFIX = "__source"
VERIFIED_SUFFIX = "__verified"

# What openpyxl raises for a file that is not a readable workbook.
XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError)
NAME_PREFIX_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*[（(]")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file: where (row as seen in a spreadsheet, column name), the cell, and why."""

    row: int
    column: str
    value: str
    reason_zh: str
    reason_en: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class FileRejected(Exception):
    """The file cannot be read at all or its header is wrong; nothing below the header was looked at."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.reason_en for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Column:
    """A column a file may carry: a registry field, or a figure's provenance (`<figure>__source`,
    `<figure>__verified`)."""

    spec: FieldSpec
    provenance_of: str = ""  # the figure whose provenance this column states

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def header(self) -> str:
        return self.spec.header


def _provenance_columns(spec: FieldSpec) -> tuple[Column, Column]:
    return (
        Column(FieldSpec(spec.name + SOURCE_SUFFIX, f"{spec.label_zh}·数据来源", f"{spec.label_en}: source",
                         "choice"), provenance_of=spec.name),
        Column(FieldSpec(spec.name + VERIFIED_SUFFIX, f"{spec.label_zh}·已核实", f"{spec.label_en}: verified",
                         "bool"), provenance_of=spec.name),
    )


def columns_for(kind: ImportKind) -> tuple[Column, ...]:
    """Every column a file of this kind may carry, in template order."""
    if kind == "enterprises":
        return tuple(Column(spec) for spec in ENTERPRISE_FIELDS)
    if kind == "declarations":
        return (
            *(Column(spec) for spec in DECLARATION_KEY_FIELDS),
            *(Column(spec) for spec in DECLARATION_FIGURES),
            *(column for spec in DECLARATION_FIGURES for column in _provenance_columns(spec)),
        )
    raise ValueError(f"unknown import kind {kind!r}")


def _normalise_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def _header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        zh = column.spec.label_zh
        for form in (column.name, zh, column.header, f"{column.name}({zh})", f"{column.name}（{zh}）",
                     f"{column.name} （{zh}）"):
            lookup.setdefault(_normalise_header(form), column)
    return lookup


def _map_header(kind: ImportKind, header: list[Any]) -> list[Column | None]:
    """The column of each header cell (None for an empty cell); FileRejected naming every bad column."""
    columns = columns_for(kind)
    lookup = _header_lookup(columns)
    by_name = {column.name: column for column in columns}
    mapped: list[Column | None] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for cell in header:
        text = _normalise_header("" if cell is None else str(cell))
        if not text:
            mapped.append(None)
            continue
        column = lookup.get(text)
        if column is None:
            prefix = NAME_PREFIX_RE.match(text)
            column = by_name.get(prefix.group(1)) if prefix else None
        if column is None:
            close = difflib.get_close_matches(text, list(by_name), n=1, cutoff=0.75)
            hint_zh = f"；是否应为 {close[0]}？" if close else ""
            hint_en = f"; did you mean {close[0]}?" if close else ""
            errors.append(RowError(1, text, text, f"未知的列“{text}”{hint_zh}", f"unknown column '{text}'{hint_en}"))
            mapped.append(None)
            continue
        if column.name in seen:
            errors.append(RowError(1, column.name, text, f"列重复：“{seen[column.name]}”与“{text}”",
                                   f"duplicate column: '{seen[column.name]}' and '{text}'"))
        seen[column.name] = text
        mapped.append(column)
    for column in columns:
        if column.required and column.name not in seen:
            errors.append(RowError(1, column.name, "", f"缺少必需的列 {column.header}",
                                   f"required column {column.name} is missing"))
    if errors:
        raise FileRejected(errors)
    return mapped


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def shown(raw: Any) -> str:
    """A cell as an error message quotes it."""
    if raw is None:
        return ""
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)[:200]


# --- Files -------------------------------------------------------------------------------------------------


def file_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise FileRejected([RowError(0, "", filename, "只支持 .csv 和 .xlsx 文件",
                                     "only .csv and .xlsx files can be imported")])
    return suffix


def _csv_encoding(path: Path) -> str:
    """utf-8 (with or without BOM) when the start of the file decodes as such, else GB18030 (a superset of GBK)."""
    with open(path, "rb") as handle:
        head = handle.read(256 * 1024)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    encoding = _csv_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        first = handle.readline()
        delimiter = "\t" if "\t" in first and "," not in first else ","
        handle.seek(0)
        try:
            yield from csv.reader(handle, delimiter=delimiter)
        except UnicodeDecodeError:
            raise FileRejected([RowError(0, "", "", "文件编码无法识别，请保存为 UTF-8 的 CSV",
                                         "the file's encoding is not recognised; save it as UTF-8 CSV")]) from None
        except csv.Error as exc:
            raise FileRejected([RowError(0, "", "", f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")]) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # imported here: only XLSX imports need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise FileRejected([RowError(0, "", "", "无法读取该 XLSX 文件", f"the XLSX file cannot be read: {exc}")]
                           ) from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def estimate_rows(path: Path, fmt: str) -> int:
    """A quick guess at the number of records, for a progress bar before the file has been read."""
    if fmt == "csv":
        lines = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(lines - 1, 1)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
        rows = workbook.worksheets[0].max_row or 1
        workbook.close()
    except XLSX_ERRORS:
        return 1
    return max(rows - 1, 1)


@dataclass
class Record:
    """One non-blank row: its number and its non-blank cells by column name (raw, as the file holds them)."""

    row: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


def read_records(kind: ImportKind, path: Path | str, filename: str) -> Iterator[Record]:
    """Records of a CSV or XLSX file of this kind, one per non-blank row.

    Raises FileRejected (before yielding anything) when the file is unreadable or its header is wrong.
    """
    path = Path(path)
    csv_file = file_format(filename) == "csv"
    rows = _csv_rows(path) if csv_file else _xlsx_rows(path)
    try:
        header = next(rows, None)
        if header is None or all(_blank(cell) for cell in header):
            raise FileRejected([RowError(1, "", "", "第1行应为表头，但它是空的（或文件为空）",
                                         "row 1 must hold the header, but it is empty (or the file is)")])
        columns = _map_header(kind, list(header))
        width = len(columns)
        names = [column.name for column in columns if column is not None]
        text_cells = csv_file and len(names) == width  # every cell a str, every column named
        for number, cells in enumerate(rows, start=2):
            if text_cells and len(cells) <= width:
                # The common case (a CSV row no wider than its header): the non-blank cells by column name, in one
                # step; str.isspace() holds exactly for the non-empty cells str.strip() empties (_blank).
                values = {name: cell for name, cell in zip(names, cells) if cell and not cell.isspace()}
                if values:
                    yield Record(row=number, values=values)
                continue
            record = Record(row=number, values={})
            for index, raw in enumerate(cells):
                if _blank(raw):
                    continue
                column = columns[index] if index < width else None
                if column is None:
                    record.errors.append(RowError(number, f"#{index + 1}", shown(raw), "该列没有表头",
                                                  "this column has no header"))
                    continue
                record.values[column.name] = raw
            if record.values or record.errors:
                yield record
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


# --- Templates ---------------------------------------------------------------------------------------------

EXAMPLE_CODE = "91500107MA61ABCD0Q"  # fictitious, with a valid GB 32100-2015 check character

EXAMPLES: dict[str, dict[str, Any]] = {
    "enterprises": {
        "credit_code": EXAMPLE_CODE,
        "name": "示例科技有限公司（示例行，请删除）",
        "city": "chongqing",
        "district": "高新区",
        "registered_on": "2019-06-18",
        "industry_cluster": "ic",
        "industry_code": "C3973",
        "size_class": "small",
        "resident": "Y",
        "prohibited": "N",
        "compliant": "Y",
        "is_sme": "Y",
        "contact_person": "张三",
        "contact_phone": "023-6588 0000",
        "ip_I_self": 4,
        "ip_I_acq": 0,
        "ip_I_hv": 1,
        "ip_II": 12,
        "transforms_3y": 5,
    },
    "declarations": {
        "credit_code": EXAMPLE_CODE,
        "fiscal_year": None,  # the last completed fiscal year, filled in when the template is made
        "employees": 120,
        "tech_staff": 40,
        "rd_staff": 30,
        "sales": "8650.5",
        "oprev": "8650.5",
        "main": "8200",
        "na": "3200",
        "assets": "9800",
        "liab": "6600",
        "rd": "720.3",
        "rd_dom": "700",
        "cost": "7900",
        "total_income": "8700",
        "hitech_rev": "6100",
        "net_profit": "410",
        "tax": "260",
        "equity_new": "",
        "tech_contract": "150",
        "sales__source": "tax",
    },
}


def template_rows(kind: ImportKind) -> tuple[list[str], list[Any]]:
    columns = columns_for(kind)
    example = {**EXAMPLES[kind]}
    if "fiscal_year" in example:
        example["fiscal_year"] = timezone.localdate().year - 1
    return [c.header for c in columns], [example.get(c.name, "") for c in columns]


def template_csv(kind: ImportKind) -> bytes:
    header, example = template_rows(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(example)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel open it as UTF-8


def template_xlsx(kind: ImportKind) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header, example = template_rows(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append(header)
    sheet.append(example)
    for index, column in enumerate(columns_for(kind), start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(14, min(40, len(column.header) + 4))
        if column.spec.kind in {"credit_code", "text"}:
            sheet[f"{letter}2"].number_format = "@"  # keep 18-digit credit codes as text
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
