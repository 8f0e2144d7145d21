"""Consistency checks on one year's declared figures: what cannot be true, with a reason.

Pure Python (no Django): flags are advice to reviewers; a flagged declaration is still stored.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Flag:
    code: str
    fields: tuple[str, ...]
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, object]:
        # What dataclasses.asdict gives (with the fields as a list), without its deep copy: a flag holds strings.
        return {"code": self.code, "fields": list(self.fields), "message_zh": self.message_zh,
                "message_en": self.message_en}


def _num(figures: Mapping[str, object], name: str) -> Decimal | None:
    value = figures.get(name)
    kind = type(value)
    if kind is Decimal:
        return value  # type: ignore[return-value]
    if value is None or value == "":
        return None
    if kind is int:
        return Decimal(value)  # type: ignore[arg-type]
    return Decimal(str(value))


# Year-over-year jumps that are almost always a typing mistake (a misplaced digit, a figure in yuan instead of
# 万元): the figure grew or shrank more than JUMP_FACTOR-fold and by at least the given amount.
JUMP_FACTOR = 10
JUMP_CHECKED: tuple[tuple[str, str, Decimal], ...] = (
    ("employees", "职工总数", Decimal(100)),
    ("tech_staff", "科技人员数", Decimal(100)),
    ("rd_staff", "研发人员数", Decimal(100)),
    ("sales", "销售收入", Decimal(1000)),
    ("oprev", "营业收入", Decimal(1000)),
    ("rd", "研发费用", Decimal(500)),
    ("assets", "资产总额", Decimal(1000)),
)

# What the flags of a year read of the year before's figures.
PREVIOUS_YEAR_FIGURES: tuple[str, ...] = tuple(name for name, _zh, _minimum in JUMP_CHECKED)


# Values the checks take as they are: a decimal, or a whole number (a head count), which compares, subtracts,
# multiplies and prints exactly as its Decimal does.
_EXACT = frozenset({Decimal, int})


# A jump's messages around its two values, worked out once per figure.
_JUMP_MESSAGES = tuple(
    (name, f"{zh}较上年变化超过{JUMP_FACTOR}倍（上年 ", f"{name} changed more than {JUMP_FACTOR}-fold from the year before (",
     minimum, int(minimum))
    for name, zh, minimum in JUMP_CHECKED)
_DECIMAL_FACTOR = Decimal(JUMP_FACTOR)


def _jumps[F](figures: Mapping[str, object], previous_year: Mapping[str, object], make: Callable[..., F]) -> list[F]:
    flags = []
    exact = _EXACT
    for name, zh_head, en_head, minimum, whole_minimum in _JUMP_MESSAGES:
        now: Any = figures.get(name)
        before: Any = previous_year.get(name)
        if now is None or before is None:
            continue
        if type(now) not in exact:
            now = _num(figures, name)
        if type(before) not in exact:
            before = _num(previous_year, name)
        if now is None or before is None or now < 0 or before < 0:
            continue
        # The same comparisons with a whole number's own constants (a head count with a head count), and a
        # decimal's: no conversion on the way.
        if abs(now - before) < (whole_minimum if type(now) is int and type(before) is int else minimum):
            continue
        if (now > before * (JUMP_FACTOR if type(before) is int else _DECIMAL_FACTOR)
                or before > now * (JUMP_FACTOR if type(now) is int else _DECIMAL_FACTOR)):
            before_text, now_text = str(before), str(now)  # what the f-strings wrote of them
            flags.append(make("year_over_year_jump", (name,), f"{zh_head}{before_text}，本年 {now_text}）",
                              f"{en_head}{before_text} → {now_text})"))
    return flags


# The figures the checks read: the head counts, then the amounts that cannot be negative (in the order of
# their flags), then net assets and main revenue.
_CHECKED = ("employees", "tech_staff", "rd_staff", "sales", "rd", "cost", "assets", "liab", "hitech_rev", "total_income",
            "tax", "tech_contract", "rd_dom", "na", "main")
_HEADCOUNTS = (("employees", "职工总数"), ("tech_staff", "科技人员数"), ("rd_staff", "研发人员数"))
_AMOUNTS = (
    ("sales", "销售收入"), ("rd", "研发费用"), ("cost", "成本费用支出总额"), ("assets", "资产总额"),
    ("liab", "负债总额"), ("hitech_rev", "高新技术产品(服务)收入"), ("total_income", "总收入"),
    ("tax", "纳税总额"), ("tech_contract", "技术合同成交额"), ("rd_dom", "境内研发费用"),
)
assert _CHECKED[:3] == tuple(name for name, _zh in _HEADCOUNTS)
assert _CHECKED[3:13] == tuple(name for name, _zh in _AMOUNTS)


def declaration_flags(figures: Mapping[str, object], previous_year: Mapping[str, object] | None = None) -> list[Flag]:
    """The consistency flags of one year's figures; with the year before's figures, also the jumps."""
    return _flags(figures, previous_year, Flag)


def _flag_dict(code: str, fields: tuple[str, ...], message_zh: str, message_en: str) -> dict[str, object]:
    return {"code": code, "fields": list(fields), "message_zh": message_zh, "message_en": message_en}


def declaration_flag_dicts(figures: Mapping[str, object], previous_year: Mapping[str, object] | None = None
                           ) -> list[dict[str, object]]:
    """`[flag.as_dict() for flag in declaration_flags(...)]` (what a declaration stores), without the Flags."""
    return _flags(figures, previous_year, _flag_dict)


def _flags[F](figures: Mapping[str, object], previous_year: Mapping[str, object] | None, make: Callable[..., F]
              ) -> list[F]:
    """The flags, each made by `make(code, fields, message_zh, message_en)`: a Flag, or the dict a declaration
    stores."""
    flags: list[F] = []
    exact = _EXACT
    # _num of each, without a call for the common values (a decimal, a count, or nothing)
    numbers: list[Any] = [value if value is None or type(value) in exact else _num(figures, name)
                          for name, value in zip(_CHECKED, map(figures.get, _CHECKED), strict=True)]
    (employees, tech_staff, rd_staff, sales, rd, cost, assets, liab, hitech, total_income, _tax, _tech_contract,
     rd_dom, na, main) = numbers

    for value, (name, zh) in zip(numbers[:3], _HEADCOUNTS):
        if value is not None and value < 0:
            flags.append(make("negative_headcount", (name,), f"{zh}不能为负数", f"{name} cannot be negative"))

    for value, (name, zh) in zip(numbers[3:13], _AMOUNTS):
        if value is not None and value < 0:
            flags.append(make("negative_amount", (name,), f"{zh}不能为负数", f"{name} cannot be negative"))

    if employees is not None and rd_staff is not None and rd_staff > employees:
        flags.append(make("rd_staff_exceeds_employees", ("rd_staff", "employees"),
                          "研发人员数大于职工总数", "R&D staff exceed total employees"))
    if employees is not None and tech_staff is not None and tech_staff > employees:
        flags.append(make("tech_staff_exceeds_employees", ("tech_staff", "employees"),
                          "科技人员数大于职工总数", "technical staff exceed total employees"))

    if rd is not None and cost is not None and rd > cost:
        flags.append(make("rd_exceeds_cost", ("rd", "cost"),
                          "研发费用大于成本费用支出总额", "R&D expense exceeds total cost and expense"))
    if rd_dom is not None and rd is not None and rd_dom > rd:
        flags.append(make("rd_dom_exceeds_rd", ("rd_dom", "rd"),
                          "境内研发费用大于研发费用", "domestic R&D expense exceeds R&D expense"))

    if assets is not None and liab is not None:
        if assets < liab and na is not None and na > 0:
            flags.append(make("net_assets_positive_but_insolvent", ("assets", "liab", "na"),
                              "资产总额小于负债总额，但申报的净资产为正",
                              "assets are below liabilities yet positive net assets were declared"))
        elif na is not None and na != assets - liab:
            flags.append(make("net_assets_mismatch", ("assets", "liab", "na"),
                              f"净资产应等于资产总额减负债总额({assets - liab})",
                              f"net assets should equal assets minus liabilities ({assets - liab})"))

    if hitech is not None and total_income is not None and hitech > total_income:
        flags.append(make("hitech_exceeds_income", ("hitech_rev", "total_income"),
                          "高新技术产品(服务)收入大于总收入", "high-tech revenue exceeds total income"))
    if main is not None and sales is not None and main > sales:
        flags.append(make("main_exceeds_sales", ("main", "sales"),
                          "主营业务收入大于销售收入", "main business revenue exceeds sales revenue"))
    if previous_year:
        flags.extend(_jumps(figures, previous_year, make))
    return flags
