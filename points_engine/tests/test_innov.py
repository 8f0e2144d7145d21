"""创新型中小企业 (工信部企业〔2022〕63号): bands, category floors, direct routes, unknowns."""

import pytest

from points_engine import load_builtin

from .helpers import assert_paths_agree, band, points, run

INNOV = load_builtin("innov-2022")

# ip C 10 + rd A 20 = 30 (innov), growth A 20 + debt A 10 = 30, sei A 10 + share A 20 = 30: total 90
BASE = dict(
    id="n", is_sme=True, ip_I_hv=0, ip_I_self=0, ip_I_acq=1, ip_II=0, rd_y3=5.0, oprev_y3=100.0,
    main_y2=100.0, main_y3=115.0, liab_y3=50.0, assets_y3=100.0, sei=True,
    sci_award_3y=False, hnte_valid=False, innov_title=False, prov_rd_inst=False, equity_3y=0.0,
)
# main share 115/100 >= 70% -> A


@pytest.mark.parametrize("hv,self_,acq,ii,pts", [
    (1, 1, 0, 0, 20), (0, 1, 0, 0, 15), (0, 0, 1, 0, 10), (0, 0, 0, 1, 5), (0, 0, 0, 0, 0),
])
def test_ip(hv, self_, acq, ii, pts):
    assert points(run({**BASE, "ip_I_hv": hv, "ip_I_self": self_, "ip_I_acq": acq, "ip_II": ii}, INNOV), "ip") == pts


@pytest.mark.parametrize("rd,pts", [
    (5.0, 20), (4.99, 15), (3.0, 15), (2.99, 10), (2.0, 10), (1.99, 5), (1.0, 5), (0.99, 0),
])
def test_rd_ratio(rd, pts):
    assert points(run({**BASE, "rd_y3": rd}, INNOV), "rd_ratio") == pts


@pytest.mark.parametrize("m3,pts", [
    (115.0, 20), (114.99, 15), (110.0, 15), (109.99, 10), (105.0, 10), (104.99, 5), (100.0, 5), (99.99, 0),
])
def test_main_growth(m3, pts):
    e = run({**BASE, "main_y3": m3, "oprev_y3": 200.0, "rd_y3": 10.0}, INNOV)
    assert points(e, "main_growth") == pts


@pytest.mark.parametrize("liab,pts,label", [
    (54.99, 10, "A"), (55.0, 5, "B"), (74.99, 5, "B"), (75.0, 0, "C"), (90.0, 0, "C"),
])
def test_debt_ratio_lower_is_better(liab, pts, label):
    e = run({**BASE, "liab_y3": liab}, INNOV)
    assert (points(e, "debt_ratio"), band(e, "debt_ratio")) == (pts, label)


@pytest.mark.parametrize("main,pts", [
    (70.0, 20), (69.99, 15), (60.0, 15), (59.99, 10), (55.0, 10), (54.99, 5), (50.0, 5), (49.99, 0),
])
def test_main_share(main, pts):
    e = run({**BASE, "main_y2": main / 1.2, "main_y3": main}, INNOV)
    assert points(e, "main_share") == pts


def test_sei_flag():
    assert points(run({**BASE, "sei": False}, INNOV), "sei") == 5
    assert points(run({**BASE, "sei": True}, INNOV), "sei") == 10


def test_score_route_and_total():
    e = run(BASE, INNOV)
    assert (e.verdict, e.route, e.score_min) == ("pass", "score", 90)


def test_category_floor_fails_despite_total():
    # innovation 0 + 5 = 5 < 20 although total 65 >= 60
    e = run({**BASE, "ip_I_acq": 0, "rd_y3": 1.0}, INNOV)
    assert (e.verdict, e.score_min) == ("fail", 65)
    assert ("创新能力得分低于20分", "innovation capability score below 20") in e.reasons


def test_floors_at_boundary_pass():
    # innovation 20 + 20 = 40; growth 10 + 5 = 15 (floor 15); specialisation 5 + 10 = 15 (floor 15): total 70
    e = run({**BASE, "ip_I_hv": 1, "rd_y3": 5.0, "main_y2": 53.27, "main_y3": 57.0, "liab_y3": 60.0, "sei": False}, INNOV)
    assert [points(e, i) for i in ("ip", "rd_ratio", "main_growth", "debt_ratio", "sei", "main_share")] == [20, 20, 10, 5, 5, 10]
    assert (e.verdict, e.route, e.score_min) == ("pass", "score", 70)
    # one point less in a floor category fails although the total is still >= 60
    e = run({**BASE, "ip_I_hv": 1, "rd_y3": 5.0, "main_y2": 53.27, "main_y3": 57.0, "liab_y3": 75.0, "sei": False}, INNOV)
    assert (e.verdict, e.score_min) == ("fail", 65)
    assert ("成长性得分低于15分", "growth score below 15") in e.reasons


@pytest.mark.parametrize("route", [
    {"sci_award_3y": True}, {"hnte_valid": True}, {"innov_title": True}, {"prov_rd_inst": True}, {"equity_3y": 500.0},
])
def test_direct_routes(route):
    e = run({**BASE, "ip_I_acq": 0, "rd_y3": 0.0, **route}, INNOV)
    assert (e.verdict, e.route) == ("pass", "direct")


def test_equity_just_below_500_is_not_a_route():
    e = run({**BASE, "ip_I_acq": 0, "rd_y3": 0.0, "equity_3y": 499.99}, INNOV)
    assert e.verdict == "fail"


def test_zero_base_growth_needs_review():
    e = run({**BASE, "main_y2": 0.0, "rd_y3": 3.0}, INNOV)  # growth category 10 + [0..20] vs floor 15
    assert e.verdict == "needs_review"
    assert ("需复核：上年度主营业务收入增长率无法计算（分母为零或数据不足）",
            "needs review: main-business revenue growth (last year) is undefined (zero base or insufficient data)") in e.reasons


def test_not_sme_fails():
    assert run({**BASE, "is_sme": False}, INNOV).verdict == "fail"


def test_unknown_sme_status_needs_review():
    e = run({**BASE, "is_sme": None}, INNOV)
    assert e.verdict == "needs_review"
    assert ("需复核：属中小企业缺少数据 is_sme", "needs review: is an SME (2011 classification) needs is_sme") in e.reasons


def test_table_batch_equals_single():
    rows = [{**BASE, "id": str(i), "rd_y3": rd} for i, rd in enumerate([5.0, 4.99, 3.0, 2.99, 2.0, 1.99, 1.0, 0.99])]
    rows += [{**BASE, "id": f"d{i}", "liab_y3": v} for i, v in enumerate([54.99, 55.0, 74.99, 75.0])]
    assert_paths_agree(rows, INNOV)
