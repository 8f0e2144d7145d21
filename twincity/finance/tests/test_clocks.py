"""The clocks of demands and applications on the official working-day calendar (real dates across the 2025
National Day / Mid-Autumn holiday and the 2026 Spring Festival, with their make-up working days): the claim
window, its escalation by the scheduled job, the 10-working-day approval limit, and the overdue list."""

from datetime import UTC, date, datetime

import pytest

from twincity.core.schedules import schedule_get
from twincity.finance import access, selectors, services
from twincity.finance.models import Application, ApplicationEvent
from twincity.finance.tasks import demands_escalate_task


def shanghai(y, m, d, hh=10, mm=0):
    """A Shanghai wall-clock time as UTC."""
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def publish(cast, at):
    return services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="流动资金", submit=True, at=at)


@pytest.mark.parametrize(("published", "claim_due"), [
    # 2025 国庆/中秋: 10-01…10-08 off; 9-28 (Sun) and 10-11 (Sat) worked.
    (shanghai(2025, 9, 26), date(2025, 9, 30)),  # Fri → 9-28 (Sun, worked), 9-29, 9-30
    (shanghai(2025, 9, 27), date(2025, 9, 30)),  # Sat (a rest day) → 9-28, 9-29, 9-30
    (shanghai(2025, 9, 30), date(2025, 10, 11)),  # Tue → 10-09, 10-10, 10-11 (Sat, worked)
    (shanghai(2025, 10, 3), date(2025, 10, 11)),  # in the holiday
    (shanghai(2025, 9, 30, 23, 30), date(2025, 10, 11)),  # late evening: still 9-30 in Shanghai
    # 2026 春节: 2-15…2-23 off; 2-14 (Sat) and 2-28 (Sat) worked.
    (shanghai(2026, 2, 12), date(2026, 2, 24)),  # Thu → 2-13, 2-14 (Sat, worked), 2-24
    (shanghai(2026, 2, 13), date(2026, 2, 25)),  # Fri → 2-14, 2-24, 2-25
    (shanghai(2026, 2, 26), date(2026, 3, 2)),  # Thu → 2-27, 2-28 (Sat, worked), 3-02
])
def test_claim_window_is_three_working_days(cast, published, claim_due):
    case = publish(cast, published)
    assert case.claim_due == claim_due


@pytest.mark.parametrize(("claimed", "decision_due"), [
    (shanghai(2025, 9, 29), date(2025, 10, 20)),  # 9-30, 10-09, 10-10, 10-11, 10-13…10-17, 10-20
    (shanghai(2025, 9, 26), date(2025, 10, 16)),  # 9-28, 9-29, 9-30, 10-09, 10-10, 10-11, 10-13…10-16
    (shanghai(2026, 2, 12), date(2026, 3, 4)),  # 2-13, 2-14, 2-24…2-27, 2-28, 3-02, 3-03, 3-04
    (shanghai(2026, 2, 20), date(2026, 3, 6)),  # in the holiday: 2-24…2-27, 2-28 (Sat, worked), 3-02…3-06
])
def test_approval_limit_is_ten_working_days_from_acceptance(cast, claimed, decision_due):
    case = publish(cast, claimed)
    case = services.case_claim(actor=cast.bella, case=case, at=claimed)
    assert case.decision_due == decision_due
    event = ApplicationEvent.objects.get(application=case, action="claim")
    assert event.data == {"decision_due": decision_due.isoformat()}


