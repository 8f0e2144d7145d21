"""Cases: no step skipped, no acceptance or approval without the materials the rules require, every refusal with
its rule; 一次性告知 once; forwarding of a case collected in the other city; 好差评 once after closing; audit."""

from datetime import date, datetime

import pytest

from twincity.core import workdays
from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.govservices import services
from twincity.govservices.models import CaseRating, ServiceCase
from twincity.notifications.models import Notification

pytestmark = pytest.mark.django_db
SH = workdays.SHANGHAI


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=SH)


def filed(gov, cast, materials=None, situations=("first",), actor=None, day="2026-03-02"):
    return services.case_file(actor=actor or cast.clara, item=gov.item, applicant_name="李四", channel="window",
                              situations=list(situations), at=at(day, 9),
                              materials={"id_card": "submitted", "photo": "submitted"} if materials is None
                              else materials)


def test_cannot_skip_a_step(gov, cast):
    case = filed(gov, cast)
    with pytest.raises(Conflict) as exc:
        services.case_decide(actor=cast.hank, case=case, outcome="approve")
    assert exc.value.code == "illegal_transition"
    assert exc.value.extra == {"state": "received", "action": "decide",
                               "allowed": ["accept", "notify_correction", "refuse_intake", "withdraw"]}
    with pytest.raises(Conflict):
        services.case_deliver(actor=cast.clara, case=case)
    with pytest.raises(Conflict):
        services.case_pause(actor=cast.hank, case=case, step="expert_review")
    assert ServiceCase.objects.get(pk=case.pk).state == "received"
    assert list(case.events.values_list("action", flat=True)) == ["intake"]


def test_acceptance_needs_the_required_materials_but_not_held_or_optional_ones(gov, cast):
    case = filed(gov, cast, materials={"photo": "submitted"})
    with pytest.raises(InvalidInput) as exc:
        services.case_accept(actor=cast.clara, case=case)
    assert (exc.value.status, exc.value.code, exc.value.extra) == (422, "materials_incomplete",
                                                                  {"missing": ["id_card"]})
    assert "居民身份证" in exc.value.message
    assert ServiceCase.objects.get(pk=case.pk).accepted_at is None
    # The transfer situation adds its form; the licence is held by the government; "extra" is optional.
    case = filed(gov, cast, situations=["transfer"])
    with pytest.raises(InvalidInput) as exc:
        services.case_accept(actor=cast.clara, case=case)
    assert exc.value.extra == {"missing": ["transfer_form"]}


def test_tolerated_material_accepted_on_a_promise_but_not_approved_until_supplied(gov, cast):
    case = filed(gov, cast, materials={"id_card": "submitted", "photo": "pledged"}, day="2026-03-02")
    case = services.case_accept(actor=cast.clara, case=case, at=at("2026-03-02", 11))
    assert case.state == "handling"
    assert case.events.get(action="accept").data["pledged"] == ["photo"]
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(actor=cast.hank, case=case, outcome="approve", at=at("2026-03-04"))
    assert (exc.value.code, exc.value.extra) == ("pledged_not_supplied", {"missing": ["photo"]})
    # A refusal needs a reason but no materials.
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(actor=cast.hank, case=case, outcome="refuse", at=at("2026-03-04"))
    assert exc.value.code == "reason_required"
    services.case_supply(actor=cast.clara, case=case, materials={"photo": "submitted"}, at=at("2026-03-03"))
    case = services.case_decide(actor=cast.hank, case=case, outcome="approve", at=at("2026-03-04"))
    assert (case.state, case.outcome, case.working_days_taken) == ("decided", "approve", 2)


def test_a_non_tolerated_material_cannot_be_pledged(gov, cast):
    case = filed(gov, cast, materials={"id_card": "pledged", "photo": "submitted"})
    with pytest.raises(InvalidInput) as exc:
        services.case_accept(actor=cast.clara, case=case)
    assert exc.value.extra == {"missing": ["id_card"]}


