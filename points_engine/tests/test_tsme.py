"""科技型中小企业 (国科发政〔2017〕115号): every band boundary, routes, size limits, unknowns."""

import pytest

from points_engine import load_builtin

from .helpers import assert_paths_agree, band, points, run

TSME = load_builtin("tsme-2017")

# A passing enterprise with known everything: staff 20 + R&D 50 + IP 12 = 82.
BASE = dict(
    id="t", employees=100, tech_staff=30, rd_y3=6.0, sales_y3=100.0, cost_y3=1_000_000.0, assets_y3=100.0,
    ip_I_self=0, ip_I_acq=0, ip_II=2, hnte_valid=False, nat_award_5y_top3=False, prov_rd_inst=False,
    led_standard_5y=False,
)

STAFF = [  # (employees, tech_staff, points, band): both sides of every boundary
    (100, 30, 20, "A"), (1000, 299, 16, "B"), (100, 25, 16, "B"), (1000, 249, 12, "C"),
    (100, 20, 12, "C"), (1000, 199, 8, "D"), (100, 15, 8, "D"), (1000, 149, 4, "E"),
    (100, 10, 4, "E"), (1000, 99, 0, "F"), (100, 0, 0, "F"),
]
RD_SALES = [  # (rd_y3 with sales 100, points): 6/5/4/3/2 %
    (6.0, 50), (5.99, 40), (5.0, 40), (4.99, 30), (4.0, 30), (3.99, 20), (3.0, 20), (2.99, 10),
    (2.0, 10), (1.99, 0), (0.0, 0),
]
RD_COST = [  # (rd_y3 with cost 1000 and tiny sales ratio, points): 30/25/20/15/10 %
    (300.0, 50), (299.99, 40), (250.0, 40), (249.99, 30), (200.0, 30), (199.99, 20), (150.0, 20),
    (149.99, 10), (100.0, 10), (99.99, 0),
]
IP = [  # (ip_I_self, ip_I_acq, ip_II, points, band)
    (1, 0, 0, 30, "A"), (0, 1, 0, 30, "A"), (0, 0, 5, 24, "B"), (0, 0, 4, 24, "B"), (0, 0, 3, 18, "C"),
    (0, 0, 2, 12, "D"), (0, 0, 1, 6, "E"), (0, 0, 0, 0, "F"),
]


@pytest.mark.parametrize("employees,tech,pts,label", STAFF)
def test_staff_bands(employees, tech, pts, label):
    e = run({**BASE, "employees": employees, "tech_staff": tech}, TSME)
    assert (points(e, "staff"), band(e, "staff")) == (pts, label)


@pytest.mark.parametrize("rd,pts", RD_SALES)
def test_rd_over_sales_bands(rd, pts):
    e = run({**BASE, "rd_y3": rd}, TSME)
    assert points(e, "rd") == pts


@pytest.mark.parametrize("rd,pts", RD_COST)
def test_rd_over_cost_bands(rd, pts):
    e = run({**BASE, "rd_y3": rd, "sales_y3": 20000.0, "cost_y3": 1000.0}, TSME)
    assert points(e, "rd") == pts


def test_rd_takes_the_better_ratio_and_reports_both():
    e = run({**BASE, "rd_y3": 4.0, "sales_y3": 100.0, "cost_y3": 16.0}, TSME)  # 4% -> 30, 25% -> 40
    rd = next(i for i in e.indicators if i.id == "rd")
    assert rd.points == 40
    assert [(a["id"], a["band"]) for a in rd.alternatives] == [("of_sales", "C"), ("of_cost", "B")]


def test_full_precision_ratio_648_of_13501_is_band_c():
    e = run({**BASE, "rd_y3": 648.0, "sales_y3": 13501.0}, TSME)  # 4.7996% >= 4%
    assert points(e, "rd") == 30


@pytest.mark.parametrize("i1,i2,ii,pts,label", IP)
def test_ip_bands(i1, i2, ii, pts, label):
    e = run({**BASE, "ip_I_self": i1, "ip_I_acq": i2, "ip_II": ii}, TSME)
    assert (points(e, "ip"), band(e, "ip")) == (pts, label)


