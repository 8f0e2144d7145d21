"""The pure usage rules: reconciliation at its boundaries, the three billing bases, the charge, the rules'
validation, the sample-job transition table and the evaluation arithmetic."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from twincity.instruments import job_lifecycle as jl
from twincity.instruments import rules as booking_rules
from twincity.instruments import usage_rules as ur

SH = ZoneInfo("Asia/Shanghai")
NINE = datetime(2026, 12, 8, 9, 0, tzinfo=SH)
M = timedelta(minutes=1)
LATER = NINE + timedelta(days=1)


def rec(sessions, basis="booked", increment=0, no_show=30, end=NINE + 120 * M):
    return ur.reconcile(starts_at=NINE, ends_at=end, sessions=sessions,
                        billing=ur.Billing(basis, increment, no_show), now=LATER)


@pytest.mark.parametrize("basis, increment, billable", [
    ("booked", 0, Decimal(120)),
    ("actual", 0, Decimal(140)),
    ("actual", 15, Decimal(150)),  # 140 rounded up to the next 15
    ("larger", 15, Decimal(150)),
])
def test_a_late_start_and_an_overrun(basis, increment, billable):
    # Booked 09:00–11:00 (120 min); used 09:10–11:30: 140 min, 110 inside → 30 overrun, 10 idle.
    r = rec([(NINE + 10 * M, NINE + 150 * M)], basis, increment)
    assert (r.booked_minutes, r.actual_minutes, r.overrun_minutes, r.idle_minutes) == (120, 140, 30, 10)
    assert not r.no_show
    assert r.flags == ["overrun", "idle"]
    assert r.billable_minutes == billable


@pytest.mark.parametrize("basis, billable", [("booked", 120), ("actual", 0), ("larger", 120)])
def test_a_no_show(basis, billable):
    r = rec([], basis)
    assert (r.actual_minutes, r.idle_minutes, r.no_show, r.flags) == (0, 120, True, ["no_show"])
    assert r.billable_minutes == billable


def test_the_no_show_deadline_is_inclusive_and_earlier_sessions_do_not_count():
    assert not rec([(NINE + 30 * M, NINE + 60 * M)]).no_show  # began exactly at start + 30 min
    assert rec([(NINE + 31 * M, NINE + 60 * M)]).no_show  # one minute later: a no-show, usage still counted
    assert rec([(NINE + 31 * M, NINE + 60 * M)]).actual_minutes == 29
    assert rec([(NINE - 60 * M, NINE)]).no_show  # ended as the booking began
    assert not rec([(NINE - 10 * M, NINE + 5 * M)]).no_show  # began before, ran into it


def test_overlapping_sessions_count_once_and_an_open_one_runs_until_now():
    r = rec([(NINE, NINE + 60 * M), (NINE + 30 * M, NINE + 90 * M)], "actual")
    assert r.actual_minutes == 90
    r = ur.reconcile(starts_at=NINE, ends_at=NINE + 120 * M, sessions=[(NINE, None)],  # type: ignore[list-item]
                     billing=ur.Billing("actual"), now=NINE + 45 * M)
    assert r.actual_minutes == 45


def test_the_charge_to_the_fen():
    assert ur.charge(unit="hour", unit_price=Decimal("600.00"), billable_minutes=Decimal(150)) == (
        Decimal("2.5000"), Decimal("1500.00"))
    # 7 min at 100 yuan/h = 11.666… → 11.67
    assert ur.charge(unit="hour", unit_price=Decimal(100), billable_minutes=Decimal(7))[1] == Decimal("11.67")
    assert ur.charge(unit="sample", unit_price=Decimal("80"), billable_minutes=Decimal(0)) == (1, Decimal("80.00"))
    assert ur.charge(unit="hour", unit_price=None, billable_minutes=Decimal(60)) == (0, 0)


def test_billing_and_job_rules_are_validated_with_the_booking_rules():
    assert booking_rules.validate_rules({"billing": {"basis": "larger", "increment_minutes": 15},
                                         "sample_jobs": {"capacity": 3}}) == []
    errors = booking_rules.validate_rules({"billing": {"basis": "maximum", "x": 1},
                                           "sample_jobs": {"turnaround_days": 0}})
    assert errors == ["billing: 未知字段 x / unknown keys",
                      "billing.basis: 须为 booked、actual 或 larger / must be booked, actual or larger",
                      "sample_jobs.turnaround_days: 须为 1–120 的整数 / an integer 1–120"]
    # the booking rules still parse with the new keys
    assert booking_rules.Rules.from_dict({"billing": {"basis": "actual"}}).slot_minutes == 30
    assert ur.Billing.from_rules({"billing": {"basis": "actual"}}) == ur.Billing("actual", 0, 30)
    assert ur.JobRules.from_rules({}) == ur.JobRules(10, 2, 14)


LEGAL = [
    ("requested", "quote", "quoted"), ("quoted", "quote", "quoted"), ("expired", "quote", "quoted"),
    ("requested", "decline", "declined"), ("quoted", "accept", "accepted"), ("quoted", "expire", "expired"),
    ("accepted", "receive", "received"), ("received", "start", "testing"), ("testing", "deliver", "reported"),
    ("reported", "close", "closed"), ("requested", "cancel", "cancelled"), ("quoted", "cancel", "cancelled"),
    ("expired", "cancel", "cancelled"), ("accepted", "cancel", "cancelled"),
]


@pytest.mark.parametrize("state, action, after", LEGAL)
def test_every_legal_job_transition(state, action, after):
    assert jl.transition(state, action) == after


def test_every_other_job_transition_is_illegal():
    legal = {(s, a) for s, a, _ in LEGAL}
    illegal = [(s, a) for s in jl.STATES for a in jl.ACTIONS if (s, a) not in legal]
    assert len(illegal) == len(jl.STATES) * len(jl.ACTIONS) - len(LEGAL) == 76
    for state, action in illegal:
        with pytest.raises(jl.IllegalTransition):
            jl.transition(state, action)
    for state in jl.FINAL:
        assert jl.allowed_actions(state) == []
    assert jl.allowed_actions("quoted", jl.REQUESTER) == ["accept", "cancel"]
    assert jl.allowed_actions("quoted", jl.OPERATOR) == ["quote"]


def test_the_evaluation_arithmetic_of_one_instrument():
    def at(m, d, h):
        return datetime(2026, m, d, h, tzinfo=SH)

    facts = [
        ur.SessionFact(at(3, 2, 8), at(3, 2, 18), "normal", False, 1),  # 10 h internal
        ur.SessionFact(at(3, 3, 9), at(3, 3, 13), "normal", True, 2),  # 4 h external
        ur.SessionFact(at(3, 3, 12), at(3, 3, 15), "normal", True, 3),  # 3 h external, 1 h overlapping → 6 h
        ur.SessionFact(datetime(2025, 12, 31, 22, tzinfo=SH), at(1, 1, 2), "normal", False, 1),  # 2 h in 2026
        ur.SessionFact(at(4, 1, 8), at(4, 1, 16), "maintenance", False, None),  # excluded
        ur.SessionFact(at(4, 2, 8), at(4, 2, 13), "breakdown", False, None),  # excluded
    ]
    f = ur.instrument_figures(facts, 2026)
    # effective = 10 + 6 + 2 = 18 h; external = 6 h; share = 6 / 18 = 0.3333
    assert (f.effective_hours, f.external_hours, f.share_rate) == (Decimal("18.00"), Decimal("6.00"), Decimal("0.3333"))
    assert (f.maintenance_hours, f.breakdown_hours, f.clients) == (Decimal("8.00"), Decimal("5.00"), {2, 3})
    # 2025 holds only the two hours before midnight (Shanghai)
    assert ur.instrument_figures(facts, 2025).effective_hours == Decimal("2.00")
    assert ur.instrument_figures([], 2026).share_rate is None
