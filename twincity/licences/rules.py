"""一业一证 industry packages as pure rules (no Django): the package definition, the situational questions and
the conditions that make a component permit apply, the de-duplicated materials, the package's time limit and
the notice (告知单) generated from the answers. The services apply these; every refusal is a
govservices.rules.RuleError with a code and a bilingual message.

Package definition (the JSON stored with each package version; `definition_check` validates it)::

    {
      "questions": [
        {"code": "area", "text": "经营场所建筑面积（㎡）", "kind": "number"},
        {"code": "tobacco", "text": "是否销售烟草制品", "kind": "bool"},
        {"code": "scope", "text": "经营项目", "kind": "choice", "choices": ["prepared", "packaged"]}],
      "components": [
        {"code": "food", "item_code": "CQ-SCJG-001",          # a govservices catalogue item (of the package's city)
         "when": {},                                        # always; or {"all": [clause, ...]} / {"any": [...]}
         "situations": [{"code": "hot_food", "when": {"all": [{"q": "food_prep", "op": "=", "value": true}]}}],
         "pledge": true,                                    # the 告知承诺 route is allowed for this permit
         "valid_years": 5},                                 # validity of the permit once issued (0 = no expiry)
        {"code": "fire", "item_code": "CQ-XF-001",
         "when": {"any": [{"q": "area", "op": ">", "value": 300}, {"q": "seats", "op": ">=", "value": 50}]}}],
      "inspection_days": 3                                  # the joint inspection (一同核查), in working days
    }

A clause compares one answer: ops "=", "!=", ">", ">=", "<", "<=" (">"… on numbers only), "in" (a list).

The time limit of a package: components are handled in parallel, so the notice promises the longest applying
component's promised limit plus the joint inspection (the Shandong text's "shortest component" rule was not
confirmed and is not used); the legal limit likewise from the legal limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from twincity.govservices.rules import RuleError

QUESTION_KINDS = {"bool": "是/否", "number": "数值", "choice": "选择"}
OPS = ("=", "!=", ">", ">=", "<", "<=", "in")
ROUTES = {"standard": "一般程序", "pledge": "告知承诺"}

_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class PackageError(RuleError):
    pass


def _code_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 40 and set(value) <= _CODE_CHARS


def _condition_errors(where: str, when: Any, questions: Mapping[str, dict[str, Any]]) -> list[str]:
    if when in (None, {}):
        return []
    if not isinstance(when, dict) or len(when) != 1 or next(iter(when)) not in ("all", "any"):
        return [f"{where}: 条件须为 {{\"all\": [...]}} 或 {{\"any\": [...]}} / a condition is all or any of clauses"]
    clauses = next(iter(when.values()))
    if not isinstance(clauses, list) or not clauses:
        return [f"{where}: 条件须至少有一项 / a condition needs clauses"]
    errors = []
    for i, clause in enumerate(clauses):
        here = f"{where}[{i}]"
        if not isinstance(clause, dict) or clause.get("q") not in questions:
            errors.append(f"{here}: 须引用已定义的问题 / must name a question of the package")
            continue
        op, kind = clause.get("op"), questions[clause["q"]]["kind"]
        if op not in OPS:
            errors.append(f"{here}: 运算符须为 {OPS} 之一 / unknown operator")
        elif op in (">", ">=", "<", "<=") and kind != "number":
            errors.append(f"{here}: 大小比较只用于数值问题 / comparisons need a number question")
        elif op == "in" and not isinstance(clause.get("value"), list):
            errors.append(f"{here}: in 的值须为列表 / 'in' takes a list")
        elif kind == "bool" and op in ("=", "!=") and not isinstance(clause.get("value"), bool):
            errors.append(f"{here}: 是/否问题的值须为 true 或 false / a yes/no question compares with true/false")
    return errors


def definition_check(definition: Any) -> dict[str, Any]:
    """The package definition, normalised; PackageError listing every problem (extra["errors"])."""
    if not isinstance(definition, dict):
        raise PackageError("package_invalid", "套餐定义须为对象 / the definition must be an object",
                           {"errors": ["definition: 须为对象 / must be an object"]})
    errors: list[str] = []
    questions: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(definition.get("questions") or []):
        if not isinstance(raw, dict) or not _code_ok(raw.get("code")) or not str(raw.get("text") or "").strip():
            errors.append(f"questions[{i}]: 须有代码（小写字母数字）与问题 / a code and a text")
            continue
        kind = raw.get("kind", "bool")
        if kind not in QUESTION_KINDS:
            errors.append(f"questions[{i}].kind: 须为 {sorted(QUESTION_KINDS)} 之一 / unknown kind")
            continue
        question: dict[str, Any] = {"code": raw["code"], "text": str(raw["text"]).strip(), "kind": kind}
        if kind == "choice":
            choices = raw.get("choices")
            if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
                errors.append(f"questions[{i}].choices: 选择题须列出选项 / a choice question lists its choices")
                continue
            question["choices"] = list(dict.fromkeys(choices))
        if raw["code"] in questions:
            errors.append(f"questions[{i}]: 问题代码重复 / duplicate question code")
        questions[raw["code"]] = question
    components: list[dict[str, Any]] = []
    for i, raw in enumerate(definition.get("components") or []):
        if not isinstance(raw, dict) or not _code_ok(raw.get("code")) or not str(raw.get("item_code") or "").strip():
            errors.append(f"components[{i}]: 须有代码与事项编码 / a code and a catalogue item code")
            continue
        errors += _condition_errors(f"components[{i}].when", raw.get("when"), questions)
        situations = []
        for j, sit in enumerate(raw.get("situations") or []):
            if not isinstance(sit, dict) or not _code_ok(sit.get("code")):
                errors.append(f"components[{i}].situations[{j}]: 须有情形代码 / a situation code")
                continue
            errors += _condition_errors(f"components[{i}].situations[{j}].when", sit.get("when"), questions)
            situations.append({"code": sit["code"], "when": sit.get("when") or {}})
        years = raw.get("valid_years", 0)
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 50:
            errors.append(f"components[{i}].valid_years: 须为 0–50 的整数 / whole years 0–50")
            years = 0
        components.append({"code": raw["code"], "item_code": str(raw["item_code"]).strip(),
                           "when": raw.get("when") or {}, "situations": situations,
                           "pledge": bool(raw.get("pledge", False)), "valid_years": years})
    if not components:
        errors.append("components: 套餐至少含一项许可 / a package has at least one component permit")
    if len({c["code"] for c in components}) != len(components):
        errors.append("components: 许可代码重复 / duplicate component codes")
    if len({c["item_code"] for c in components}) != len(components):
        errors.append("components: 同一事项不能出现两次 / a catalogue item appears once")
    days = definition.get("inspection_days", 0)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
        errors.append("inspection_days: 须为 0–60 的工作日数 / whole working days 0–60")
    if errors:
        raise PackageError("package_invalid", "套餐定义有误 / the package definition is invalid", {"errors": errors})
    return {"questions": list(questions.values()), "components": components, "inspection_days": days}


# --- answers and conditions -----------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


_TRUE, _FALSE = {"true", "1", "yes", "是", "on"}, {"false", "0", "no", "否", "off", ""}


def answers_check(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every question answered, each in its kind (bool, a non-negative number, one of the choices): the answers
    normalised (numbers as int or Decimal text-free values); PackageError answers_invalid naming each problem."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in definition.get("questions", []):
        code, raw = q["code"], answers.get(q["code"])
        if q["kind"] == "bool":
            if isinstance(raw, bool):
                clean[code] = raw
            elif str(raw).strip().lower() in _TRUE:
                clean[code] = True
            elif raw is None or str(raw).strip().lower() in _FALSE:
                if raw is None:
                    errors[code] = f"请回答：{q['text']} / please answer"
                else:
                    clean[code] = False
            else:
                errors[code] = f"{q['text']}：须回答是或否 / yes or no"
        elif q["kind"] == "number":
            number = _number(raw)
            if number is None:
                errors[code] = f"{q['text']}：须为非负数 / a non-negative number"
            else:
                clean[code] = int(number) if number == number.to_integral_value() else float(number)
        else:
            if raw not in q["choices"]:
                errors[code] = f"{q['text']}：须为 {'、'.join(q['choices'])} 之一 / one of the choices"
            else:
                clean[code] = raw
    unknown = sorted(set(answers) - {q["code"] for q in definition.get("questions", [])})
    for code in unknown:
        errors[code] = "套餐没有这个问题 / not a question of this package"
    if errors:
        raise PackageError("answers_invalid", "情形问题的回答不完整或有误 / the answers are incomplete or invalid",
                           {"errors": errors})
    return clean


def _clause_holds(clause: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    value, op, target = answers.get(clause["q"]), clause["op"], clause.get("value")
    if op == "=":
        return bool(value == target)
    if op == "!=":
        return bool(value != target)
    if op == "in":
        return isinstance(target, list) and value in target
    left, right = _number(value), _number(target)
    if left is None or right is None:
        return False
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def condition_holds(when: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """{} (always), {"all": clauses} or {"any": clauses}, judged on the answers."""
    if not when:
        return True
    if "all" in when:
        return all(_clause_holds(c, answers) for c in when["all"])
    return any(_clause_holds(c, answers) for c in when["any"])


def applying_components(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The components whose condition holds, in the package's order, each with the item situations that apply."""
    chosen = []
    for component in definition.get("components", []):
        if condition_holds(component.get("when"), answers):
            situations = [s["code"] for s in component.get("situations", []) if condition_holds(s["when"], answers)]
            chosen.append({**component, "applied_situations": situations})
    return chosen


