"""The finance facts beside facts.md (equity rounds, 投贷联动): a product's condition reads them in both paths,
alike; a blank is unknown; a bad value is refused; an unknown name is still refused."""

import datetime as dt

import polars as pl
import pytest

from finance_engine import ELIGIBLE, INELIGIBLE, NEEDS_REVIEW, FactsError, match, match_batch, validate_product

ON = dt.date(2026, 11, 29)
LINKED = {
    "id": "linked", "version": "1", "kind": "credit_loan", "institution": "bank", "name_zh": "投贷联动",
    "name_en": "Equity-linked loan",
    "conditions": [
        {"id": "round", "name_zh": "已完成股权融资", "name_en": "has an equity round", "expr": "equity_rounds >= 1"},
        {"id": "recent", "name_zh": "两年内融资", "name_en": "a round in two years",
         "expr": "equity_last_round_days <= 730"},
        {"id": "stage", "name_zh": "A轮或B轮", "name_en": "series A or B",
         "expr": "equity_stage == 'a' or equity_stage == 'b'"},
    ],
    "pricing": {"rate": "0.035"},
}
FIRMS = [
    {"id": "none", "equity_rounds": 0, "equity_last_round_days": None, "equity_stage": None},
    {"id": "recent-a", "equity_rounds": 2, "equity_last_round_days": 730, "equity_stage": "a"},
    {"id": "old-b", "equity_rounds": 1, "equity_last_round_days": 731, "equity_stage": "b"},
    {"id": "seed", "equity_rounds": "1", "equity_last_round_days": "10", "equity_stage": " seed "},
    {"id": "blank", "equity_rounds": None, "equity_last_round_days": None, "equity_stage": ""},
]
EXPECTED = {"none": INELIGIBLE, "recent-a": ELIGIBLE, "old-b": INELIGIBLE, "seed": INELIGIBLE, "blank": NEEDS_REVIEW}


def test_a_product_reading_equity_facts_is_valid_and_an_unknown_name_is_not():
    assert validate_product(LINKED) == []
    bad = {**LINKED, "conditions": [{"id": "x", "name_zh": "x", "name_en": "x", "expr": "equity_round_count >= 1"}]}
    assert validate_product(bad) == [
        "conditions[0].expr: 未知事实 'equity_round_count' / unknown fact 'equity_round_count' (see facts.md)"]


def test_both_paths_agree_on_equity_facts():
    single = {f["id"]: match(f, [LINKED], evaluation_date=ON)[0] for f in FIRMS}
    assert {k: m.verdict for k, m in single.items()} == EXPECTED
    assert single["none"].reasons_en == ["not met: has an equity round", "unknown: a round in two years "
                                         "(missing: days since the last equity round)",
                                         "unknown: series A or B (missing: stage of the last equity round)"]
    frame = pl.DataFrame([{k: (None if v is None else str(v)) for k, v in f.items()} for f in FIRMS])
    batch = match_batch(frame, [LINKED], evaluation_date=ON)
    assert dict(zip(batch["id"], batch["mask.linked"], strict=True)) == {k: m.mask for k, m in single.items()}
    typed = pl.DataFrame(FIRMS[:3], schema={"id": pl.String, "equity_rounds": pl.Int64,
                                            "equity_last_round_days": pl.Int64, "equity_stage": pl.String})
    lean = match_batch(typed, [LINKED], evaluation_date=ON, detail=False)
    assert lean["eligible.linked"].to_list() == [False, True, False]


def test_a_missing_column_is_unknown_and_a_bad_value_is_refused():
    assert match_batch(pl.DataFrame({"id": ["x"]}), [LINKED], evaluation_date=ON)["eligible.linked"].to_list() == [None]
    with pytest.raises(FactsError):
        match({"id": "x", "equity_rounds": "1.5"}, [LINKED], evaluation_date=ON)
    with pytest.raises(FactsError):
        match_batch(pl.DataFrame({"id": ["x"], "equity_rounds": ["many"]}), [LINKED], evaluation_date=ON)
