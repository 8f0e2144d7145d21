"""scp-v1 (platform default): stages, peer groups, frozen reference, weights, grades, bonus/negative."""

import copy

import pytest

from points_engine import StandardError, build_reference, explain, load_builtin, score_batch
from points_engine.synthetic import synthetic_facts

from .helpers import assert_paths_agree

SCP = load_builtin("scp-v1")
POP = synthetic_facts(600, seed=7)


@pytest.fixture(scope="module")
def ref():
    return build_reference(SCP, POP)


def test_scp_is_marked_provisional_platform_default():
    d = SCP.to_dict()
    assert d["provisional"] is True and "replace" in d["provisional_note"]
    core = [i for i in d["indicators"] if i["category"] in ("tech", "growth", "aux")]
    assert len(core) == 18
    for stage, w in d["peer_groups"]["stage_weights"].items():
        assert sum(w.values()) == 100, stage


@pytest.mark.parametrize("reg_days,sales,stage", [
    (1094, 30000.0, "startup"), (1095, 499.99, "startup"), (1095, 500.0, "growth"),
    (3649, 30000.0, "growth"), (3650, 19999.99, "growth"), (3650, 20000.0, "mature"),
])
def test_stage_rule(reg_days, sales, stage, ref):
    e = explain({"id": "x", "reg_days": reg_days, "sales_y3": sales, "industry_cluster": "ic"}, SCP, reference=ref)
    assert e.stage == stage and e.peer_group == f"{stage}|ic"


def test_unknown_stage_needs_review(ref):
    e = explain({"id": "x", "reg_days": None, "sales_y3": 1000.0}, SCP, reference=ref)
    assert (e.verdict, e.stage, e.score_min) == ("needs_review", None, None)
    assert ("需复核：企业阶段缺少数据 reg_days", "needs review: enterprise stage needs reg_days") in e.reasons


def test_unknown_cluster_is_other(ref):
    e = explain({"id": "x", "reg_days": 100, "sales_y3": 10.0, "industry_cluster": "space"}, SCP, reference=ref)
    assert e.peer_group == "startup|other"


def test_frozen_reference_makes_points_independent_of_other_rows(ref):
    rows = POP.head(50)
    alone = score_batch(rows, SCP, reference=ref).frame
    with_more = score_batch(POP, SCP, reference=ref).frame.head(50)
    assert alone.drop("reasons").equals(with_more.drop("reasons"))
    # without a frozen reference, the distribution (and the points) come from the population
    own = score_batch(rows, SCP).frame
    assert not own["score_min"].equals(alone["score_min"])


def test_batch_reference_is_returned_and_reproduces_the_run(ref):
    first = score_batch(POP, SCP)
    assert first.reference == ref
    again = score_batch(POP, SCP, reference=first.reference)
    assert first.frame.equals(again.frame)


def test_single_path_requires_a_reference():
    with pytest.raises(StandardError):
        explain({"id": "x"}, SCP)


def test_reference_for_another_standard_is_rejected(ref):
    bad = copy.deepcopy(ref)
    bad["standard"] = "tsme-2017"
    with pytest.raises(StandardError):
        score_batch(POP.head(3), SCP, reference=bad)


def test_batch_equals_single_on_synthetic_population(ref):
    assert_paths_agree(POP.head(150).to_dicts(), SCP, reference=ref)


def test_weights_are_renormalised_per_group(ref):
    cs = SCP.compiled
    for code in range(len(cs.group_keys)):
        assert sum(cs.weight_max[i][code] for i in cs.weight_max) == pytest.approx(1000)


def test_grades_and_bonus_and_deduction(ref):
    base = POP.row(0, named=True)
    e = explain({**base, "compliant": True, "hnte_valid": False, "led_standard_5y": False, "sci_award_3y": False,
                 "nat_award_5y_top3": False, "innov_title": False}, SCP, reference=ref)
    bonus = explain({**base, "compliant": True, "hnte_valid": True, "led_standard_5y": True, "sci_award_3y": True,
                     "nat_award_5y_top3": False, "innov_title": False}, SCP, reference=ref)
    assert bonus.score_min == pytest.approx(min(e.score_min + 50, 1000))  # 3 x 20 capped at 50
    neg = explain({**base, "compliant": False, "hnte_valid": False, "led_standard_5y": False, "sci_award_3y": False,
                   "nat_award_5y_top3": False, "innov_title": False}, SCP, reference=ref)
    assert neg.score_min == max(e.score_min - 200, 0)
    cuts = [(700, "A"), (550, "B"), (400, "C"), (250, "D"), (0, "E")]
    assert e.grade == next(g for m, g in cuts if e.score_min >= m)


def grade_of(points):
    return next(g for m, g in [(700, "A"), (550, "B"), (400, "C"), (250, "D"), (0, "E")] if points >= m)


@pytest.mark.parametrize("row", range(12))
def test_grade_is_kept_when_unknowns_cannot_move_it(row, ref):
    known = {**POP.row(row, named=True), "compliant": True, "resident": True, "prohibited": False, "hnte_valid": False,
             "led_standard_5y": False, "sci_award_3y": False, "nat_award_5y_top3": False, "innov_title": False}
    before = explain(known, SCP, reference=ref)
    e = explain({**known, "innov_title": None}, SCP, reference=ref)  # bonus 0..20 unknown
    assert (e.score_min, e.score_max) == (before.score_min, before.score_max + 20)
    if grade_of(e.score_min) == grade_of(e.score_max):
        assert (e.verdict, e.grade) == ("pass", grade_of(e.score_min))
    else:
        assert (e.verdict, e.grade) == ("needs_review", None)
        assert any("needs innov_title" in en for _zh, en in e.reasons)


def test_not_applicable_when_not_resident(ref):
    e = explain({**POP.row(2, named=True), "resident": False}, SCP, reference=ref)
    assert e.verdict == "not_applicable"


def test_small_groups_fall_back_to_stage_then_everyone():
    rows = synthetic_facts(40, seed=3)
    ref = build_reference(SCP, rows)
    sources = {g["source"]["rd_intensity"] for g in ref["groups"].values()}
    assert sources <= {"*|*"} | {f"{s}|*" for s in ("startup", "growth", "mature")}
    json_ok = __import__("json").loads(__import__("json").dumps(ref))
    assert json_ok == ref
