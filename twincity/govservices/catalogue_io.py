"""The catalogue as a spreadsheet: export every published item (one row each), and import such a file all or
nothing. Each row creates an item (a new code), publishes a new version (a published code whose values
changed) or leaves it (unchanged). Every problem of every row is found before anything is written; then one
422 `import_invalid` lists them with the row (as a spreadsheet shows it) and the column (enterprises'
RowError shape). The writes go through the services (item_create / item_version_create): audited, versioned.
"""

import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from twincity.accounts.models import Organisation
from twincity.core.access import require
from twincity.core.errors import InvalidInput
from twincity.core.exports import xlsx_bytes
from twincity.enterprises.imports.files import XLSX_ERRORS, RowError, shown
from twincity.govservices import access, rules, services
from twincity.govservices.models import ServiceItem

COLUMNS = (
    ("code", "事项编码"), ("city", "城市"), ("name", "事项名称"), ("item_type", "事项类型"), ("handling", "业务办理项"),
    ("department", "主管部门"), ("implementing_body", "实施机关"), ("legal_basis", "设定和实施依据"),
    ("legal_limit_days", "法定时限（工作日）"), ("promised_limit_days", "承诺时限（工作日）"), ("fee", "收费（元）"),
    ("fee_basis", "收费依据"), ("cross_city_mode", "川渝通办方式"), ("areas", "领域标签"),
    ("situations", "办理情形（JSON）"), ("materials", "材料（JSON）"), ("pause_steps", "特殊环节（JSON）"),
    ("version", "版本"),
)
HEADER = tuple(f"{key}（{label}）" for key, label in COLUMNS)
MAX_ROWS = 5000


def item_row(item: ServiceItem) -> list[Any]:
    d = item.definition
    return [item.code, item.city, item.name, item.item_type, item.handling, item.department.name,
            item.implementing_body.name, item.legal_basis, item.legal_limit_days, item.promised_limit_days, item.fee,
            item.fee_basis, item.cross_city_mode, ",".join(item.areas),
            json.dumps(d.get("situations", []), ensure_ascii=False),
            json.dumps(d.get("materials", []), ensure_ascii=False),
            json.dumps(d.get("pause_steps", []), ensure_ascii=False), item.version]


def catalogue_xlsx(items: Iterable[ServiceItem]) -> bytes:
    """The items as one sheet, with HEADER; read back by catalogue_import."""
    return xlsx_bytes("政务服务事项", HEADER, (item_row(i) for i in items))


def _header_key(text: Any) -> str:
    value = str(text or "").strip()
    return value.split("（")[0].split("(")[0].strip().lower()


def _rows(content: bytes) -> list[tuple[Any, ...]]:
    import io

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise InvalidInput("无法读取该 XLSX 文件 / the XLSX file cannot be read", code="import_invalid",
                           extra={"errors": [RowError(0, "", "", "无法读取该 XLSX 文件",
                                                      f"the XLSX file cannot be read: {exc}").as_dict()]}) from None
    try:
        return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _parse(row_no: int, cells: dict[str, Any], departments: dict[str, Organisation],
           errors: list[RowError]) -> dict[str, Any] | None:
    """One row's item values (for the services), or None with its errors added."""
    start = len(errors)

    def bad(column: str, reason_zh: str, reason_en: str) -> None:
        errors.append(RowError(row_no, column, shown(cells.get(column)), reason_zh, reason_en))

    values: dict[str, Any] = {}
    for key in ("code", "city", "name", "item_type", "handling", "cross_city_mode"):
        text = str(cells.get(key) or "").strip()
        if not text:
            bad(key, "不能为空", "required")
        values[key] = text
    vocabularies = {"item_type": rules.ITEM_TYPES, "handling": rules.HANDLING_KINDS,
                    "cross_city_mode": rules.CROSS_CITY_MODES, "city": {"chongqing": "", "chengdu": ""}}
    for key, vocabulary in vocabularies.items():
        if values[key] and values[key] not in vocabulary:
            bad(key, f"须为 {', '.join(vocabulary)} 之一", f"one of {', '.join(vocabulary)}")
    for key in ("department", "implementing_body"):
        name = str(cells.get(key) or "").strip()
        org = departments.get(name)
        if org is None:
            bad(key, "没有这个政府部门（按名称）", "no government organisation of this name")
        values[key] = org
    for key in ("legal_limit_days", "promised_limit_days"):
        number = _int(cells.get(key))
        if number is None or not 0 <= number <= 365:
            bad(key, "须为 0–365 的整数（工作日）", "whole working days, 0–365")
        values[key] = number
    try:
        fee = Decimal(str(cells.get("fee") if cells.get("fee") not in (None, "") else 0))
        if not fee.is_finite() or fee < 0:
            raise InvalidOperation
        values["fee"] = fee
    except InvalidOperation:
        bad("fee", "须为非负金额（元）", "a non-negative amount in yuan")
    areas = [a.strip() for a in str(cells.get("areas") or "").replace("，", ",").split(",") if a.strip()]
    unknown = [a for a in areas if a not in rules.AREAS]
    if unknown:
        bad("areas", f"未知领域标签 {unknown}", f"unknown areas {unknown}")
    values["areas"] = areas
    definition: dict[str, Any] = {}
    for key in ("situations", "materials", "pause_steps"):
        text = cells.get(key)
        try:
            parsed = json.loads(text) if isinstance(text, str) and text.strip() else []
            if not isinstance(parsed, list):
                raise ValueError
            definition[key] = parsed
        except ValueError:
            bad(key, "须为 JSON 数组", "a JSON array")
    values["legal_basis"] = str(cells.get("legal_basis") or "")
    values["fee_basis"] = str(cells.get("fee_basis") or "")[:300]
    if len(errors) == start:
        try:
            values["definition"] = rules.definition_check(definition)
            rules.limits_check(values["legal_limit_days"], values["promised_limit_days"])
        except rules.RuleError as exc:
            column = "promised_limit_days" if exc.code == "promise_over_legal_limit" else "materials"
            for reason in exc.extra.get("errors", [exc.message]):
                bad(column, str(reason).split(" / ")[0], str(reason).split(" / ")[-1])
    return values if len(errors) == start else None


