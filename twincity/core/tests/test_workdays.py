"""The official working-day calendar, checked against the State Council's notices (exact dates)."""

import datetime as dt

import pytest

from twincity.core import workdays
from twincity.core.workdays import (
    CalendarRangeError,
    YearSchedule,
    add_working_days,
    is_overdue,
    is_working_day,
    working_days_between,
)

D = dt.date.fromisoformat
UTC = dt.UTC


def utc(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def days(a: str, b: str) -> list[dt.date]:
    start, end = D(a), D(b)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# ---- 2025 (国办发明电〔2024〕12号) -------------------------------------------------------------


def test_2025_spring_festival_holiday_and_make_up_days():
    assert not any(is_working_day(d) for d in days("2025-01-28", "2025-02-04"))
    assert is_working_day(D("2025-01-26"))  # Sunday, worked
    assert is_working_day(D("2025-02-08"))  # Saturday, worked
    assert is_working_day(D("2025-01-27")) and is_working_day(D("2025-02-05"))
    assert not is_working_day(D("2025-02-09"))  # an ordinary Sunday


def test_2025_national_day_holiday_and_make_up_days():
    assert not any(is_working_day(d) for d in days("2025-10-01", "2025-10-08"))
    assert is_working_day(D("2025-09-28"))  # Sunday, worked
    assert is_working_day(D("2025-10-11"))  # Saturday, worked
    assert not is_working_day(D("2025-09-27")) and not is_working_day(D("2025-10-12"))


# ---- 2026 (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04) --------------------------------

HOLIDAYS_2026 = [
    ("2026-01-01", "2026-01-03"),
    ("2026-02-15", "2026-02-23"),
    ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"),
    ("2026-06-19", "2026-06-21"),
    ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
]
MAKE_UP_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]


def test_2026_schedule_matches_the_notice():
    for a, b in HOLIDAYS_2026:
        assert not any(is_working_day(d) for d in days(a, b)), (a, b)
    for d in MAKE_UP_2026:
        assert D(d).weekday() >= 5 and is_working_day(D(d)), d
    # every other day of 2026 follows the week
    off = {d for a, b in HOLIDAYS_2026 for d in days(a, b)}
    on = {D(d) for d in MAKE_UP_2026}
    for d in days("2026-01-01", "2026-12-31"):
        if d not in off and d not in on:
            assert is_working_day(d) == (d.weekday() < 5), d
    # 261 weekdays − 19 weekday holidays + 6 make-up days
    assert sum(is_working_day(d) for d in days("2026-01-01", "2026-12-31")) == 248


# ---- counting -------------------------------------------------------------------------------


def test_day_of_the_event_is_not_counted():
    assert add_working_days(D("2025-06-09"), 1) == D("2025-06-10")  # Monday -> Tuesday
    assert add_working_days(D("2025-06-13"), 1) == D("2025-06-16")  # Friday -> Monday
    assert add_working_days(D("2025-06-14"), 1) == D("2025-06-16")  # from a Saturday
    assert add_working_days(D("2025-06-09"), 0) == D("2025-06-09")
    with pytest.raises(ValueError):
        add_working_days(D("2025-06-09"), -1)


def test_claim_window_across_the_2025_national_day():
    # published Friday 26 Sept: 28 (Sun, make-up), 29, 30, then the holiday, then 9, 10 Oct, 11 (Sat, make-up)
    assert add_working_days(D("2025-09-26"), 3) == D("2025-09-30")
    assert add_working_days(D("2025-09-26"), 4) == D("2025-10-09")
    assert add_working_days(D("2025-09-30"), 3) == D("2025-10-11")  # ends on the make-up Saturday
    assert add_working_days(D("2025-09-30"), 10) == D("2025-10-21")


def test_approval_limit_across_the_2026_spring_festival():
    # submitted Thursday 12 Feb 2026: 13 (Fri), 14 (Sat, make-up), then 24, 25, 26, 27, 28 (Sat, make-up), 2 Mar…
    assert add_working_days(D("2026-02-12"), 2) == D("2026-02-14")
    assert add_working_days(D("2026-02-12"), 3) == D("2026-02-24")
    assert add_working_days(D("2026-02-12"), 7) == D("2026-02-28")
    assert add_working_days(D("2026-02-12"), 10) == D("2026-03-04")


def test_2025_spring_festival_deadline_spans_both_make_up_days():
    # Friday 24 Jan 2025: 26 (Sun, make-up), 27, then the holiday, 5, 6, 7, 8 (Sat, make-up)
    assert add_working_days(D("2025-01-24"), 2) == D("2025-01-27")
    assert add_working_days(D("2025-01-24"), 6) == D("2025-02-08")
    assert add_working_days(D("2025-01-24"), 7) == D("2025-02-10")


def test_working_days_between():
    assert working_days_between(D("2025-09-26"), D("2025-10-11")) == 6  # 28, 29, 30, 9, 10 Oct, 11
    assert working_days_between(D("2025-09-30"), D("2025-10-08")) == 0
    assert working_days_between(D("2026-02-13"), D("2026-02-28")) == 6  # 14, 24, 25, 26, 27, 28
    assert working_days_between(D("2025-10-11"), D("2025-09-26")) == 0
    assert working_days_between(D("2025-06-09"), D("2025-06-09")) == 0
    for n in range(0, 30):
        assert working_days_between(D("2025-09-20"), add_working_days(D("2025-09-20"), n)) == n


