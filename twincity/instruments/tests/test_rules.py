"""The pure booking rules: validation and the checker, table-driven at the boundaries (no database)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from twincity.instruments.rules import (
    ADMINISTRATOR,
    MAX_OCCURRENCES,
    NOBODY,
    Held,
    Qualification,
    Request,
    Rules,
    RulesError,
    SeriesError,
    blocked_period,
    cancellation_fee,
    check,
    check_cancel,
    check_qualification,
    check_series,
    expand_series,
    fee_after_rebooking,
    hold_until,
    no_show_fee,
    peak,
    period_bounds,
    rebooked_part,
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
    ({"capacity": 0}, "capacity: 须为 1–100 的整数 / a whole number from 1 to 100"),
    ({"capacity": 101}, "capacity: 须为 1–100 的整数 / a whole number from 1 to 100"),
    ({"no_show": {"percent": 100, "fixed": "1"}}, 'no_show: 须为 {"percent": …} 或 {"fixed": …} / either percent or fixed'),
    ({"no_show": {"percent": "100.01"}}, "no_show.percent: 须为 0–100 / from 0 to 100 (a number or decimal text)"),
    ({"no_show": {"fixed": "0.001"}}, "no_show.fixed: 须为 0–99999999.99 元（精确到分）/ yuan, to the fen"),
    ({"no_show": {"fixed": "-1"}}, "no_show.fixed: 须为 0–99999999.99 元（精确到分）/ yuan, to the fen"),
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



# --- quotas at their boundaries: every period, scope and kind --------------------------------------------------

WED9 = TUE9 + timedelta(days=1)


@pytest.mark.parametrize(("quota", "mine", "request_", "expected"), [
    # count per day (user): one allowed, the second of the same local day refused, the next day fine
    ({"per": "day", "count": 1}, [(TUE9, TUE9 + H)], (TUE9 + 2 * H, TUE9 + 3 * H), ["quota.user.day.count"]),
    ({"per": "day", "count": 1}, [(TUE9, TUE9 + H)], (WED9, WED9 + H), []),
    ({"per": "day", "count": 2}, [(TUE9, TUE9 + H)], (TUE9 + 2 * H, TUE9 + 3 * H), []),
    # hours per week (user): exactly the limit fine, a slot over refused
    ({"per": "week", "hours": 3}, [(TUE9, TUE9 + 2 * H)], (WED9, WED9 + H), []),
    ({"per": "week", "hours": 3}, [(TUE9, TUE9 + 2 * H)], (WED9, WED9 + 90 * M), ["quota.user.week.hours"]),
    # count per month (user): the month is local (December 2026)
    ({"per": "month", "count": 2}, [(TUE9, TUE9 + H), (WED9, WED9 + H)], (WED9 + 3 * H, WED9 + 4 * H),
     ["quota.user.month.count"]),
    ({"per": "month", "count": 2}, [(TUE9, TUE9 + H), (WED9, WED9 + H)],
     (datetime(2027, 1, 4, 9, tzinfo=SH), datetime(2027, 1, 4, 10, tzinfo=SH)), []),
    # hours per month (user)
    ({"per": "month", "hours": 2}, [(TUE9, TUE9 + H)], (WED9, WED9 + H), []),
    ({"per": "month", "hours": 2}, [(TUE9, TUE9 + H)], (WED9, WED9 + 90 * M), ["quota.user.month.hours"]),
    # paying organisation: a colleague's booking (user 3 of ORG_A) counts
    ({"per": "day", "scope": "organisation", "hours": 1}, [(TUE9, TUE9 + H)], (TUE9 + 2 * H, TUE9 + 150 * M),
     ["quota.organisation.day.hours"]),
    ({"per": "week", "scope": "organisation", "count": 2}, [(TUE9, TUE9 + H)], (WED9, WED9 + H), []),
    ({"per": "week", "scope": "organisation", "count": 1}, [(TUE9, TUE9 + H)], (WED9, WED9 + H),
     ["quota.organisation.week.count"]),
])
def test_quotas_at_their_boundaries(quota, mine, request_, expected):
    """`mine`: bookings of the same person (user scope) or of a colleague paid by the same organisation."""
    rules = rules_of(quotas=[quota], max_minutes=600)
    colleague = quota.get("scope") == "organisation"
    existing = [held(i + 1, a, b, user=3 if colleague else ALICE, org=ORG_A) for i, (a, b) in enumerate(mine)]
    assert names(check(rules, ask(*request_, now=NOW), existing)) == expected


# --- capacity ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("existing", "expected"), [
    ([], []),
    ([(TUE9, TUE9 + H)], []),
    ([(TUE9, TUE9 + H), (TUE9 + 30 * M, TUE9 + 90 * M)], ["capacity"]),  # two hold 09:30–10:00
    ([(TUE9 - H, TUE9 + 30 * M), (TUE9 + 30 * M, TUE9 + 2 * H)], []),  # never two at once (half-open)
    ([(TUE9 - H, TUE9), (TUE9 + H, TUE9 + 2 * H), (TUE9, TUE9 + H)], []),  # adjacent ones do not count
])
def test_capacity_two_counts_the_peak_with_a_sweep_line(existing, expected):
    rules = rules_of(capacity=2)
    refusals = check(rules, ask(TUE9, TUE9 + H), [held(i + 1, a, b) for i, (a, b) in enumerate(existing)])
    assert names(refusals) == expected
    if refusals:
        assert (refusals[0].override, refusals[0].at) == (NOBODY, TUE9 + 30 * M)


def test_capacity_counts_the_buffers_too():
    rules = rules_of(capacity=2, cleanup_minutes=30)
    existing = [held(1, TUE9 - H, TUE9, rules=rules), held(2, TUE9 - H, TUE9, rules=rules)]  # both hold until 09:30
    assert names(check(rules, ask(TUE9, TUE9 + H), existing)) == ["capacity"]
    assert check(rules, ask(TUE9 + 30 * M, TUE9 + 90 * M), existing) == []


def test_peak():
    rows = [held(1, TUE9, TUE9 + 2 * H), held(2, TUE9 + H, TUE9 + 3 * H), held(3, TUE9 + 2 * H, TUE9 + 4 * H)]
    assert peak(rows, TUE9, TUE9 + 4 * H) == (2, TUE9 + H)
    assert peak(rows, TUE9 + 3 * H, TUE9 + 4 * H) == (1, TUE9 + 3 * H)
    assert peak([], TUE9, TUE9 + H) == (0, TUE9)


# --- the qualification gate --------------------------------------------------------------------------------------

DEC8 = date(2026, 12, 8)


@pytest.mark.parametrize(("required", "self_run", "held_", "expected"), [
    ("", True, [], []),  # nothing required
    ("电镜上机培训", False, [], []),  # operator-run: the operator is qualified
    ("电镜上机培训", True, [], ["qualification"]),
    ("电镜上机培训", True, [(DEC8, DEC8)], []),  # valid on the day itself (both ends included)
    ("电镜上机培训", True, [(DEC8 - timedelta(days=30), DEC8 - timedelta(days=1))], ["qualification"]),  # expired
    ("电镜上机培训", True, [(DEC8 + timedelta(days=1), DEC8 + timedelta(days=30))], ["qualification"]),  # not yet
])
def test_the_qualification_gate(required, self_run, held_, expected):
    refusals = check_qualification(required=required, self_run=self_run, starts_at=TUE9, ends_at=TUE9 + H,
                                   held=[Qualification(a, b) for a, b in held_])
    assert names(refusals) == expected
    if refusals:
        assert (refusals[0].at, refusals[0].override) == (TUE9, ADMINISTRATOR)
        assert "电镜上机培训" in refusals[0].message_zh and "2026-12-08 09:00" in refusals[0].message_zh


def test_the_qualification_must_cover_the_local_day_of_the_end():
    q = [Qualification(DEC8, DEC8)]
    late = TUE9.replace(hour=23)
    # Ending at midnight ends on the 8th (half-open); ending at 00:30 needs the 9th too.
    assert check_qualification(required="x", self_run=True, starts_at=late, ends_at=late + H, held=q) == []
    assert names(check_qualification(required="x", self_run=True, starts_at=late, ends_at=late + 90 * M,
                                     held=q)) == ["qualification"]


# --- fees: no-show and rebooking -------------------------------------------------------------------------------


@pytest.mark.parametrize(("no_show", "amount", "fee"), [
    (None, "900.00", "0.00"),
    ({"percent": 100}, "900.00", "900.00"),
    ({"percent": "33.3"}, "100.00", "33.30"),
    ({"percent": 50}, "333.33", "166.67"),  # half up, to the fen
    ({"fixed": "200"}, "900.00", "200.00"),
    ({"fixed": 0}, "900.00", "0.00"),
])
def test_no_show_fee(no_show, amount, fee):
    rules = rules_of(no_show=no_show) if no_show is not None else Rules()
    assert no_show_fee(rules, amount=Decimal(amount)) == Decimal(fee)


@pytest.mark.parametrize(("others", "capacity", "rebooked"), [
    ([], 1, timedelta(0)),
    ([(TUE9, TUE9 + 2 * H)], 1, 2 * H),  # all of it
    ([(TUE9 - H, TUE9 + 30 * M)], 1, 30 * M),  # its first half hour
    ([(TUE9, TUE9 + 30 * M), (TUE9 + 90 * M, TUE9 + 3 * H)], 1, H),
    ([(TUE9, TUE9 + 2 * H)], 2, timedelta(0)),  # one seat of two taken: the released seat is still free
    ([(TUE9, TUE9 + 2 * H), (TUE9 + H, TUE9 + 2 * H)], 2, H),  # both seats taken for the second hour
])
def test_the_part_of_a_released_slot_that_is_rebooked(others, capacity, rebooked):
    assert rebooked_part(TUE9, TUE9 + 2 * H, others, capacity) == rebooked


@pytest.mark.parametrize(("rebooked", "fee"), [
    (timedelta(0), "600.00"), (30 * M, "450.00"), (H, "300.00"), (2 * H, "0.00"), (3 * H, "0.00")])
def test_the_fee_after_rebooking(rebooked, fee):
    assert fee_after_rebooking(Decimal("600.00"), starts_at=TUE9, ends_at=TUE9 + 2 * H, rebooked=rebooked) == Decimal(fee)


# --- recurring series ------------------------------------------------------------------------------------------


def starts(occurrences):
    return [o.starts_at.astimezone(SH).strftime("%Y-%m-%d %H:%M") for o in occurrences]


def test_a_weekly_rule_is_expanded_in_shanghai_wall_time():
    occurrences = expand_series("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", first_start=TUE9.astimezone(UTC), minutes=90)
    assert starts(occurrences) == ["2026-12-08 09:00", "2026-12-10 09:00", "2026-12-15 09:00", "2026-12-17 09:00"]
    assert occurrences[0].starts_at == datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert occurrences[0].ends_at - occurrences[0].starts_at == 90 * M


def test_exceptions_by_local_date_or_instant_and_an_until_in_utc():
    occurrences = expand_series("RRULE:FREQ=DAILY;UNTIL=20261212T010000Z", first_start=TUE9, minutes=60,
                                exdates=["2026-12-09", "2026-12-11T09:00:00+08:00"])
    # UNTIL 01:00Z is 09:00 local on the 12th: included (RFC 5545: inclusive).
    assert starts(occurrences) == ["2026-12-08 09:00", "2026-12-10 09:00", "2026-12-12 09:00"]


@pytest.mark.parametrize(("rule", "message"), [
    ("FREQ=DAILY", "COUNT 或 UNTIL"),
    (f"FREQ=DAILY;COUNT={MAX_OCCURRENCES + 1}", "至多"),
    ("FREQ=YEARLY;COUNT=3", "至多"),  # beyond 366 days
    ("FREQ=SOMETIMES;COUNT=3", "重复规则无效"),
    ("DTSTART=20261208T090000;FREQ=DAILY;COUNT=2", "不含 DTSTART"),
    ("", "一条 RRULE"),
])
def test_rules_that_cannot_be_used(rule, message):
    with pytest.raises(SeriesError, match=message):
        expand_series(rule, first_start=TUE9, minutes=60)


def test_a_bad_exception_is_refused():
    with pytest.raises(SeriesError, match="例外日期无效"):
        expand_series("FREQ=DAILY;COUNT=2", first_start=TUE9, minutes=60, exdates=["next tuesday"])


def test_the_third_occurrence_of_a_series_breaks_the_weekly_quota():
    """The earlier occurrences of the same series count toward the quota (pending or confirmed alike)."""
    rules = rules_of(quotas=[{"per": "week", "count": 2}])
    occurrences = expand_series("FREQ=DAILY;COUNT=4", first_start=TUE9, minutes=60)  # Tue..Fri of one week
    requests = [ask(o.starts_at, o.ends_at) for o in occurrences]
    results = check_series(rules, requests, [])
    assert [names(r.refusals) for r in results] == [[], [], ["quota.user.week.count"], ["quota.user.week.count"]]
    third = results[2].refusals[0]
    assert (third.at, third.override) == (datetime(2026, 12, 7, tzinfo=SH), ADMINISTRATOR)
    # Refused occurrences are not kept, so they do not count for the next ones; accepting everything would.
    everything = check_series(rules, requests, [], accept=lambda refusals: True)
    assert [len(r.refusals) for r in everything] == [0, 0, 1, 1]
    # A booking already held this week counts too: then the second occurrence is the one refused.
    results = check_series(rules, requests, [held(9, NOW + 4 * H, NOW + 5 * H, user=ALICE)])
    assert [names(r.refusals) for r in results] == [[], ["quota.user.week.count"]] + [["quota.user.week.count"]] * 2


def test_a_series_is_checked_against_others_and_itself():
    rules = rules_of(user_gap_minutes=60)
    requests = [ask(TUE9, TUE9 + H), ask(TUE9 + 90 * M, TUE9 + 150 * M), ask(TUE9 + 3 * H, TUE9 + 4 * H)]
    results = check_series(rules, requests, [held(1, TUE9 + 210 * M, TUE9 + 270 * M)])
    assert [names(r.refusals) for r in results] == [[], ["user_gap"], ["overlap"]]
    # A qualification gate (or any rule outside `check`) joins through `extra`.
    gated = check_series(Rules(), requests[:1], [], extra=lambda r: check_qualification(
        required="x", self_run=True, starts_at=r.starts_at, ends_at=r.ends_at, held=[]))
    assert names(gated[0].refusals) == ["qualification"]


def test_moving_a_series_replaces_the_old_periods():
    existing = [held(1, TUE9, TUE9 + H, user=ALICE), held(2, TUE9 + timedelta(days=1), TUE9 + timedelta(days=1, hours=1),
                                                           user=ALICE)]
    moved = [ask(TUE9 + 30 * M, TUE9 + 90 * M, action="change", booking_id=1, current_starts_at=TUE9),
             ask(WED9 + 30 * M, WED9 + 90 * M, action="change", booking_id=2, current_starts_at=WED9)]
    assert [r.refusals for r in check_series(Rules(), moved, existing)] == [[], []]
