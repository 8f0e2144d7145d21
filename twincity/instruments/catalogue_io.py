"""The instrument catalogue in Excel: export, import from the same template, and the national resource metadata.

**Template** (one sheet, one row per service item; an instrument without items has one row with the item cells
blank). The header cells are `中文标签（key）` as exported; on import a header may also be the key or the Chinese
label alone. Row numbers are those a person sees: the header is row 1.

* `public_id` identifies an instrument already in the catalogue (exported); blank means a new instrument. The
  rows of a new instrument are those with the same owner, name, model and maker. The instrument cells of one
  instrument's rows must agree.
* Prices: `price_internal`, `price_academic`, `price_industry` are the prices in force from `price_valid_from`
  (a date; blank: today) for each rate class. A price equal to the line in force that day writes nothing; another
  amount adds a line of the dated price list (lines are added, never changed: an existing line of the same day
  with another amount is an error).

**Import** is all or nothing and goes through the one write path (`services.instrument_create`,
`instrument_update`, `service_item_set`, `price_set`, which check access and audit each write): every row is
checked first; the writes run in one transaction, each instrument in a savepoint so that every error of the file
is reported; if there is any error nothing is written and the answer is 422 `import_rejected` with
`extra.errors` = [{row, column, value, reason_zh, reason_en}] (the shape of the registry's import,
twincity.enterprises.imports, whose RowError and ImportRejected are reused). Importing an unchanged export
changes nothing and leaves no audit entry.

**GB/T 30523 科技平台 资源核心元数据** (the national resource core metadata; see ../shared/reference/instruments.md
§6.2: the 2023 edition's exact element list and the national platform's upload format are ❓ unconfirmed, so this
maps to the core elements as commonly listed, Chinese element names as headers):

| element (GB/T 30523) | from | note |
|---|---|---|
| 资源标识 (identifier) | `urn:uuid:<public_id>` | GB/T 32843 科技资源标识 codes are issued by the platform ❓; the UUID stands in |
| 资源名称 (name) | `name_zh` | |
| 英文名称 | `name_en` | |
| 资源分类 (classification) | category code and name | the national instrument classification (two levels) |
| 规格型号 | `model` | instrument-specific extension |
| 生产制造商 | `maker` | instrument-specific extension |
| 资源描述 / 主要技术指标 (description) | `specifications` | |
| 关键词 (keywords) | category name, maker, model | derived |
| 资源提供者 / 所属单位 (provider) | owner institution's name | |
| 所在地 (location) | city and site | |
| 原值（万元） | `original_value` / 10,000 | instrument-specific extension |
| 共享方式 (sharing mode) | `operation` | 委托测试 (operator-run) / 自主操作 (self-run) |
| 服务内容与收费标准 (service, fees) | active service items with today's prices by rate class | |
| 运行状态 (status) | `status` | |
| 获取方式 / 在线服务地址 (access) | the instrument's page on the platform | |
| 元数据更新日期 (metadata date) | `updated_at` (Asia/Shanghai date) | |
| 联系人、启用日期、国别、安放地址详址 | — | not held by the catalogue yet |
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from twincity.accounts.models import City, Organisation
from twincity.core.access import require
from twincity.core.errors import ApplicationError, InvalidInput
from twincity.core.exports import xlsx_bytes
from twincity.enterprises.imports.files import XLSX_ERRORS, RowError, shown
from twincity.enterprises.imports.service import ImportRejected
from twincity.instruments import access, services
from twincity.instruments.models import OWNER_KINDS, Instrument, InstrumentCategory, Price, RateClass, ServiceItem

SHEET = "仪器目录"
FORBIDDEN_IMPORT = "只有平台管理员和仪器所属单位的管理人员可以导入导出仪器目录 (administrators and owners' staff only)"

# (key, Chinese label) in template order.
INSTRUMENT_COLUMNS = (
    ("public_id", "仪器编号"),
    ("owner", "所属单位"),
    ("name_zh", "仪器名称"),
    ("name_en", "英文名称"),
    ("model", "规格型号"),
    ("maker", "生产制造商"),
    ("category", "分类代码"),
    ("original_value", "原值（元）"),
    ("city", "城市"),
    ("site", "安放地点"),
    ("status", "运行状态"),
    ("operation", "共享方式"),
    ("required_qualification", "上机资质要求"),
    ("specifications", "主要技术指标"),
)
ITEM_COLUMNS = (
    ("service_code", "服务项目代码"),
    ("service_name_zh", "服务项目名称"),
    ("service_unit", "计价单位"),
    ("service_active", "服务项目启用"),
    ("price_internal", "校内价（元）"),
    ("price_academic", "校外科研价（元）"),
    ("price_industry", "企业价（元）"),
    ("price_valid_from", "价格生效日期"),
)
COLUMNS = INSTRUMENT_COLUMNS + ITEM_COLUMNS
LABEL = dict(COLUMNS)
PRICE_COLUMN = {
    RateClass.INTERNAL: "price_internal",
    RateClass.ACADEMIC: "price_academic",
    RateClass.INDUSTRY: "price_industry",
}
# A service's field errors (extra.fields) and the template column they belong to.
FIELD_COLUMN = {
    "category_id": "category",
    "category": "category",
    "owner": "owner",
    "code": "service_code",
    "name_zh": "name_zh",
    "unit": "service_unit",
    "amount": "price_industry",
    "valid_from": "price_valid_from",
}
YES = {"是", "yes", "true", "1", "y", "启用"}
NO = {"否", "no", "false", "0", "n", "停用"}


def header() -> list[str]:
    return [f"{label}（{key}）" for key, label in COLUMNS]


def _choices_text(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Value and label (both accepted on import) → value."""
    out: dict[str, str] = {}
    for value, label in choices:
        out[value.lower()] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                out[str(label).lower()] = value
    return out


