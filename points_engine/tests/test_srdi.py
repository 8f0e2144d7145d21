"""专精特新中小企业 (2022, provisional): conditions, 13 indicators, routes, expert inputs."""

import pytest

from points_engine import ExpertInputError, explain, load_builtin

from .helpers import assert_paths_agree, band, points, run

SRDI = load_builtin("srdi-2022")

BASE = dict(
    id="z", is_sme=True, niche_years=10, rd_y2=150.0, rd_y3=150.0, oprev_y3=1500.0, equity_2y=0.0,
    main_y1=1000.0, main_y2=1100.0, main_y3=1210.0, x_field=5, x_digital=5, x_quality_items=2,
    net_profit_y3=150.0, liab_y3=40.0, assets_y3=100.0, x_local=10, ip_I_hv=1, ip_I_self=1, ip_I_acq=0,
    ip_II=0, rd_staff=20, employees=100, x_inst="provincial", maker_top500_3y=False,
)


def test_provisional_flag():
    assert SRDI.provisional is True


def test_base_total():
    e = run(BASE, SRDI)
    # spec: share 1210/1500=80.7% A5 + growth 10% A10 + niche 10y 5 + field 5 = 25
    # refine: digital 5 + quality 5 + margin 10% 10 + debt 40% 5 = 25; local 10
    # innov: ip 10 + rd max(150万 -> 2, 10% -> 10) 10 + staff 20% 5 + inst provincial 8 = 33
    assert (e.verdict, e.route, e.score_min, e.score_max) == ("pass", "score", 93, 93)


@pytest.mark.parametrize("main3,pts", [(1200.0, 5), (1199.99, 3), (1050.0, 3), (1049.99, 1), (900.0, 1), (899.99, 0)])
def test_main_share(main3, pts):
    assert points(run({**BASE, "main_y3": main3, "oprev_y3": 1500.0}, SRDI), "main_share") == pts


@pytest.mark.parametrize("years,pts", [(10, 5), (9, 4), (8, 4), (7, 3), (6, 3), (5, 2), (4, 2), (3, 1), (2, 1)])
def test_niche_years(years, pts):
    assert points(run({**BASE, "niche_years": years}, SRDI), "niche_years") == pts


@pytest.mark.parametrize("rd,pts", [(500.0, 10), (499.99, 8), (400.0, 8), (300.0, 6), (200.0, 4), (100.0, 2)])
def test_rd_amount_or_ratio_best_band(rd, pts):
    e = run({**BASE, "rd_y3": rd, "oprev_y3": 100000.0, "main_y3": 90000.0, "main_y2": 80000.0, "main_y1": 70000.0,
             "net_profit_y3": 10000.0}, SRDI)
    assert points(e, "rd") == pts


@pytest.mark.parametrize("liab,pts", [(49.99, 5), (50.0, 3), (59.99, 3), (60.0, 1), (69.99, 1), (70.0, 0)])
def test_debt_ratio(liab, pts):
    assert points(run({**BASE, "liab_y3": liab}, SRDI), "debt_ratio") == pts


@pytest.mark.parametrize("inst,pts", [("national", 10), ("provincial", 8), ("municipal", 4), ("below_municipal", 2), ("none", 0)])
def test_rd_institution(inst, pts):
    assert points(run({**BASE, "x_inst": inst}, SRDI), "rd_inst") == pts


def test_expert_field_must_be_one_of_0_3_5():
    with pytest.raises(ExpertInputError) as exc:
        explain({**BASE, "x_field": 4}, SRDI)
    assert exc.value.column == "x_field"


def test_missing_expert_inputs_give_expert_dependent():
    e = run({**BASE, "x_local": None, "x_field": None, "ip_I_hv": 0, "ip_I_self": 0, "x_inst": "none",
             "x_digital": 0, "x_quality_items": 0}, SRDI)
    assert (e.verdict, e.score_min, e.score_max) == ("expert_dependent", 50, 70)


@pytest.mark.parametrize("change", [{"niche_years": 1}, {"rd_y3": 99.99}, {"oprev_y3": 999.0, "rd_y3": 100.0}])
def test_conditions(change):
    assert run({**BASE, **change}, SRDI).verdict == "fail"