# --- materials and limits -------------------------------------------------------------------------------------


def merge_materials(parts: Iterable[tuple[str, Iterable[Mapping[str, Any]]]]) -> list[dict[str, Any]]:
    """The materials of several components as one list, each material once (by code), in first-seen order:
    required if any component requires it, tolerated (容缺) only if every component tolerates it, held by the
    government if any component holds it (then nothing is uploaded), with the components that ask for it."""
    merged: dict[str, dict[str, Any]] = {}
    for component_code, materials in parts:
        for m in materials:
            row = merged.get(m["code"])
            if row is None:
                merged[m["code"]] = {"code": m["code"], "name": m["name"], "required": bool(m.get("required", True)),
                                     "tolerated": bool(m.get("tolerated", False)), "held": bool(m.get("held", False)),
                                     "components": [component_code]}
                continue
            row["required"] = row["required"] or bool(m.get("required", True))
            row["tolerated"] = row["tolerated"] and bool(m.get("tolerated", False))
            row["held"] = row["held"] or bool(m.get("held", False))
            if component_code not in row["components"]:
                row["components"].append(component_code)
    for row in merged.values():
        if row["held"]:
            row["tolerated"] = False
    return list(merged.values())


def package_limits(limits: Iterable[tuple[int, int]], inspection_days: int) -> dict[str, int]:
    """(promised, legal) working days of the applying components handled in parallel, plus the joint inspection:
    the longest of each, plus the inspection days."""
    limits = list(limits)
    if not limits:
        return {"promised_days": 0, "legal_days": 0}
    return {"promised_days": max(p for p, _ in limits) + inspection_days,
            "legal_days": max(legal for _, legal in limits) + inspection_days}


