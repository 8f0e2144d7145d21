"""Products as data: validation, the one rule language, credit lines by grade."""

from decimal import Decimal

import pytest

from finance_engine import KNOWLEDGE_VALUE_LINES, MAX_CONDITIONS, Product, ProductError, validate_product
from finance_engine.product import as_products

from .products import IC_CREDIT, POINTS_LOAN, STARTUP


def with_expr(text, **extra):
    return {**STARTUP, **extra, "conditions": [{"id": "c", "name_zh": "条件", "name_en": "condition", "expr": text}]}


def test_builtin_test_products_are_valid_and_round_trip():
    for d in (POINTS_LOAN, IC_CREDIT, STARTUP):
        assert validate_product(d) == []
        assert Product.from_dict(d).to_dict() == d


def test_points_and_grade_bind_to_the_products_standard():
    p = Product.from_dict(IC_CREDIT)
    assert p.conditions[0].fields == ("score.scp-v1",)
    assert p.fields[:2] == ["score.scp-v1", "industry_cluster"]
    assert Product.from_dict(POINTS_LOAN).conditions[0].fields == ("grade.scp-v1",)


@pytest.mark.parametrize(
    "text,extra,message",
    [
        ("revenue >= 500", {}, "unknown fact 'revenue'"),
        ("points >= 600", {}, "points needs the product's standard"),
        ("oprev_y3 + 1", {}, "a condition must be a yes/no test"),
        ("reg_days >=", {}, "expression"),
        ("switch('x') and compliant", {}, "no switch()"),
        ("compliant", {"kind": "mortgage"}, "unknown kind"),
        ("compliant", {"pricing": {"rate": 0.035}}, "pricing.rate"),
        ("compliant", {"pricing": {"guarantee_fee": "0.01"}}, "pricing.rate: 必填 / required"),
        ("compliant", {"pricing": {"rate": "1.2"}}, "pricing.rate"),
        ("compliant", {"id": "bad id"}, "id:"),
        ("compliant", {"credit_line": {"by_grade": {"A": "5000000"}}}, "needs the product's standard"),
        ("compliant", {"credit_line": {"max_amount": "-1"}}, "credit_line.max_amount"),
    ],
)
def test_invalid_products_are_refused_with_the_reason(text, extra, message):
    d = with_expr(text, **extra)
    assert any(message in e for e in validate_product(d)), validate_product(d)
    with pytest.raises(ProductError):
        Product.from_dict(d)


def test_condition_ids_are_unique_and_bounded():
    cond = {"id": "c", "name_zh": "条件", "name_en": "condition", "expr": "compliant"}
    assert any("duplicate" in e for e in validate_product({**STARTUP, "conditions": [cond, cond]}))
    many = [{**cond, "id": f"c{i}"} for i in range(MAX_CONDITIONS + 1)]
    assert any(f"at most {MAX_CONDITIONS}" in e for e in validate_product({**STARTUP, "conditions": many}))
    with pytest.raises(ProductError, match="duplicate product ids"):
        as_products([STARTUP, STARTUP])


def test_knowledge_value_lines_are_the_default_of_a_points_loan():
    assert KNOWLEDGE_VALUE_LINES == {g: Decimal(v) for g, v in
                                     {"A": 5_000_000, "B": 4_000_000, "C": 3_000_000, "D": 1_600_000,
                                      "E": 800_000}.items()}
    p = Product.from_dict(POINTS_LOAN)
    assert [p.credit_line(g) for g in "ABCDE"] == [Decimal(v) for v in (5_000_000, 4_000_000, 3_000_000,
                                                                        1_600_000, 800_000)]
    assert p.credit_line(None) is None and p.credit_line("F") is None


def test_a_product_configures_its_own_lines_and_cap():
    own = Product.from_dict({**POINTS_LOAN, "credit_line": {"by_grade": {"A": "3000000", "B": 2000000},
                                                            "max_amount": "2500000"}})
    assert own.credit_line("A") == Decimal("2500000")  # capped
    assert own.credit_line("B") == Decimal("2000000")
    assert own.credit_line("C") is None
    assert Product.from_dict(IC_CREDIT).credit_line(None) == Decimal("10000000")
    assert Product.from_dict(STARTUP).credit_line("A") is None