def test_revenue_condition_alternative_equity():
    e = run({**BASE, "oprev_y3": 999.0, "main_y3": 900.0, "rd_y3": 100.0, "equity_2y": 2000.0}, SRDI)
    assert not any(en.startswith("condition not met") for _zh, en in e.reasons)
    assert e.verdict == "pass"


@pytest.mark.parametrize("route", [{"rd_y2": 1900.0, "rd_y3": 100.0, "oprev_y3": 1000.0}, {"equity_2y": 6000.0}, {"maker_top500_3y": True}])
def test_direct_routes(route):
    low = {"x_field": 0, "x_digital": 0, "x_quality_items": 0, "x_local": 0, "x_inst": "none", "ip_I_hv": 0, "ip_I_self": 0}
    e = run({**BASE, **low, **route}, SRDI)
    assert (e.verdict, e.route) == ("pass", "direct")


def test_average_growth_zero_base_needs_review():
    e = run({**BASE, "main_y1": 0.0, "x_local": 0, "x_inst": "none"}, SRDI)
    g = next(i for i in e.indicators if i.id == "main_growth_2y")
    assert (g.points_min, g.points_max) == (0, 10)


def test_table_batch_equals_single():
    rows = [{**BASE, "id": str(i), "liab_y3": v} for i, v in enumerate([49.99, 50.0, 59.99, 60.0, 69.99, 70.0])]
    rows += [{**BASE, "id": f"i{i}", "x_inst": v} for i, v in enumerate(["national", "none", None])]
    assert_paths_agree(rows, SRDI)


@pytest.mark.parametrize("m3,pts", [  # m1 = 1000, m2 = 1100: avg of 10% and (m3/1100 - 1)
    (1210.0, 10), (1209.89, 8), (1166.0, 8), (1165.89, 6), (1122.0, 6), (1121.89, 4), (1078.0, 4),
    (1077.89, 2), (990.0, 2), (989.89, 0),
])
def test_average_main_growth(m3, pts):
    e = run({**BASE, "main_y3": m3, "oprev_y3": 1500.0}, SRDI)
    assert points(e, "main_growth_2y") == pts


@pytest.mark.parametrize("profit,pts", [
    (150.0, 10), (149.99, 8), (120.0, 8), (119.99, 6), (90.0, 6), (89.99, 4), (60.0, 4), (59.99, 2),
    (30.0, 2), (29.99, 0),
])
def test_net_margin(profit, pts):
    assert points(run({**BASE, "net_profit_y3": profit}, SRDI), "net_margin") == pts


@pytest.mark.parametrize("staff,pts", [(20, 5), (19, 3), (10, 3), (9, 1), (5, 1), (4, 0)])
def test_rd_staff_share(staff, pts):
    assert points(run({**BASE, "rd_staff": staff}, SRDI), "rd_staff") == pts


@pytest.mark.parametrize("rd,pts", [  # ratio side with oprev 2000 (amount side <= 2 points)
    (200.0, 10), (199.99, 8), (160.0, 8), (159.99, 6), (120.0, 6), (119.99, 4), (80.0, 4), (79.99, 2),
    (60.0, 2),
])
def test_rd_ratio_side(rd, pts):
    e = run({**BASE, "rd_y3": rd, "rd_y2": rd, "oprev_y3": 2000.0, "main_y3": 1700.0, "main_y2": 1545.46,
             "main_y1": 1405.0, "net_profit_y3": 200.0}, SRDI)
    assert points(e, "rd") == pts


@pytest.mark.parametrize("items,pts", [(0, 0), (1, 3), (2, 5), (3, 5)])
def test_quality_items(items, pts):
    assert points(run({**BASE, "x_quality_items": items}, SRDI), "quality") == pts


@pytest.mark.parametrize("hv,self_,acq,ii,pts,label", [
    (1, 1, 0, 0, 10, "A"), (0, 1, 0, 0, 8, "B"), (0, 0, 1, 0, 6, "C"), (0, 0, 0, 1, 2, "D"), (0, 0, 0, 0, 0, "E"),
])
def test_ip(hv, self_, acq, ii, pts, label):
    e = run({**BASE, "ip_I_hv": hv, "ip_I_self": self_, "ip_I_acq": acq, "ip_II": ii}, SRDI)
    assert (points(e, "ip"), band(e, "ip")) == (pts, label)