def test_one_time_correction_notice_lists_everything_and_is_sent_once(gov, cast):
    case = filed(gov, cast, materials={}, situations=["transfer"])
    case = services.case_notify_correction(actor=cast.clara, case=case, comment="请补齐", at=at("2026-03-02", 11))
    assert case.state == "correcting"
    assert [m["code"] for m in case.correction_notice["missing"]] == ["id_card", "photo", "transfer_form"]
    case = services.case_resubmit(actor=cast.clara, case=case, at=at("2026-03-03"),
                                  materials={"id_card": "submitted", "photo": "submitted"})
    assert case.state == "received"
    with pytest.raises(Conflict) as exc:
        services.case_notify_correction(actor=cast.clara, case=case, comment="again")
    assert exc.value.code == "correction_once"
    with pytest.raises(InvalidInput):
        services.case_accept(actor=cast.clara, case=case)  # the transfer form is still missing
    case = services.case_refuse_intake(actor=cast.clara, case=case, comment="迁移申请表未补正")
    assert (case.state, case.reason) == ("not_accepted", "迁移申请表未补正")


def test_full_life_with_rating_once_and_audit(gov, cast):
    case = services.case_file(actor=cast.alice, item=gov.item, applicant_name="Alice", channel="online",
                              situations=["first"], materials={"id_card": "submitted", "photo": "submitted"},
                              at=at("2026-03-02", 9))
    assert (case.state, case.applicant_user, case.intake_city) == ("received", cast.alice, "chongqing")
    with pytest.raises(Conflict) as exc:
        services.case_rate(actor=cast.alice, case=case, grade=5)
    assert exc.value.code == "not_closed"
    case = services.case_accept(actor=cast.clara, case=case, at=at("2026-03-02", 10))
    case = services.case_decide(actor=cast.hank, case=case, outcome="approve", at=at("2026-03-05"))
    case = services.case_deliver(actor=cast.clara, case=case, at=at("2026-03-05", 15))
    assert (case.state, case.result_ref) == ("delivered", f"EL-{case.number}")
    case = services.case_close(actor=cast.clara, case=case, at=at("2026-03-06"))
    with pytest.raises(Forbidden):
        services.case_rate(actor=cast.bob, case=case, grade=1)
    with pytest.raises(InvalidInput) as exc:
        services.case_rate(actor=cast.alice, case=case, grade=6)
    assert exc.value.code == "invalid_grade"
    rating = services.case_rate(actor=cast.alice, case=case, grade=5, comment="快")
    assert (rating.grade, rating.rated_by) == (5, cast.alice)
    with pytest.raises(Conflict) as exc:
        services.case_rate(actor=cast.alice, case=case, grade=1)
    assert exc.value.code == "already_rated"
    assert CaseRating.objects.get(case=case).grade == 5
    assert list(case.events.values_list("action", flat=True)) == ["intake", "accept", "decide", "deliver", "close",
                                                                   "rate"]
    entries = AuditEntry.objects.filter(object_type="govservices.servicecase", object_id=str(case.pk))
    assert entries.count() == 5  # created, accepted, decided, delivered, closed
    assert AuditEntry.objects.filter(object_type="govservices.caserating").count() == 1
    assert Notification.objects.filter(recipient=cast.alice, event="govservices.case.decide").count() == 1
    assert Notification.objects.filter(recipient=cast.hank, event="govservices.case.accept").count() == 1


def test_who_takes_which_step(gov, cast):
    case = filed(gov, cast)
    with pytest.raises(Forbidden):
        services.case_accept(actor=cast.chen, case=case)  # a Chengdu hall does not accept a Chongqing item
    with pytest.raises(Forbidden):
        services.case_accept(actor=cast.bella, case=case)
    case = services.case_accept(actor=cast.hank, case=case)  # the department itself may accept
    with pytest.raises(Forbidden):
        services.case_pause(actor=cast.clara, case=case, step="expert_review")  # pauses: the department
    with pytest.raises(InvalidInput) as exc:
        services.case_pause(actor=cast.hank, case=case, step="nap")
    assert exc.value.code == "unknown_pause_step"
    services.case_pause(actor=cast.hank, case=case, step="correction")
    with pytest.raises(Conflict):
        services.case_pause(actor=cast.hank, case=case, step="inspection")