# --- export ------------------------------------------------------------------------------------------------------


def _prices_today(items: list[ServiceItem], on: date) -> dict[tuple[int, str], Price]:
    latest: dict[tuple[int, str], Price] = {}
    for line in Price.objects.filter(service_item__in=items, valid_from__lte=on).order_by(
        "service_item_id", "rate_class", "-valid_from"
    ):
        latest.setdefault((line.service_item_id, line.rate_class), line)
    return latest


def catalogue_rows(instruments: Iterable[Instrument], *, on: date | None = None) -> list[list[Any]]:
    """The template's rows for these instruments (one per service item), with the prices in force on `on`."""
    on = on or timezone.localdate()
    instruments = list(instruments)
    items_of: dict[int, list[ServiceItem]] = {}
    all_items = list(ServiceItem.objects.filter(instrument__in=instruments).order_by("instrument_id", "code"))
    for item in all_items:
        items_of.setdefault(item.instrument_id, []).append(item)
    prices = _prices_today(all_items, on)
    rows = []
    for i in instruments:
        base = [
            str(i.public_id),
            i.owner.name,
            i.name_zh,
            i.name_en,
            i.model,
            i.maker,
            i.category.code,
            i.original_value,
            i.city,
            i.site,
            i.status,
            i.operation,
            i.required_qualification,
            i.specifications,
        ]
        items = items_of.get(i.pk) or [None]
        for item in items:
            if item is None:
                rows.append(base + [""] * len(ITEM_COLUMNS))
                continue
            lines = [prices.get((item.pk, rc)) for rc in PRICE_COLUMN]
            dates = [line.valid_from for line in lines if line is not None]
            rows.append(
                base
                + [
                    item.code,
                    item.name_zh,
                    item.unit,
                    "是" if item.active else "否",
                    *[line.amount if line else None for line in lines],
                    max(dates) if dates else None,
                ]
            )
    return rows


def catalogue_xlsx(*, actor, on: date | None = None) -> bytes:
    """The catalogue the actor manages (administrators: all of it) in the import template."""
    require(access.can_import_catalogue(actor), FORBIDDEN_IMPORT)
    instruments = (
        access.instruments_managed(actor).select_related("owner", "category").order_by("owner__name", "name_zh", "pk")
    )
    return xlsx_bytes(SHEET, header(), catalogue_rows(instruments, on=on))


