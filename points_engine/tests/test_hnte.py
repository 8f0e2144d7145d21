"""高新技术企业 (国科发火〔2016〕32号 / 195号): hard conditions, R&D tier switch, growth rules, expert bands."""

import pytest

from points_engine import ExpertInputError, explain, load_builtin, score_batch

from .helpers import band, run

HNTE = load_builtin("hnte-2016")

BASE = dict(
    id="h", reg_days=800, op_years=3, employees=100, tech_staff=20,
    rd_y1=60.0, rd_y2=60.0, rd_y3=60.0, sales_y1=1000.0, sales_y2=1000.0, sales_y3=1000.0,
    rd_dom_3y=180.0, hitech_rev_y3=700.0, total_income_y3=1000.0,
    ip_I_self=1, ip_I_acq=0, ip_II=3, transforms_3y=6,
    na_y1=100.0, na_y2=150.0, na_y3=200.0,
)
EXPERT = dict(x_ip_adv=8, x_ip_sup=8, x_ip_count=8, x_ip_acq=6, x_std=0, x_transform=12,
              x_rdmgmt=15, x_growth_na=9, x_growth_sales=0)


def test_base_is_expert_dependent_with_a_range():
    e = run(BASE, HNTE)
    # ip: adv[0,8] sup[0,8] count A[7,8] acq A[1,6] std[0,2] -> [8,32] capped 30; transform 2/yr D[7,12];
    # rdmgmt [0,20]; growth_na 0.4167 A[9,10]; sales growth 0 -> F 0
    assert (e.verdict, e.score_min, e.score_max) == ("expert_dependent", 24, 72)
    assert [(band(e, i)) for i in ("ip_count", "ip_acq", "transform", "growth_na", "growth_sales")] == ["A", "A", "D", "A", "F"]
    assert ("研究开发组织管理水平：待专家评分", "R&D organisation and management: expert points pending") in e.reasons


def test_expert_points_inside_bands_give_an_exact_total():
    e = run({**BASE, **EXPERT, "x_transform": 12, "x_growth_sales": 0}, HNTE)
    assert (e.score_min, e.score_max) == (30 + 12 + 15 + 9 + 0, 30 + 12 + 15 + 9 + 0)
    assert e.verdict == "fail"  # 66 is not > 70
    e = run({**BASE, **EXPERT, "x_rdmgmt": 20, "x_growth_sales": 0}, HNTE)  # 30+12+20+9 = 71
    assert (e.verdict, e.route, e.score_min) == ("pass", "score", 71)


def test_pass_needs_more_than_70():
    e = run({**BASE, **EXPERT, "x_rdmgmt": 19, "x_growth_sales": 0}, HNTE)  # exactly 70
    assert (e.verdict, e.score_min) == ("fail", 70)
    assert ("总分未超过70分", "total score not above 70") in e.reasons


def test_ip_total_capped_at_30_with_bonus():
    e = run({**BASE, **EXPERT, "x_ip_adv": 8, "x_ip_sup": 8, "x_std": 2}, HNTE)  # 8+8+8+6+2 = 32 -> 30
    total_ip = sum(i.points for i in e.indicators if i.category == "ip")
    assert total_ip == 32
    assert e.score_min == 30 + 12 + 15 + 9 + 0


@pytest.mark.parametrize("field,value,band_label,lo,hi", [
    ("x_ip_count", 6, "A", 7, 8), ("x_transform", 13, "D", 7, 12), ("x_growth_na", 8, "A", 9, 10),
    ("x_ip_adv", 9, "expert", 0, 8),
])
def test_expert_input_outside_its_band_is_an_error(field, value, band_label, lo, hi):
    facts = {**BASE, **EXPERT, field: value}
    with pytest.raises(ExpertInputError) as single:
        explain(facts, HNTE)
    assert (single.value.column, single.value.band, single.value.allowed) == (field, band_label, (lo, hi))
    with pytest.raises(ExpertInputError) as batch:
        score_batch([BASE, facts], HNTE)
    assert (batch.value.row, batch.value.column, batch.value.band) == (3, field, band_label)
    assert batch.value.allowed == (lo, hi)  # the band, read for the bad row only (batch._raise_expert)
    marked = score_batch([facts], HNTE, on_error="mark").frame.row(0, named=True)
    assert marked["verdict"] == "needs_review"
    assert f"expert input {field} is outside its computed band" in marked["reasons"]