def notice(definition: Mapping[str, Any], answers: Mapping[str, Any],
           items: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The 告知单 for these answers. `items` gives, per catalogue item code, what the catalogue says:
    {"name", "department", "promised_limit_days", "legal_limit_days", "fee", "legal_basis",
     "materials": the item's material list (govservices definition), "situations": the item's situation codes}.
    The answers must be checked already. PackageError item_missing when a component's item is not published."""
    components = applying_components(definition, answers)
    missing = [c["item_code"] for c in components if c["item_code"] not in items]
    if missing:
        raise PackageError("item_missing", f"套餐引用的事项未发布：{missing} / the package names items that are not "
                           f"published", {"missing": missing})
    rows, parts = [], []
    for component in components:
        item = items[component["item_code"]]
        known = set(item.get("situations", []))
        situations = [s for s in component["applied_situations"] if s in known]
        chosen = set(situations)
        materials = [m for m in item.get("materials", []) if not m.get("situations") or chosen & set(m["situations"])]
        parts.append((component["code"], materials))
        rows.append({"code": component["code"], "item_code": component["item_code"], "name": item["name"],
                     "department": item.get("department", ""), "situations": situations,
                     "pledge": component["pledge"], "valid_years": component["valid_years"],
                     "promised_limit_days": item["promised_limit_days"], "legal_limit_days": item["legal_limit_days"],
                     "fee": str(item.get("fee", "0")), "legal_basis": item.get("legal_basis", "")})
    not_applying = [c["code"] for c in definition.get("components", []) if c["code"] not in {r["code"] for r in rows}]
    limits = package_limits(((r["promised_limit_days"], r["legal_limit_days"]) for r in rows),
                            int(definition.get("inspection_days", 0)))
    return {"answers": dict(answers), "components": rows, "not_applying": not_applying,
            "materials": merge_materials(parts), "inspection_days": int(definition.get("inspection_days", 0)),
            **limits}


def material_count(parts: Iterable[tuple[str, Iterable[Mapping[str, Any]]]]) -> tuple[int, int]:
    """(materials asked by the components one by one, materials once merged): what the one notice saves."""
    listed = [(code, list(materials)) for code, materials in parts]
    return sum(len(m) for _, m in listed), len(merge_materials(listed))