def test_window_of_the_other_city_collects_and_the_task_forwards(gov, cast):
    from django_tasks_db.models import DBTaskResult

    from twincity.govservices.tasks import case_forward_task

    case = services.case_file(actor=cast.chen, item=gov.item, applicant_name="王五", channel="window",
                              situations=["first"], materials={"id_card": "submitted", "photo": "submitted"},
                              at=at("2026-03-02", 9))
    assert (case.state, case.intake_city, case.intake_office, case.department) == (
        "collected", "chengdu", gov.cd_hall, gov.department)
    queued = DBTaskResult.objects.get(task_path="twincity.govservices.tasks.case_forward_task")
    assert queued.args_kwargs["kwargs"] == {"case_id": case.pk}
    with pytest.raises(Conflict) as exc:
        services.case_accept(actor=cast.clara, case=case)  # not forwarded yet: no step is skipped
    assert exc.value.extra["allowed"] == ["forward", "withdraw"]
    assert case_forward_task.call(case_id=case.pk) == "received"
    assert case_forward_task.call(case_id=case.pk) == "received"  # a second run does nothing
    case.refresh_from_db()
    assert case.forwarded_at is not None
    assert list(case.events.values_list("action", "from_state", "to_state")) == [
        ("intake", "", "collected"), ("forward", "collected", "received")]
    assert Notification.objects.filter(recipient=cast.chen, event="govservices.case.forward").count() == 1
    assert services.case_accept(actor=cast.clara, case=case).state == "handling"


def test_a_local_only_item_is_not_taken_in_the_other_city(gov, cast):
    item = services.item_version_create(actor=cast.olivia, item=gov.item, cross_city_mode="local", note="仅本地")
    with pytest.raises(InvalidInput) as exc:
        services.case_file(actor=cast.chen, item=item, applicant_name="王五", channel="window")
    assert exc.value.code == "not_cross_city"
    with pytest.raises(Conflict) as exc:
        services.case_file(actor=cast.clara, item=gov.item, applicant_name="王五", channel="window")
    assert exc.value.code == "not_published"  # the superseded version is no longer offered


def test_withdraw_and_warn(gov, cast):
    case = filed(gov, cast, day="2026-03-02")
    case = services.case_accept(actor=cast.clara, case=case, at=at("2026-03-02", 11))
    assert case.due_date == date(2026, 3, 16)
    # Nothing to warn until two working days before the promise: 3.12 (Thu) → horizon 3.16.
    assert services.cases_warn(now=at("2026-03-11", 9)) == []
    assert services.cases_warn(now=at("2026-03-12", 9)) == [case.pk]
    assert services.cases_warn(now=at("2026-03-13", 9)) == []  # once
    case.refresh_from_db()
    assert case.events.get(action="warn").data == {"due_date": "2026-03-16", "days_left": 2}
    assert Notification.objects.filter(recipient=cast.hank, event="govservices.case.warn").count() == 1
    with pytest.raises(Forbidden):
        services.case_withdraw(actor=cast.hank, case=case, comment="不办了")
    with pytest.raises(InvalidInput) as exc:
        services.case_withdraw(actor=cast.clara, case=case, comment="")  # at the window, for the walk-in applicant
    assert exc.value.code == "reason_required"
    case = services.case_withdraw(actor=cast.clara, case=case, comment="申请人撤回")
    assert case.state == "withdrawn"
    assert services.cases_warn(now=at("2026-03-12", 9)) == []


def test_the_warning_schedule_runs_the_task(gov, cast):
    from twincity.core.schedules import schedule_get
    from twincity.govservices.tasks import cases_warn_task

    schedule = schedule_get("govservices-clock-warn")
    assert (schedule.task_path, schedule.cron) == ("twincity.govservices.tasks.cases_warn_task", "30 8 * * *")
    assert schedule.task is cases_warn_task
    assert cases_warn_task.call() == []
