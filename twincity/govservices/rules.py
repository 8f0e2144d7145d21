"""Public services (政务服务) as pure rules: the catalogue item definition (after GB/T 39554.1 and the 办事指南
elements), the case lifecycle as a transition table, and the material checks of acceptance and decision.
No Django: the services apply these; every refusal here carries a code and a bilingual message.

Catalogue item definition (the JSON stored with each item version; `definition_check` validates it)::

    {
      "situations": [{"code": "first", "name": "首次申领"}, ...],          # 办理情形; may be empty
      "materials": [
        {"code": "id_card", "name": "身份证", "required": true,
         "tolerated": false,      # 容缺: may be accepted while missing, on the applicant's promise
         "held": false,           # 政府部门核发 (held by the government, e.g. the 电子证照库): no upload
         "situations": []},       # the situations it applies to ([] = every situation)
        ...],
      "pause_steps": [{"code": "expert_review", "name": "专家评审", "max_days": 10}],   # 特殊环节: clock paused
    }

Case lifecycle (one step at a time; `transition(state, action)` is the only way to a new state)::

    collected (filed at a window of the other city) --forward--> received
    received --accept--> handling            (materials complete, or 容缺 with a promise; the clock starts)
    received --notify_correction--> correcting   (一次性告知: every missing material at once, once a case)
    correcting --resubmit--> received
    received | correcting --refuse_intake--> not_accepted          (不予受理, a reason)
    handling --pause--> paused --resume--> handling               (特殊环节: the clock stops and restarts)
    handling --decide--> decided            (approve needs every required material, 容缺 ones supplied)
    decided --deliver--> delivered          (e-licence or post)
    delivered --close--> closed             (then the applicant rates the service once: 好差评)
    collected | received | correcting | handling | paused --withdraw--> withdrawn
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# --- the catalogue's vocabularies ---------------------------------------------------------------------------

ITEM_TYPES = {
    "licensing": "行政许可",
    "confirmation": "行政确认",
    "adjudication": "行政裁决",
    "payment": "行政给付",
    "reward": "行政奖励",
    "filing": "行政备案",
    "other_power": "其他行政权力",
    "public_service": "公共服务",
}
HANDLING_KINDS = {"new": "新设", "change": "变更", "renew": "延续", "cancel": "注销"}
CROSS_CITY_MODES = {"online": "全程网办", "forwarded": "异地代收代办", "split": "多地联办", "local": "仅本地办理"}
#: The areas an item is tagged with; the 8-area HR / social security / disability framework is a filter of
#: these (FRAMEWORK_AREAS). The 8 areas are demo configuration: the framework text was not found ([U]).
AREAS = {
    "employment": "就业创业",
    "social_insurance": "社会保险",
    "talent": "人才服务",
    "labour_relations": "劳动关系",
    "hr_market": "人力资源市场",
    "skills": "职业技能",
    "disability": "残疾人服务",
    "social_security_card": "社保卡",
    "market": "市场准入",
    "tax": "税务",
    "science": "科技",
    "construction": "建设",
}
FRAMEWORK_AREAS = (
    "employment",
    "social_insurance",
    "talent",
    "labour_relations",
    "hr_market",
    "skills",
    "disability",
    "social_security_card",
)
DELIVERY_MODES = {"e_licence": "电子证照", "post": "邮寄", "window": "窗口领取"}
OUTCOMES = {"approve": "准予", "refuse": "不予"}
#: 好差评: five grades, 5 = 非常满意.
RATING_GRADES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
#: The correction wait during handling is a pause step every item has (补正期间不计入办理时限).
CORRECTION_STEP = {"code": "correction", "name": "补正材料", "max_days": 0}


class RuleError(Exception):
    """A rule refused something: `code` names the rule, `message` explains it (Chinese / English), `extra`
    gives the details (the missing materials, the allowed actions)."""

    def __init__(self, code: str, message: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, dict(extra or {})


class IllegalTransition(RuleError):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(
            "illegal_transition",
            f"“{STATE_NAMES.get(state, state)}”状态下不能执行“{ACTION_NAMES.get(action, action)}” / "
            f"{action!r} is not allowed in state {state!r} (a case cannot skip a step)",
            {"state": state, "action": action, "allowed": allowed_actions(state)},
        )
        self.state, self.action = state, action


class MaterialsMissing(RuleError):
    pass


class DefinitionError(RuleError):
    pass


# --- the definition ------------------------------------------------------------------------------------------

_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _code_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 40 and set(value) <= _CODE_CHARS


def definition_check(definition: Any) -> dict[str, Any]:
    """The definition, normalised (defaults filled in); DefinitionError listing every problem as
    "path: 中文 / English" in extra["errors"]."""
    errors: list[str] = []
    if not isinstance(definition, dict):
        raise DefinitionError(
            "definition_invalid",
            "事项定义须为对象 / the definition must be an object",
            {"errors": ["definition: 须为对象 / must be an object"]},
        )
    for key in ("situations", "materials", "pause_steps"):
        if definition.get(key) is not None and not isinstance(definition.get(key), list):
            errors.append(f"{key}: 须为数组 / must be a list")
    if errors:
        raise DefinitionError("definition_invalid", "事项定义有误 / the item definition is invalid", {"errors": errors})
    situations: list[dict[str, str]] = []
    for i, raw in enumerate(definition.get("situations") or []):
        if not isinstance(raw, dict) or not _code_ok(raw.get("code")) or not str(raw.get("name") or "").strip():
            errors.append(f"situations[{i}]: 须有代码（小写字母数字）与名称 / a code (lowercase) and a name")
            continue
        situations.append({"code": raw["code"], "name": str(raw["name"]).strip()})
    situation_codes = {s["code"] for s in situations}
    if len(situation_codes) != len(situations):
        errors.append("situations: 情形代码重复 / duplicate situation codes")
    materials: list[dict[str, Any]] = []
    for i, raw in enumerate(definition.get("materials") or []):
        if not isinstance(raw, dict) or not _code_ok(raw.get("code")) or not str(raw.get("name") or "").strip():
            errors.append(f"materials[{i}]: 须有代码（小写字母数字）与名称 / a code (lowercase) and a name")
            continue
        applies = raw.get("situations") or []
        if not isinstance(applies, list) or not all(isinstance(c, str) for c in applies):
            errors.append(f"materials[{i}].situations: 须为情形代码数组 / a list of situation codes")
            applies = []
        unknown = [c for c in applies if c not in situation_codes]
        if unknown:
            errors.append(f"materials[{i}].situations: 未知情形 {unknown} / unknown situations")
        material = {
            "code": raw["code"],
            "name": str(raw["name"]).strip(),
            "required": bool(raw.get("required", True)),
            "tolerated": bool(raw.get("tolerated", False)),
            "held": bool(raw.get("held", False)),
            "situations": applies,
        }
        if material["tolerated"] and material["held"]:
            errors.append(
                f"materials[{i}]: 政府已有的材料无需容缺 / a material held by the government is not tolerated"
            )
        materials.append(material)
    if len({m["code"] for m in materials}) != len(materials):
        errors.append("materials: 材料代码重复 / duplicate material codes")
    steps: list[dict[str, Any]] = []
    for i, raw in enumerate(definition.get("pause_steps") or []):
        max_days = raw.get("max_days", 0) if isinstance(raw, dict) else None
        if (
            not isinstance(raw, dict)
            or not _code_ok(raw.get("code"))
            or not str(raw.get("name") or "").strip()
            or isinstance(max_days, bool)
            or not isinstance(max_days, int)
            or not 0 <= max_days <= 365
        ):
            errors.append(f"pause_steps[{i}]: 须有代码、名称与最长工作日（0–365） / a code, a name and max_days 0–365")
            continue
        if raw["code"] == CORRECTION_STEP["code"]:
            errors.append(f"pause_steps[{i}]: “correction”为保留代码 / 'correction' is reserved")
            continue
        steps.append({"code": raw["code"], "name": str(raw["name"]).strip(), "max_days": max_days})
    if len({s["code"] for s in steps}) != len(steps):
        errors.append("pause_steps: 环节代码重复 / duplicate step codes")
    if errors:
        raise DefinitionError("definition_invalid", "事项定义有误 / the item definition is invalid", {"errors": errors})
    return {"situations": situations, "materials": materials, "pause_steps": steps}


def limits_check(legal_days: Any, promised_days: Any) -> None:
    """The legal and promised limits: whole working days, the promise within the law (0 = 即办件)."""
    for name, value in (("legal_limit_days", legal_days), ("promised_limit_days", promised_days)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
            raise RuleError(
                "invalid_limit", f"{name}: 须为 0–365 的工作日数 / whole working days, 0–365", {"field": name}
            )
    if promised_days > legal_days:
        raise RuleError(
            "promise_over_legal_limit",
            f"承诺时限（{promised_days}）不得长于法定时限（{legal_days}） / the promised limit may not "
            f"exceed the legal limit",
            {"field": "promised_limit_days"},
        )


def situations_check(definition: Mapping[str, Any], chosen: Iterable[str]) -> list[str]:
    """The chosen situations, each one of the item's (RuleError unknown_situation otherwise)."""
    known = {s["code"] for s in definition.get("situations", [])}
    chosen = list(dict.fromkeys(chosen))
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise RuleError(
            "unknown_situation", f"事项没有这些办理情形：{unknown} / unknown situations", {"unknown": unknown}
        )
    return chosen