# --- condition 5: R&D intensity with the tier switch at 5000万 and 2亿 (latest year's sales) -------------
def rd_case(s3: float, ratio_pct: float) -> dict:
    s1 = s2 = 1000.0
    total = s1 + s2 + s3
    rd = total * ratio_pct / 100 / 3
    return {**BASE, "sales_y1": s1, "sales_y2": s2, "sales_y3": s3, "rd_y1": rd, "rd_y2": rd, "rd_y3": rd,
            "rd_dom_3y": 3 * rd, "total_income_y3": s3, "hitech_rev_y3": s3}


@pytest.mark.parametrize("s3,ratio,ok", [
    (5000.0, 4.5, False), (5000.0, 5.0, True), (5000.01, 4.5, True), (5000.01, 3.9, False),
    (20000.0, 3.5, False), (20000.0, 4.0, True), (20000.01, 3.5, True), (20000.01, 2.9, False),
])
def test_rd_tier_switch(s3, ratio, ok):
    e = run(rd_case(s3, ratio), HNTE)
    failed = any(en.startswith("condition not met: 3-year R&D") for _zh, en in e.reasons)
    assert failed is (not ok)


def test_rd_intensity_exact_boundary():
    # 150 / 3000 = 5% exactly: passes; 149 / 3000 does not
    assert run({**BASE, "rd_y1": 50.0, "rd_y2": 50.0, "rd_y3": 50.0, "rd_dom_3y": 150.0}, HNTE).verdict != "fail"
    e = run({**BASE, "rd_y1": 50.0, "rd_y2": 50.0, "rd_y3": 49.0, "rd_dom_3y": 149.0}, HNTE)
    assert e.verdict == "fail"


def test_short_operating_period_uses_actual_years():
    # op_years 2: R&D and sales over y2+y3 only; y1 may be blank
    e = run({**BASE, "op_years": 2, "rd_y1": None, "sales_y1": None, "na_y1": None, "rd_dom_3y": 120.0}, HNTE)
    assert e.verdict == "expert_dependent"


@pytest.mark.parametrize("cond,change", [
    ("registered", {"reg_days": 364}), ("ip", {"ip_I_self": 0, "ip_II": 0}), ("staff", {"tech_staff": 9}),
    ("domestic", {"rd_dom_3y": 107.99}), ("hitech", {"hitech_rev_y3": 599.99}), ("compliant", {"compliant": False}),
])
def test_hard_conditions_fail(cond, change):
    assert run({**BASE, **change}, HNTE).verdict == "fail"


@pytest.mark.parametrize("change", [
    {"reg_days": 365}, {"tech_staff": 10}, {"rd_dom_3y": 108.0}, {"hitech_rev_y3": 600.0},
])
def test_hard_conditions_at_boundary_hold(change):
    assert run({**BASE, **change}, HNTE).verdict == "expert_dependent"


# --- growth (企业成长性), including the zero-base rules -------------------------------------------------
@pytest.mark.parametrize("na,op_years,label,lo,hi", [
    ((100.0, 150.0, 200.0), 3, "A", 9, 10),   # 0.5*(1.5 + 1.333) - 1 = 0.4167
    ((0.0, 100.0, 140.0), 3, "B", 7, 8),     # y1 = 0: y3/y2 - 1 = 0.40 ... band A needs >= 0.35
    ((100.0, 0.0, 200.0), 3, "F", 0, 0),     # y2 = 0: scores 0
    ((100.0, 90.0, 80.0), 3, "F", 0, 0),     # negative: 0
    ((None, 100.0, 130.0), 2, "B", 7, 8),    # two years: y3/y2 - 1 = 0.30
    ((None, None, 130.0), 1, "F", 0, 0),     # one year: 0
    ((100.0, 100.0, 100.0), 3, "F", 0, 0),   # zero growth is F (E needs > 0)
])
def test_net_asset_growth_rules(na, op_years, label, lo, hi):
    facts = {**BASE, "op_years": op_years, "na_y1": na[0], "na_y2": na[1], "na_y3": na[2]}
    e = run(facts, HNTE)
    g = next(i for i in e.indicators if i.id == "growth_na")
    expected_label = "A" if na == (0.0, 100.0, 140.0) else label
    expected = (9, 10) if na == (0.0, 100.0, 140.0) else (lo, hi)
    assert (g.band, g.points_min, g.points_max) == (expected_label, *expected)


