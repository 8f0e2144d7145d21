"""Demands and applications: the state machine is the only way to change a state; an illegal transition is a
409 that changes nothing; a rejection needs a reason; every transition is on the timeline and in the audit
trail; who may see and act; twin-city joint loans need both branches."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.finance import access, services
from twincity.finance.models import Application, ApplicationEvent, BranchDecision
from twincity.finance.tests.cases import branch, lined_product, officer

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2026-03-02 10:00 in Shanghai


def demand(cast, **kwargs):
    values = {"kind": "demand", "amount": "2000000", "term_months": 24, "purpose": "流片与设备采购",
              "submit": True, "at": AT}
    return services.case_create(actor=cast.alice, enterprise=cast.alice_co, **{**values, **kwargs})


def state_of(case):
    return Application.objects.get(pk=case.pk).state


def test_a_demand_from_draft_to_repaid_with_its_timeline_and_audit(cast):
    draft = demand(cast, submit=False)
    assert draft.state == "draft" and draft.submitted_at is None
    assert not access.can_view_case(cast.bella, draft)  # a draft is the company's alone
    case = services.case_submit(actor=cast.alice, case=draft, at=AT)
    assert (case.state, case.submitted_at, case.claim_due) == ("published", AT, datetime(2026, 3, 5).date())
    assert access.can_view_case(cast.bella, case) and access.can_claim(cast.bella, case)
    case = services.case_claim(actor=cast.bella, case=case, at=AT)
    assert case.state == "claimed" and case.lead_institution == cast.bank_a_branch
    assert case.decision_due == datetime(2026, 3, 16).date()  # 10 working days after Monday 3-02
    case = services.case_start_review(actor=cast.bella, case=case, at=AT)
    case = services.case_decide(actor=cast.bella, case=case, decision="approve", amount="1500000",
                                rate="0.0345", term_months=24, comment="同意", at=AT)
    assert (case.state, case.approved_amount, case.approved_rate, case.approved_term_months) == (
        "approved", Decimal("1500000.00"), Decimal("0.034500"), 24)
    case = services.case_disburse(actor=cast.bella, case=case, on=datetime(2026, 3, 3).date(), at=AT)
    assert (case.state, case.disbursed_amount, str(case.disbursed_on)) == ("disbursed", Decimal("1500000.00"),
                                                                           "2026-03-03")
    case = services.case_repay(actor=cast.bella, case=case, amount="500000", at=AT)
    assert case.state == "disbursed" and case.repaid_amount == Decimal("500000.00")  # a part repayment
    case = services.case_repay(actor=cast.bella, case=case, at=AT)
    assert case.state == "repaid" and case.repaid_amount == Decimal("1500000.00")
    events = list(ApplicationEvent.objects.filter(application=case).order_by("pk"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("create", "", "draft"), ("publish", "draft", "published"), ("claim", "published", "claimed"),
        ("start_review", "claimed", "due_diligence"), ("approve", "due_diligence", "approved"),
        ("disburse", "approved", "disbursed"), ("repayment", "disbursed", "disbursed"),
        ("repay", "disbursed", "repaid")]
    assert [e.actor for e in events] == [cast.alice, cast.alice] + [cast.bella] * 6
    audit = list(AuditEntry.objects.filter(object_type="finance.application", object_id=str(case.pk)).order_by("id"))
    assert [a.action for a in audit] == ["create"] + ["update"] * 7
    assert audit[2].changes["state"] == {"before": "published", "after": "claimed"}
    assert audit[2].actor == cast.bella and audit[2].context == "claim: "
    assert audit[4].changes["approved_amount"] == {"before": None, "after": "1500000.00"}
    assert all(a.subject == f"enterprises.enterprise:{cast.alice_co.pk}" for a in audit)


def test_an_illegal_transition_is_a_409_that_changes_nothing(cast):
    case = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    before = (ApplicationEvent.objects.count(), AuditEntry.objects.count())
    for call in (lambda: services.case_disburse(actor=cast.bella, case=case),
                 lambda: services.case_repay(actor=cast.bella, case=case),
                 lambda: services.case_submit(actor=cast.alice, case=case),
                 lambda: services.case_resubmit(actor=cast.alice, case=case),
                 lambda: services.case_claim(actor=cast.bella, case=case)):
        with pytest.raises(Conflict) as raised:
            call()
        assert raised.value.code == "illegal_transition" and raised.value.status == 409
    assert (ApplicationEvent.objects.count(), AuditEntry.objects.count()) == before
    fresh = Application.objects.get(pk=case.pk)
    assert (fresh.state, fresh.disbursed_amount, fresh.repaid_amount) == ("claimed", None, Decimal(0))


def test_a_rejection_needs_a_reason_and_then_is_final(cast):
    case = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    for blank in ("", "   "):
        with pytest.raises(InvalidInput) as raised:
            services.case_decide(actor=cast.bella, case=case, decision="reject", comment=blank)
        assert raised.value.code == "reason_required" and raised.value.status == 422
    assert state_of(case) == "claimed" and not BranchDecision.objects.exists()
    case = services.case_decide(actor=cast.bella, case=case, decision="reject", comment="现金流不足以覆盖本息")
    assert (case.state, case.reason) == ("rejected", "现金流不足以覆盖本息")
    with pytest.raises(Conflict):
        services.case_withdraw(actor=cast.alice, case=case)


def test_referral_back_and_resubmission_start_a_new_round_and_restart_the_clock(cast):
    case = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    with pytest.raises(InvalidInput):
        services.case_decide(actor=cast.bella, case=case, decision="refer_back")
    case = services.case_decide(actor=cast.bella, case=case, decision="refer_back", comment="请补充2025年审计报告")
    assert (case.state, case.reason) == ("referred_back", "请补充2025年审计报告")
    with pytest.raises(Forbidden):
        services.case_resubmit(actor=cast.bob, case=case)
    resubmitted = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)  # Friday before the 2026 Spring Festival
    case = services.case_resubmit(actor=cast.alice, case=case, comment="已补充", at=resubmitted)
    assert (case.state, case.decision_round, case.reason) == ("due_diligence", 2, "")
    assert str(case.decision_due) == "2026-03-05"  # 2-14 (Sat, worked), 2-24…2-27, 2-28 (Sat), 3-2…3-5
    case = services.case_decide(actor=cast.bella, case=case, decision="approve", amount="2000000", rate="0.04")
    assert case.state == "approved"
    assert list(BranchDecision.objects.values_list("round", "decision")) == [(1, "refer_back"), (2, "approve")]


def test_withdrawal_before_disbursement_only_and_by_the_company_only(cast):
    case = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    with pytest.raises(Forbidden):
        services.case_withdraw(actor=cast.bella, case=case)
    case = services.case_withdraw(actor=cast.alice, case=case, comment="已获其他融资")
    assert case.state == "withdrawn"
    other = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    other = services.case_decide(actor=cast.bella, case=other, decision="approve", amount="1000000", rate="0.04")
    other = services.case_disburse(actor=cast.bella, case=other)
    with pytest.raises(Conflict):
        services.case_withdraw(actor=cast.alice, case=other)
    assert state_of(other) == "disbursed"


def test_overdue_and_default_need_a_disbursed_loan_and_a_reason(cast):
    case = services.case_claim(actor=cast.bella, case=demand(cast), at=AT)
    case = services.case_decide(actor=cast.bella, case=case, decision="approve", amount="1000000", rate="0.04")
    with pytest.raises(Conflict):
        services.case_mark_overdue(actor=cast.bella, case=case, amount="1")
    case = services.case_disburse(actor=cast.bella, case=case, amount="800000")
    with pytest.raises(InvalidInput):
        services.case_mark_overdue(actor=cast.bella, case=case, amount="800000.01")
    case = services.case_mark_overdue(actor=cast.bella, case=case, amount="200000",
                                      on=datetime(2026, 9, 1).date())
    assert (case.state, case.overdue_amount, str(case.overdue_since)) == ("overdue", Decimal("200000.00"),
                                                                          "2026-09-01")
    with pytest.raises(InvalidInput):
        services.case_default(actor=cast.bella, case=case)
    case = services.case_default(actor=cast.bella, case=case, comment="逾期90天", on=datetime(2026, 11, 30).date())
    assert (case.state, str(case.defaulted_on)) == ("defaulted", "2026-11-30")


def test_one_bank_never_sees_anothers_items(cast):
    case = demand(cast)  # project city: Chongqing
    assert access.can_view_case(cast.bella, case)
    assert not access.can_view_case(cast.bruno, case)  # a Chengdu branch: not offered before escalation
    assert list(access.cases_visible(cast.bruno)) == []
    with pytest.raises(Forbidden):
        services.case_claim(actor=cast.bruno, case=case)
    case = services.case_claim(actor=cast.bella, case=case, at=AT)
    other_branch = officer("cora", branch(cast, "crcb_gx"))  # a sibling branch of bella's bank
    for person in (cast.bruno, other_branch, cast.bob, cast.gary, cast.charlie):
        assert not access.can_view_case(person, case), person
        assert case.pk not in set(access.cases_visible(person).values_list("pk", flat=True)), person
    head_office = officer("hugo", cast.bank_a)
    for person in (cast.alice, cast.bella, cast.olivia, head_office):
        assert access.can_view_case(person, case), person
        assert case.pk in set(access.cases_visible(person).values_list("pk", flat=True)), person
    with pytest.raises(Forbidden):
        services.case_decide(actor=cast.bruno, case=case, decision="reject", comment="x")
    assert state_of(case) == "claimed"


def test_an_application_is_routed_to_its_products_institution(cast, products):
    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="application",
                                product=products["crcb-points-loan"], amount="1000000", term_months=12,
                                purpose="研发", submit=True, at=AT)
    assert (case.state, case.lead_institution, case.partner_institution, case.claim_due) == (
        "submitted", cast.bank_a_branch, None, None)
    assert access.can_claim(cast.bella, case) and not access.can_view_case(cast.bruno, case)
    with pytest.raises(InvalidInput):
        services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="application", product=None,
                             amount="1000000", term_months=12, purpose="研发")
    with pytest.raises(InvalidInput):
        services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="application",
                             product=products["kxc-fund-equity"], amount="1000000", term_months=12, purpose="x")
    with pytest.raises(Forbidden):
        services.case_create(actor=cast.bob, enterprise=cast.alice_co, kind="demand", amount="1", term_months=1,
                             purpose="x")


def test_twin_city_loan_for_bobs_company_needs_both_branches(cast, products):
    lead_officer = officer("dora", branch(cast, "cdb_cq"))  # 成都银行重庆分行 (the project city's branch)
    case = services.case_create(actor=cast.bob, enterprise=cast.bob_co, kind="application",
                                product=products["cdb-twin-city-loan"], amount="287000000", term_months=60,
                                purpose="重庆高新区储能电站项目", registered_city="chengdu", project_city="chongqing",
                                submit=True, at=AT)
    assert (case.lead_institution.name, case.partner_institution) == ("成都银行重庆分行", cast.bank_b_branch)
    assert access.can_view_case(cast.bruno, case) and access.can_view_case(lead_officer, case)
    assert not access.can_view_case(cast.bella, case)
    case = services.case_claim(actor=lead_officer, case=case, at=AT)
    case = services.case_decide(actor=lead_officer, case=case, decision="approve", amount="187000000",
                                rate="0.039", term_months=60, comment="牵头行同意")
    assert case.state == "due_diligence" and case.approved_amount is None  # one approval is not enough
    with pytest.raises(Conflict):
        services.case_disburse(actor=lead_officer, case=case)
    with pytest.raises(Conflict) as raised:
        services.case_decide(actor=lead_officer, case=case, decision="approve", amount="1", rate="0.039")
    assert raised.value.code == "already_decided"
    case = services.case_decide(actor=cast.bruno, case=case, decision="approve", amount="100000000",
                                rate="0.041", term_months=60, comment="参贷行同意")
    assert (case.state, case.approved_amount, case.approved_rate) == ("approved", Decimal("287000000.00"),
                                                                      Decimal("0.039000"))
    with pytest.raises(Forbidden):
        services.case_disburse(actor=cast.bruno, case=case)  # the lead branch disburses
    case = services.case_disburse(actor=lead_officer, case=case)
    assert case.state == "disbursed"
    shares = {d.institution.name: d.share_amount for d in BranchDecision.objects.filter(application=case)}
    assert shares == {"成都银行重庆分行": Decimal("187000000.00"), "成都银行高新支行": Decimal("100000000.00")}


def test_twin_city_loan_either_branch_refers_back(cast, products):
    lead_officer = officer("dora", branch(cast, "cdb_cq"))
    case = services.case_create(actor=cast.bob, enterprise=cast.bob_co, kind="application",
                                product=products["cdb-twin-city-loan"], amount="5000000", term_months=24,
                                purpose="项目", registered_city="chengdu", project_city="chongqing", submit=True)
    case = services.case_claim(actor=cast.bruno, case=case)
    case = services.case_decide(actor=lead_officer, case=case, decision="approve", amount="3000000", rate="0.04")
    case = services.case_decide(actor=cast.bruno, case=case, decision="refer_back", comment="补充项目批复文件")
    assert (case.state, case.approved_amount) == ("referred_back", None)
    with pytest.raises(InvalidInput):
        services.case_create(actor=cast.bob, enterprise=cast.bob_co, kind="application",
                             product=products["cdb-twin-city-loan"], amount="5000000", term_months=24,
                             purpose="x", registered_city="chengdu", project_city="chengdu")


def test_lines_refuse_an_approval_past_the_product_or_the_enterprise_line(cast):
    product = lined_product(cast)

    def approved(enterprise_actor, enterprise, amount):
        case = services.case_create(actor=enterprise_actor, enterprise=enterprise, kind="application",
                                    product=product, amount=amount, term_months=12, purpose="x", submit=True)
        case = services.case_claim(actor=cast.bella, case=case)
        return services.case_decide(actor=cast.bella, case=case, decision="approve", amount=amount, rate="0.035")

    approved(cast.alice, cast.alice_co, "400000")
    with pytest.raises(Conflict) as raised:  # alice: 40万 + 30万 > her 60万 line
        approved(cast.alice, cast.alice_co, "300000")
    assert raised.value.code == "enterprise_line_exceeded"
    assert raised.value.extra == {"line": "600000.00", "used": "400000.00", "amount": "300000.00"}
    approved(cast.bob, cast.bob_co, "600000")  # 100万 of 100万 used
    with pytest.raises(Conflict) as raised:
        approved(cast.alice, cast.alice_co, "0.01")
    assert raised.value.code == "product_line_exceeded"
    assert Application.objects.filter(state="approved").count() == 2
    assert Application.objects.filter(state="claimed").count() == 2  # the refused ones stay undecided
    assert not BranchDecision.objects.filter(application__state="claimed").exists()


def test_a_points_loan_line_is_the_enterprises_grade_line(cast, products, scored):
    """知识价值 A–E = 500/400/300/160/80万: alice's line on the points loan is her grade's; an approval past it
    is refused, one within it passes."""
    from finance_engine import KNOWLEDGE_VALUE_LINES
    from twincity.points.selectors import result_latest

    grade = result_latest(enterprise=cast.alice_co, standard_id="scp-v1").grade
    line = KNOWLEDGE_VALUE_LINES[grade]

    def accepted(amount):
        case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="application",
                                    product=products["crcb-points-loan"], amount=amount, term_months=12,
                                    purpose="研发", submit=True)
        return services.case_claim(actor=cast.bella, case=case)

    too_much = accepted(line + Decimal("0.01"))
    with pytest.raises(Conflict) as raised:
        services.case_decide(actor=cast.bella, case=too_much, decision="approve", amount=line + Decimal("0.01"),
                             rate="0.0345")
    assert raised.value.code == "enterprise_line_exceeded" and raised.value.extra["line"] == f"{line:.2f}"
    case = services.case_decide(actor=cast.bella, case=accepted(line), decision="approve", amount=line,
                                rate="0.0345")
    assert (case.state, case.approved_amount) == ("approved", line)