def materials_for(definition: Mapping[str, Any], situations: Iterable[str]) -> list[dict[str, Any]]:
    """The materials a case in these situations needs (a material without situations applies to all)."""
    chosen = set(situations)
    return [m for m in definition.get("materials", []) if not m["situations"] or chosen & set(m["situations"])]


# Each material of a case is in one of these states.
SUBMITTED, PLEDGED, HELD, MISSING = "submitted", "pledged", "held", "missing"


def material_states(
    definition: Mapping[str, Any], situations: Iterable[str], given: Mapping[str, str]
) -> dict[str, str]:
    """Every applicable material's state: held by the government (no upload) whatever was given; otherwise
    submitted, pledged (容缺 only) or missing."""
    states: dict[str, str] = {}
    for material in materials_for(definition, situations):
        code = material["code"]
        value = given.get(code, MISSING)
        if material["held"]:
            states[code] = HELD
        elif value == SUBMITTED:
            states[code] = SUBMITTED
        elif value == PLEDGED and material["tolerated"]:
            states[code] = PLEDGED
        else:
            states[code] = MISSING
    return states


def _names(definition: Mapping[str, Any], codes: list[str]) -> str:
    names = {m["code"]: m["name"] for m in definition.get("materials", [])}
    return "、".join(names.get(c, c) for c in codes)