def test_unclaimed_demand_is_escalated_by_the_scheduled_job_after_its_window(cast, settings):
    case = publish(cast, shanghai(2025, 9, 30))  # claim due 2025-10-11 (the make-up Saturday)
    assert case.claim_due == date(2025, 10, 11)
    assert not access.can_view_case(cast.bruno, case)  # offered to Chongqing's bank branches only
    # The last day of the window is not over: nothing happens.
    assert services.demands_escalate(now=shanghai(2025, 10, 11, 23, 59)) == []
    assert Application.objects.get(pk=case.pk).escalated_at is None
    # The schedule names the task; the task escalates when the window is over (00:00 Shanghai, 10-12).
    schedule = schedule_get("finance-demands-escalate")
    assert schedule is not None and schedule.task is demands_escalate_task
    from freezegun import freeze_time

    with freeze_time(shanghai(2025, 10, 12, 0, 5)):
        assert demands_escalate_task.call() == [case.pk]
        assert demands_escalate_task.call() == []  # once only
    case = Application.objects.get(pk=case.pk)
    assert case.state == "published" and case.escalated_at == shanghai(2025, 10, 12, 0, 5)
    event = ApplicationEvent.objects.get(application=case, action="escalate")
    assert (event.from_state, event.to_state, event.actor) == ("published", "published", None)
    assert access.can_view_case(cast.bruno, case)  # re-routed: every bank branch of both cities
    assert case.pk in set(access.cases_visible(cast.bruno).values_list("pk", flat=True))
    services.case_claim(actor=cast.bruno, case=case, at=shanghai(2025, 10, 13))
    assert Application.objects.get(pk=case.pk).lead_institution == cast.bank_b_branch


def test_a_claimed_demand_is_not_escalated(cast):
    case = publish(cast, shanghai(2026, 2, 13))
    services.case_claim(actor=cast.bella, case=case, at=shanghai(2026, 2, 25, 23))
    assert services.demands_escalate(now=shanghai(2026, 3, 1)) == []


def test_overdue_list_says_who_is_late(cast):
    unclaimed = publish(cast, shanghai(2026, 2, 13))  # claim due 2026-02-25
    undecided = services.case_claim(actor=cast.bella, case=publish(cast, shanghai(2026, 2, 12)),
                                    at=shanghai(2026, 2, 12))  # decision due 2026-03-04
    on_time = services.case_claim(actor=cast.bella, case=publish(cast, shanghai(2026, 3, 2)),
                                  at=shanghai(2026, 3, 2))
    assert selectors.cases_overdue(now=shanghai(2026, 2, 25, 23, 59)) == []
    overdue = selectors.cases_overdue(now=shanghai(2026, 3, 5, 9))
    assert [(o.case.pk, o.clock, o.due, o.working_days_late) for o in overdue] == [
        (unclaimed.pk, "claim", date(2026, 2, 25), 7),  # 2-26, 2-27, 2-28 (Sat, worked), 3-02…3-05
        (undecided.pk, "decision", date(2026, 3, 4), 1)]
    assert overdue[0].late == ["重庆农村商业银行科学城支行"]
    assert overdue[1].late == ["重庆农村商业银行科学城支行"]
    assert on_time.pk not in {o.case.pk for o in overdue}
    services.case_decide(actor=cast.bella, case=undecided, decision="approve", amount="1000000", rate="0.04")
    assert [o.case.pk for o in selectors.cases_overdue(now=shanghai(2026, 3, 5, 9))] == [unclaimed.pk]


def test_overdue_list_takes_the_same_queries_for_four_late_cases_as_for_twelve(cast, django_assert_num_queries):
    for day in (13, 13):
        publish(cast, shanghai(2026, 2, day))
        services.case_claim(actor=cast.bella, case=publish(cast, shanghai(2026, 2, 12)), at=shanghai(2026, 2, 12))
    with django_assert_num_queries(4):  # the late demands, their candidates, the late decisions, their decisions
        assert len(selectors.cases_overdue(now=shanghai(2026, 3, 5, 9))) == 4
    for _ in range(4):
        publish(cast, shanghai(2026, 2, 13))
        services.case_claim(actor=cast.bella, case=publish(cast, shanghai(2026, 2, 12)), at=shanghai(2026, 2, 12))
    with django_assert_num_queries(4):
        assert len(selectors.cases_overdue(now=shanghai(2026, 3, 5, 9))) == 12


def test_a_clock_past_the_calendar_has_no_due_date_rather_than_a_guess(cast):
    case = publish(cast, shanghai(2026, 12, 30))  # 3 working days reach 2027: no official notice yet
    assert (case.state, case.claim_due) == ("published", None)
    assert services.demands_escalate(now=shanghai(2026, 12, 31)) == []
