"""Standards as data: round trip, validation messages, diff and derive, built-in loading, safe formulas."""

import json

import pytest

from points_engine import (
    Standard,
    StandardError,
    derive_version,
    diff_standards,
    explain,
    expr,
    list_builtin,
    load_builtin,
    validate_standard,
)


def test_builtins_load_validate_and_round_trip():
    ids = [(s.id, s.version) for s in list_builtin()]
    assert ids == [("hnte-2016", "1"), ("innov-2022", "1"), ("scp-v1", "1"), ("srdi-2022", "1"), ("srdi-2026", "1"),
                   ("srdi-giant-2026", "1"), ("tsme-2017", "1")]
    for s in list_builtin():
        d = s.to_dict()
        assert validate_standard(d) == []
        assert Standard.from_dict(json.loads(json.dumps(d))) == s
        assert s.effective_from.isoformat() == d["effective_from"] and s.region


def test_load_builtin_errors():
    with pytest.raises(StandardError, match="unknown standard 'nope'"):
        load_builtin("nope")
    with pytest.raises(StandardError, match="has no version '9'"):
        load_builtin("tsme-2017", "9")
    assert load_builtin("tsme-2017", "1").version == "1"


def test_to_dict_is_a_copy():
    s = load_builtin("tsme-2017")
    d = s.to_dict()
    d["score"]["pass_mark"] = 1
    assert s.to_dict()["score"]["pass_mark"] == 60


def test_validate_reports_readable_bilingual_errors():
    d = load_builtin("tsme-2017").to_dict()
    d["indicators"][0]["value"] = "ratio(tech_staf, employees)"
    d["indicators"][1]["category"] = "missing"
    d["indicators"][2]["best_of"][0]["banding"]["bands"][0]["points"] = 99
    d["conditions"][0]["expr"] = "__import__('os')"
    d["effective_from"] = "2017-13-01"
    errs = validate_standard(d)
    assert "indicators.staff.value: 未知字段 tech_staf（见 facts.md） / unknown fact field tech_staf (see facts.md)" in errs
    assert any(e.startswith("indicators.rd: 类别 'missing' 未定义") for e in errs)
    assert any(e.startswith("indicators.ip.best_of.class_I.banding.bands[0].points") for e in errs)
    assert any(e.startswith("conditions[0].expr") for e in errs)
    assert "effective_from: 日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD" in errs
    with pytest.raises(StandardError) as exc:
        Standard.from_dict(d)
    assert exc.value.errors == errs


def test_validate_rejects_non_objects():
    assert validate_standard([]) == ["标准必须是 JSON 对象 / a standard must be a JSON object"]


@pytest.mark.parametrize("text", ["__import__('os')", "a.b", "x[0]", "lambda: 1", "open('f')", "1 +", "ratio(1)"])
def test_formulas_are_not_python(text):
    with pytest.raises(StandardError):
        expr.parse(text)


def test_diff_and_derive_round_trip():
    old = load_builtin("tsme-2017")
    new = derive_version(
        old,
        {"score.pass_mark": 65, "indicators.staff.banding.bands.A.points": 18, "indicators.staff.banding.bands.A.lower": 0.35},
        version="2", effective_from="2027-01-01",
    )
    assert old.to_dict()["score"]["pass_mark"] == 60  # never edited in place
    changes = diff_standards(old, new)
    assert ("score.pass_mark", 60, 65) in changes
    assert ("indicators.staff.banding.bands.A.points", 20, 18) in changes
    assert ("indicators.staff.banding.bands.A.lower", 0.3, 0.35) in changes
    assert ("version", "1", "2") in changes
    assert ("derived_from", None, {"id": "tsme-2017", "version": "1"}) in changes
    rebuilt = derive_version(old, {p: n for p, _o, n in changes})
    assert rebuilt == new
    facts = dict(id="x", employees=100, tech_staff=30, rd_y3=6.0, sales_y3=100.0, cost_y3=1e6, assets_y3=1.0,
                 ip_I_self=0, ip_I_acq=0, ip_II=0, hnte_valid=False, nat_award_5y_top3=False, prov_rd_inst=False,
                 led_standard_5y=False)
    assert explain(facts, old).score_min == 70 and explain(facts, new).score_min == 66


def test_derive_adds_and_removes_list_items():
    old = load_builtin("innov-2022")
    route = {"id": "maker", "name_zh": "创客中国500强", "name_en": "Maker China top 500", "expr": "maker_top500_3y"}
    new = derive_version(old, {"direct_routes.maker": route, "direct_routes.equity": None}, version="1.1")
    ids = [r["id"] for r in new.to_dict()["direct_routes"]]
    assert ids == ["award", "title", "prov_rd_inst", "maker"]
    diff = diff_standards(old, new)
    assert ("direct_routes.equity", old.to_dict()["direct_routes"][3], None) in diff
    assert ("direct_routes.maker", None, route) in diff


def test_derive_needs_a_new_version_and_a_valid_result():
    old = load_builtin("tsme-2017")
    with pytest.raises(StandardError, match="new version"):
        derive_version(old, {"score.pass_mark": 61})
    with pytest.raises(StandardError, match="must be a number"):
        derive_version(old, {"score.pass_mark": "sixty"}, version="2")
