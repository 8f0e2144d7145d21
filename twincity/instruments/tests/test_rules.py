"""The pure booking rules: validation and the checker, table-driven at the boundaries (no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from twincity.instruments.rules import (
    ADMINISTRATOR,
    NOBODY,
    Held,
    Request,
    Rules,
    RulesError,
    blocked_period,
    cancellation_fee,
    check,
    check_cancel,
    hold_until,
    period_bounds,
    validate_rules,
)

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-12-07, 10:00 in Chengdu and Chongqing.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SH)
TUE9 = datetime(2026, 12, 8, 9, 0, tzinfo=SH)
T11 = TUE9.replace(hour=11)
H = timedelta(hours=1)
M = timedelta(minutes=1)
ALICE, BOB = 1, 2
ORG_A, ORG_B = 10, 20


def held(id_, start, end, *, user=BOB, org=ORG_B, rules=None):
    rules = rules or Rules()
    lo, hi = blocked_period(rules, start, end)
    return Held(id_, user, org, start, end, lo, hi)


def ask(start, end, *, user=ALICE, org=ORG_A, now=NOW, **kw):
    return Request(starts_at=start, ends_at=end, user_id=user, organisation_id=org, now=now, **kw)


def rules_of(**kw) -> Rules:
    return Rules.from_dict(kw)


def names(refusals):
    return [r.rule for r in refusals]


# --- validation ------------------------------------------------------------------------------------------------


def test_the_empty_definition_is_valid_and_means_the_defaults():
    assert validate_rules({}) == []
    r = Rules.from_dict({})
    assert (r.slot_minutes, r.open_from, r.open_until, r.min_minutes, r.max_minutes, r.advance_days) == (
        30, 480, 1200, 30, 480, 30)
    assert r.approval_required is False and r.quotas == () and r.blackouts == ()


@pytest.mark.parametrize(("definition", "error"), [
    ([], "rules: 必须是对象 / must be an object"),
    ({"colour": 1}, "rules: 未知字段 colour / unknown keys"),
    ({"slot_minutes": 0}, "slot_minutes: 须为 5–1440 的整数 / a whole number from 5 to 1440"),
    ({"slot_minutes": True}, "slot_minutes: 须为 5–1440 的整数 / a whole number from 5 to 1440"),
    ({"open_from": "8:00"}, "open_from: 须为 HH:MM / must be HH:MM (00:00–24:00)"),
    ({"open_from": "20:00", "open_until": "20:00"}, "open_until: 须晚于 open_from / must be after open_from"),
    ({"min_minutes": 60, "max_minutes": 30}, "min_minutes: 不得大于 max_minutes / must not exceed max_minutes"),
    ({"min_minutes": 45}, "min_minutes: 须为 slot_minutes 的整数倍 / a multiple of slot_minutes"),
    ({"weekdays": [0]}, "weekdays: 须为 1–7 的不重复整数列表 / distinct ISO weekdays 1–7"),
    ({"weekdays": [1, 1]}, "weekdays: 须为 1–7 的不重复整数列表 / distinct ISO weekdays 1–7"),
    ({"notice_minutes": {"delete": 5}}, "notice_minutes: 只能含 create、change、cancel / create, change and cancel only"),
    ({"quotas": [{"per": "year", "hours": 1}]}, "quotas[0].per: 须为 day、week 或 month / day, week or month"),
    ({"quotas": [{"per": "day", "hours": 1, "count": 1}]}, "quotas[0]: hours 与 count 二选一 / exactly one of hours and count"),
    ({"quotas": [{"per": "day", "hours": 0.01}]},
     "quotas[0].hours: 须为 0–744 之间的整分钟数 / hours in whole minutes, above 0, at most 744"),
    ({"blackouts": [{"from": "2026-12-01T00:00:00", "until": "2026-12-02T00:00:00+08:00"}]},
     "blackouts[0]: from、until 须为带时区的 ISO 8601 时间 / ISO 8601 instants with their offset"),
    ({"blackouts": [{"from": "2026-12-02T00:00:00+08:00", "until": "2026-12-02T00:00:00+08:00"}]},
     "blackouts[0]: until 须晚于 from / until must be after from"),
    ({"approval": {"required": "yes"}}, "approval.required: 须为 true/false / must be a boolean"),
    ({"approval": {"hold_hours": 0}}, "approval.hold_hours: 须为 1–720 的整数 / whole hours, 1–720"),
    ({"cancellation": [{"within_hours": 24, "percent": 101}]},
     "cancellation[0].percent: 须为 0–100 / from 0 to 100 (a number or decimal text)"),
])
def test_validation_names_each_error(definition, error):
    assert validate_rules(definition) == [error]
    with pytest.raises(RulesError) as caught:
        Rules.from_dict(definition)
    assert caught.value.errors == [error]


# --- the checker ---------------------------------------------------------------------------------------------


def test_a_plain_request_is_accepted():
    assert check(Rules(), ask(TUE9, TUE9 + H), []) == []


def test_an_empty_period_is_refused_and_nobody_may_override_it():
    [refusal] = check(Rules(), ask(TUE9, TUE9), [])
    assert (refusal.rule, refusal.override, refusal.at) == ("period", NOBODY, TUE9)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (TUE9, TUE9 + 30 * M, []),
    (TUE9 + 15 * M, TUE9 + 45 * M, ["grid"]),
    (TUE9, TUE9 + 45 * M, ["grid"]),
    (TUE9.replace(hour=8), TUE9.replace(hour=9), []),  # opens at 08:00 (included)
    (TUE9.replace(hour=7, minute=30), TUE9.replace(hour=8, minute=30), ["hours"]),
    (TUE9.replace(hour=19), TUE9.replace(hour=20), []),  # closes at 20:00 (half-open: ending then is fine)
    (TUE9.replace(hour=19, minute=30), TUE9.replace(hour=20, minute=30), ["hours"]),
])
def test_grid_and_opening_hours_in_shanghai_time(start, end, expected):
    assert names(check(Rules(), ask(start, end), [])) == expected


def test_the_grid_is_read_in_shanghai_time_whatever_the_offset_given():
    utc = TUE9.astimezone(UTC)  # 01:00Z is 09:00 in Shanghai
    assert check(Rules(), ask(utc, utc + H), []) == []


def test_weekdays():
    rules = rules_of(weekdays=[1, 2, 3, 4, 5])
    saturday = datetime(2026, 12, 12, 9, 0, tzinfo=SH)
    [refusal] = check(rules, ask(saturday, saturday + H), [])
    assert (refusal.rule, refusal.at, refusal.override) == ("weekdays", saturday, ADMINISTRATOR)
    friday = saturday - timedelta(days=1)
    assert check(rules, ask(friday, friday + H), []) == []


@pytest.mark.parametrize(("minutes", "expected"), [(30, []), (60, []), (120, []), (150, ["max_length"])])
def test_length_bounds(minutes, expected):
    rules = rules_of(min_minutes=30, max_minutes=120)
    assert names(check(rules, ask(TUE9, TUE9 + minutes * M), [])) == expected


def test_minimum_length():
    rules = rules_of(min_minutes=60)
    assert names(check(rules, ask(TUE9, TUE9 + 30 * M), [])) == ["min_length"]
    assert check(rules, ask(TUE9, TUE9 + 60 * M), []) == []


@pytest.mark.parametrize(("now", "expected"), [
    (TUE9 - 120 * M, []),  # exactly the notice: fine
    (TUE9 - 119 * M, ["notice.create"]),
    (TUE9 + M, ["past"]),
])
def test_create_notice_counts_back_from_the_start(now, expected):
    rules = rules_of(notice_minutes={"create": 120})
    refusals = check(rules, ask(TUE9, TUE9 + H, now=now), [])
    assert names(refusals) == expected
    if refusals:
        assert refusals[0].at == TUE9


def test_change_notice_counts_from_the_earlier_of_the_old_and_the_new_start():
    rules = rules_of(notice_minutes={"change": 24 * 60})
    later = TUE9 + timedelta(days=3)
    # Moving tomorrow's booking (inside 24 h) to a later day is refused: measured on the old start.
    [refusal] = check(rules, ask(later, later + H, action="change", booking_id=7, current_starts_at=TUE9), [])
    assert (refusal.rule, refusal.at) == ("notice.change", TUE9)
    # A booking three days out may move, but not into the next 24 hours.
    assert check(rules, ask(later + H, later + 2 * H, action="change", booking_id=7, current_starts_at=later), []) == []
    [refusal] = check(rules, ask(TUE9, TUE9 + H, action="change", booking_id=7, current_starts_at=later), [])
    assert (refusal.rule, refusal.at) == ("notice.change", TUE9)


def test_advance_window_is_measured_on_the_start():
    rules = rules_of(advance_days=7)
    edge = (NOW + timedelta(days=7)).replace(hour=10)  # exactly seven days ahead: fine
    assert check(rules, ask(edge, edge + H), []) == []
    [refusal] = check(rules, ask(edge + 30 * M, edge + 90 * M), [])
    assert (refusal.rule, refusal.at) == ("advance_window", edge + 30 * M)


def test_blackouts_refuse_an_overlap_half_open():
    rules = rules_of(blackouts=[{"from": "2026-12-08T10:00:00+08:00", "until": "2026-12-08T12:00:00+08:00",
                                 "reason": "年度维护"}])
    assert check(rules, ask(TUE9, TUE9 + H), []) == []  # ends as the blackout starts
    assert check(rules, ask(TUE9 + 3 * H, TUE9 + 4 * H), []) == []  # starts as it ends
    [refusal] = check(rules, ask(TUE9 + 30 * M, TUE9 + 90 * M), [])
    assert (refusal.rule, refusal.at, refusal.override) == ("blackout", TUE9 + H, ADMINISTRATOR)
    assert "年度维护" in refusal.message_zh


def test_adjacent_half_open_bookings_do_not_overlap():
    existing = [held(1, TUE9, TUE9 + H)]
    assert check(Rules(), ask(TUE9 + H, TUE9 + 2 * H), existing) == []
    assert check(Rules(), ask(TUE9 - H, TUE9), existing) == []


def test_an_overlap_is_refused_and_nobody_may_override_it():
    [refusal] = check(Rules(), ask(TUE9 + 30 * M, TUE9 + 90 * M), [held(1, TUE9, TUE9 + H)])
    assert (refusal.rule, refusal.override, refusal.at) == ("overlap", NOBODY, TUE9)


def test_the_buffer_makes_adjacent_bookings_conflict():
    rules = rules_of(cleanup_minutes=30)
    existing = [held(1, T11, T11 + H, rules=rules)]  # holds 11:00–12:30
    assert names(check(rules, ask(T11 + H, T11 + 2 * H), existing)) == ["overlap"]
    assert check(rules, ask(T11 + 90 * M, T11 + 150 * M), existing) == []  # 12:30: just clear
    # The new booking's own clean-up must end before the next one starts.
    assert names(check(rules, ask(T11 - H, T11), existing)) == ["overlap"]
    assert check(rules, ask(T11 - 90 * M, T11 - 30 * M), existing) == []


def test_setup_is_before_the_start():
    rules = rules_of(setup_minutes=30)
    existing = [held(1, T11, T11 + H, rules=rules)]  # holds 10:30–12:00
    assert names(check(rules, ask(T11 - H, T11), existing)) == ["overlap"]
    assert check(rules, ask(T11 - 90 * M, T11 - 30 * M), existing) == []


def test_a_change_is_not_compared_with_itself():
    existing = [held(7, TUE9, TUE9 + H, user=ALICE)]
    assert check(Rules(), ask(TUE9 + 30 * M, TUE9 + 90 * M, action="change", booking_id=7,
                              current_starts_at=TUE9), existing) == []


def test_the_anti_hogging_gap_applies_to_the_same_person_only():
    rules = rules_of(user_gap_minutes=60)
    mine = [held(1, TUE9, TUE9 + H, user=ALICE, org=ORG_A)]
    [refusal] = check(rules, ask(TUE9 + 90 * M, TUE9 + 150 * M), mine)
    assert (refusal.rule, refusal.at) == ("user_gap", TUE9)
    assert check(rules, ask(TUE9 + 2 * H, TUE9 + 3 * H), mine) == []  # exactly the gap
    theirs = [held(1, TUE9, TUE9 + H, user=BOB)]
    assert check(rules, ask(TUE9 + H, TUE9 + 2 * H), theirs) == []


def test_a_count_quota_counts_pending_and_confirmed_bookings_in_the_local_week():
    rules = rules_of(quotas=[{"per": "week", "count": 2}])
    monday = datetime(2026, 12, 7, 14, 0, tzinfo=SH)
    mine = [held(1, monday, monday + H, user=ALICE), held(2, monday + timedelta(days=1), monday + timedelta(days=1, hours=1), user=ALICE)]
    [refusal] = check(rules, ask(TUE9 + timedelta(days=2), TUE9 + timedelta(days=2, hours=1)), mine)
    assert refusal.rule == "quota.user.week.count"
    assert refusal.at == datetime(2026, 12, 7, 0, 0, tzinfo=SH)  # the week's start, Monday 00:00 Shanghai
    next_monday = datetime(2026, 12, 14, 9, 0, tzinfo=SH)
    assert check(rules, ask(next_monday, next_monday + H, now=NOW), mine) == []
    assert check(rules, ask(TUE9, TUE9 + H), mine[:1]) == []


def test_an_hours_quota_adds_the_request_to_what_is_held():
    rules = rules_of(quotas=[{"per": "day", "hours": 3}], max_minutes=600)
    mine = [held(1, TUE9, TUE9 + 2 * H, user=ALICE)]
    assert check(rules, ask(TUE9 + 3 * H, TUE9 + 4 * H), mine) == []  # 2 h + 1 h = 3 h: fine
    [refusal] = check(rules, ask(TUE9 + 3 * H, TUE9 + 270 * M), mine)
    assert (refusal.rule, refusal.at) == ("quota.user.day.hours", datetime(2026, 12, 8, tzinfo=SH))


def test_an_organisation_quota_counts_the_paying_organisation():
    rules = rules_of(quotas=[{"per": "month", "scope": "organisation", "count": 1}])
    colleague = [held(1, TUE9, TUE9 + H, user=3, org=ORG_A)]
    assert names(check(rules, ask(TUE9 + 2 * H, TUE9 + 3 * H), colleague)) == ["quota.organisation.month.count"]
    assert check(rules, ask(TUE9 + 2 * H, TUE9 + 3 * H, org=ORG_B), colleague) == []


def test_every_refusal_names_its_rule_timestamp_and_who_may_override():
    rules = rules_of(notice_minutes={"create": 24 * 60}, min_minutes=60)
    refusals = check(rules, ask(TUE9, TUE9 + 30 * M), [])
    assert [(r.rule, r.at, r.override) for r in refusals] == [
        ("min_length", TUE9, ADMINISTRATOR), ("notice.create", TUE9, ADMINISTRATOR)]
    assert refusals[1].as_dict() == {
        "rule": "notice.create", "at": "2026-12-08T09:00:00+08:00", "override": "administrator",
        "message_zh": "须在开始前 24h00 以上预约（开始 2026-12-08 09:00，现在 2026-12-07 10:00）",
        "message_en": "bookings are made at least 24h00 before the start (start 2026-12-08 09:00, now 2026-12-07 10:00)",
    }


def test_period_bounds_are_local_days_weeks_and_months():
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 2026-12-01 01:00 in Shanghai
    assert period_bounds("day", at) == (datetime(2026, 12, 1, tzinfo=SH), datetime(2026, 12, 2, tzinfo=SH))
    assert period_bounds("week", at) == (datetime(2026, 11, 30, tzinfo=SH), datetime(2026, 12, 7, tzinfo=SH))
    assert period_bounds("month", at) == (datetime(2026, 12, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH))


def test_hold_and_cancellation():
    assert hold_until(Rules(), NOW) is None
    assert hold_until(rules_of(approval={"required": True, "hold_hours": 24}), NOW) == NOW + timedelta(hours=24)
    rules = rules_of(notice_minutes={"cancel": 120}, cancellation=[{"within_hours": 24, "percent": 50},
                                                                   {"within_hours": 2, "percent": "100"}])
    assert check_cancel(rules, starts_at=TUE9, now=TUE9 - 120 * M) == []
    [refusal] = check_cancel(rules, starts_at=TUE9, now=TUE9 - 119 * M)
    assert (refusal.rule, refusal.at, refusal.override) == ("notice.cancel", TUE9, ADMINISTRATOR)
    amount = Decimal("333.33")
    assert cancellation_fee(rules, starts_at=TUE9, now=TUE9 - 24 * H, amount=amount) == Decimal("0.00")
    assert cancellation_fee(rules, starts_at=TUE9, now=TUE9 - 24 * H + M, amount=amount) == Decimal("166.67")
    assert cancellation_fee(rules, starts_at=TUE9, now=TUE9 - H, amount=amount) == Decimal("333.33")