def missing_for_acceptance(
    definition: Mapping[str, Any], situations: Iterable[str], given: Mapping[str, str]
) -> list[str]:
    """The required materials that keep a case from being accepted: neither submitted, held by the government,
    nor (容缺 materials only) promised."""
    required = {m["code"] for m in materials_for(definition, situations) if m["required"]}
    return [c for c, s in material_states(definition, situations, given).items() if c in required and s == MISSING]


def acceptance_check(definition: Mapping[str, Any], situations: Iterable[str], given: Mapping[str, str]) -> None:
    """MaterialsMissing (materials_incomplete) unless the case may be accepted."""
    situations = list(situations)
    missing = missing_for_acceptance(definition, situations, given)
    if missing:
        raise MaterialsMissing(
            "materials_incomplete",
            f"材料不全，不能受理：缺少{_names(definition, missing)}（必需材料须提交；容缺材料可承诺后补；"
            f"政府已有材料无需提交） / required materials are missing, the case cannot be accepted",
            {"missing": missing},
        )


def decision_check(
    definition: Mapping[str, Any], situations: Iterable[str], given: Mapping[str, str], outcome: str
) -> None:
    """An approval needs every required material in hand: submitted or held, a promised (容缺) one supplied
    (MaterialsMissing pledged_not_supplied otherwise). A refusal needs no materials."""
    if outcome not in OUTCOMES:
        raise RuleError(
            "invalid_outcome", "决定须为准予或不予 / the decision is approve or refuse", {"allowed": list(OUTCOMES)}
        )
    if outcome != "approve":
        return
    situations = list(situations)
    required = {m["code"] for m in materials_for(definition, situations) if m["required"]}
    states = material_states(definition, situations, given)
    pending = [c for c, s in states.items() if c in required and s in (MISSING, PLEDGED)]
    if pending:
        raise MaterialsMissing(
            "pledged_not_supplied",
            f"容缺受理承诺的材料尚未补齐：{_names(definition, pending)}，不能作出准予决定 / the materials "
            f"promised at acceptance have not been supplied; the case cannot be approved",
            {"missing": pending},
        )