# ---- datetimes: UTC in and out, Shanghai days ---------------------------------------------------


def test_shanghai_date_boundary():
    event = utc("2025-09-30T17:00:00")  # 2025-10-01 01:00 in Shanghai: a holiday
    assert is_working_day(utc("2025-09-30T15:59:59"))  # 23:59:59 on 30 Sept
    assert not is_working_day(event)
    # counted from 1 Oct, not 30 Sept: 1st working day after is 9 Oct
    assert add_working_days(event, 1) == utc("2025-10-09T15:59:59")
    assert add_working_days(utc("2025-09-30T15:00:00"), 1) == utc("2025-10-09T15:59:59")
    assert add_working_days(utc("2025-09-29T17:00:00"), 1) == utc("2025-10-09T15:59:59")  # 30 Sept 01:00
    assert add_working_days(utc("2025-09-29T15:00:00"), 1) == utc("2025-09-30T15:59:59")


def test_deadline_is_end_of_day_shanghai_and_utc_aware():
    deadline = add_working_days(utc("2026-02-12T02:00:00"), 10)
    assert deadline.tzinfo is not None and deadline.utcoffset() == dt.timedelta(0)
    assert deadline == utc("2026-03-04T15:59:59")
    assert deadline.astimezone(workdays.SHANGHAI).time() == dt.time(23, 59, 59)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(dt.datetime(2025, 9, 30, 12), 1)


def test_is_overdue():
    start = utc("2025-09-26T03:00:00")  # window of 3 working days ends 2025-09-30 23:59:59 Shanghai
    assert not is_overdue(start, 3, utc("2025-09-30T15:59:59"))
    assert is_overdue(start, 3, utc("2025-09-30T16:00:00"))  # 00:00 on 1 Oct


# ---- coverage -------------------------------------------------------------------------------


def test_a_year_outside_the_calendar_raises():
    lo, hi = workdays.covered_years()
    assert lo <= 2025 and hi >= 2026
    with pytest.raises(CalendarRangeError, match=f"covers {lo}–{hi}"):
        is_working_day(dt.date(hi + 1, 3, 3))
    with pytest.raises(CalendarRangeError):
        add_working_days(dt.date(hi, 12, 30), 5)  # runs into the next, unknown year
    with pytest.raises(CalendarRangeError):
        working_days_between(dt.date(hi, 12, 1), dt.date(hi + 1, 1, 5))
    with pytest.raises(CalendarRangeError):
        is_working_day(dt.date(lo - 1, 6, 1))


def test_an_override_year_extends_the_calendar(monkeypatch):
    y = workdays.covered_years()[1] + 1
    saturday = next(dt.date(y, 1, d) for d in range(1, 8) if dt.date(y, 1, d).weekday() == 5)
    monday = saturday + dt.timedelta(days=2)
    schedule = YearSchedule(holidays=frozenset({monday}), workdays=frozenset({saturday}), source="test")
    monkeypatch.setitem(workdays.OVERRIDES, y, schedule)
    assert workdays.covered_years()[1] == y
    assert is_working_day(saturday) and not is_working_day(monday)
    assert is_working_day(monday + dt.timedelta(days=1))
    with pytest.raises(CalendarRangeError):
        is_working_day(dt.date(y + 1, 1, 4))


def test_override_takes_precedence_over_the_package(monkeypatch):
    monkeypatch.setitem(
        workdays.OVERRIDES, 2025, YearSchedule(holidays=frozenset(), workdays=frozenset(), source="test")
    )
    assert is_working_day(D("2025-10-01"))  # the override says: no holidays in 2025


# ---- command line ---------------------------------------------------------------------------


def test_command_line(capsys):
    assert workdays.main(["add", "--from", "2025-09-30", "--days", "3"]) == 0
    assert capsys.readouterr().out == "2025-10-11\n"
    assert workdays.main(["between", "--from", "2026-02-13", "--to", "2026-02-28"]) == 0
    assert capsys.readouterr().out == "6\n"


def test_command_line_outside_the_calendar_exits_2(capsys):
    hi = workdays.covered_years()[1]
    assert workdays.main(["add", "--from", f"{hi + 1}-03-01", "--days", "1"]) == 2
    assert f"does not cover {hi + 1}" in capsys.readouterr().err
    assert workdays.main(["between", "--from", f"{hi}-12-01", "--to", f"{hi + 1}-01-10"]) == 2
    with pytest.raises(SystemExit) as exc:
        workdays.main(["add", "--from", "2025-13-01", "--days", "1"])
    assert exc.value.code == 2


def test_command_line_runs_without_django():
    import subprocess
    import sys

    code = "import sys, twincity.core.workdays; assert 'django' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "twincity.core.workdays", "add", "--from", "2026-02-12", "--days", "10"],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (0, "2026-03-04\n")
