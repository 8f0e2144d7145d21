"""The per-enterprise path with exact reasons and ranking, the batch path and the whitelist."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finance_engine import (
    ELIGIBLE,
    INELIGIBLE,
    NEEDS_REVIEW,
    FactsError,
    Product,
    decode_mask,
    eligible_pairs,
    match,
    match_batch,
    whitelist,
)

from .products import ALICE, ALL, EVALUATION_DATE, IC_CREDIT, POINTS_LOAN, STARTUP, TWIN_CITY


def by_id(results):
    return {m.product_id: m for m in results}


def test_alice_sees_her_products_ranked_with_reasons_and_net_cost():
    results = match(ALICE, ALL, amount="1000000", term_months=12, evaluation_date=EVALUATION_DATE)
    assert [(m.product_id, m.verdict) for m in results] == [
        ("cq-points-loan", ELIGIBLE),  # net 2.45 %
        ("ic-credit", ELIGIBLE),  # 3.90 %
        ("twin-city", NEEDS_REVIEW),  # srdi_valid unknown
        ("startup", INELIGIBLE),
    ]
    points_loan, ic, twin, startup = results
    assert points_loan.reasons_zh == [
        "满足：科创积分等级C级及以上", "满足：注册地在重庆", "满足：成立满2年", "满足：无重大违法失信",
    ]
    assert points_loan.conditions[2].values == {"reg_days": (EVALUATION_DATE - dt.date(2019, 5, 1)).days}
    assert points_loan.conditions[0].values == {"grade.scp-v1": "B"}
    assert points_loan.credit_line == Decimal("4000000")  # knowledge-value grade B = 400万
    assert points_loan.annual_rate == Decimal("0.0245")
    assert points_loan.cost is not None and points_loan.cost.total == Decimal("24500.00")
    assert ic.credit_line == Decimal("10000000") and ic.cost is not None and ic.cost.total == Decimal("39000.00")
    assert twin.eligible is None
    assert twin.reasons_zh == ["满足：注册地在成都或重庆", "待核实：专精特新中小企业（缺少：有效期内专精特新中小企业）"]
    assert twin.reasons_en[1] == "unknown: SRDI SME (missing: valid specialised-and-innovative SME title)"
    assert startup.eligible is False and startup.reasons_en == ["not met: registered under 3 years"]
    assert startup.mask == 0b01


def test_every_condition_kind_can_fail_with_its_reason():
    bob = {**ALICE, "city": "chengdu", "industry_cluster": "biomed", "hnte_valid": "N", "tsme_valid": "N",
           "oprev_y3": "20000.01", "compliant": "N", "score.scp-v1": "599.99", "grade.scp-v1": "D",
           "registered_on": "2025-01-01"}
    res = by_id(match(bob, [POINTS_LOAN, IC_CREDIT], evaluation_date=EVALUATION_DATE))
    assert [c.met for c in res["cq-points-loan"].conditions] == [False, False, False, False]
    assert [c.met for c in res["ic-credit"].conditions] == [False, False, False, False]
    assert res["ic-credit"].reasons_zh[3] == "不满足：上年度营业收入500万–2亿元"
    assert res["cq-points-loan"].mask == 0b01010101
    assert res["cq-points-loan"].credit_line == Decimal("1600000")  # grade D, though not eligible


def test_boundaries_are_inclusive_as_written():
    edge = {**ALICE, "oprev_y3": "20000", "score.scp-v1": "600", "registered_on": None, "reg_days": 730}
    res = by_id(match(edge, [POINTS_LOAN, IC_CREDIT], evaluation_date=EVALUATION_DATE))
    assert res["ic-credit"].verdict == ELIGIBLE and res["cq-points-loan"].verdict == ELIGIBLE
    low = {**edge, "oprev_y3": "499.99", "reg_days": 729}
    res = by_id(match(low, [POINTS_LOAN, IC_CREDIT], evaluation_date=EVALUATION_DATE))
    assert decode_mask(res["ic-credit"].product, res["ic-credit"].mask)[3] == ("revenue", False)
    assert res["cq-points-loan"].conditions[2].met is False


def test_compliance_defaults_to_yes_as_facts_md_says():
    res = by_id(match({k: v for k, v in ALICE.items() if k != "compliant"}, [POINTS_LOAN],
                      evaluation_date=EVALUATION_DATE))
    assert res["cq-points-loan"].conditions[3].met is True


def test_batch_agrees_and_gives_the_whitelist():
    others = [
        {**ALICE, "id": "e2", "city": "chengdu", "srdi_valid": "Y"},
        {"id": "e3"},
        {**ALICE, "id": "e4", "grade.scp-v1": None, "score.scp-v1": None},
    ]
    rows = [ALICE, *others]
    out = match_batch(rows, ALL, evaluation_date=EVALUATION_DATE)
    assert out.columns[:3] == ["id", "eligible.startup", "mask.startup"]
    for i, row in enumerate(rows):
        single = by_id(match(row, ALL, evaluation_date=EVALUATION_DATE))
        for pid, m in single.items():
            assert out[i, f"eligible.{pid}"] == m.eligible, (row["id"], pid)
            assert out[i, f"mask.{pid}"] == m.mask, (row["id"], pid)
    assert whitelist(out, "cq-points-loan") == [ALICE["id"]]
    assert whitelist(out, "twin-city") == ["e2"]
    assert whitelist(out, "ic-credit") == [ALICE["id"], "e2"]
    assert eligible_pairs(out) == 4
    lean = match_batch(pl.DataFrame(rows, infer_schema_length=None), ALL, evaluation_date=EVALUATION_DATE,
                       detail=False)
    assert [c for c in lean.columns if c.startswith("mask.")] == []
    assert lean.select(pl.exclude("^mask.*$")).equals(lean)
    assert lean.get_column("eligible.ic-credit").to_list() == out.get_column("eligible.ic-credit").to_list()


def test_a_product_without_conditions_matches_everyone():
    open_product = {**STARTUP, "id": "open", "conditions": []}
    out = match_batch([{"id": "x"}], [open_product], evaluation_date=EVALUATION_DATE)
    assert out["eligible.open"].to_list() == [True]
    assert match({"id": "x"}, [open_product], evaluation_date=EVALUATION_DATE)[0].verdict == ELIGIBLE


def test_bad_facts_are_refused_in_both_paths():
    with pytest.raises(FactsError, match="score.scp-v1"):
        match({**ALICE, "score.scp-v1": "lots"}, [POINTS_LOAN], evaluation_date=EVALUATION_DATE)
    with pytest.raises(FactsError, match="score.scp-v1"):
        match_batch([{**ALICE, "score.scp-v1": "lots"}], [POINTS_LOAN], evaluation_date=EVALUATION_DATE)
    with pytest.raises(FactsError, match="oprev_y3"):
        match({**ALICE, "oprev_y3": "a lot"}, [IC_CREDIT], evaluation_date=EVALUATION_DATE)
    with pytest.raises(FactsError, match="id"):
        match_batch(pl.DataFrame({"city": ["chongqing"]}), [POINTS_LOAN], evaluation_date=EVALUATION_DATE)


def test_amount_and_term_come_together():
    with pytest.raises(ValueError, match="both the amount and the term"):
        match(ALICE, [POINTS_LOAN], amount=100000, evaluation_date=EVALUATION_DATE)
    unpriced = {**STARTUP, "id": "unpriced", "pricing": None}
    m = match(ALICE, [unpriced], amount=100000, term_months=6, evaluation_date=EVALUATION_DATE)[0]
    assert m.cost is None and m.annual_rate is None


def test_products_may_be_passed_built():
    built = [Product.from_dict(p) for p in (POINTS_LOAN, TWIN_CITY)]
    assert [m.product_id for m in match(ALICE, built, evaluation_date=EVALUATION_DATE)] == [
        "cq-points-loan", "twin-city",
    ]