GBT30523_HEADER = (
    "资源标识",
    "资源名称",
    "英文名称",
    "资源分类代码",
    "资源分类名称",
    "规格型号",
    "生产制造商",
    "资源描述",
    "关键词",
    "资源提供者",
    "所在地",
    "原值（万元）",
    "共享方式",
    "服务内容与收费标准",
    "运行状态",
    "在线服务地址",
    "元数据更新日期",
)
SHARING_MODE = {Instrument.Operation.OPERATOR: "委托测试", Instrument.Operation.SELF: "自主操作"}
STATUS_ZH = {
    Instrument.Status.IN_SERVICE: "正常",
    Instrument.Status.MAINTENANCE: "维修维护",
    Instrument.Status.RETIRED: "已报废",
}
CITY_ZH = {City.CHONGQING: "重庆", City.CHENGDU: "成都"}
UNIT_ZH = {ServiceItem.Unit.HOUR: "小时", ServiceItem.Unit.SAMPLE: "样品"}
RATE_ZH = {RateClass.INTERNAL: "校内", RateClass.ACADEMIC: "校外科研", RateClass.INDUSTRY: "企业"}


def gbt30523_rows(instruments: Iterable[Instrument], *, base_url: str, on: date | None = None) -> list[list[Any]]:
    """The instruments in the core metadata elements of GB/T 30523 (the mapping is the module's table)."""
    on = on or timezone.localdate()
    instruments = list(instruments)
    items = list(ServiceItem.objects.filter(instrument__in=instruments, active=True).order_by("instrument_id", "code"))
    prices = _prices_today(items, on)
    fees: dict[int, list[str]] = {}
    for item in items:
        amounts = "，".join(
            f"{RATE_ZH[rc]} {prices[(item.pk, rc)].amount} 元/{UNIT_ZH.get(item.unit, item.unit)}"
            for rc in RateClass.values
            if (item.pk, rc) in prices
        )
        fees.setdefault(item.instrument_id, []).append(f"{item.name_zh}：{amounts}" if amounts else item.name_zh)
    rows = []
    for i in instruments:
        keywords = "；".join(dict.fromkeys(w for w in (i.category.name_zh, i.maker, i.model) if w))
        rows.append(
            [
                f"urn:uuid:{i.public_id}",
                i.name_zh,
                i.name_en,
                i.category.code,
                i.category.name_zh,
                i.model,
                i.maker,
                i.specifications,
                keywords,
                i.owner.name,
                f"{CITY_ZH.get(i.city, i.city)} {i.site}".strip(),
                (i.original_value / 10000).quantize(Decimal("0.01")),
                SHARING_MODE.get(i.operation, i.operation),
                "；".join(fees.get(i.pk, [])),
                STATUS_ZH.get(i.status, i.status),
                f"{base_url.rstrip('/')}/instruments/{i.public_id}/",
                timezone.localtime(i.updated_at).date(),
            ]
        )
    return rows


def gbt30523_xlsx(*, actor, base_url: str, on: date | None = None) -> bytes:
    """The catalogue (not retired) in GB/T 30523's core metadata: anyone who may read the catalogue."""
    require(access.can_view_catalogue(actor))
    instruments = (
        Instrument.objects.exclude(status=Instrument.Status.RETIRED)
        .select_related("owner", "category")
        .order_by("owner__name", "name_zh", "pk")
    )
    return xlsx_bytes("GBT30523", GBT30523_HEADER, gbt30523_rows(instruments, base_url=base_url, on=on))


# --- import ------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class CatalogueImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    items: int = 0
    price_lines: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("(", "（").replace(")", "）")).lower()


def _lookup() -> dict[str, str]:
    out = {}
    for key, label in COLUMNS:
        for form in (key, label, f"{label}（{key}）", f"{key}（{label}）"):
            out[_norm(form)] = key
    return out