def pause_step(definition: Mapping[str, Any], code: str) -> dict[str, Any]:
    """The pause step (特殊环节) of this code: the item's own or the correction wait."""
    for step in [*definition.get("pause_steps", []), CORRECTION_STEP]:
        if step["code"] == code:
            return dict(step)
    raise RuleError(
        "unknown_pause_step",
        f"该事项没有“{code}”这一特殊环节 / the item has no pause step {code!r}",
        {"allowed": [s["code"] for s in definition.get("pause_steps", [])] + ["correction"]},
    )


# --- the lifecycle -------------------------------------------------------------------------------------------

STATES = (
    "collected",
    "received",
    "correcting",
    "not_accepted",
    "handling",
    "paused",
    "decided",
    "delivered",
    "closed",
    "withdrawn",
)
STATE_NAMES = {
    "collected": "异地收件待转办",
    "received": "已收件待受理",
    "correcting": "一次性告知待补正",
    "not_accepted": "不予受理",
    "handling": "办理中",
    "paused": "特殊环节（计时暂停）",
    "decided": "已决定",
    "delivered": "已送达",
    "closed": "已办结",
    "withdrawn": "已撤回",
}
FINAL = frozenset({"not_accepted", "closed", "withdrawn"})
#: States in which the clock runs or is paused (accepted, not decided).
CLOCKED = frozenset({"handling", "paused"})
#: States in which the case waits for the administration (the work queues).
OPEN = frozenset({"collected", "received", "handling", "paused", "decided", "delivered"})

_TABLE: dict[tuple[str, str], str] = {
    ("collected", "forward"): "received",
    ("received", "accept"): "handling",
    ("received", "notify_correction"): "correcting",
    ("correcting", "resubmit"): "received",
    ("received", "refuse_intake"): "not_accepted",
    ("correcting", "refuse_intake"): "not_accepted",
    ("handling", "pause"): "paused",
    ("paused", "resume"): "handling",
    ("handling", "decide"): "decided",
    ("decided", "deliver"): "delivered",
    ("delivered", "close"): "closed",
    **{(state, "withdraw"): "withdrawn" for state in ("collected", "received", "correcting", "handling", "paused")},
}
ACTIONS = (
    "forward",
    "accept",
    "notify_correction",
    "resubmit",
    "refuse_intake",
    "pause",
    "resume",
    "decide",
    "deliver",
    "close",
    "withdraw",
)
ACTION_NAMES = {
    "intake": "收件",
    "forward": "转办",
    "accept": "受理",
    "notify_correction": "一次性告知",
    "resubmit": "补正后重新提交",
    "refuse_intake": "不予受理",
    "pause": "进入特殊环节",
    "resume": "特殊环节结束",
    "decide": "作出决定",
    "deliver": "送达",
    "close": "办结",
    "withdraw": "撤回",
    "warn": "时限预警",
    "rate": "评价",
    "supply": "补交材料",
}
#: Who takes each action: the applicant, the service hall that collected the case, the competent department.
APPLICANT, HALL, DEPARTMENT = "applicant", "hall", "department"
ACTOR_OF = {
    "forward": HALL,
    "accept": DEPARTMENT,
    "notify_correction": DEPARTMENT,
    "resubmit": APPLICANT,
    "refuse_intake": DEPARTMENT,
    "pause": DEPARTMENT,
    "resume": DEPARTMENT,
    "decide": DEPARTMENT,
    "deliver": DEPARTMENT,
    "close": DEPARTMENT,
    "withdraw": APPLICANT,
}
REASON_REQUIRED = frozenset({"notify_correction", "refuse_intake", "withdraw"})


def transition(state: str, action: str) -> str:
    """The state after `action` in `state`; IllegalTransition (409) when the table has none."""
    nxt = _TABLE.get((state, action))
    if nxt is None:
        raise IllegalTransition(state, action)
    return nxt


def allowed_actions(state: str) -> list[str]:
    return [action for action in ACTIONS if (state, action) in _TABLE]


def rating_check(state: str, already_rated: bool, grade: Any) -> int:
    """好差评: once, after the case is closed, a grade 1–5."""
    if state != "closed":
        raise RuleError("not_closed", "办结后才能评价 / the service is rated once the case is closed", {"state": state})
    if already_rated:
        raise RuleError("already_rated", "每件只能评价一次 / a case is rated once")
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in RATING_GRADES:
        raise RuleError(
            "invalid_grade",
            "评价须为 1–5 / the grade is 1 (非常不满意) to 5 (非常满意)",
            {"allowed": sorted(RATING_GRADES)},
        )
    return grade
