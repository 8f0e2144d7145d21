"""The official Chinese working-day calendar (工作日), for every clock the platform runs.

Finance (the claim window of a published demand, the 10-working-day approval limit 渝惠融 sets) and
public services (承诺时限 of a case) count **working days on the official calendar**: Monday to Friday,
minus the statutory holidays, plus the make-up working days (调休上班) on a Saturday or Sunday that the
State Council's yearly notice (国务院办公厅关于 YYYY 年部分节假日安排的通知) announces.

Pure Python, no Django. The data come from the ``chinese-calendar`` package (module ``chinese_calendar``,
pinned in pyproject.toml / requirements.lock; version 1.11.0 covers 2004–2026), plus :data:`OVERRIDES`, a
small table of years (or corrections) the package lacks — data, not logic, each with its source. A date in
a year that neither covers raises :class:`CalendarRangeError`: an unknown year is never silently taken as
"weekends only".

Checked against the notices (tests use these exact dates):

* 2025 (国办发明电〔2024〕12号, 2024-11-12): 春节 1.28–2.4 off, 1.26 (Sun) and 2.8 (Sat) worked;
  国庆节/中秋节 10.1–10.8 off, 9.28 (Sun) and 10.11 (Sat) worked.
* 2026 (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04; Xinhua text at
  https://politics.gmw.cn/2025-11/04/content_38391083.htm): 元旦 1.1–1.3 off, 1.4 (Sun) worked; 春节
  2.15–2.23 off, 2.14 (Sat) and 2.28 (Sat) worked; 清明 4.4–4.6; 劳动节 5.1–5.5 off, 5.9 (Sat) worked;
  端午 6.19–6.21; 中秋 9.25–9.27; 国庆 10.1–10.7 off, 9.20 (Sun) and 10.10 (Sat) worked.
* 2027: no notice was found on 2026-11-29 (it usually appears in November or December); when it is
  published, add it to :data:`OVERRIDES` (or upgrade the package) — until then 2027 dates raise.

Conventions (one rule, used by every clock):

* **The day of the event is not counted.** ``add_working_days(d, n)`` is the n-th working day *after*
  ``d`` ("within N working days from acceptance"), whether or not ``d`` itself is a working day;
  ``n == 0`` gives ``d`` back.
* **Days are Asia/Shanghai days.** An aware datetime is first converted to its Shanghai date: an event at
  2025-09-30T17:00Z happened on 2025-10-01 (01:00 in Shanghai), a holiday.
* **A deadline ends at 23:59:59 Asia/Shanghai** of its n-th working day. Given an aware datetime,
  ``add_working_days`` returns that instant as an aware UTC datetime (UTC in, UTC out; a naive datetime is
  an error). ``is_overdue`` compares Shanghai *dates*, so no sub-second gap exists after 23:59:59.
* ``working_days_between(a, b)`` counts the working days d with ``a < d <= b`` (0 when ``b <= a``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import overload
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_END_OF_DAY = dt.time(23, 59, 59)


class CalendarRangeError(ValueError):
    """A date lies in a year the official calendar data does not cover."""

    def __init__(self, day: dt.date) -> None:
        lo, hi = covered_years()
        super().__init__(
            f"工作日历未覆盖 {day.year} 年（{day.isoformat()}），仅覆盖 {lo}–{hi} 年 / "
            f"the working-day calendar does not cover {day.year} ({day.isoformat()}); it covers {lo}–{hi}"
        )
        self.day = day


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: the weekday holidays (and any weekend days inside a holiday, harmless)
    and the make-up working days on weekends, with the notice it comes from."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str


def _dates(*isos: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(s) for s in isos)


# Years (or corrections) the chinese-calendar package lacks. Each entry takes precedence over the package
# for its whole year. Format, for when the 2027 notice appears:
#   2027: YearSchedule(holidays=_dates("2027-01-01", ...), workdays=_dates(...), source="国办发明电〔2026〕N号, URL"),
OVERRIDES: dict[int, YearSchedule] = {}

_LIB_FIRST = min(chinese_calendar.holidays).year
_LIB_LAST = max(chinese_calendar.holidays).year


def covered_years() -> tuple[int, int]:
    """The first and last year covered without a gap (the package's years extended by OVERRIDES)."""
    lo, hi = _LIB_FIRST, _LIB_LAST
    while hi + 1 in OVERRIDES:
        hi += 1
    while lo - 1 in OVERRIDES:
        lo -= 1
    return lo, hi


def _check(day: dt.date) -> None:
    lo, hi = covered_years()
    if not lo <= day.year <= hi:
        raise CalendarRangeError(day)


def shanghai_date(value: dt.date | dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of a date (itself) or an aware datetime."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("需要带时区的时间 / a timezone-aware datetime is required (UTC)")
        return value.astimezone(SHANGHAI).date()
    return value


def is_working_day(day: dt.date | dt.datetime) -> bool:
    """Whether ``day`` (an aware datetime: its Shanghai date) is an official working day."""
    day = shanghai_date(day)
    _check(day)
    override = OVERRIDES.get(day.year)
    if override is not None:
        if day in override.workdays:
            return True
        return day.weekday() < 5 and day not in override.holidays
    return bool(chinese_calendar.is_workday(day))


def _nth_after(day: dt.date, n: int) -> dt.date:
    if n < 0:
        raise ValueError(f"工作日数不能为负 / the number of working days must be >= 0, got {n}")
    _check(day)
    one = dt.timedelta(days=1)
    while n:
        day += one
        if is_working_day(day):
            n -= 1
    return day


def end_of_day_utc(day: dt.date) -> dt.datetime:
    """23:59:59 Asia/Shanghai of ``day``, as an aware UTC datetime."""
    return dt.datetime.combine(day, _END_OF_DAY, tzinfo=SHANGHAI).astimezone(dt.UTC)


@overload
def add_working_days(start: dt.datetime, n: int) -> dt.datetime: ...
@overload
def add_working_days(start: dt.date, n: int) -> dt.date: ...
def add_working_days(start: dt.date | dt.datetime, n: int) -> dt.date | dt.datetime:
    """The n-th working day after ``start`` (``start`` not counted).

    A date gives a date. An aware datetime gives the deadline: 23:59:59 Asia/Shanghai of the n-th working
    day after the event's Shanghai date, as an aware UTC datetime.
    """
    if isinstance(start, dt.datetime):
        return end_of_day_utc(_nth_after(shanghai_date(start), n))
    return _nth_after(start, n)


def working_days_between(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
    """How many working days d satisfy ``a < d <= b`` (Shanghai dates; 0 when ``b <= a``)."""
    start, end = shanghai_date(a), shanghai_date(b)
    _check(start)
    _check(end)
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


def is_overdue(start: dt.date | dt.datetime, n: int, now: dt.datetime) -> bool:
    """Whether a clock of ``n`` working days started at ``start`` has run out at ``now`` (aware): true from
    00:00 Asia/Shanghai of the day after the n-th working day."""
    return shanghai_date(now) > _nth_after(shanghai_date(start), n)


type Pause = tuple[dt.date, dt.date | None]


def _pauses_sorted(pauses: list[Pause] | tuple[Pause, ...]) -> list[Pause]:
    return sorted(pauses, key=lambda p: p[0])


def add_working_days_paused(start: dt.date, n: int, pauses: list[Pause] | tuple[Pause, ...]) -> dt.date | None:
    """The last day of a clock of ``n`` working days started on ``start`` (not counted) that stopped for the
    pauses ``(paused_on, resumed_on)`` (Shanghai dates): the working days d with ``paused_on < d <= resumed_on``
    are not counted (the day a pause starts still counts, as any event day; counting restarts the day after
    the resumption, as it started the day after acceptance). A pause that begins after the clock has run out
    changes nothing. None while a pause that matters is still open (``resumed_on`` None): the clock is stopped
    and has no end."""
    remaining, cursor = n, start
    if n < 0:
        raise ValueError(f"工作日数不能为负 / the number of working days must be >= 0, got {n}")
    for paused_on, resumed_on in _pauses_sorted(pauses):
        if paused_on < cursor:
            paused_on = cursor
        used = working_days_between(cursor, paused_on)
        if used >= remaining:
            break
        if resumed_on is None:
            return None
        remaining -= used
        cursor = max(cursor, resumed_on)
    return _nth_after(cursor, remaining)


def working_days_used(start: dt.date, until: dt.date, pauses: list[Pause] | tuple[Pause, ...]) -> int:
    """The working days a paused clock has counted from ``start`` (not counted) to ``until`` (counted): those
    of ``(start, until]`` outside every pause ``(paused_on, resumed_on]`` (an open pause runs to ``until``)."""
    count, cursor = 0, start
    for paused_on, resumed_on in _pauses_sorted(pauses):
        if paused_on >= until:
            break
        count += working_days_between(cursor, max(cursor, paused_on))
        cursor = max(cursor, resumed_on if resumed_on is not None else until)
        if cursor >= until:
            return count
    return count + working_days_between(cursor, until)


def working_days_left(due: dt.date, today: dt.date) -> int:
    """Working days from ``today`` (not counted) to ``due`` (counted); negative when ``due`` is past: minus the
    working days from ``due`` (not counted) to ``today``. 0 on the last day."""
    if today <= due:
        return working_days_between(today, due)
    return -working_days_between(due, today)


def main(argv: list[str] | None = None) -> int:
    """``workdays add --from DATE --days N`` prints the N-th working day after DATE (DATE not counted);
    ``workdays between --from A --to B`` prints how many working days d satisfy A < d <= B. A bad date, or
    one outside the covered years, prints the error on stderr and exits 2.

    Run as ``twincity workdays …`` (twincity.cli) or ``python -m twincity.core.workdays …`` (pure: no Django,
    no database)."""
    import argparse
    import sys

    def iso_date(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"不是日期 / not a date (YYYY-MM-DD): {text!r}") from None

    parser = argparse.ArgumentParser(prog="twincity workdays", description="官方工作日历 / official working days")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="the N-th working day after DATE (DATE itself not counted)")
    add.add_argument("--from", dest="start", type=iso_date, required=True)
    add.add_argument("--days", type=int, required=True)
    between = sub.add_parser("between", help="how many working days d satisfy A < d <= B")
    between.add_argument("--from", dest="start", type=iso_date, required=True)
    between.add_argument("--to", dest="end", type=iso_date, required=True)
    args = parser.parse_args(argv)  # a bad argument exits 2 (argparse)
    try:
        if args.command == "add":
            print(add_working_days(args.start, args.days).isoformat())
        else:
            print(working_days_between(args.start, args.end))
    except ValueError as exc:  # CalendarRangeError, or a negative number of days
        print(f"twincity workdays: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
