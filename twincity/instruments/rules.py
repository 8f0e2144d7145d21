"""Booking rules as data, and the one checker that applies them. Pure Python: no Django (import-linter).

An instrument's rules are a JSON object (stored on the instrument, edited by its owner, validated here):

    {
      "slot_minutes": 30,                 # the grid: a booking starts and ends on it (local time, Asia/Shanghai)
      "open_from": "08:00", "open_until": "20:00",   # bookable hours of a local day ("24:00" = midnight)
      "weekdays": [1, 2, 3, 4, 5],        # ISO weekdays that are bookable (1 = Monday)
      "min_minutes": 30, "max_minutes": 480,
      "advance_days": 30,                 # the advance window: the start at most this far ahead of now
      "notice_minutes": {"create": 120, "change": 1440, "cancel": 1440},  # before the start
      "setup_minutes": 0, "cleanup_minutes": 15,     # the instrument's buffer, applied to everyone
      "user_gap_minutes": 0,              # anti-hogging: the same person's bookings this far apart at least
      "quotas": [{"per": "week", "scope": "user", "hours": 8}, {"per": "day", "scope": "user", "count": 1}],
      "blackouts": [{"from": "2026-12-01T00:00:00+08:00", "until": "2026-12-03T00:00:00+08:00",
                     "reason": "年度维护"}],
      "approval": {"required": true, "hold_hours": 48},
      "cancellation": [{"within_hours": 24, "percent": 50}],         # fee tiers (percent of the booking's amount)
      "no_show": {"percent": 100},        # or {"fixed": "200.00"}: the fee when the owner marks a no-show
      "capacity": 1                       # seats/positions: how many bookings may hold the same time at once
    }

Every key is optional (DEFAULTS). Periods are half-open [start, end) and every instant is timezone-aware; the
grid, the opening hours, the weekdays and the quota periods (day, ISO week from Monday, month) are read in
Asia/Shanghai. A booking holds [start − setup, end + cleanup) of the instrument (`blocked_period`), so two
bookings are at least one's cleanup plus the next one's setup apart.

`check(rules, request, held)` answers every rule the request breaks, each a `Refusal` naming the rule, the
timestamp it measured and who may override it (an administrator, with a logged reason; nobody for a double
booking or an empty period). Quotas count the bookings that hold a slot: pending and confirmed.

Capacity: with `capacity` N > 1 up to N bookings may hold overlapping (buffered) periods; the checker counts the
peak concurrency over the requested period with a sweep line ("capacity", nobody overrides it). Capacity 1 is
the exclusive case ("overlap"), which PostgreSQL's exclusion constraint also guarantees.

Recurring bookings: `expand_series` turns an RFC 5545 RRULE (python-dateutil) with EXDATE exceptions into
occurrences, expanded in Asia/Shanghai wall time; `check_series` checks them one by one, each against the held
bookings plus the earlier occurrences of the same series that were accepted (so a quota counts them too).

Fees: `cancellation_fee` (tiers), `no_show_fee` (percent or fixed), and `fee_after_rebooking`: the part of a
released slot that someone else rebooked costs nothing. `check_qualification` is the qualification gate of
self-run instruments.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from twincity.instruments import usage_rules

LOCAL = ZoneInfo("Asia/Shanghai")
ADMINISTRATOR = "administrator"
NOBODY = ""
PERIODS = ("day", "week", "month")
SCOPES = ("user", "organisation")
ACTIONS = ("create", "change")
FEN = Decimal("0.01")

DEFAULTS: dict[str, Any] = {
    "slot_minutes": 30,
    "open_from": "08:00",
    "open_until": "20:00",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "min_minutes": 30,
    "max_minutes": 480,
    "advance_days": 30,
    "notice_minutes": {"create": 0, "change": 0, "cancel": 0},
    "setup_minutes": 0,
    "cleanup_minutes": 0,
    "user_gap_minutes": 0,
    "quotas": [],
    "blackouts": [],
    "approval": {"required": False, "hold_hours": 48},
    "cancellation": [],
    "no_show": None,
    "capacity": 1,
}
# "billing" and "sample_jobs" are usage's keys, validated by twincity.instruments.usage_rules.
KEYS = frozenset(DEFAULTS) | frozenset(usage_rules.DEFAULTS)


class RulesError(ValueError):
    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class Quota:
    per: str  # day | week | month
    scope: str  # user | organisation (the paying organisation)
    minutes: int | None = None  # an hours quota, in minutes
    count: int | None = None

    @property
    def rule(self) -> str:
        return f"quota.{self.scope}.{self.per}.{'hours' if self.minutes is not None else 'count'}"


@dataclass(frozen=True)
class Blackout:
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class FeeTier:
    within_hours: int
    percent: Decimal


@dataclass(frozen=True)
class Rules:
    slot_minutes: int = 30
    open_from: int = 8 * 60  # minutes after local midnight
    open_until: int = 20 * 60
    weekdays: frozenset[int] = frozenset(range(1, 8))
    min_minutes: int = 30
    max_minutes: int = 480
    advance_days: int = 30
    notice_create: int = 0
    notice_change: int = 0
    notice_cancel: int = 0
    setup_minutes: int = 0
    cleanup_minutes: int = 0
    user_gap_minutes: int = 0
    quotas: tuple[Quota, ...] = ()
    blackouts: tuple[Blackout, ...] = ()
    approval_required: bool = False
    hold_hours: int = 48
    cancellation: tuple[FeeTier, ...] = field(default=())
    no_show_percent: Decimal | None = None
    no_show_fixed: Decimal | None = None
    capacity: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Rules":
        data = {} if data is None else data
        errors = validate_rules(data)
        if errors:
            raise RulesError(errors)
        d = {**DEFAULTS, **data}
        notice = {**DEFAULTS["notice_minutes"], **d["notice_minutes"]}
        approval = {**DEFAULTS["approval"], **d["approval"]}
        return cls(
            slot_minutes=d["slot_minutes"], open_from=_clock(d["open_from"]), open_until=_clock(d["open_until"]),
            weekdays=frozenset(d["weekdays"]), min_minutes=d["min_minutes"], max_minutes=d["max_minutes"],
            advance_days=d["advance_days"], notice_create=notice["create"], notice_change=notice["change"],
            notice_cancel=notice["cancel"], setup_minutes=d["setup_minutes"], cleanup_minutes=d["cleanup_minutes"],
            user_gap_minutes=d["user_gap_minutes"],
            quotas=tuple(Quota(q["per"], q.get("scope", "user"),
                               minutes=round(q["hours"] * 60) if "hours" in q else None, count=q.get("count"))
                         for q in d["quotas"]),
            blackouts=tuple(sorted((Blackout(_instant(b["from"]), _instant(b["until"]), b.get("reason", ""))
                                    for b in d["blackouts"]), key=lambda b: b.starts_at)),
            approval_required=approval["required"], hold_hours=approval["hold_hours"],
            cancellation=tuple(sorted((FeeTier(t["within_hours"], Decimal(str(t["percent"])))
                                       for t in d["cancellation"]), key=lambda t: t.within_hours)),
            no_show_percent=Decimal(str(d["no_show"]["percent"])) if d["no_show"] and "percent" in d["no_show"]
            else None,
            no_show_fixed=Decimal(str(d["no_show"]["fixed"])) if d["no_show"] and "fixed" in d["no_show"] else None,
            capacity=d["capacity"],
        )

    @property
    def setup(self) -> timedelta:
        return timedelta(minutes=self.setup_minutes)

    @property
    def cleanup(self) -> timedelta:
        return timedelta(minutes=self.cleanup_minutes)


# --- validation ------------------------------------------------------------------------------------------------


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_clock(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and (int(hours) < 24 and int(minutes) < 60 or value == "24:00")


def _is_aware(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).utcoffset() is not None
    except ValueError:
        return False


def validate_rules(data: Any) -> list[str]:
    """Every error of a rules definition, as "path: 中文 / English"; [] when it is valid."""
    if not isinstance(data, dict):
        return ["rules: 必须是对象 / must be an object"]
    errors: list[str] = []
    unknown = sorted(set(data) - KEYS)
    if unknown:
        errors.append(f"rules: 未知字段 {', '.join(unknown)} / unknown keys")
    d = {**DEFAULTS, **data}
    bounds = {"slot_minutes": (5, 1440), "min_minutes": (5, 14 * 1440), "max_minutes": (5, 14 * 1440),
              "advance_days": (0, 731), "setup_minutes": (0, 1440), "cleanup_minutes": (0, 1440),
              "user_gap_minutes": (0, 14 * 1440)}
    for key, (low, high) in bounds.items():
        if not _is_int(d[key], low, high):
            errors.append(f"{key}: 须为 {low}–{high} 的整数 / a whole number from {low} to {high}")
    for key in ("open_from", "open_until"):
        if not _is_clock(d[key]):
            errors.append(f"{key}: 须为 HH:MM / must be HH:MM (00:00–24:00)")
    if not errors:
        if _clock(d["open_from"]) >= _clock(d["open_until"]):
            errors.append("open_until: 须晚于 open_from / must be after open_from")
        if d["min_minutes"] > d["max_minutes"]:
            errors.append("min_minutes: 不得大于 max_minutes / must not exceed max_minutes")
        for key in ("min_minutes", "max_minutes"):
            if d[key] % d["slot_minutes"]:
                errors.append(f"{key}: 须为 slot_minutes 的整数倍 / a multiple of slot_minutes")
        if 1440 % d["slot_minutes"] or _clock(d["open_from"]) % d["slot_minutes"]:
            errors.append("slot_minutes: 须整除一天且与开放时间对齐 / must divide the day and align with open_from")
    weekdays = d["weekdays"]
    if (not isinstance(weekdays, list) or not weekdays or not all(_is_int(w, 1, 7) for w in weekdays)
            or len(set(weekdays)) != len(weekdays)):
        errors.append("weekdays: 须为 1–7 的不重复整数列表 / distinct ISO weekdays 1–7")
    notice = d["notice_minutes"]
    if not isinstance(notice, dict) or set(notice) - {"create", "change", "cancel"}:
        errors.append("notice_minutes: 只能含 create、change、cancel / create, change and cancel only")
    else:
        for key, value in notice.items():
            if not _is_int(value, 0, 60 * 1440):
                errors.append(f"notice_minutes.{key}: 须为 0–86400 的整数 / whole minutes, 0–86400")
    errors += _validate_quotas(d["quotas"])
    errors += _validate_blackouts(d["blackouts"])
    approval = d["approval"]
    if not isinstance(approval, dict) or set(approval) - {"required", "hold_hours"}:
        errors.append("approval: 只能含 required、hold_hours / required and hold_hours only")
    else:
        if not isinstance(approval.get("required", False), bool):
            errors.append("approval.required: 须为 true/false / must be a boolean")
        if not _is_int(approval.get("hold_hours", 48), 1, 24 * 30):
            errors.append("approval.hold_hours: 须为 1–720 的整数 / whole hours, 1–720")
    errors += _validate_cancellation(d["cancellation"])
    errors += usage_rules.validate(data)
    errors += _validate_no_show(d["no_show"])
    if not _is_int(d["capacity"], 1, 100):
        errors.append("capacity: 须为 1–100 的整数 / a whole number from 1 to 100")
    return errors


def _validate_no_show(no_show: Any) -> list[str]:
    if no_show is None:
        return []
    if not isinstance(no_show, dict) or len(no_show) != 1 or set(no_show) - {"percent", "fixed"}:
        return ["no_show: 须为 {\"percent\": …} 或 {\"fixed\": …} / either percent or fixed"]
    if "percent" in no_show:
        value = no_show["percent"]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not _percent_ok(value):
            return ["no_show.percent: 须为 0–100 / from 0 to 100 (a number or decimal text)"]
        return []
    value = no_show["fixed"]
    try:
        amount = Decimal(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount < Decimal("1e8") or amount != amount.quantize(FEN):
        return ["no_show.fixed: 须为 0–99999999.99 元（精确到分）/ yuan, to the fen"]
    return []


def _validate_quotas(quotas: Any) -> list[str]:
    if not isinstance(quotas, list):
        return ["quotas: 必须是列表 / must be a list"]
    errors = []
    for i, q in enumerate(quotas):
        path = f"quotas[{i}]"
        if not isinstance(q, dict) or set(q) - {"per", "scope", "hours", "count"}:
            errors.append(f"{path}: 只能含 per、scope、hours、count / per, scope, hours and count only")
            continue
        if q.get("per") not in PERIODS:
            errors.append(f"{path}.per: 须为 day、week 或 month / day, week or month")
        if q.get("scope", "user") not in SCOPES:
            errors.append(f"{path}.scope: 须为 user 或 organisation / user or organisation")
        if ("hours" in q) == ("count" in q):
            errors.append(f"{path}: hours 与 count 二选一 / exactly one of hours and count")
        elif "hours" in q:
            hours = q["hours"]
            if (isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 744
                    or abs(hours * 60 - round(hours * 60)) > 1e-9):
                errors.append(f"{path}.hours: 须为 0–744 之间的整分钟数 / hours in whole minutes, above 0, at most 744")
        elif not _is_int(q["count"], 1, 10_000):
            errors.append(f"{path}.count: 须为 1–10000 的整数 / a whole number from 1 to 10000")
    return errors


def _validate_blackouts(blackouts: Any) -> list[str]:
    if not isinstance(blackouts, list):
        return ["blackouts: 必须是列表 / must be a list"]
    errors = []
    for i, b in enumerate(blackouts):
        path = f"blackouts[{i}]"
        if not isinstance(b, dict) or set(b) - {"from", "until", "reason"}:
            errors.append(f"{path}: 只能含 from、until、reason / from, until and reason only")
            continue
        if not (_is_aware(b.get("from")) and _is_aware(b.get("until"))):
            errors.append(f"{path}: from、until 须为带时区的 ISO 8601 时间 / ISO 8601 instants with their offset")
        elif _instant(b["from"]) >= _instant(b["until"]):
            errors.append(f"{path}: until 须晚于 from / until must be after from")
        if not isinstance(b.get("reason", ""), str) or len(b.get("reason", "")) > 200:
            errors.append(f"{path}.reason: 至多200字的文本 / text of at most 200 characters")
    return errors


def _validate_cancellation(tiers: Any) -> list[str]:
    if not isinstance(tiers, list):
        return ["cancellation: 必须是列表 / must be a list"]
    errors = []
    for i, t in enumerate(tiers):
        path = f"cancellation[{i}]"
        if not isinstance(t, dict) or set(t) != {"within_hours", "percent"}:
            errors.append(f"{path}: 须含 within_hours 与 percent / within_hours and percent")
            continue
        if not _is_int(t["within_hours"], 1, 24 * 60):
            errors.append(f"{path}.within_hours: 须为 1–1440 的整数 / whole hours, 1–1440")
        if isinstance(t["percent"], bool) or not isinstance(t["percent"], (int, str)) or not _percent_ok(t["percent"]):
            errors.append(f"{path}.percent: 须为 0–100 / from 0 to 100 (a number or decimal text)")
    return errors


def _percent_ok(value: int | str) -> bool:
    try:
        p = Decimal(str(value))
    except ArithmeticError:
        return False
    return p.is_finite() and 0 <= p <= 100


# --- the checker -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A booking that holds its slot (pending or confirmed) on the instrument."""

    id: int
    user_id: int
    organisation_id: int | None
    starts_at: datetime
    ends_at: datetime
    blocked_from: datetime
    blocked_until: datetime