@pytest.mark.parametrize("s3,label", [
    (135.0, "A"), (134.99, "B"), (125.0, "B"), (124.99, "C"), (115.0, "C"), (114.99, "D"),
    (105.0, "D"), (104.99, "E"), (100.01, "E"), (100.0, "F"),
])
def test_growth_band_boundaries_with_zero_first_year(s3, label):
    # y1 = 0 -> g = y3/y2 - 1; decimal boundaries (115/100 - 1 = 15%) land on the inclusive side
    facts = {**BASE, "sales_y1": 0.0, "sales_y2": 100.0, "sales_y3": s3, "rd_y1": 0.0, "rd_y2": 6.0, "rd_y3": 6.0,
             "rd_dom_3y": 12.0, "total_income_y3": s3, "hitech_rev_y3": s3}
    assert band(run(facts, HNTE), "growth_sales") == label


def test_na_falls_back_to_assets_minus_liabilities():
    facts = {**BASE, "na_y1": None, "na_y2": None, "na_y3": None, "assets_y1": 300.0, "liab_y1": 200.0,
             "assets_y2": 300.0, "liab_y2": 150.0, "assets_y3": 300.0, "liab_y3": 100.0}
    assert band(run(facts, HNTE), "growth_na") == "A"


@pytest.mark.parametrize("t3,label,lo,hi", [
    (15, "A", 25, 30), (14, "B", 19, 24), (12, "B", 19, 24), (11, "C", 13, 18), (9, "C", 13, 18),
    (8, "D", 7, 12), (6, "D", 7, 12), (5, "E", 1, 6), (3, "E", 1, 6), (0, "F", 0, 0),
])
def test_transform_bands(t3, label, lo, hi):
    e = run({**BASE, "transforms_3y": t3}, HNTE)
    t = next(i for i in e.indicators if i.id == "transform")
    assert (t.band, t.points_min, t.points_max) == (label, lo, hi)


def test_transform_between_zero_and_one_needs_review():
    growing = dict(sales_y2=1200.0, sales_y3=1500.0, rd_y1=80.0, rd_y2=80.0, rd_y3=80.0, rd_dom_3y=240.0)
    e = run({**BASE, **growing, "transforms_3y": 2}, HNTE)  # max 30 + 6 + 20 + 10 + 10 > 70
    t = next(i for i in e.indicators if i.id == "transform")
    assert (t.band, t.points_min, t.points_max) == ("F?", 0, 6)
    assert e.verdict == "needs_review"
    assert any("between 0 and 1" in en for _zh, en in e.reasons)


@pytest.mark.parametrize("ip_i,ip_ii,label,lo,hi", [
    (1, 0, "A", 7, 8), (0, 5, "B", 5, 6), (0, 4, "C", 3, 4), (0, 3, "C", 3, 4), (0, 2, "D", 1, 2),
    (0, 1, "D", 1, 2),
])
def test_ip_count_bands(ip_i, ip_ii, label, lo, hi):
    e = run({**BASE, "ip_I_self": ip_i, "ip_II": ip_ii}, HNTE)
    i = next(i for i in e.indicators if i.id == "ip_count")
    assert (i.band, i.points_min, i.points_max) == (label, lo, hi)


def test_unknown_hard_condition_needs_review():
    e = run({**BASE, "hitech_rev_y3": None}, HNTE)
    assert e.verdict == "needs_review"
    assert ("需复核：高新技术产品收入占总收入≥60%缺少数据 hitech_rev_y3",
            "needs review: high-tech revenue ≥ 60% of total income needs hitech_rev_y3") in e.reasons


def test_review_band_that_cannot_change_the_verdict_is_a_fail():
    e = run({**BASE, **EXPERT, "x_transform": None, "transforms_3y": 2}, HNTE)  # max 30 + 6 + 15 + 9 = 60
    assert (e.verdict, e.score_max) == ("fail", 60)


def test_expert_total_that_cannot_reach_71_is_a_fail():
    e = run({**BASE, "transforms_3y": 0, "x_transform": 0, "x_rdmgmt": 0, "x_ip_adv": 0, "x_ip_sup": 0}, HNTE)
    assert (e.verdict, e.score_max) == ("fail", 8 + 6 + 2 + 10)