EDIT_FIELDS = ("city", "name", "item_type", "handling", "department", "implementing_body", "legal_basis",
               "legal_limit_days", "promised_limit_days", "fee", "fee_basis", "cross_city_mode", "areas",
               "definition")


def _changed(item: ServiceItem, values: dict[str, Any]) -> bool:
    for key in EDIT_FIELDS:
        current = getattr(item, key)
        if key == "fee":
            if Decimal(current) != Decimal(values[key]).quantize(Decimal("0.01")):
                return True
        elif current != values[key]:
            return True
    return False


def catalogue_import(*, actor, content: bytes) -> dict[str, list[str]]:
    """Import a catalogue sheet (all or nothing). Answers {"created": [codes], "versioned": [codes],
    "unchanged": [codes]}; 422 import_invalid with extra.errors (row, column, value, reason_zh, reason_en)."""
    require(access.can_edit_catalogue(actor))
    rows = _rows(content)
    if not rows:
        raise InvalidInput("文件为空 / the file is empty", code="import_invalid",
                           extra={"errors": [RowError(0, "", "", "文件为空", "the file is empty").as_dict()]})
    keys = [_header_key(text) for text in rows[0]]
    missing = [key for key, _label in COLUMNS[:-1] if key not in keys]
    if missing:
        raise InvalidInput("表头缺少列 / the header lacks columns", code="import_invalid",
                           extra={"errors": [RowError(1, key, "", "缺少此列", "this column is missing").as_dict()
                                             for key in missing]})
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(f"最多 {MAX_ROWS} 行 / at most {MAX_ROWS} rows", code="too_many_rows")
    departments = {o.name: o for o in Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT)}
    errors: list[RowError] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows[1:], start=2):
        if all(cell in (None, "") for cell in row):
            continue
        cells = {key: row[i] if i < len(row) else None for i, key in enumerate(keys)}
        values = _parse(index, cells, departments, errors)
        code = str(cells.get("code") or "").strip()
        if code and code in seen:
            errors.append(RowError(index, "code", code, f"与第 {seen[code]} 行重复", f"duplicates row {seen[code]}"))
            continue
        seen[code] = index
        if values is not None:
            parsed.append((index, values))
    if errors:
        raise InvalidInput(f"导入文件有 {len(errors)} 处错误，未导入任何事项 / {len(errors)} errors, nothing imported",
                           code="import_invalid", extra={"errors": [e.as_dict() for e in errors]})
    result: dict[str, list[str]] = {"created": [], "versioned": [], "unchanged": []}
    with transaction.atomic():
        current = {i.code: i for i in ServiceItem.objects.filter(code__in=[v["code"] for _, v in parsed],
                                                                   status=ServiceItem.Status.PUBLISHED)}
        for index, values in parsed:
            code = values.pop("code")
            try:
                if code in current:
                    if _changed(current[code], values):
                        services.item_version_create(actor=actor, item=current[code], note="Excel 导入", **values)
                        result["versioned"].append(code)
                    else:
                        result["unchanged"].append(code)
                elif ServiceItem.objects.filter(code=code).exists():
                    raise InvalidInput("该事项已停用，不能导入新版本 / the item is withdrawn", code="not_published")
                else:
                    services.item_create(actor=actor, code=code, note="Excel 导入", **values)
                    result["created"].append(code)
            except InvalidInput as exc:  # the rules were checked above; anything left is named by its row
                raise InvalidInput(exc.message, code="import_invalid", extra={"errors": [RowError(
                    index, str(exc.extra.get("field", "code")), code, exc.message.split(" / ")[0],
                    exc.message.split(" / ")[-1]).as_dict()]}) from exc
    return result
