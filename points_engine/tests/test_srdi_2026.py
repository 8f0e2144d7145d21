"""专精特新 2026 (srdi-2026) and 小巨人 2026 (srdi-giant-2026): every condition on its boundary and one step
past it, unknowns, renewal mode, the IP-exemption switch; both paths agree on every row."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_engine import derive_version, diff_standards, explain, load_builtin, score_batch
from points_engine.batch import output_columns
from points_engine.cli import required_columns

from .helpers import assert_paths_agree, run, same

SRDI = load_builtin("srdi-2026")
GIANT = load_builtin("srdi-giant-2026")

# passes every condition with a margin; each case below moves one quantity to its bar
SRDI_BASE = dict(
    id="s", resident=True, is_sme=True, prohibited=False, compliant=True, tsme_valid=True, innov_valid=False,
    niche_years=5, oprev_y2=2000.0, oprev_y3=2000.0, main_y3=1800.0, equity_2y=0.0, liab_y3=50.0, assets_y3=100.0,
    rd_y2=200.0, rd_y3=200.0, ip_I_self=2, ip_I_acq=0, award_3y_top3=False, prov_rd_inst=False,
    market_position_ok=True, quality_score=70.0, quality_score_prev=None,
)
GIANT_BASE = dict(
    id="g", resident=True, is_sme=True, prohibited=False, compliant=True, srdi_valid=True, niche_years=5,
    oprev_y1=8000.0, oprev_y2=9000.0, oprev_y3=10000.0, main_y3=9500.0, liab_y3=50.0, assets_y3=100.0,
    rd_y2=700.0, rd_y3=700.0, ip_I_self=5, nat_award_3y_top3=False, market_share=0.2, market_top3_cn=False,
    key_chain_link=True, quality_score=70.0, quality_score_prev=None,
)

# (condition id, changes exactly on the bar -> pass, changes one step past it -> fail)
SRDI_CASES = [
    ("resident", {"resident": True}, {"resident": False}),
    ("is_sme", {"is_sme": True}, {"is_sme": False}),
    ("not_prohibited", {"prohibited": False}, {"prohibited": True}),
    ("compliant", {"compliant": True}, {"compliant": False}),
    ("title", {"tsme_valid": False, "innov_valid": True}, {"tsme_valid": False, "innov_valid": False}),
    ("title", {"tsme_valid": True, "innov_valid": False}, {"tsme_valid": False, "innov_valid": False}),
    ("niche_3y", {"niche_years": 3}, {"niche_years": 2}),
    ("revenue_or_equity", {"oprev_y3": 1500.0, "main_y3": 1350.0}, {"oprev_y3": 1499.99, "main_y3": 1350.0}),
    ("revenue_or_equity", {"oprev_y3": 1000.0, "main_y3": 900.0, "equity_2y": 2000.0},
     {"oprev_y3": 1000.0, "main_y3": 900.0, "equity_2y": 1999.99}),
    ("main_share", {"main_y3": 1600.0}, {"main_y3": 1599.99}),
    ("debt_ratio", {"liab_y3": 80.0}, {"liab_y3": 80.01}),
    ("rd_amount_y3", {"rd_y3": 100.0}, {"rd_y3": 99.99}),
    ("rd_amount_y2", {"rd_y2": 100.0}, {"rd_y2": 99.99}),
    ("rd_ratio_y3", {"oprev_y3": 10000.0, "main_y3": 9000.0, "rd_y3": 300.0},
     {"oprev_y3": 10000.0, "main_y3": 9000.0, "rd_y3": 299.99}),
    ("rd_ratio_y2", {"oprev_y2": 10000.0, "rd_y2": 300.0}, {"oprev_y2": 10000.0, "rd_y2": 299.99}),
    ("ip_class_I", {"ip_I_self": 1}, {"ip_I_self": 0, "ip_I_acq": 5, "award_3y_top3": True, "prov_rd_inst": True}),
    ("market_position", {"market_position_ok": True}, {"market_position_ok": False}),
    ("quality_score", {"quality_score": 50.0}, {"quality_score": 49.99}),
]
GIANT_CASES = [
    ("resident", {"resident": True}, {"resident": False}),
    ("is_sme", {"is_sme": True}, {"is_sme": False}),
    ("not_prohibited", {"prohibited": False}, {"prohibited": True}),
    ("compliant", {"compliant": True}, {"compliant": False}),
    ("srdi_title", {"srdi_valid": True}, {"srdi_valid": False}),
    ("niche_3y", {"niche_years": 3}, {"niche_years": 2}),
    ("revenue", {"oprev_y1": 4000.0, "oprev_y3": 5000.0, "main_y3": 4750.0},
     {"oprev_y1": 4000.0, "oprev_y3": 4999.99, "main_y3": 4750.0}),
    ("main_share", {"main_y3": 9000.0}, {"main_y3": 8999.99}),
    ("revenue_growth", {"oprev_y1": 10000.0, "oprev_y3": 11025.0, "main_y3": 10500.0},
     {"oprev_y1": 10000.0, "oprev_y3": 11024.99, "main_y3": 10500.0}),
    ("debt_ratio", {"liab_y3": 75.0}, {"liab_y3": 75.01}),
    ("rd_total", {"rd_y2": 600.0, "rd_y3": 600.0}, {"rd_y2": 600.0, "rd_y3": 599.99}),
    ("rd_ratio_y3", {"rd_y2": 1000.0, "rd_y3": 300.0}, {"rd_y2": 1000.0, "rd_y3": 299.99}),
    ("rd_ratio_y2", {"rd_y2": 270.0, "rd_y3": 1000.0}, {"rd_y2": 269.99, "rd_y3": 1000.0}),
    ("ip_class_I", {"ip_I_self": 4}, {"ip_I_self": 3}),
    ("ip_class_I", {"ip_I_self": 0, "nat_award_3y_top3": True}, {"ip_I_self": 3, "nat_award_3y_top3": False}),
    ("market_share", {"market_share": 0.1}, {"market_share": 0.0999}),
    ("market_share", {"market_share": 0.05, "market_top3_cn": True}, {"market_share": 0.05, "market_top3_cn": False}),
    ("key_chain_link", {"key_chain_link": True}, {"key_chain_link": False}),
    ("quality_score", {"quality_score": 60.0}, {"quality_score": 59.99}),
]


def failed(e) -> list[str]:
    return [c.id for c in e.conditions if c.met is False]


def _cases(std, base, cases):
    return [pytest.param(std, base, cid, on, past, id=f"{std.id}:{cid}:{i}") for i, (cid, on, past) in enumerate(cases)]


@pytest.mark.parametrize("std,base", [(SRDI, SRDI_BASE), (GIANT, GIANT_BASE)])
def test_base_passes_without_score_or_route(std, base):
    e = run(base, std)
    assert (e.verdict, e.route, e.score_min, e.score_max, e.reasons) == ("pass", "", None, None, [])
    assert e.indicators == [] and all(c.met for c in e.conditions)


@pytest.mark.parametrize("std,base,cid,on,past", _cases(SRDI, SRDI_BASE, SRDI_CASES) + _cases(GIANT, GIANT_BASE, GIANT_CASES))
def test_condition_on_its_boundary_and_one_step_past(std, base, cid, on, past):
    at = run({**base, **on}, std)
    assert (at.verdict, failed(at)) == ("pass", []), at.reasons
    over = run({**base, **past}, std)
    assert (over.verdict, failed(over)) == ("fail", [cid]), over.reasons
    cond = next(c for c in std.compiled.conditions if c.id == cid)
    zh, en = over.reasons[0]
    assert zh.startswith(f"不满足条件：{cond.name_zh}") and en.startswith(f"condition not met: {cond.name_en}")


@pytest.mark.parametrize("std,base,changes,zh_actual,en_actual", [
    (SRDI, SRDI_BASE, {"main_y3": 1599.99}, "（实际：79.99%）", "(actual: 79.99%)"),
    (SRDI, SRDI_BASE, {"liab_y3": 80.0001}, "（实际：80.01%）", "(actual: 80.01%)"),
    (SRDI, SRDI_BASE, {"oprev_y3": 1499.99, "main_y3": 1350.0},
     "（实际：营业收入（上年度） 1499.99万元；近两年新增股权融资 0.00万元）",
     "(actual: operating revenue (last year) 14.9999 M CNY; new equity financing, last 2 years 0.0000 M CNY)"),
    (SRDI, SRDI_BASE, {"quality_score": 49.995}, "（实际：专精特新发展评价得分（本年度） 49.99）",
     "(actual: SRDI development score (this year) 49.99)"),
    (SRDI, SRDI_BASE, {"niche_years": 2}, "（实际：从事细分市场年数 2年）", "(actual: years in the niche market 2 years)"),
    (SRDI, SRDI_BASE, {"ip_I_self": 0}, "（实际：自主研发Ⅰ类知识产权数 0项）", "(actual: self-developed class-I IP 0)"),
    (GIANT, GIANT_BASE, {"rd_y3": 499.99}, "（实际：近两年研发费用合计 1199.99万元）",
     "(actual: R&D expenses of the last 2 years 11.9999 M CNY)"),
    (GIANT, GIANT_BASE, {"market_share": 0.0999}, "（实际：细分市场占有率 9.99%）", "(actual: niche-market share 9.99%)"),
])
def test_reasons_state_the_value_and_the_bar(std, base, changes, zh_actual, en_actual):
    e = run({**base, **changes}, std)
    (zh, en), = e.reasons
    assert zh.endswith(zh_actual) and en.endswith(en_actual), (zh, en)
    assert any(ch in zh for ch in "≥≤") and any(ch in en for ch in "≥≤")


@pytest.mark.parametrize("std,base,field", [
    (SRDI, SRDI_BASE, "quality_score"),
    (SRDI, SRDI_BASE, "market_position_ok"),
    (GIANT, GIANT_BASE, "quality_score"),
    (GIANT, GIANT_BASE, "key_chain_link"),
])
def test_unknown_sourced_input_needs_review_naming_the_field(std, base, field):
    e = run({**base, field: None}, std)
    assert e.verdict == "needs_review"
    assert any(en.endswith(f"needs {field}") for _zh, en in e.reasons), e.reasons
    # ... unless another condition already fails
    e = run({**base, field: None, "niche_years": 2}, std)
    assert e.verdict == "fail" and failed(e) == ["niche_3y"]


def test_giant_market_share_unknown():
    e = run({**GIANT_BASE, "market_share": None}, GIANT)
    assert e.verdict == "needs_review"
    assert ("需复核：主导产品细分市场占有率≥10%，或国内前三缺少数据 market_share",
            "needs review: niche-market share of the main product ≥ 10 %, or top 3 in China needs market_share") in e.reasons
    assert run({**GIANT_BASE, "market_share": None, "market_top3_cn": True}, GIANT).verdict == "pass"


def test_all_facts_unknown_is_needs_review_not_a_crash():
    for std in (SRDI, GIANT):
        e = run({"id": "blank"}, std)
        assert e.verdict == "needs_review" and e.reasons


# --- renewal (复核) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("std,base,bar", [(SRDI, SRDI_BASE, 50.0), (GIANT, GIANT_BASE, 60.0)])
def test_renewal_quality_score_either_of_two_years(std, base, bar):
    either = {**base, "quality_score": bar - 10, "quality_score_prev": bar}
    assert run(either, std).verdict == "fail"  # a new application needs this year's score
    e = run(either, std, application="renewal")
    assert (e.verdict, failed(e)) == ("pass", [])
    assert [c.id for c in e.conditions][-1] == "quality_score_renewal"
    assert run({**base, "quality_score": bar, "quality_score_prev": None}, std, application="renewal").verdict == "pass"
    e = run({**base, "quality_score": bar - 0.01, "quality_score_prev": bar - 0.01}, std, application="renewal")
    assert (e.verdict, failed(e)) == ("fail", ["quality_score_renewal"])
    e = run({**base, "quality_score": None, "quality_score_prev": None}, std, application="renewal")
    assert e.verdict == "needs_review"
    assert {en.rsplit(" ", 1)[1] for _zh, en in e.reasons} == {"quality_score", "quality_score_prev"}
    e = run({**base, "quality_score": None, "quality_score_prev": bar - 1}, std, application="renewal")
    assert e.verdict == "needs_review" and [en.rsplit(" ", 1)[1] for _zh, en in e.reasons] == ["quality_score"]


def test_giant_renewal_skips_the_growth_test():
    slow = {**GIANT_BASE, "oprev_y1": 10000.0, "oprev_y3": 10000.0}
    assert failed(run(slow, GIANT)) == ["revenue_growth"]
    e = run(slow, GIANT, application="renewal")
    assert e.verdict == "pass" and "revenue_growth" not in [c.id for c in e.conditions]
    assert "oprev_y1" in required_columns(GIANT) and "oprev_y1" not in required_columns(GIANT, "renewal")


def test_batch_result_records_the_application():
    assert score_batch([SRDI_BASE], SRDI, application="renewal").application == "renewal"
    assert score_batch([SRDI_BASE], SRDI).application == "new"
    with pytest.raises(ValueError, match="application"):
        score_batch([SRDI_BASE], SRDI, application="review")


def test_renewal_changes_nothing_for_standards_without_renewal_rules():
    from points_engine.synthetic import synthetic_facts

    rows = synthetic_facts(300, seed=4)
    for sid in ("tsme-2017", "hnte-2016", "innov-2022", "srdi-2022"):
        std = load_builtin(sid)
        a = score_batch(rows, std, on_error="mark").frame
        b = score_batch(rows, std, on_error="mark", application="renewal").frame
        assert a.equals(b), sid


# --- the IP-exemption switch (data, off) ----------------------------------------------------------------------


def test_ip_exemption_is_a_switch_that_is_off():
    assert SRDI.switches == {"ip_exemption": False}
    award = {**SRDI_BASE, "ip_I_self": 0, "award_3y_top3": True}
    assert failed(run(award, SRDI)) == ["ip_class_I"]
    assert "award_3y_top3" not in required_columns(SRDI) and "prov_rd_inst" not in required_columns(SRDI)
    # an unknown award never makes the switched-off condition unknown
    e = run({**SRDI_BASE, "ip_I_self": None, "award_3y_top3": None}, SRDI)
    assert [en for _zh, en in e.reasons] == [
        "needs review: ≥ 1 self-applied class-I IP related to the main product (acquired IP does not count; "
        "exemption: switch ip_exemption) needs ip_I_self"
    ]


def test_administrator_flips_the_switch_by_deriving_a_version():
    on = derive_version(SRDI, {"switches.ip_exemption.value": True}, version="2", effective_from="2026-09-01")
    assert ("switches.ip_exemption.value", False, True) in diff_standards(SRDI, on)
    assert on.kind == "srdi" and on.switches == {"ip_exemption": True}
    for extra in ({"award_3y_top3": True}, {"prov_rd_inst": True}):
        assert run({**SRDI_BASE, "ip_I_self": 0, **extra}, on).verdict == "pass"
    assert failed(run({**SRDI_BASE, "ip_I_self": 0}, on)) == ["ip_class_I"]
    assert {"award_3y_top3", "prov_rd_inst"} <= set(required_columns(on))


# --- random input: both paths agree, new and renewal -------------------------------------------------------------

maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
money = maybe(st.floats(min_value=0, max_value=20000, allow_nan=False).map(lambda x: round(x, 2)))
flag = maybe(st.booleans())


@st.composite
def facts_2026(draw):
    return {
        "id": "h", "resident": draw(flag), "is_sme": draw(flag), "prohibited": draw(flag), "compliant": draw(flag),
        "tsme_valid": draw(flag), "innov_valid": draw(flag), "srdi_valid": draw(flag),
        "niche_years": draw(maybe(st.integers(0, 8))),
        **{f"{k}_y{y}": draw(money) for k in ("oprev", "rd") for y in (1, 2, 3)},
        "main_y3": draw(money), "liab_y3": draw(money), "assets_y3": draw(money), "equity_2y": draw(money),
        "ip_I_self": draw(maybe(st.integers(0, 6))), "award_3y_top3": draw(flag), "prov_rd_inst": draw(flag),
        "nat_award_3y_top3": draw(flag), "market_position_ok": draw(flag), "market_top3_cn": draw(flag),
        "key_chain_link": draw(flag),
        "market_share": draw(maybe(st.sampled_from([0.0, 0.05, 0.0999, 0.1, 0.1001, 0.5]))),
        "quality_score": draw(maybe(st.sampled_from([0.0, 49.99, 50.0, 59.99, 60.0, 99.5]))),
        "quality_score_prev": draw(maybe(st.sampled_from([0.0, 49.99, 50.0, 59.99, 60.0]))),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(facts_2026(), min_size=1, max_size=10), application=st.sampled_from(["new", "renewal"]))
def test_random_facts_both_paths_agree(rows, application):
    rows = [{**r, "id": f"r{i}"} for i, r in enumerate(rows)]
    for std in (SRDI, GIANT):
        batch = score_batch(rows, std, application=application).frame
        for i, r in enumerate(rows):
            e = explain(r, std, application=application)
            single = e.to_row()
            for c in output_columns(std.compiled):
                assert same(single[c], batch.row(i, named=True)[c]), (std.id, c, single[c], batch[c][i])
            assert e.route == "" and e.verdict in ("pass", "fail", "needs_review")
            assert (e.verdict == "pass") == all(c.met is True for c in e.conditions)


def test_boundary_table_in_one_batch():
    rows = [{**SRDI_BASE, **ch, "id": f"{cid}-{k}-{i}"} for i, (cid, on, past) in enumerate(SRDI_CASES) for k, ch in
            (("on", on), ("past", past))]
    es = assert_paths_agree(rows, SRDI)
    assert [e.verdict for e in es] == ["pass", "fail"] * len(SRDI_CASES)
