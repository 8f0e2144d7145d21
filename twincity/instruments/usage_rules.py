"""Usage, billing, sample jobs and the sharing evaluation as pure rules. No Django (import-linter).

**Billing and sample-job rules** are two more keys of an instrument's booking rules (twincity.instruments.rules
calls `validate` for them):

    "billing": {"basis": "larger",        # booked | actual | larger: what a booking is charged on
                "increment_minutes": 15,  # actual time is rounded up to this step (0: to the minute)
                "no_show_minutes": 30},   # a booking with no usage starting by this long after its start is a no-show
    "sample_jobs": {"turnaround_days": 10,  # working days from samples received to the report delivered
                    "capacity": 2,          # jobs in testing on the instrument at once (the operators' capacity)
                    "quote_valid_days": 14} # a quote expires after this many calendar days

**Reconciliation** of one booking [start, end) with the usage sessions that belong to it: actual minutes (the
union of the sessions), overrun (session time outside the booked period), idle (booked time no session
covers), no-show (no session began by start + no_show_minutes). **Billing** on booked, actual or the larger.

**The evaluation** (国科办基〔2022〕93号 indicators, working definitions of the reference note §5.1): 有效工作机时
= the union of the instrument's normal sessions in the year (maintenance and breakdown excluded); 对外服务机时 =
the part of it serving users outside the owning legal entity; 共享率 = 对外 / 有效.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
FEN = Decimal("0.01")
HOURS = Decimal("0.01")  # hours are shown and compared to the hundredth

BOOKED, ACTUAL, LARGER = "booked", "actual", "larger"
BASES = (BOOKED, ACTUAL, LARGER)
NORMAL, MAINTENANCE, BREAKDOWN = "normal", "maintenance", "breakdown"
KINDS = (NORMAL, MAINTENANCE, BREAKDOWN)

BILLING_DEFAULTS: dict[str, Any] = {"basis": BOOKED, "increment_minutes": 0, "no_show_minutes": 30}
JOB_DEFAULTS: dict[str, Any] = {"turnaround_days": 10, "capacity": 2, "quote_valid_days": 14}
DEFAULTS: dict[str, Any] = {"billing": BILLING_DEFAULTS, "sample_jobs": JOB_DEFAULTS}


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def validate(data: dict[str, Any]) -> list[str]:
    """The errors of the "billing" and "sample_jobs" keys of a rules definition (others are rules.py's)."""
    errors: list[str] = []
    billing = data.get("billing", {})
    if not isinstance(billing, dict):
        errors.append("billing: 必须是对象 / must be an object")
    else:
        unknown = sorted(set(billing) - set(BILLING_DEFAULTS))
        if unknown:
            errors.append(f"billing: 未知字段 {', '.join(unknown)} / unknown keys")
        if billing.get("basis", BOOKED) not in BASES:
            errors.append("billing.basis: 须为 booked、actual 或 larger / must be booked, actual or larger")
        for key, high in (("increment_minutes", 240), ("no_show_minutes", 1440)):
            if not _is_int(billing.get(key, 0), 0, high):
                errors.append(f"billing.{key}: 须为 0–{high} 的整数 / an integer 0–{high}")
    jobs = data.get("sample_jobs", {})
    if not isinstance(jobs, dict):
        errors.append("sample_jobs: 必须是对象 / must be an object")
    else:
        unknown = sorted(set(jobs) - set(JOB_DEFAULTS))
        if unknown:
            errors.append(f"sample_jobs: 未知字段 {', '.join(unknown)} / unknown keys")
        for key, low, high in (("turnaround_days", 1, 120), ("capacity", 1, 100), ("quote_valid_days", 1, 365)):
            if not _is_int(jobs.get(key, JOB_DEFAULTS[key]), low, high):
                errors.append(f"sample_jobs.{key}: 须为 {low}–{high} 的整数 / an integer {low}–{high}")
    return errors


@dataclass(frozen=True)
class Billing:
    basis: str = BOOKED
    increment_minutes: int = 0
    no_show_minutes: int = 30

    @classmethod
    def from_rules(cls, rules: dict[str, Any] | None) -> Billing:
        d = {**BILLING_DEFAULTS, **((rules or {}).get("billing") or {})}
        return cls(d["basis"], d["increment_minutes"], d["no_show_minutes"])


@dataclass(frozen=True)
class JobRules:
    turnaround_days: int = 10
    capacity: int = 2
    quote_valid_days: int = 14

    @classmethod
    def from_rules(cls, rules: dict[str, Any] | None) -> JobRules:
        d = {**JOB_DEFAULTS, **((rules or {}).get("sample_jobs") or {})}
        return cls(d["turnaround_days"], d["capacity"], d["quote_valid_days"])


# --- intervals -------------------------------------------------------------------------------------------------

type Period = tuple[datetime, datetime]


def union(periods: Iterable[Period]) -> list[Period]:
    """The periods merged: sorted, disjoint, touching ones joined (half-open)."""
    merged: list[list[datetime]] = []
    for start, end in sorted(p for p in periods if p[1] > p[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def clip(periods: Iterable[Period], low: datetime, high: datetime) -> list[Period]:
    return [(max(s, low), min(e, high)) for s, e in periods if s < high and e > low]


def minutes(periods: Iterable[Period]) -> Decimal:
    """The total length of disjoint periods, in minutes (exact: seconds / 60)."""
    return Decimal(sum(int((e - s).total_seconds()) for s, e in periods)) / 60


def to_hours(mins: Decimal) -> Decimal:
    return (mins / 60).quantize(HOURS, rounding=ROUND_HALF_UP)


# --- reconciliation and billing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    booked_minutes: Decimal
    actual_minutes: Decimal
    overrun_minutes: Decimal
    idle_minutes: Decimal
    no_show: bool
    billable_minutes: Decimal

    @property
    def flags(self) -> list[str]:
        out = []
        if self.no_show:
            out.append("no_show")
        if self.overrun_minutes > 0:
            out.append("overrun")
        if self.idle_minutes > 0 and not self.no_show:
            out.append("idle")
        return out


def _round_up(value: Decimal, step: int) -> Decimal:
    if step <= 0 or value == 0:
        return value
    steps = (value / step).to_integral_value(rounding="ROUND_CEILING")
    return steps * step


def reconcile(*, starts_at: datetime, ends_at: datetime, sessions: Sequence[tuple[datetime, datetime | None]],
              billing: Billing,
              now: datetime) -> Reconciliation:
    """A booking [starts_at, ends_at) against its sessions (an open session counts until `now`)."""
    booked = minutes([(starts_at, ends_at)])
    used = union((s, min(e, now) if e is not None else now) for s, e in sessions)
    actual = minutes(used)
    inside = minutes(clip(used, starts_at, ends_at))
    overrun = actual - inside
    idle = booked - inside
    deadline = starts_at + timedelta(minutes=billing.no_show_minutes)
    # A no-show: no usage began by the deadline (a session that ended before the booking does not count).
    no_show = not any(s <= deadline and e > starts_at for s, e in used)
    rounded = _round_up(actual, billing.increment_minutes)
    billable = {BOOKED: booked, ACTUAL: rounded, LARGER: max(booked, rounded)}[billing.basis]
    return Reconciliation(booked, actual, overrun, idle, no_show, billable)


def charge(*, unit: str, unit_price: Decimal | None, billable_minutes: Decimal) -> tuple[Decimal, Decimal]:
    """(quantity, amount): hours billed × the hourly price, or one sample at its price; to the fen."""
    if unit_price is None:
        return Decimal(0), Decimal(0)
    if unit == "hour":
        quantity = (billable_minutes / 60).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return quantity, (unit_price * billable_minutes / 60).quantize(FEN, rounding=ROUND_HALF_UP)
    return Decimal(1), unit_price.quantize(FEN)


# --- the evaluation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFact:
    starts_at: datetime
    ends_at: datetime
    kind: str
    external: bool  # the user's legal entity is not the owner's
    client_id: int | None  # the user's legal entity (root organisation)


@dataclass(frozen=True)
class InstrumentFigures:
    effective_hours: Decimal
    external_hours: Decimal
    maintenance_hours: Decimal
    breakdown_hours: Decimal
    share_rate: Decimal | None  # external / effective, a fraction to 4 places; None without effective hours
    clients: frozenset[int]


def year_bounds(year: int) -> Period:
    """The year in Asia/Shanghai as a UTC period."""
    return (datetime(year, 1, 1, tzinfo=LOCAL).astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=LOCAL).astimezone(UTC))


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if whole else None


def instrument_figures(facts: Iterable[SessionFact], year: int) -> InstrumentFigures:
    """One instrument's figures for a year: sessions clipped to the year; overlapping sessions counted once
    (an instrument runs one hour per hour); external time is the union of external sessions, itself within the
    effective time."""
    low, high = year_bounds(year)
    facts = list(facts)

    def hours_of(selected: Iterable[SessionFact]) -> Decimal:
        return to_hours(minutes(clip(union((f.starts_at, f.ends_at) for f in selected), low, high)))

    normal = [f for f in facts if f.kind == NORMAL]
    effective = hours_of(normal)
    external = hours_of(f for f in normal if f.external)
    clients = frozenset(f.client_id for f in normal if f.external and f.client_id is not None
                        and f.starts_at < high and f.ends_at > low)
    return InstrumentFigures(effective, external, hours_of(f for f in facts if f.kind == MAINTENANCE),
                             hours_of(f for f in facts if f.kind == BREAKDOWN), ratio(external, effective), clients)


@dataclass(frozen=True)
class Benchmark:
    key: str
    label: str
    effective_hours: Decimal | None
    external_hours: Decimal | None
    share_rate: Decimal | None
    source: str


# Published averages per instrument (reference note instruments.md §5.1, §5.2; ⚠️ secondary sources there).
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("national_2025", "全国 2025 年评价考核（年均）", Decimal(1599), Decimal(273), None,
              "科技部/财政部 2025 年开放共享评价考核结果通知（转载）"),
    Benchmark("national_2019", "全国 2019 年评价考核（年均）", Decimal(1440), Decimal(240), Decimal("0.16"),
              "2019 年开放共享评价考核结果（转载）"),
    Benchmark("chongqing_baseline", "重庆 利用率基准（年机时）", Decimal(1400), None, Decimal("0.5254"),
              "重庆科技资源共享平台 2017 年上半年报告：基准 1400 h/年，对外服务比例 52.54 %"),
)


def compare(value: Decimal | None, benchmark: Decimal | None) -> Decimal | None:
    """value / benchmark as a fraction (1 = at the benchmark), or None."""
    if value is None or not benchmark:
        return None
    return (value / benchmark).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def month_bounds(year: int, month: int) -> Period:
    start = datetime(year, month, 1, tzinfo=LOCAL)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(day: date) -> tuple[int, int]:
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