@dataclass(frozen=True)
class Request:
    starts_at: datetime
    ends_at: datetime
    user_id: int
    organisation_id: int | None
    now: datetime
    action: str = "create"  # create | change
    booking_id: int | None = None  # the booking changed (left out of the comparisons)
    current_starts_at: datetime | None = None  # its start before the change (the change notice counts from it)


@dataclass(frozen=True)
class Refusal:
    rule: str
    message_zh: str
    message_en: str
    at: datetime  # the timestamp the rule measured
    override: str = ADMINISTRATOR  # who may override it (with a logged reason); NOBODY: no one

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message_zh": self.message_zh, "message_en": self.message_en,
                "at": self.at.isoformat(), "override": self.override}


def local(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def blocked_period(rules: Rules, starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """What a booking holds of the instrument: its period with the setup before and the cleanup after."""
    return starts_at - rules.setup, ends_at + rules.cleanup


def hold_until(rules: Rules, now: datetime) -> datetime | None:
    """When a pending request made now releases its slot (None when the instrument needs no approval)."""
    return now + timedelta(hours=rules.hold_hours) if rules.approval_required else None


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _hm(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole // 60}h{whole % 60:02d}" if whole >= 60 else f"{whole} min"


def period_bounds(per: str, at: datetime) -> tuple[datetime, datetime]:
    """The local day, ISO week (from Monday) or month that `at` falls in, as UTC instants [start, end)."""
    day = at.astimezone(LOCAL).date()
    if per == "day":
        first, last = day, day + timedelta(days=1)
    elif per == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return _midnight(first), _midnight(last)


def check_window(rules: Rules, starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The span [low, high) of held periods that a check of [starts_at, ends_at) can need: the request widened by
    the buffers and the anti-hogging gap, and by each quota period it touches (the local day, week or month of
    its start and of its end) for the quotas the rules have. A held booking outside it changes no answer."""
    reach = timedelta(minutes=max(rules.user_gap_minutes, rules.setup_minutes + rules.cleanup_minutes))
    low, high = starts_at - reach, ends_at + reach
    for per in {quota.per for quota in rules.quotas}:
        low = min(low, period_bounds(per, starts_at)[0])
        high = max(high, period_bounds(per, ends_at - timedelta(microseconds=1))[1])
    return low, high


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL).astimezone(UTC)


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    return max(timedelta(0), min(a_end, b_end) - max(a_start, b_start))


def check(rules: Rules, request: Request, held: Iterable[Held]) -> list[Refusal]:
    """Every rule `request` breaks, given the bookings that hold slots on the instrument (any user's; the
    checker picks the ones each rule needs). [] means the request may be booked."""
    start, end, now = request.starts_at, request.ends_at, request.now
    if end <= start:
        return [Refusal("period", "结束时间须晚于开始时间", "the end must be after the start", start, NOBODY)]
    others = [h for h in held if h.id != request.booking_id]
    refusals: list[Refusal] = []
    length = _minutes(end - start)
    local_start, local_end = start.astimezone(LOCAL), end.astimezone(LOCAL)

    # The grid and the opening hours (local time).
    start_minute = local_start.hour * 60 + local_start.minute
    if (start_minute % rules.slot_minutes or local_start.second or local_start.microsecond
            or length % rules.slot_minutes):
        refusals.append(Refusal(
            "grid", f"须按 {rules.slot_minutes} 分钟时段整点开始和结束（开始 {local(start)}）",
            f"bookings start and end on the {rules.slot_minutes}-minute grid (start {local(start)})", start))
    day_open = local_start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=rules.open_from)
    day_close = day_open - timedelta(minutes=rules.open_from) + timedelta(minutes=rules.open_until)
    if local_start.isoweekday() not in rules.weekdays:
        refusals.append(Refusal("weekdays", f"{local_start:%Y-%m-%d} 不开放预约",
                                f"{local_start:%Y-%m-%d} is not a bookable day", start))
    elif local_start < day_open or local_end > day_close:
        refusals.append(Refusal(
            "hours", f"须在开放时间 {day_open:%H:%M}–{_clock_text(rules.open_until)} 之内（{local(start)}–{local(end)}）",
            f"bookings lie within the opening hours {day_open:%H:%M}–{_clock_text(rules.open_until)} "
            f"({local(start)}–{local(end)})", start))

    # Length.
    if length < rules.min_minutes:
        refusals.append(Refusal("min_length", f"时长 {_hm(length)} 短于最短 {_hm(rules.min_minutes)}",
                                f"{_hm(length)} is shorter than the minimum of {_hm(rules.min_minutes)}", start))
    if length > rules.max_minutes:
        refusals.append(Refusal("max_length", f"时长 {_hm(length)} 超过最长 {_hm(rules.max_minutes)}",
                                f"{_hm(length)} is longer than the maximum of {_hm(rules.max_minutes)}", start))

    # Notice (counted back from the start) and the advance window (on the start).
    if start < now:
        refusals.append(Refusal("past", f"开始时间 {local(start)} 已过（现在 {local(now)}）",
                                f"the start {local(start)} is past (now {local(now)})", start))
    elif request.action == "change":
        measured = min(start, request.current_starts_at or start)
        if measured - now < timedelta(minutes=rules.notice_change):
            refusals.append(Refusal(
                "notice.change", f"须在开始前 {_hm(rules.notice_change)} 以上修改（开始 {local(measured)}，现在 {local(now)}）",
                f"changes are made at least {_hm(rules.notice_change)} before the start "
                f"(start {local(measured)}, now {local(now)})", measured))
    elif start - now < timedelta(minutes=rules.notice_create):
        refusals.append(Refusal(
            "notice.create", f"须在开始前 {_hm(rules.notice_create)} 以上预约（开始 {local(start)}，现在 {local(now)}）",
            f"bookings are made at least {_hm(rules.notice_create)} before the start "
            f"(start {local(start)}, now {local(now)})", start))
    horizon = now + timedelta(days=rules.advance_days)
    if start > horizon:
        refusals.append(Refusal(
            "advance_window", f"最多提前 {rules.advance_days} 天预约：开始 {local(start)} 晚于 {local(horizon)}",
            f"bookings open {rules.advance_days} days ahead: the start {local(start)} is after {local(horizon)}",
            start))

    # Blackouts and maintenance.
    for blackout in rules.blackouts:
        if blackout.starts_at < end and start < blackout.ends_at:
            refusals.append(Refusal(
                "blackout", f"{local(blackout.starts_at)}–{local(blackout.ends_at)} 停用：{blackout.reason}",
                f"closed {local(blackout.starts_at)}–{local(blackout.ends_at)}: {blackout.reason}",
                blackout.starts_at))

    # Double booking: the buffered periods may not overlap (nobody may override this); with a capacity above
    # one, no instant of the buffered period may already hold `capacity` bookings.
    blocked_from, blocked_until = blocked_period(rules, start, end)
    overlapping = [h for h in others if h.blocked_from < blocked_until and blocked_from < h.blocked_until]
    if rules.capacity == 1:
        for h in overlapping:
            refusals.append(Refusal(
                "overlap", f"与已有预约 {local(h.starts_at)}–{local(h.ends_at)} 冲突（含准备与清理时间）",
                f"overlaps the booking {local(h.starts_at)}–{local(h.ends_at)} (set-up and clean-up included)",
                h.starts_at, NOBODY))
            break
    else:
        count, at = peak(overlapping, blocked_from, blocked_until)
        if count + 1 > rules.capacity:
            refusals.append(Refusal(
                "capacity", f"{local(at)} 起已有 {count} 个预约，达到容量 {rules.capacity}（含准备与清理时间）",
                f"{count} bookings already hold {local(at)}: the capacity is {rules.capacity} "
                f"(set-up and clean-up included)", at, NOBODY))

    # Anti-hogging: the same person's bookings at least the gap apart.
    if rules.user_gap_minutes:
        gap = timedelta(minutes=rules.user_gap_minutes)
        for h in others:
            if h.user_id == request.user_id and h.starts_at < end + gap and start < h.ends_at + gap:
                refusals.append(Refusal(
                    "user_gap", f"同一用户的两次预约须间隔 {_hm(rules.user_gap_minutes)}（已有 {local(h.starts_at)}–{local(h.ends_at)}）",
                    f"one person's bookings are at least {_hm(rules.user_gap_minutes)} apart "
                    f"(you hold {local(h.starts_at)}–{local(h.ends_at)})", h.starts_at))
                break

    # Quotas: pending and confirmed bookings of the same person (or paying organisation) in each period touched.
    for quota in rules.quotas:
        refusal = _quota_refusal(quota, request, others)
        if refusal is not None:
            refusals.append(refusal)
    return refusals


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


PERIOD_ZH = {"day": "每天", "week": "每周", "month": "每月"}
PERIOD_EN = {"day": "a day", "week": "a week", "month": "a month"}
SCOPE_ZH = {"user": "每人", "organisation": "每个付费单位"}
SCOPE_EN = {"user": "per person", "organisation": "per paying organisation"}


def _quota_refusal(quota: Quota, request: Request, others: Sequence[Held]) -> Refusal | None:
    if quota.scope == "user":
        mine = [h for h in others if h.user_id == request.user_id]
    elif request.organisation_id is None:
        return None
    else:
        mine = [h for h in others if h.organisation_id == request.organisation_id]
    starts = {period_bounds(quota.per, request.starts_at)}
    starts.add(period_bounds(quota.per, request.ends_at - timedelta(microseconds=1)))
    for low, high in sorted(starts):
        if quota.count is not None:
            used = sum(1 for h in mine if low <= h.starts_at < high)
            if low <= request.starts_at < high and used + 1 > quota.count:
                return Refusal(
                    quota.rule, f"{SCOPE_ZH[quota.scope]}{PERIOD_ZH[quota.per]}最多 {quota.count} 次，"
                    f"自 {local(low)} 起已有 {used} 次（含待审批）",
                    f"at most {quota.count} bookings {SCOPE_EN[quota.scope]} {PERIOD_EN[quota.per]}: {used} "
                    f"already since {local(low)} (pending included)", low)
        else:
            assert quota.minutes is not None
            used = sum((_overlap(h.starts_at, h.ends_at, low, high) for h in mine), timedelta(0))
            asked = _overlap(request.starts_at, request.ends_at, low, high)
            if _minutes(used + asked) > quota.minutes:
                return Refusal(
                    quota.rule, f"{SCOPE_ZH[quota.scope]}{PERIOD_ZH[quota.per]}最多 {_hm(quota.minutes)}，"
                    f"自 {local(low)} 起已约 {_hm(_minutes(used))}，本次 {_hm(_minutes(asked))}",
                    f"at most {_hm(quota.minutes)} {SCOPE_EN[quota.scope]} {PERIOD_EN[quota.per]}: "
                    f"{_hm(_minutes(used))} booked since {local(low)}, {_hm(_minutes(asked))} asked", low)
    return None


def check_cancel(rules: Rules, *, starts_at: datetime, now: datetime) -> list[Refusal]:
    """A cancellation inside the cancel notice is refused (an administrator may override it)."""
    if starts_at - now < timedelta(minutes=rules.notice_cancel):
        return [Refusal(
            "notice.cancel", f"须在开始前 {_hm(rules.notice_cancel)} 以上取消（开始 {local(starts_at)}，现在 {local(now)}）",
            f"cancellations are made at least {_hm(rules.notice_cancel)} before the start "
            f"(start {local(starts_at)}, now {local(now)})", starts_at)]
    return []


def cancellation_fee(rules: Rules, *, starts_at: datetime, now: datetime, amount: Decimal) -> Decimal:
    """The fee of cancelling a booking worth `amount` at `now`: the highest percent among the tiers whose
    window (hours before the start) `now` is inside, to the fen; 0 outside every tier."""
    percent = max((t.percent for t in rules.cancellation if starts_at - now < timedelta(hours=t.within_hours)),
                  default=Decimal(0))
    return (amount * percent / 100).quantize(FEN, rounding=ROUND_HALF_UP)


def peak(held: Iterable[Held], low: datetime, high: datetime) -> tuple[int, datetime]:
    """The most held bookings (their buffered periods, half-open) at any instant of [low, high), and the first
    instant it is reached (a sweep line: an end at t is counted before a start at t)."""
    events: list[tuple[datetime, int]] = []
    for h in held:
        a, b = max(h.blocked_from, low), min(h.blocked_until, high)
        if a < b:
            events += [(a, 1), (b, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    best, best_at, current = 0, low, 0
    for at, step in events:
        current += step
        if current > best:
            best, best_at = current, at
    return best, best_at


# --- qualification gate ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Qualification:
    """A person's dated qualification (training record) for an instrument: valid on the local days
    [valid_from, valid_until], both included."""

    valid_from: date
    valid_until: date


def check_qualification(*, required: str, self_run: bool, starts_at: datetime, ends_at: datetime,
                        held: Iterable[Qualification]) -> list[Refusal]:
    """A self-run instrument that requires a qualification is booked only by people holding one valid on the
    local days of the booking's start and end (operator-run instruments: the operator is qualified)."""
    if not required or not self_run:
        return []
    first, last = starts_at.astimezone(LOCAL).date(), (ends_at - timedelta(microseconds=1)).astimezone(LOCAL).date()
    if any(q.valid_from <= first and last <= q.valid_until for q in held):
        return []
    return [Refusal(
        "qualification", f"自主操作须持有「{required}」的有效资质（按开始时间 {local(starts_at)} 判断；"
        f"由仪器所属单位管理人员授予，平台管理员可说明理由越过）",
        f"self-run use needs a valid '{required}' qualification on {local(starts_at)} (granted by the owner's "
        f"staff; an administrator may override with a reason)", starts_at)]


# --- no-show and rebooking -------------------------------------------------------------------------------------


def no_show_fee(rules: Rules, *, amount: Decimal) -> Decimal:
    """The fee when the owner marks a no-show on a booking worth `amount`: the rules' percent of it or their
    fixed fee, to the fen; 0 when the rules set none."""
    if rules.no_show_percent is not None:
        return (amount * rules.no_show_percent / 100).quantize(FEN, rounding=ROUND_HALF_UP)
    if rules.no_show_fixed is not None:
        return rules.no_show_fixed.quantize(FEN)
    return Decimal(0).quantize(FEN)


def rebooked_part(starts_at: datetime, ends_at: datetime, others: Iterable[tuple[datetime, datetime]],
                  capacity: int = 1) -> timedelta:
    """How much of a released period [starts_at, ends_at) is rebooked: the time when other people's bookings
    (their periods) fill the instrument to its capacity, so the released place was taken."""
    events: list[tuple[datetime, int]] = []
    for a, b in others:
        a, b = max(a, starts_at), min(b, ends_at)
        if a < b:
            events += [(a, 1), (b, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    covered, current, since = timedelta(0), 0, starts_at
    for at, step in events:
        if current >= capacity:
            covered += at - since
        current += step
        since = at
    return covered


def fee_after_rebooking(fee: Decimal, *, starts_at: datetime, ends_at: datetime, rebooked: timedelta) -> Decimal:
    """A cancellation or no-show fee less the share of the slot someone else rebooked (none when all of it
    was), to the fen."""
    length = ends_at - starts_at
    if rebooked >= length:
        return Decimal(0).quantize(FEN)
    share = Decimal((length - rebooked).total_seconds()) / Decimal(length.total_seconds())
    return (fee * share).quantize(FEN, rounding=ROUND_HALF_UP)


# --- recurring bookings (RFC 5545) -----------------------------------------------------------------------------

MAX_OCCURRENCES = 100
MAX_SERIES_DAYS = 366


class SeriesError(ValueError):
    """The recurrence rule or its exceptions cannot be used (the message names the problem)."""


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime  # UTC
    ends_at: datetime


def parse_exdate(text: str) -> date | datetime:
    """An exception: a local date (that day's occurrence is left out) or an instant (the occurrence starting then)."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SeriesError(f"例外日期无效 {text!r} / an exception is a date YYYY-MM-DD or an ISO 8601 instant") from exc
    if value.utcoffset() is None:
        value = value.replace(tzinfo=LOCAL)
    return value.astimezone(UTC)


def expand_series(rrule: str, *, first_start: datetime, minutes: int, exdates: Sequence[str] = ()) -> list[Occurrence]:
    """The occurrences of an RFC 5545 RRULE (e.g. "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6") starting with
    `first_start`, each `minutes` long, expanded in Asia/Shanghai wall time (so 09:00 stays 09:00 local), less
    the exceptions (EXDATE: local dates or instants). The rule must end (COUNT or UNTIL), within
    MAX_OCCURRENCES occurrences and MAX_SERIES_DAYS days."""
    from dateutil.rrule import rrule as RRule
    from dateutil.rrule import rrulestr

    if first_start.utcoffset() is None:
        raise SeriesError("首次开始时间须带时区 / the first start needs its UTC offset")
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or any(part.split("=")[0].upper() in ("DTSTART", "EXDATE", "RDATE")
                                       for part in text.split(";")):
        raise SeriesError("须为一条 RRULE（不含 DTSTART/EXDATE）/ one RRULE, without DTSTART or EXDATE")
    upper = text.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise SeriesError("重复规则须有 COUNT 或 UNTIL / the rule must end (COUNT or UNTIL)")
    wall = first_start.astimezone(LOCAL).replace(tzinfo=None)
    if "UNTIL=" in upper:
        # An UNTIL in UTC ("Z") is compared with the local wall time: make it local wall time too.
        parts = []
        for part in text.split(";"):
            key, _, value = part.partition("=")
            if key.upper() == "UNTIL" and value.upper().endswith("Z"):
                try:
                    instant = datetime.strptime(value.upper(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                except ValueError as exc:
                    raise SeriesError(f"UNTIL 无效 {value!r} / an invalid UNTIL") from exc
                value = instant.astimezone(LOCAL).strftime("%Y%m%dT%H%M%S")
            parts.append(f"{key}={value}")
        text = ";".join(parts)
    try:
        rule = rrulestr(text, dtstart=wall, forceset=False)
    except (ValueError, TypeError) as exc:
        raise SeriesError(f"重复规则无效：{exc} / an invalid RRULE") from exc
    assert isinstance(rule, RRule)
    excluded = [parse_exdate(x) for x in exdates]
    excluded_days = {x for x in excluded if not isinstance(x, datetime)}
    excluded_instants = {x for x in excluded if isinstance(x, datetime)}
    horizon = wall + timedelta(days=MAX_SERIES_DAYS)
    occurrences: list[Occurrence] = []
    for index, start in enumerate(rule):
        if index >= MAX_OCCURRENCES or start > horizon:
            raise SeriesError(f"至多 {MAX_OCCURRENCES} 次、{MAX_SERIES_DAYS} 天之内 / at most {MAX_OCCURRENCES} "
                              f"occurrences within {MAX_SERIES_DAYS} days")
        aware = start.replace(tzinfo=LOCAL)
        instant = aware.astimezone(UTC)
        if aware.date() in excluded_days or instant in excluded_instants:
            continue
        occurrences.append(Occurrence(instant, instant + timedelta(minutes=minutes)))
    return occurrences


@dataclass(frozen=True)
class OccurrenceResult:
    request: Request
    refusals: list[Refusal]


def check_series(rules: Rules, requests: Sequence[Request], held: Iterable[Held],
                 accept: Callable[[list[Refusal]], bool] | None = None,
                 extra: Callable[[Request], list[Refusal]] | None = None) -> list[OccurrenceResult]:
    """Check occurrences in order, each against the held bookings and the earlier occurrences of the same series
    that are kept (`accept(refusals)` decides which: by default those with no refusal), so quotas, gaps and
    capacity count them; `extra(request)` adds refusals of rules outside `check` (the qualification gate). A
    changed occurrence (request.booking_id) replaces its old period."""
    keep = accept or (lambda refusals: not refusals)
    moved = {r.booking_id for r in requests if r.booking_id is not None}
    pool = [h for h in held if h.id not in moved]
    results = []
    for index, request in enumerate(requests):
        refusals = check(rules, request, pool) + (extra(request) if extra is not None else [])
        results.append(OccurrenceResult(request, refusals))
        if keep(refusals):
            lo, hi = blocked_period(rules, request.starts_at, request.ends_at)
            pool.append(Held(request.booking_id or -(index + 1), request.user_id, request.organisation_id,
                             request.starts_at, request.ends_at, lo, hi))
    return results


def at_clock(day: date, clock: time) -> datetime:
    """A local day at a local clock time, as a UTC instant."""
    return datetime.combine(day, clock, tzinfo=LOCAL).astimezone(UTC)