def test_pass_mark_is_inclusive_at_60():
    at = run({**BASE, "tech_staff": 30, "rd_y3": 5.0, "ip_II": 0}, TSME)  # 20 + 40 + 0
    below = run({**BASE, "tech_staff": 25, "rd_y3": 5.0, "ip_II": 0}, TSME)  # 16 + 40 + 0
    assert (at.verdict, at.route, at.score_min, at.score_max) == ("pass", "score", 60, 60)
    assert (below.verdict, below.route, below.score_min) == ("fail", "", 56)
    assert ("总分低于60分", "total score below 60") in below.reasons


def test_staff_score_zero_fails_despite_score():
    e = run({**BASE, "tech_staff": 9, "ip_I_self": 1}, TSME)  # 0 + 50 + 30 = 80
    assert (e.verdict, e.score_min) == ("fail", 80)
    assert ("科技人员指标得分为0", "S&T staff score is 0") in e.reasons


@pytest.mark.parametrize("route", ["hnte_valid", "nat_award_5y_top3", "prov_rd_inst", "led_standard_5y"])
def test_direct_routes(route):
    e = run({**BASE, "tech_staff": 0, "rd_y3": 0.0, "ip_II": 0, route: True}, TSME)
    assert (e.verdict, e.route, e.score_min) == ("pass", "direct", 0)


def test_direct_route_still_needs_the_conditions():
    e = run({**BASE, "hnte_valid": True, "employees": 501}, TSME)
    assert (e.verdict, e.route) == ("fail", "")


@pytest.mark.parametrize(
    "field,ok,bad", [("employees", 500, 501), ("sales_y3", 20000.0, 20000.01), ("assets_y3", 20000.0, 20000.01)]
)
def test_size_limits(field, ok, bad):
    extra = {"employees": {"tech_staff": 150}, "sales_y3": {"rd_y3": 1300.0}}.get(field, {})
    assert run({**BASE, **extra, field: ok}, TSME).verdict == "pass"
    e = run({**BASE, **extra, field: bad}, TSME)
    assert e.verdict == "fail"
    assert e.reasons[0][1].startswith("condition not met: ")


def test_flags_resident_prohibited_compliant():
    assert run({**BASE, "resident": False}, TSME).verdict == "fail"
    assert run({**BASE, "prohibited": True}, TSME).verdict == "fail"
    assert run({**BASE, "compliant": False}, TSME).verdict == "fail"


def test_unknown_fact_needs_review_and_names_the_field():
    e = run({**BASE, "cost_y3": None, "rd_y3": 1.0}, TSME)  # 20 + [0..50] + 12: could pass or fail
    assert (e.verdict, e.route, e.score_min, e.score_max) == ("needs_review", "", 32, 82)
    assert ("需复核：研发投入（两种比例取高）缺少数据 cost_y3", "needs review: R&D (better of two ratios) needs cost_y3") in e.reasons


def test_unknown_that_cannot_change_the_verdict_is_ignored():
    # IP unknown: 20 + 50 + [0..30] >= 60 whatever it is
    e = run({**BASE, "ip_II": None}, TSME)
    assert (e.verdict, e.score_min, e.score_max) == ("pass", 70, 100)
    # a failed condition is a fail whatever else is unknown
    e = run({**BASE, "sales_y3": 30000.0, "tech_staff": None}, TSME)
    assert e.verdict == "fail"


def test_unknown_staff_names_employees():
    e = run({**BASE, "employees": None}, TSME)
    assert e.verdict == "needs_review"
    assert any("employees" in en for _zh, en in e.reasons)


def test_zero_employees_is_undefined_not_zero():
    e = run({**BASE, "employees": 0, "tech_staff": 0}, TSME)
    assert e.verdict == "needs_review"
    assert ("需复核：科技人员占职工总数比例无法计算（分母为零或数据不足）",
            "needs review: S&T staff / employees is undefined (zero base or insufficient data)") in e.reasons


def test_table_batch_equals_single():
    rows = [{**BASE, "id": f"s{i}", "employees": emp, "tech_staff": t} for i, (emp, t, _p, _b) in enumerate(STAFF)]
    rows += [{**BASE, "id": f"r{i}", "rd_y3": rd} for i, (rd, _p) in enumerate(RD_SALES)]
    rows += [{**BASE, "id": f"i{i}", "ip_I_self": a, "ip_I_acq": b, "ip_II": c} for i, (a, b, c, _p, _l) in enumerate(IP)]
    es = assert_paths_agree(rows, TSME)
    assert [e.score_min for e in es[: len(STAFF)]] == [p + 50 + 12 for _e, _t, p, _b in STAFF]
