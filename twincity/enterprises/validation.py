"""The one validation and the one merge of registry writes. Pure Python: no Django, no database.

Every way into the registry (the API, a CSV/XLSX import, the page forms, the demo generator) cleans its values
with `clean_value` and computes the new row with `declaration_merge` / `profile_merge`, so the same input
stores the same row whichever way it came in.

Blank and clear, decided once:
* a value that is not given (a column absent from the file, a key absent from the JSON, a blank cell) leaves
  the stored value as it is;
* clearing a stored value takes an explicit marker: JSON `null`, or a cell holding one of
  `fields.CLEAR_WORDS` (清空, clear, …); `clean_value` returns `CLEAR` for it.

Provenance, decided once: a figure's entry is `{"source", "verified"}`; the default (self-declared, not
verified) is stored as no entry at all. Only someone allowed to verify (an administrator) may mark a figure
verified; changing a figure's value drops its source and verification unless the same write restates them.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from operator import mul
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from twincity.enterprises.consistency import declaration_flag_dicts
from twincity.enterprises.fields import (
    CHOICES,
    CITY_PATTERN,
    CLEAR_WORDS,
    COUNT_LIMIT,
    DEFAULT_SOURCE,
    ENTERPRISE_FIELDS,
    FIGURE_NAMES,
    FISCAL_YEAR_MIN,
    INDUSTRY_CODE_PATTERN,
    MONEY_LIMIT,
    MONEY_STEP,
    PROFILE_BLANKS,
    SOURCES,
    FieldSpec,
)


class _Clear:
    """The explicit "erase the stored value" marker."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CLEAR"

    def __reduce__(self):
        return "CLEAR"


CLEAR: Any = _Clear()
DEFAULT_PROVENANCE: dict[str, object] = {"source": DEFAULT_SOURCE, "verified": False}

