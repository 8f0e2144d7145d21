"""The clock with real dates: the official calendar's holidays and make-up working days of 2025 and 2026, with a
pause in the middle (twincity.core.workdays.add_working_days_paused, and the services that use it)."""

from datetime import date, datetime

import pytest

from twincity.core import workdays
from twincity.govservices import services
from twincity.govservices.models import ServiceCase

SH = workdays.SHANGHAI


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=SH)


def test_pure_national_day_2025_with_pause():
    # Accepted on Sunday 2025-09-28, a make-up working day (not counted: the day of the event).
    # Counted: 9.29, 9.30 (2); paused 9.30 → resumed 10.9 (10.1–10.8 are holidays anyway; 10.9 is not counted);
    # then 10.10 (3), Saturday 10.11 make-up (4), 10.13–10.17 (5–9), 10.20 (10).
    assert workdays.add_working_days_paused(date(2025, 9, 28), 10, [(date(2025, 9, 30), date(2025, 10, 9))]) == date(
        2025, 10, 20
    )
    # Without the pause: 9.29, 9.30, 10.9, 10.10, 10.11 (Sat), 10.13–10.17 → 10.17.
    assert workdays.add_working_days(date(2025, 9, 28), 10) == date(2025, 10, 17)
    # An open pause: no end.
    assert workdays.add_working_days_paused(date(2025, 9, 28), 10, [(date(2025, 9, 30), None)]) is None
    # A pause after the clock ran out changes nothing.
    assert workdays.add_working_days_paused(date(2025, 9, 28), 2, [(date(2025, 10, 9), None)]) == date(2025, 9, 30)


def test_pure_spring_festival_2026_with_pause():
    # Accepted Wed 2026-02-11; 2.12 (1), 2.13 (2), Saturday 2.14 make-up (3); 2.15–2.23 off; paused 2.24 (4,
    # counts) → resumed 2.26; 2.27 (5), Saturday 2.28 make-up (6), 3.2–3.5 (7–10).
    pauses = [(date(2026, 2, 24), date(2026, 2, 26))]
    assert workdays.add_working_days_paused(date(2026, 2, 11), 10, pauses) == date(2026, 3, 5)
    assert workdays.add_working_days(date(2026, 2, 11), 10) == date(2026, 3, 3)
    assert workdays.working_days_used(date(2026, 2, 11), date(2026, 3, 5), pauses) == 10
    assert workdays.working_days_used(date(2026, 2, 11), date(2026, 2, 25), [(date(2026, 2, 24), None)]) == 4
    assert workdays.working_days_left(date(2026, 3, 5), date(2026, 3, 3)) == 2
    assert workdays.working_days_left(date(2026, 3, 5), date(2026, 3, 9)) == -2


def test_pure_two_pauses_across_new_year_2026():
    # Accepted Mon 2025-12-29: 12.30 (1), paused 12.31 (2) → resumed 2026-01-05; 1.1–1.3 off, Sunday 1.4 is a
    # make-up day but inside the pause; 1.6 (3), 1.7 (4); paused 1.7 → 1.9 (1.8, 1.9 not counted); 1.12 (5) …
    pauses = [(date(2025, 12, 31), date(2026, 1, 5)), (date(2026, 1, 7), date(2026, 1, 9))]
    assert workdays.add_working_days_paused(date(2025, 12, 29), 5, pauses) == date(2026, 1, 12)
    assert workdays.working_days_used(date(2025, 12, 29), date(2026, 1, 12), pauses) == 5


@pytest.mark.django_db
def test_case_accepted_on_make_up_day_paused_over_national_day(gov, cast):
    case = services.case_file(
        actor=cast.clara,
        item=gov.item,
        applicant_name="张三",
        channel="window",
        situations=["first"],
        materials={"id_card": "submitted", "photo": "submitted"},
        at=at("2025-09-28", 9),
    )
    case = services.case_accept(actor=cast.clara, case=case, at=at("2025-09-28", 10))
    assert (case.state, case.due_date, case.legal_due_date) == ("handling", date(2025, 10, 17), date(2025, 10, 31))
    case = services.case_pause(actor=cast.hank, case=case, step="expert_review", at=at("2025-09-30", 15))
    assert (case.state, case.due_date) == ("paused", None)
    clock = services.case_clock(case, date(2025, 10, 5))
    assert (clock.status, clock.days_used) == ("paused", 2)
    case = services.case_resume(actor=cast.hank, case=case, at=at("2025-10-09", 11))
    assert (case.state, case.due_date, case.legal_due_date) == ("handling", date(2025, 10, 20), date(2025, 11, 3))
    clock = services.case_clock(case, date(2025, 10, 15))  # counted: 9.29, 9.30, 10.10, 10.11, 10.13–10.15
    assert (clock.status, clock.days_left, clock.days_used) == ("running", 3, 7)
    assert services.case_clock(case, date(2025, 10, 16)).status == "warning"
    assert services.case_clock(case, date(2025, 10, 21)).days_left == -1
    case = services.case_decide(actor=cast.hank, case=case, outcome="approve", at=at("2025-10-20", 16))
    assert case.working_days_taken == 10
    stored = ServiceCase.objects.get(pk=case.pk)
    assert [e.action for e in stored.events.all()] == ["intake", "accept", "pause", "resume", "decide"]
    assert stored.events.get(action="resume").data == {
        "step": "expert_review",
        "paused_working_days": 1,
        "due_date": "2025-10-20",
    }
