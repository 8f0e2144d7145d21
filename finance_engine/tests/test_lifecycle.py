"""The case lifecycle's transition table: every legal step, the illegal ones, and joint decisions."""

import pytest

from finance_engine import lifecycle
from finance_engine.lifecycle import IllegalTransition, joint_outcome, transition


def test_the_happy_paths_of_a_demand_and_an_application():
    state = "draft"
    for action, expected in (("publish", "published"), ("claim", "claimed"), ("start_review", "due_diligence"),
                             ("approve", "approved"), ("disburse", "disbursed"), ("repay", "repaid")):
        state = transition("demand", state, action)
        assert state == expected
    state = "draft"
    for action, expected in (("submit", "submitted"), ("claim", "claimed"), ("refer_back", "referred_back"),
                             ("resubmit", "due_diligence"), ("approve", "approved"), ("disburse", "disbursed"),
                             ("mark_overdue", "overdue"), ("default", "defaulted")):
        state = transition("application", state, action)
        assert state == expected


@pytest.mark.parametrize(("kind", "state", "action"), [
    ("demand", "draft", "submit"),  # a demand is published, not submitted
    ("application", "draft", "publish"),
    ("demand", "claimed", "claim"),  # the second claim
    ("application", "submitted", "approve"),  # not accepted yet
    ("application", "approved", "repay"),  # not disbursed
    ("application", "disbursed", "withdraw"),  # after disbursement the enterprise cannot withdraw
    ("application", "rejected", "resubmit"),
    ("application", "repaid", "mark_overdue"),
    ("application", "withdrawn", "submit"),
    ("loan", "draft", "submit"),  # an unknown kind
    ("application", "nowhere", "submit"),  # an unknown state
])
def test_illegal_transitions_raise(kind, state, action):
    with pytest.raises(IllegalTransition):
        transition(kind, state, action)


def test_withdrawal_is_allowed_exactly_before_disbursement():
    allowed = {s for s in lifecycle.STATES if "withdraw" in lifecycle.allowed_actions("application", s)}
    assert allowed == {"draft", "submitted", "published", "claimed", "due_diligence", "referred_back", "approved"}


def test_final_states_allow_nothing():
    for state in lifecycle.FINAL:
        assert lifecycle.allowed_actions("application", state) == []
        assert lifecycle.allowed_actions("demand", state) == []


def test_joint_outcome_needs_both_approvals_and_either_refers_back():
    assert joint_outcome({}, 2) is None
    assert joint_outcome({"lead": "approve"}, 2) is None
    assert joint_outcome({"lead": "approve", "partner": "approve"}, 2) == "approve"
    assert joint_outcome({"lead": "approve", "partner": "refer_back"}, 2) == "refer_back"
    assert joint_outcome({"partner": "reject"}, 2) == "reject"
    assert joint_outcome({"lead": "reject", "partner": "refer_back"}, 2) == "refer_back"
    assert joint_outcome({"lead": "approve"}, 1) == "approve"


def test_credit_line_total_is_validated_and_read():
    from finance_engine import Product, validate_product

    base = {"id": "p", "version": "1", "name_zh": "贷", "name_en": "loan", "kind": "credit_loan", "institution": "b"}
    product = Product.from_dict({**base, "credit_line": {"total": "1000000", "max_amount": "600000"}})
    assert str(product.total_line) == "1000000" and str(product.credit_line(None)) == "600000"
    assert Product.from_dict(base).total_line is None
    assert validate_product({**base, "credit_line": {"total": "0"}}) == [
        "credit_line.total: 须为正金额（元） / a positive amount in yuan"]
    assert validate_product({**base, "credit_line": {"totl": "5"}}) == [
        "credit_line: 未知字段 totl / unknown keys"]