TRUE_WORDS = frozenset({"y", "yes", "true", "1", "是", "t"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "否", "f"})
CITY_ALIASES = {"重庆": "chongqing", "重庆市": "chongqing", "成都": "chengdu", "成都市": "chengdu"}
_CITY_RE = re.compile(CITY_PATTERN)
_INDUSTRY_CODE_RE = re.compile(INDUSTRY_CODE_PATTERN)
_CREDIT_CODE_RE = re.compile(r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$")
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"  # (NUL is refused before, with its own reason)
_EMAIL_RE = re.compile(EMAIL_PATTERN)


class Invalid(Exception):
    """Why one value cannot be stored, in Chinese and English."""

    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_zh = reason_zh
        self.reason_en = reason_en


@dataclass(frozen=True)
class Problem:
    """Why a write cannot be stored: the field, the reason, and whether it is a matter of permission (the
    person may not do this) rather than of the value."""

    field: str
    reason_zh: str
    reason_en: str
    forbidden: bool = False


# --- one value ---------------------------------------------------------------------------------------------


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def credit_code_problem(value: str) -> tuple[str, str] | None:
    """Why a unified social credit code is invalid, as (中文, English); None when it is valid.

    python-stdnum implements GB 32100-2015, including the check character.
    """
    try:
        uscc.validate(value)
    except InvalidLength:
        return ("统一社会信用代码应为18位", "a unified social credit code has 18 characters")
    except InvalidChecksum:
        return ("统一社会信用代码校验位错误", "the check character of the credit code is wrong")
    except (InvalidFormat, InvalidComponent):
        return ("统一社会信用代码含有非法字符或格式错误", "the credit code has invalid characters")
    except StdnumError:
        return ("统一社会信用代码无效", "the credit code is invalid")
    return None


def normalise_credit_code(value: str) -> str:
    return uscc.compact(value or "")


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a code: the same as
    `stdnum.cn.uscc.calc_check_digit`, without its input clean-up (which costs more than the sum itself over
    100,000 codes). The tests compare the two."""
    if len(first17) != len(_USCC_WEIGHTS):
        raise ValueError(f"expected the 17 first characters of a code, got {first17!r}")
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))  # (no Python-level loop)
    return _USCC_ALPHABET[(31 - total) % 31]


def clean_credit_code(raw: Any) -> str:
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        # Excel keeps 15 significant digits: an 18-digit code typed into a number cell has lost its tail.
        raise Invalid("统一社会信用代码被存为数字，后几位已丢失；请将该列设为文本格式",
                      "the credit code was stored as a number and lost digits; format the column as text")
    text = _text(raw)
    if _CREDIT_CODE_RE.match(text) and uscc_check(text[:17]) == text[-1]:
        return text  # the common case, without stdnum's slower clean-up
    code = normalise_credit_code(text)
    problem = credit_code_problem(code)
    if problem:
        raise Invalid(*problem)
    return code


def _decimal(raw: Any) -> Decimal:
    kind = type(raw)
    if kind is str:
        try:
            number = Decimal(raw)  # the common case: a plain number (Decimal allows surrounding spaces)
        except InvalidOperation:
            try:
                number = Decimal(raw.strip().replace(",", "").replace("，", ""))
            except InvalidOperation:
                raise Invalid("不是有效数字", "not a number") from None
    elif kind is Decimal:
        number = raw
    elif kind is int:
        number = Decimal(raw)
    elif kind is float:
        number = Decimal(repr(raw))
    elif isinstance(raw, bool):
        raise Invalid("不是有效数字", "not a number")
    elif isinstance(raw, (int, Decimal)):
        number = Decimal(raw)
    else:
        try:
            number = Decimal(_text(raw).replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise Invalid("不是有效数字", "not a number") from None
    if not number.is_finite():
        raise Invalid("不是有效数字", "not a number")
    return number


def _integer(raw: Any, *, low: int, high: int) -> int:
    if type(raw) is int:
        value = raw
    elif type(raw) is str and raw.isascii() and raw.isdigit():  # the common case: plain digits
        value = int(raw)
    else:
        number = _decimal(raw)
        if number != number.to_integral_value():
            raise Invalid("应为整数", "expected a whole number")
        value = int(number)
    if not low <= value <= high:
        raise Invalid(f"应在 {low} 到 {high} 之间", f"expected a value between {low} and {high}")
    return value


def clean_money(raw: Any) -> Decimal:
    # 万元 to four places is one yuan; finer digits are rounded half to even.
    number = _decimal(raw)
    if abs(number) >= MONEY_LIMIT:
        raise Invalid("金额过大（单位为万元）", "amount too large (the unit is 10,000 CNY)")
    rounded = number.quantize(MONEY_STEP, rounding=ROUND_HALF_EVEN)
    if abs(rounded) >= MONEY_LIMIT:  # 999999999999.99999 rounds to 10^12: more digits than the column holds
        raise Invalid("金额过大（单位为万元）", "amount too large (the unit is 10,000 CNY)")
    return rounded


def money_plain(raw: str) -> Decimal | None:
    """What `clean_value` gives for a money cell holding a plain number within the limits (the common case, never
    a clear word), in fewer steps: what clean_money gives. None for any other text (then ask clean_value)."""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    if number.is_finite() and _MONEY_FLOOR < number < MONEY_LIMIT:  # |number| < MONEY_LIMIT, without abs()
        rounded = number.quantize(MONEY_STEP, rounding=ROUND_HALF_EVEN)
        if _MONEY_FLOOR < rounded < MONEY_LIMIT:  # checked after rounding, as clean_money does
            return rounded
    return None


_MONEY_FLOOR = -MONEY_LIMIT


def clean_fiscal_year(raw: Any, *, year_max: int) -> int:
    return _integer(raw, low=FISCAL_YEAR_MIN, high=year_max)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float, Decimal)) and raw in (0, 1):
        return bool(raw)
    word = _text(raw).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Invalid("应为 Y/N、是/否、true/false 或 1/0", "expected Y/N, 是/否, true/false or 1/0")


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(raw)
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", "expected a date as YYYY-MM-DD") from None


def clean_choice(raw: Any, choices: Mapping[str, tuple[str, str]], what_zh: str, what_en: str) -> str:
    text = _text(raw)
    if text.lower() in choices:
        return text.lower()
    for key, (zh, en) in choices.items():
        if text == zh or text.lower() == en.lower():
            return key
    allowed = ", ".join(choices)
    raise Invalid(f"未知的{what_zh}，可选：{allowed}", f"unknown {what_en}; one of: {allowed}")


def _city(raw: Any) -> str:
    text = _text(raw)
    text = CITY_ALIASES.get(text, text.lower())
    if not _CITY_RE.match(text):
        raise Invalid("注册地应为城市拼音，如 chongqing、chengdu", "city must be pinyin, e.g. chongqing, chengdu")
    return text


def _plain_text(spec: FieldSpec, raw: Any) -> str:
    text = _text(raw)
    if spec.max_length and len(text) > spec.max_length:
        raise Invalid(f"过长（最多{spec.max_length}个字符）", f"too long (at most {spec.max_length} characters)")
    if "\x00" in text:
        raise Invalid("含有空字符", "contains a NUL character")
    if spec.name == "industry_code" and text:
        text = text.upper()
        if not _INDUSTRY_CODE_RE.match(text):
            raise Invalid("国民经济行业代码格式错误，如 C3973", "industry code must look like C3973")
    return text


def clean_value(spec: FieldSpec, raw: Any, *, year_max: int | None = None) -> Any:
    """The value to store for one field, from whatever a person or a file gave (text, a number, a date, a
    boolean). Returns CLEAR for JSON null or a clear word; raises Invalid when it cannot be stored.

    Callers leave blank cells out before calling: a blank means "no change".
    """
    kind = spec.kind
    if kind == "money" and raw is not None:
        if type(raw) is not str:  # JSON numbers, spreadsheet cells: never a clear word
            return clean_money(raw)
        rounded = money_plain(raw)
        if rounded is not None:
            return rounded
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in CLEAR_WORDS):
        if kind in ("credit_code", "year"):  # a key identifies the row: it is never cleared
            raise Invalid("必填项不能为空", f"{spec.name} is required")
        return CLEAR
    if kind == "money":
        return clean_money(raw)
    if kind == "headcount":
        return _integer(raw, low=-COUNT_LIMIT, high=COUNT_LIMIT)
    if kind == "count":
        return _integer(raw, low=0, high=spec.maximum or COUNT_LIMIT)
    if kind == "year":
        return clean_fiscal_year(raw, year_max=year_max or 2100)
    if kind == "bool":
        return _bool(raw)
    if kind == "date":
        return _date(raw)
    if kind == "credit_code":
        return clean_credit_code(raw)
    if kind == "city":
        return _city(raw)
    if kind == "choice":
        return clean_choice(raw, CHOICES[spec.name], spec.label_zh, spec.label_en)
    if kind == "email":
        text = _plain_text(spec, raw)
        if text and not _EMAIL_RE.match(text):
            raise Invalid("邮箱格式不正确", "not an email address")
        return text
    return _plain_text(spec, raw)


def clean_source(raw: Any) -> str:
    return clean_choice(raw, SOURCES, "数据来源", "source")


# --- declarations --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclarationRow:
    """What a declaration stores besides its key: every figure, the provenance entries that differ from the
    default, and the consistency flags."""

    figures: dict[str, Any]
    provenance: dict[str, dict[str, object]] = field(default_factory=dict)
    flags: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def blank(cls) -> "DeclarationRow":
        return cls(figures=dict.fromkeys(FIGURE_NAMES))


_FIGURE_ORDER = {name: index for index, name in enumerate(FIGURE_NAMES)}
_BLANK = DeclarationRow.blank()  # the row a new declaration starts from (read, never changed)


@dataclass
class DeclarationChange:
    row: DeclarationRow
    created: bool
    changed: list[str]  # figure names, then "provenance" and "flags" when those changed
    problems: list[Problem]


def provenance_normalise(entries: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, object]]:
    """Entries in figure order, without the default ones."""
    out: dict[str, dict[str, object]] = {}
    # The figures that have an entry, in figure order (most writes state one or two: no walk over every figure).
    names = FIGURE_NAMES if len(entries) > 3 else sorted(entries.keys() & _FIGURE_ORDER, key=_FIGURE_ORDER.__getitem__)
    for name in names:
        entry = entries.get(name)
        if entry is None:
            continue
        entry = {"source": entry.get("source", DEFAULT_SOURCE), "verified": bool(entry.get("verified", False))}
        if entry != DEFAULT_PROVENANCE:
            out[name] = entry
    return out


def declaration_merge(
    current: DeclarationRow | None,
    figures: Mapping[str, Any],
    provenance: Mapping[str, Mapping[str, object]] | None = None,
    *,
    may_verify: bool,
    replace: bool = False,
    previous_year: Mapping[str, Any] | None = None,
) -> DeclarationChange:
    """The declaration after a write, and what changed.

    `figures` holds cleaned values (or CLEAR) of the figures given; a figure not given keeps its value unless
    `replace` (then every figure not given is cleared). `provenance` holds partial entries
    ({"source"?, "verified"?}) of the figures whose provenance the write states. `previous_year` holds the
    figures of the year before, for the year-over-year flags.
    """
    created = current is None
    base = _BLANK if current is None else current
    problems: list[Problem] = []
    new_figures = dict.fromkeys(FIGURE_NAMES) if replace else dict(base.figures)
    for name, value in figures.items():
        new_figures[name] = None if value is CLEAR else value
    base_get = base.figures.get
    changed = [name for name in FIGURE_NAMES if new_figures[name] != base_get(name)]

    stated = provenance or {}
    entries: dict[str, dict[str, object]] = {}
    changed_set = set(changed)
    # Only the figures whose provenance can differ from the default need a look: those this write states and
    # those stored with one. Any other figure's entry is the default whatever happens to its value (a new value
    # is self-declared and unverified, an unchanged one keeps its default entry), and defaults are not stored.
    looked_at = {*stated, *base.provenance} if stated or base.provenance else ()
    for name in (name for name in FIGURE_NAMES if name in looked_at) if looked_at else ():
        old_entry = {**DEFAULT_PROVENANCE, **base.provenance.get(name, {})}
        value_changed = name in changed_set
        if name in stated:
            # Restated by this write: what it says, on top of what was stored (unless the value changed).
            entry = {**(DEFAULT_PROVENANCE if value_changed else old_entry), **stated[name]}
        elif value_changed or (replace and name not in figures):
            entry = dict(DEFAULT_PROVENANCE)  # a new value is self-declared until someone verifies it
        else:
            entry = old_entry
        gains_verification = entry["verified"] and (value_changed or not old_entry["verified"])
        if gains_verification and not may_verify:
            problems.append(Problem(name, "只有管理员可以将数据标记为已核实", "only administrators verify figures",
                                    forbidden=True))
            entry = {**entry, "verified": False}
        entries[name] = entry
    new_provenance = provenance_normalise(entries) if entries else {}
    flags = declaration_flag_dicts(new_figures, previous_year)
    if new_provenance != base.provenance:
        changed.append("provenance")
    if flags != base.flags:
        changed.append("flags")
    return DeclarationChange(DeclarationRow(new_figures, new_provenance, flags), created, changed, problems)


# --- enterprise profiles ---------------------------------------------------------------------------------------

_PROFILE = {spec.name: spec for spec in ENTERPRISE_FIELDS}


@dataclass
class ProfileChange:
    values: dict[str, Any]  # the whole profile after the write (without the credit code)
    created: bool
    changed: list[str]
    problems: list[Problem]


def profile_merge(
    current: Mapping[str, Any] | None, incoming: Mapping[str, Any], *, editable: frozenset[str]
) -> ProfileChange:
    """The profile after a write, and what changed. `incoming` holds cleaned values (or CLEAR); a field the
    person may not change (`editable`) is a problem when the write would change it, and fine when it restates
    the stored value."""
    created = current is None
    values: dict[str, Any] = {}
    if current is None:
        values = {spec.name: PROFILE_BLANKS.get(spec.name) for spec in ENTERPRISE_FIELDS if spec.name != "credit_code"}
    else:
        values = {name: current[name] for name in _PROFILE if name != "credit_code"}
    problems: list[Problem] = []
    before = dict(values)
    for name, value in incoming.items():
        spec = _PROFILE.get(name)
        if spec is None or name == "credit_code":
            problems.append(Problem(name, "该字段不能修改", "this field cannot be changed"))
            continue
        if value is CLEAR:
            if spec.required:
                problems.append(Problem(name, "必填项不能为空", f"{name} is required"))
                continue
            value = PROFILE_BLANKS.get(name)
        if value == before[name]:
            continue
        if name not in editable:
            problems.append(Problem(name, "无权修改该字段", "you may not change this field", forbidden=True))
            continue
        values[name] = value
    if created:
        for spec in ENTERPRISE_FIELDS:
            if spec.required and spec.name != "credit_code" and values.get(spec.name) in (None, ""):
                problems.append(Problem(spec.name, "必填项不能为空", f"{spec.name} is required"))
    changed = [name for name in values if values[name] != before[name]]
    return ProfileChange(values, created, changed, problems)
