"""Packages as a spreadsheet, in the govservices catalogue's format (one row per published package; header
cells "key（标签）"; JSON cells for the structured parts; a last "version" column), and the import of such a
file all or nothing: each row creates a package (new code), publishes a new version (changed values) or is
left (unchanged). Every problem of every row is found first; then one 422 `import_invalid` lists them with row
and column (the enterprises' RowError shape). The writes go through the services (audited, versioned)."""

import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from twincity.core.access import require
from twincity.core.errors import InvalidInput
from twincity.core.exports import xlsx_bytes
from twincity.enterprises.imports.files import RowError, shown
from twincity.govservices import rules as gov_rules
from twincity.govservices.catalogue_io import _header_key, _int, _rows
from twincity.licences import access, rules, services
from twincity.licences.models import INDUSTRIES, IndustryPackage

COLUMNS = (
    ("code", "套餐编码"), ("city", "城市"), ("industry", "行业"), ("name", "套餐名称"), ("scope", "适用范围"),
    ("demo", "演示数据"), ("source", "依据 / 来源"), ("questions", "情形问题（JSON）"),
    ("components", "组成许可（JSON）"), ("inspection_days", "联合核查（工作日）"), ("version", "版本"),
)
HEADER = tuple(f"{key}（{label}）" for key, label in COLUMNS)


def package_row(package: IndustryPackage) -> list[Any]:
    d = package.definition
    return [package.code, package.city, package.industry, package.name, package.scope, "是" if package.demo else "否",
            package.source, json.dumps(d.get("questions", []), ensure_ascii=False),
            json.dumps(d.get("components", []), ensure_ascii=False), d.get("inspection_days", 0), package.version]


def packages_xlsx(packages: Iterable[IndustryPackage]) -> bytes:
    return xlsx_bytes("一业一证套餐", HEADER, (package_row(p) for p in packages))


def _parse(row_no: int, cells: dict[str, Any], errors: list[RowError]) -> dict[str, Any] | None:
    start = len(errors)

    def bad(column: str, zh: str, en: str) -> None:
        errors.append(RowError(row_no, column, shown(cells.get(column)), zh, en))

    values: dict[str, Any] = {}
    for key in ("code", "city", "industry", "name"):
        values[key] = str(cells.get(key) or "").strip()
        if not values[key]:
            bad(key, "不能为空", "required")
    if values["city"] and values["city"] not in ("chongqing", "chengdu"):
        bad("city", "须为 chongqing 或 chengdu", "chongqing or chengdu")
    if values["industry"] and values["industry"] not in INDUSTRIES:
        bad("industry", f"须为 {', '.join(INDUSTRIES)} 之一", "an industry code")
    values["scope"] = str(cells.get("scope") or "").strip()
    values["source"] = str(cells.get("source") or "").strip()
    values["demo"] = str(cells.get("demo") or "").strip() in ("是", "true", "1", "TRUE", "True")
    definition: dict[str, Any] = {}
    for key in ("questions", "components"):
        try:
            definition[key] = json.loads(str(cells.get(key) or "[]"))
        except ValueError:
            bad(key, "须为 JSON 列表", "a JSON list")
    days = _int(cells.get("inspection_days") if cells.get("inspection_days") not in (None, "") else 0)
    if days is None:
        bad("inspection_days", "须为整数（工作日）", "whole working days")
    definition["inspection_days"] = days
    if len(errors) == start:
        try:
            values["definition"] = rules.definition_check(definition)
        except gov_rules.RuleError as exc:
            for problem in exc.extra.get("errors", []):
                column = "components" if problem.startswith("components") else (
                    "questions" if problem.startswith("questions") else "inspection_days")
                errors.append(RowError(row_no, column, "", problem, problem))
    return values if len(errors) == start else None


def packages_import(*, actor, content: bytes) -> dict[str, int]:
    """Import a file (packages_xlsx's format): {"created", "versioned", "unchanged"}; 422 import_invalid with
    every problem, nothing written."""
    require(access.can_edit_packages(actor))
    rows = _rows(content)
    if not rows:
        raise InvalidInput("文件为空 / the file is empty", code="import_invalid", extra={"errors": []})
    keys = [_header_key(cell) for cell in rows[0]]
    missing = [key for key, _ in COLUMNS[:-1] if key not in keys]
    if missing:
        raise InvalidInput(f"缺少列：{missing} / missing columns", code="import_invalid",
                           extra={"errors": [RowError(1, key, "", "缺少该列", "missing column").as_dict()
                                             for key in missing]})
    errors: list[RowError] = []
    parsed = []
    for index, raw in enumerate(rows[1:], start=2):
        if all(cell in (None, "") for cell in raw):
            continue
        cells = {key: raw[i] if i < len(raw) else None for i, key in enumerate(keys)}
        values = _parse(index, cells, errors)
        if values is not None:
            parsed.append((index, values))
    if errors:
        raise InvalidInput(f"导入失败：{len(errors)} 处问题，未写入任何数据 / nothing was imported",
                           code="import_invalid", extra={"errors": [e.as_dict() for e in errors]})
    counts = {"created": 0, "versioned": 0, "unchanged": 0}
    with transaction.atomic():
        for _index, values in parsed:
            current = IndustryPackage.objects.filter(code=values["code"], status="published").first()
            if current is None:
                services.package_create(actor=actor, **values, note="Excel 导入")
                counts["created"] += 1
                continue
            changes = {k: values[k] for k in ("name", "scope", "definition", "demo", "source")
                       if values[k] != getattr(current, k)}
            if not changes:
                counts["unchanged"] += 1
                continue
            services.package_version_create(actor=actor, package=current, note="Excel 导入", **changes)
            counts["versioned"] += 1
    return counts
