"""Reading an import file: CSV or XLSX in, one record of typed values per row out, with every problem found.

Pure parsing and cell validation; no database. The services (services_import.py) add the checks that need the
registry (does the company exist, may this person change it) and do the writes.

Conventions (facts.md): field names are the contract; a header cell may be `name`, `name (中文标签)` or the
Chinese label alone. A blank cell means unknown (None). A column that is absent from the file is left as it is.
Row numbers are those a person sees in a spreadsheet: the header is row 1, the first record row 2.
"""

import codecs
import csv
import difflib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from openpyxl.utils.exceptions import InvalidFileException
from stdnum.cn import uscc

from twincity.enterprises.fields import (
    DECLARATION_FIGURES,
    DECLARATION_KEY_FIELDS,
    ENTERPRISE_FIELDS,
    INDUSTRY_CLUSTERS,
    SIZE_CLASSES,
    SOURCES,
    FieldSpec,
)
from twincity.enterprises.validators import credit_code_problem, normalise_credit_code

ImportKind = Literal["enterprises", "declarations"]
KINDS: tuple[ImportKind, ...] = ("enterprises", "declarations")
FORMATS = ("csv", "xlsx")

SOURCE_SUFFIX = "__source"
VERIFIED_SUFFIX = "__verified"

# Enterprise count fields are inventories (never negative); declaration head counts may be negative and are
# then flagged by the consistency checks, as declaration_upsert does.
COUNT_LIMIT = 10_000_000
MONEY_LIMIT = Decimal(10) ** 12  # DecimalField(max_digits=16, decimal_places=4)
MONEY_STEP = Decimal("0.0001")
TEXT_LIMITS = {"name": 200, "city": 32, "district": 64, "industry_code": 8}
CITY_ALIASES = {"重庆": "chongqing", "重庆市": "chongqing", "成都": "chengdu", "成都市": "chengdu"}
TRUE_WORDS = {"y", "yes", "true", "1", "是", "t"}
FALSE_WORDS = {"n", "no", "false", "0", "否", "f"}
INDUSTRY_CODE_RE = re.compile(r"^[A-T]\d{0,4}$")
CITY_RE = re.compile(r"^[a-z]{2,32}$")
CREDIT_CODE_RE = re.compile(r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$")
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


class CellError(Exception):
    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_zh = reason_zh
        self.reason_en = reason_en


class FileRejected(Exception):
    """The file cannot be read at all or its header is wrong; nothing below the header was looked at."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.reason_en for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    label_zh: str
    label_en: str
    kind: str  # int, count, year, money, text, date, bool, source, credit_code
    required: bool = False

    @property
    def header(self) -> str:
        return f"{self.name} ({self.label_zh})"


def _column(spec: FieldSpec, *, kind_override: str | None = None) -> Column:
    return Column(spec.name, spec.label_zh, spec.label_en, kind_override or spec.kind, spec.required)


def columns_for(kind: ImportKind) -> tuple[Column, ...]:
    """Every column a file of this kind may carry, in template order."""
    if kind == "enterprises":
        return tuple(
            _column(
                spec,
                kind_override="credit_code"
                if spec.name == "credit_code"
                else "count"
                if spec.kind == "int"
                else None,
            )
            for spec in ENTERPRISE_FIELDS
        )
    if kind == "declarations":
        key = tuple(
            _column(spec, kind_override="credit_code" if spec.name == "credit_code" else "year")
            for spec in DECLARATION_KEY_FIELDS
        )
        figures = tuple(_column(spec) for spec in DECLARATION_FIGURES)
        provenance = tuple(
            column
            for spec in DECLARATION_FIGURES
            for column in (
                Column(
                    spec.name + SOURCE_SUFFIX,
                    f"{spec.label_zh}·数据来源",
                    f"{spec.label_en}: source",
                    "source",
                ),
                Column(
                    spec.name + VERIFIED_SUFFIX,
                    f"{spec.label_zh}·已核实",
                    f"{spec.label_en}: verified",
                    "bool",
                ),
            )
        )
        return key + figures + provenance
    raise ValueError(f"unknown import kind {kind!r}")


def _normalise_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def _header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for form in (
            column.name,
            column.label_zh,
            column.header,
            f"{column.name}({column.label_zh})",
            f"{column.name}（{column.label_zh}）",
            f"{column.name} （{column.label_zh}）",
        ):
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
            errors.append(
                RowError(1, text, text, f"未知的列“{text}”{hint_zh}", f"unknown column '{text}'{hint_en}")
            )
            mapped.append(None)
            continue
        if column.name in seen:
            errors.append(
                RowError(
                    1,
                    column.name,
                    text,
                    f"列重复：“{seen[column.name]}”与“{text}”",
                    f"duplicate column: '{seen[column.name]}' and '{text}'",
                )
            )
        seen[column.name] = text
        mapped.append(column)
    for column in columns:
        if column.required and column.name not in seen:
            errors.append(
                RowError(
                    1,
                    column.name,
                    "",
                    f"缺少必需的列 {column.header}",
                    f"required column {column.name} is missing",
                )
            )
    if errors:
        raise FileRejected(errors)
    return mapped


# --- Cells -------------------------------------------------------------------------------------------------


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    return text or None


def _bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = _text(raw)
    if text is None:
        return None
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("应为 Y/N、是/否、true/false 或 1/0", "expected Y/N, 是/否, true/false or 1/0")


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        raise CellError("不是有效数字", "not a number")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = _text(raw)
    if text is None:
        return None
    try:
        number = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise CellError("不是有效数字", "not a number") from None
    if not number.is_finite():
        raise CellError("不是有效数字", "not a number")
    return number


def _integer(raw: Any, *, low: int, high: int) -> int | None:
    number = _decimal(raw)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError("应为整数", "expected a whole number")
    value = int(number)
    if not low <= value <= high:
        raise CellError(f"应在 {low} 到 {high} 之间", f"expected a value between {low} and {high}")
    return value


def _money(raw: Any) -> Decimal | None:
    number = _decimal(raw)
    if number is None:
        return None
    # 万元 to four places is one yuan; finer digits are rounded as declaration_upsert does.
    number = number.quantize(MONEY_STEP, rounding=ROUND_HALF_EVEN)
    if abs(number) >= MONEY_LIMIT:
        raise CellError("金额过大（单位为万元）", "amount too large (the unit is 10,000 CNY)")
    return number


def _date(raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(raw)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        raise CellError("日期格式应为 YYYY-MM-DD", "expected a date as YYYY-MM-DD") from None


def _credit_code(raw: Any) -> str | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # Excel keeps 15 significant digits: an 18-digit code typed into a number cell has lost its tail.
        raise CellError(
            "统一社会信用代码被存为数字，后几位已丢失；请将该列设为文本格式",
            "the credit code was stored as a number and lost digits; format the column as text",
        )
    text = _text(raw)
    if text is None:
        return None
    if CREDIT_CODE_RE.match(text) and uscc.calc_check_digit(text) == text[-1]:
        return text  # the common case, without stdnum's slower clean-up
    code = normalise_credit_code(text)
    problem = credit_code_problem(code)
    if problem:
        raise CellError(*problem)
    return code


def _choice(raw: Any, choices: dict[str, tuple[str, str]], what_zh: str, what_en: str) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    if text.lower() in choices:
        return text.lower()
    for key, (zh, en) in choices.items():
        if text == zh or text.lower() == en.lower():
            return key
    allowed = ", ".join(choices)
    raise CellError(f"未知的{what_zh}，可选：{allowed}", f"unknown {what_en}; one of: {allowed}")


def _plain_text(name: str, raw: Any) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    limit = TEXT_LIMITS.get(name)
    if limit and len(text) > limit:
        raise CellError(f"过长（最多{limit}个字符）", f"too long (at most {limit} characters)")
    if name == "city":
        text = CITY_ALIASES.get(text, text.lower())
        if not CITY_RE.match(text):
            raise CellError(
                "注册地应为城市拼音，如 chongqing、chengdu", "city must be pinyin, e.g. chongqing, chengdu"
            )
    elif name == "industry_code":
        text = text.upper()
        if not INDUSTRY_CODE_RE.match(text):
            raise CellError("国民经济行业代码格式错误，如 C3973", "industry code must look like C3973")
    elif name == "industry_cluster":
        return _choice(text, INDUSTRY_CLUSTERS, "产业集群", "industry cluster")
    elif name == "size_class":
        return _choice(text, SIZE_CLASSES, "企业规模", "size class")
    return text


def coerce_cell(column: Column, raw: Any) -> Any:
    """The typed value of one cell, None when blank; CellError when it cannot be one."""
    kind = column.kind
    if kind == "money":
        return _money(raw)
    if kind == "int":
        return _integer(raw, low=-COUNT_LIMIT, high=COUNT_LIMIT)
    if kind == "count":
        return _integer(raw, low=0, high=COUNT_LIMIT)
    if kind == "year":
        return _integer(raw, low=1980, high=date.today().year)
    if kind == "bool":
        return _bool(raw)
    if kind == "date":
        return _date(raw)
    if kind == "credit_code":
        return _credit_code(raw)
    if kind == "source":
        return _choice(raw, SOURCES, "数据来源", "source")
    return _plain_text(column.name, raw)


def _shown(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    return str(raw)[:200]


# --- Files -------------------------------------------------------------------------------------------------


def file_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise FileRejected(
            [
                RowError(
                    0, "", filename, "只支持 .csv 和 .xlsx 文件", "only .csv and .xlsx files can be imported"
                )
            ]
        )
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
            raise FileRejected(
                [
                    RowError(
                        0,
                        "",
                        "",
                        "文件编码无法识别，请保存为 UTF-8 的 CSV",
                        "the file's encoding is not recognised; save it as UTF-8 CSV",
                    )
                ]
            ) from None
        except csv.Error as exc:
            raise FileRejected(
                [RowError(0, "", "", f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")]
            ) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # imported here: only XLSX imports need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise FileRejected(
            [RowError(0, "", "", "无法读取该 XLSX 文件", f"the XLSX file cannot be read: {exc}")]
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
    row: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


def read_records(kind: ImportKind, path: Path | str, filename: str) -> Iterator[Record]:
    """Records of a CSV or XLSX file of this kind, one per non-blank row, each with its own cell errors.

    Raises FileRejected (before yielding anything) when the file is unreadable or its header is wrong.
    Values hold only the columns present in the file; provenance columns come back as `<figure>__source` /
    `<figure>__verified` like any other value.
    """
    path = Path(path)
    rows = _csv_rows(path) if file_format(filename) == "csv" else _xlsx_rows(path)
    try:
        header = next(rows, None)
        if header is None or not any(_text(cell) is not None for cell in header):
            raise FileRejected(
                [
                    RowError(
                        1,
                        "",
                        "",
                        "第1行应为表头，但它是空的（或文件为空）",
                        "row 1 must hold the header, but it is empty (or the file is)",
                    )
                ]
            )
        columns = _map_header(kind, list(header))
        width = len(columns)
        for number, cells in enumerate(rows, start=2):
            if not any(_text(cell) is not None for cell in cells):
                continue
            record = Record(row=number, values={})
            for index, raw in enumerate(cells):
                column = columns[index] if index < width else None
                if column is None:
                    if _text(raw) is not None:
                        record.errors.append(
                            RowError(
                                number,
                                f"#{index + 1}",
                                _shown(raw),
                                "该列没有表头",
                                "this column has no header",
                            )
                        )
                    continue
                try:
                    record.values[column.name] = coerce_cell(column, raw)
                except CellError as exc:
                    record.errors.append(
                        RowError(number, column.name, _shown(raw), exc.reason_zh, exc.reason_en)
                    )
            for column in columns:
                if column is not None and column.name not in record.values:
                    record.values[column.name] = None  # a short row: the missing cells are blank
            yield record
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


def provenance_columns(values: dict[str, Any]) -> set[str]:
    """The figures whose provenance the record carries (either its source or its verified column)."""
    return {
        name.removesuffix(SOURCE_SUFFIX).removesuffix(VERIFIED_SUFFIX)
        for name in values
        if name.endswith((SOURCE_SUFFIX, VERIFIED_SUFFIX))
    }


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
        "ip_I_self": 4,
        "ip_I_acq": 0,
        "ip_I_hv": 1,
        "ip_II": 12,
        "transforms_3y": 5,
    },
    "declarations": {
        "credit_code": EXAMPLE_CODE,
        "fiscal_year": date.today().year - 1,
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
        "sales__verified": "Y",
    },
}


def template_rows(kind: ImportKind) -> tuple[list[str], list[Any]]:
    columns = columns_for(kind)
    example = EXAMPLES[kind]
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
        if column.kind in {"credit_code", "text"}:
            sheet[f"{letter}2"].number_format = "@"  # keep 18-digit credit codes as text
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