def _read(data: bytes) -> tuple[list[str | None], list[_Row]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise ImportRejected(
            errors=[RowError(0, "", "", "无法读取该 XLSX 文件", f"the XLSX file cannot be read: {exc}")],
            error_count=1,
            filename="",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        head = next(rows, None) or ()
        lookup = _lookup()
        columns: list[str | None] = []
        errors = []
        for cell in head:
            text = "" if cell is None else str(cell)
            key = lookup.get(_norm(text)) if text.strip() else None
            if text.strip() and key is None:
                errors.append(RowError(1, text, text, f"未知的列“{text}”", f"unknown column '{text}'"))
            columns.append(key)
        for required in ("name_zh", "category", "original_value"):
            if required not in columns:
                errors.append(
                    RowError(
                        1,
                        required,
                        "",
                        f"缺少必需的列 {LABEL[required]}（{required}）",
                        f"required column {required} is missing",
                    )
                )
        if errors:
            raise ImportRejected(errors=errors, error_count=len(errors), filename="")
        records = []
        for number, cells in enumerate(rows, start=2):
            raw = {
                key: value
                for key, value in zip(columns, cells)
                if key is not None and value is not None and str(value).strip() != ""
            }
            if raw:
                records.append(_Row(number, raw))
        return columns, records
    finally:
        workbook.close()


class _Cells:
    """Cleans one row's cells, collecting an error per bad cell."""

    def __init__(
        self,
        row: _Row,
        errors: list[RowError],
        categories: dict[str, InstrumentCategory],
        owners: dict[str, Organisation],
    ) -> None:
        self.row, self.errors, self.categories, self.owners = row, errors, categories, owners

    def bad(self, column: str, zh: str, en: str) -> None:
        self.errors.append(RowError(self.row.row, column, shown(self.row.raw.get(column)), zh, en))

    def text(self, column: str, limit: int) -> str:
        value = self.row.raw.get(column)
        text = (
            ""
            if value is None
            else (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)).strip()
        )
        if len(text) > limit:
            self.bad(column, f"{LABEL[column]}过长（最多 {limit} 字）", f"too long (at most {limit} characters)")
        return text[:limit]

    def money(self, column: str) -> Decimal | None:
        value = self.row.raw.get(column)
        if value is None:
            return None
        try:
            amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
        except InvalidOperation:
            self.bad(column, f"{LABEL[column]}须为数字", "expected a number")
            return None
        if amount < 0 or amount >= Decimal("1e12") or not amount.is_finite():
            self.bad(column, f"{LABEL[column]}须为非负数", "expected a non-negative number")
            return None
        return amount.quantize(Decimal("0.01"))

    def day(self, column: str) -> date | None:
        value = self.row.raw.get(column)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            self.bad(column, f"{LABEL[column]}须为日期（YYYY-MM-DD）", "expected a date (YYYY-MM-DD)")
            return None

    def choice(self, column: str, choices: dict[str, str], default: str = "") -> str:
        value = self.row.raw.get(column)
        if value is None:
            return default
        found = choices.get(str(value).strip().lower())
        if found is None:
            allowed = "、".join(sorted(set(choices.values())))
            self.bad(column, f"{LABEL[column]}须为 {allowed} 之一", f"expected one of {allowed}")
            return default
        return found


def _clean_row(cells: _Cells, actor) -> None:
    row, v = cells.row, cells.row.values
    v["public_id"] = cells.text("public_id", 36)
    owner_name = cells.text("owner", 200)
    if owner_name:
        v["owner"] = cells.owners.get(owner_name)
        if v["owner"] is None:
            cells.bad("owner", "所属单位不存在（须为平台上的高校或科研院所全称）", "no such owner institution")
    else:
        v["owner"] = access.owner_of(actor)
        if v["owner"] is None and not v["public_id"]:
            cells.bad("owner", "新仪器须填写所属单位", "a new instrument needs its owner")
    for key, limit in (
        ("name_zh", 100),
        ("name_en", 200),
        ("model", 100),
        ("maker", 100),
        ("site", 200),
        ("required_qualification", 200),
    ):
        v[key] = cells.text(key, limit)
    v["specifications"] = cells.text("specifications", 5000)
    if not v["name_zh"]:
        cells.bad("name_zh", "仪器名称必填", "name_zh is required")
    code = cells.text("category", 8)
    v["category"] = cells.categories.get(code)
    if v["category"] is None:
        cells.bad("category", "分类代码不存在（国家大型科研仪器分类）", "unknown category code")
    v["original_value"] = cells.money("original_value")
    if v["original_value"] is None and "original_value" not in row.raw:
        cells.bad("original_value", "原值必填", "original_value is required")
    v["city"] = cells.choice("city", _choices_text(City.choices))
    v["status"] = cells.choice("status", _choices_text(Instrument.Status.choices), Instrument.Status.IN_SERVICE)
    v["operation"] = cells.choice(
        "operation", _choices_text(Instrument.Operation.choices), Instrument.Operation.OPERATOR
    )
    v["service_code"] = cells.text("service_code", 40)
    v["service_name_zh"] = cells.text("service_name_zh", 100)
    v["service_unit"] = cells.choice("service_unit", _choices_text(ServiceItem.Unit.choices), ServiceItem.Unit.HOUR)
    active = row.raw.get("service_active")
    v["service_active"] = True
    if active is not None:
        text = str(active).strip().lower()
        if text in YES or active is True:
            v["service_active"] = True
        elif text in NO or active is False:
            v["service_active"] = False
        else:
            cells.bad("service_active", "服务项目启用须为 是 或 否", "expected 是 or 否")
    v["prices"] = {rc: cells.money(column) for rc, column in PRICE_COLUMN.items()}
    v["price_valid_from"] = cells.day("price_valid_from") or timezone.localdate()
    has_item_cells = any(k in row.raw for k, _label in ITEM_COLUMNS)
    if has_item_cells and not v["service_code"]:
        cells.bad("service_code", "填写了服务项目或价格时须填写服务项目代码", "a service item needs its code")
    if v["service_code"] and not v["service_name_zh"]:
        cells.bad("service_name_zh", "服务项目名称必填", "the service item needs its name")


INSTRUMENT_KEYS = (
    "owner",
    "name_zh",
    "name_en",
    "model",
    "maker",
    "category",
    "original_value",
    "city",
    "site",
    "status",
    "operation",
    "required_qualification",
    "specifications",
)


def _values(v: dict[str, Any]) -> dict[str, Any]:
    values = {k: v[k] for k in INSTRUMENT_KEYS if k not in ("owner", "category")}
    values["category_id"] = v["category"].pk if v["category"] else None
    return values


def _service_errors(exc: ApplicationError, row: int, default_column: str) -> list[RowError]:
    fields = exc.extra.get("fields") if isinstance(exc.extra, dict) else None
    if isinstance(fields, dict) and fields:
        out = []
        for name, messages in fields.items():
            said = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            out.append(
                RowError(
                    row,
                    FIELD_COLUMN.get(name, name if name in LABEL else default_column),
                    said[:200],
                    f"{exc.message}：{said}"[:300],
                    f"{exc.message}: {said}"[:300],
                )
            )
        return out
    return [RowError(row, default_column, "", exc.message, exc.message)]


def catalogue_import(*, actor, data: bytes, filename: str = "catalogue.xlsx") -> CatalogueImportResult:
    """Import the template (see the module): all or nothing, through the services; 422 import_rejected with every
    error's row and column."""
    require(access.can_import_catalogue(actor), FORBIDDEN_IMPORT)
    if not filename.lower().endswith(".xlsx"):
        raise InvalidInput("只支持 .xlsx 文件 (only .xlsx files)", extra={"fields": {"file": [filename]}})
    try:
        _columns, records = _read(data)
    except ImportRejected as exc:
        raise ImportRejected(errors=exc.errors, error_count=exc.error_count, filename=filename) from None
    categories = {c.code: c for c in InstrumentCategory.objects.all()}
    owners = {o.name: o for o in Organisation.objects.filter(kind__in=OWNER_KINDS)}
    errors: list[RowError] = []
    for record in records:
        _clean_row(_Cells(record, errors, categories, owners), actor)

    # Group the rows by instrument; check that the instrument cells of one instrument agree.
    groups: dict[tuple, list[_Row]] = {}
    for record in records:
        v = record.values
        key = (
            ("id", v["public_id"])
            if v["public_id"]
            else ("new", getattr(v["owner"], "pk", None), v["name_zh"], v["model"], v["maker"])
        )
        groups.setdefault(key, []).append(record)
    existing = {
        str(i.public_id): i
        for i in Instrument.objects.select_related("owner").filter(
            public_id__in=[k[1] for k in groups if k[0] == "id" and _uuid_like(k[1])]
        )
    }
    for key, rows in groups.items():
        first = rows[0].values
        for other in rows[1:]:
            for name in INSTRUMENT_KEYS:
                if other.values.get(name) != first.get(name):
                    errors.append(
                        RowError(
                            other.row,
                            name,
                            shown(other.raw.get(name)),
                            f"与第 {rows[0].row} 行同一仪器的{LABEL[name]}不一致",
                            f"differs from row {rows[0].row} of the same instrument",
                        )
                    )
        if key[0] == "id" and key[1] not in existing:
            errors.append(RowError(rows[0].row, "public_id", key[1], "仪器编号不存在", "no such instrument"))
        seen: dict[str, int] = {}
        for record in rows:
            code = record.values["service_code"]
            if code and code in seen:
                errors.append(
                    RowError(
                        record.row,
                        "service_code",
                        code,
                        f"服务项目代码与第 {seen[code]} 行重复",
                        f"duplicate of row {seen[code]}",
                    )
                )
            seen.setdefault(code, record.row)

    result = CatalogueImportResult(rows=len(records))
    if not errors:
        try:
            with transaction.atomic():
                for key, rows in groups.items():
                    _apply(actor, existing.get(key[1]) if key[0] == "id" else None, rows, errors, result)
                if errors:
                    raise _RollBack
        except _RollBack:
            pass
    if errors:
        raise ImportRejected(errors=errors, error_count=len(errors), filename=filename)
    return result


class _RollBack(Exception):
    pass


def _uuid_like(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{32,36}", text))


def _apply(
    actor, instrument: Instrument | None, rows: list[_Row], errors: list[RowError], result: CatalogueImportResult
) -> None:
    first = rows[0]
    v = first.values
    try:
        with transaction.atomic():
            if instrument is None:
                instrument = services.instrument_create(actor=actor, owner=v["owner"], values=_values(v))
                result.created += 1
            else:
                if "owner" in first.raw and v["owner"] is not None and v["owner"].pk != instrument.owner_id:
                    raise InvalidInput(
                        "不能通过导入更改仪器的所属单位 (the owner cannot be changed)",
                        extra={"fields": {"owner": [v["owner"].name]}},
                    )
                before = instrument.updated_at
                instrument = services.instrument_update(actor=actor, instrument=instrument, values=_values(v))
                if instrument.updated_at != before:
                    result.updated += 1
                else:
                    result.unchanged += 1
    except ApplicationError as exc:
        errors.extend(_service_errors(exc, first.row, "public_id" if v["public_id"] else "owner"))
        return
    for record in rows:
        r = record.values
        if not r["service_code"]:
            continue
        try:
            with transaction.atomic():
                item = services.service_item_set(
                    actor=actor,
                    instrument=instrument,
                    code=r["service_code"],
                    name_zh=r["service_name_zh"],
                    unit=r["service_unit"],
                    active=r["service_active"],
                )
                result.items += 1
                for rate_class, amount in r["prices"].items():
                    if amount is None:
                        continue
                    try:
                        line = services.price_set(
                            actor=actor,
                            item=item,
                            rate_class=rate_class,
                            amount=amount,
                            valid_from=r["price_valid_from"],
                        )
                    except ApplicationError as exc:
                        errors.extend(_service_errors(exc, record.row, PRICE_COLUMN[rate_class]))
                        continue
                    result.price_lines += line is not None
        except ApplicationError as exc:
            errors.extend(_service_errors(exc, record.row, "service_code"))
