"""Evaluation kinds, the standard in force on a date, the new standard keys, and the CLI's choice by date."""

import csv
import datetime as dt

import pytest

from points_engine import (
    EVALUATION_KINDS,
    StandardError,
    derive_version,
    diff_standards,
    list_builtin,
    load_builtin,
    standard_in_force,
    validate_standard,
)
from points_engine.cli import main

D = dt.date


def test_every_builtin_has_a_known_kind():
    assert {s.id: s.kind for s in list_builtin()} == {
        "hnte-2016": "hnte", "innov-2022": "innov", "scp-v1": "scp", "srdi-2022": "srdi", "srdi-2026": "srdi",
        "srdi-giant-2026": "srdi_giant", "tsme-2017": "tsme",
    }
    for kind, (zh, en) in EVALUATION_KINDS.items():
        assert kind.isidentifier() and zh and en


@pytest.mark.parametrize("kind,on,expected", [
    ("srdi", D(2026, 3, 31), "srdi-2022"),
    ("srdi", D(2026, 4, 1), "srdi-2026"),
    ("srdi", "2027-01-01", "srdi-2026"),
    ("srdi_giant", D(2026, 4, 1), "srdi-giant-2026"),
    ("innov", D(2026, 4, 1), "innov-2022"),  # no 2026 innovative-SME standard: the 2022 one continues
    ("tsme", D(2026, 6, 1), "tsme-2017"),
    ("hnte", D(2026, 6, 1), "hnte-2016"),
    ("scp", D(2026, 6, 1), "scp-v1"),
])
def test_standard_in_force(kind, on, expected):
    assert standard_in_force(kind, on).id == expected


def test_nothing_in_force_and_unknown_kind():
    with pytest.raises(StandardError, match="no srdi_giant standard is in force on 2026-03-31"):
        standard_in_force("srdi_giant", D(2026, 3, 31))  # the 2022 小巨人 rules are not encoded
    with pytest.raises(StandardError, match="no srdi standard is in force on 2022-05-31"):
        standard_in_force("srdi", D(2022, 5, 31))
    with pytest.raises(StandardError, match="unknown evaluation kind 'giant'"):
        standard_in_force("giant", D(2026, 6, 1))


def test_in_force_among_given_versions_latest_effective_wins():
    base = load_builtin("srdi-2026")
    later = derive_version(base, {"switches.ip_exemption.value": True}, version="2", effective_from="2026-09-01")
    pool = [*list_builtin(), later]
    assert standard_in_force("srdi", D(2026, 8, 31), pool) == base
    assert standard_in_force("srdi", D(2026, 9, 1), pool) == later
    ended = derive_version(base, {}, version="1.1", superseded_from="2026-10-01")
    assert standard_in_force("srdi", D(2026, 9, 30), [ended]) == ended
    with pytest.raises(StandardError):
        standard_in_force("srdi", D(2026, 10, 1), [ended])


def test_in_force_bounds():
    s = load_builtin("srdi-2022")
    assert s.superseded_from == D(2026, 4, 1)
    assert s.in_force(D(2022, 6, 1)) and s.in_force(D(2026, 3, 31)) and not s.in_force(D(2026, 4, 1))
    assert not s.in_force(D(2022, 5, 31))


def test_stored_definition_without_kind_gets_it_from_its_id():
    from points_engine import Standard

    d = load_builtin("srdi-2022").to_dict()
    del d["kind"]
    s = Standard.from_dict(d)
    assert s.kind == "srdi" and standard_in_force("srdi", D(2025, 1, 1), [s]) == s
    assert derive_version(s, {}, version="2").to_dict()["kind"] == "srdi"


def test_new_keys_are_diffed_and_derived():
    old = load_builtin("srdi-2022")
    new = derive_version(old, {"superseded_from": None, "kind": "srdi"}, version="2")
    assert ("superseded_from", "2026-04-01", None) in diff_standards(old, new)
    assert new.superseded_from is None
    moved = derive_version(old, {}, version="3", superseded_from=D(2026, 7, 1))
    assert ("superseded_from", "2026-04-01", "2026-07-01") in diff_standards(old, moved)


@pytest.mark.parametrize("change,message", [
    ({"kind": "giant"}, "kind: 评价类型必须是"),
    ({"superseded_from": "2016-01-01"}, "superseded_from: 必须晚于 effective_from / must be after effective_from"),
    ({"superseded_from": "2026-13-01"}, "superseded_from: 日期格式应为 YYYY-MM-DD"),
    ({"conditions.quality_score.applies_to": "sometimes"}, "conditions[15].applies_to: 必须是 ('new', 'renewal') 之一"),
    ({"conditions.ip_class_I.expr": "ip_I_self >= 1 or switch('nope')"}, "undefined switch nope"),
    ({"switches.ip_exemption.value": "yes"}, "switches.ip_exemption: 需要布尔值 value / needs a boolean value"),
    ({"conditions.niche_3y.show": [{"value": "niche_years", "format": "days"}]}, "conditions[5].show[0]: 需要 value 和 format"),
    ({"conditions.niche_3y.show": [{"value": "niche_yrs", "format": "years"}]}, "unknown fact field niche_yrs"),
    ({"score": {"pass_mark": 60}}, "score.pass_mark: 没有指标的标准不能有评分规则"),
    ({"conditions": []}, "conditions: 仅有条件的标准至少需要一个条件"),
])
def test_validation_of_the_new_keys(change, message):
    d = load_builtin("srdi-2026").to_dict()
    from points_engine.standard import _set_path

    for path, value in change.items():
        _set_path(d, path.split("."), value, path)
    errs = validate_standard(d)
    assert any(message in e for e in errs), errs


# --- command line ------------------------------------------------------------------------------------------

FACTS_CSV = (
    "id,resident,is_sme,prohibited,compliant,tsme_valid,innov_valid,srdi_valid,niche_years,oprev_y1,oprev_y2,"
    "oprev_y3,main_y3,equity_2y,liab_y3,assets_y3,rd_y2,rd_y3,ip_I_self,ip_I_acq,award_3y_top3,prov_rd_inst,"
    "nat_award_3y_top3,market_position_ok,market_share,market_top3_cn,key_chain_link,quality_score,"
    "quality_score_prev,employees,tech_staff,rd_staff,sales_y3,x_field,x_digital,x_quality_items,net_profit_y3,"
    "main_y1,main_y2,ip_I_hv,ip_II,x_local,x_inst,maker_top500_3y\n"
    "a,Y,Y,N,Y,Y,N,Y,5,8000,9000,10000,9500,0,50,100,700,700,5,0,N,N,N,Y,0.2,N,Y,70,,100,30,20,10000,5,5,2,"
    "1000,8000,8800,1,0,10,provincial,N\n"
    "b,Y,Y,N,Y,Y,N,Y,5,8000,9000,10000,9500,0,50,100,700,700,5,0,N,N,N,Y,0.2,N,Y,40,62,100,30,20,10000,5,5,2,"
    "1000,8000,8800,1,0,10,provincial,N\n"
    "c,Y,Y,N,Y,Y,N,Y,2,8000,9000,10000,9500,0,50,100,700,700,5,0,N,N,N,,0.2,N,Y,,,100,30,20,10000,5,5,2,"
    "1000,8000,8800,1,0,10,provincial,N\n"
)


def score_cli(tmp_path, *args):
    src = tmp_path / "facts.csv"
    src.write_text(FACTS_CSV, encoding="utf-8")
    out = tmp_path / "out.csv"
    code = main(["points", "score", "--input", str(src), "--output", str(out), *args])
    return code, (list(csv.DictReader(out.open(encoding="utf-8"))) if code == 0 else [])


@pytest.mark.parametrize("sid", ["srdi-2026", "srdi-giant-2026"])
def test_cli_scores_the_2026_standards(tmp_path, sid):
    code, rows = score_cli(tmp_path, "--standard", sid)
    assert code == 0
    assert list(rows[0])[:9] == ["id", "standard", "version", "verdict", "route", "score_min", "score_max", "grade",
                                 "reasons"]
    assert [(r["standard"], r["verdict"], r["route"], r["score_min"]) for r in rows] == [
        (sid, "pass", "", ""), (sid, "fail", "", ""), (sid, "fail", "", ""),
    ]
    assert "needs review" in rows[2]["reasons"] and "condition not met" in rows[2]["reasons"]


def test_cli_renewal(tmp_path):
    code, rows = score_cli(tmp_path, "--standard", "srdi-giant-2026", "--application", "renewal")
    assert code == 0 and [r["verdict"] for r in rows] == ["pass", "pass", "fail"]


@pytest.mark.parametrize("day,expected", [("2026-03-31", "srdi-2022"), ("2026-04-01", "srdi-2026")])
def test_cli_kind_follows_the_evaluation_date(tmp_path, day, expected):
    code, rows = score_cli(tmp_path, "--kind", "srdi", "--evaluation-date", day)
    assert code == 0 and {r["standard"] for r in rows} == {expected}


def test_cli_kind_without_a_standard_in_force(tmp_path, capsys):
    code, _ = score_cli(tmp_path, "--kind", "srdi_giant", "--evaluation-date", "2026-03-31")
    assert code == 2 and "no srdi_giant standard is in force on 2026-03-31" in capsys.readouterr().err


def test_cli_missing_quality_score_column_is_named(tmp_path, capsys):
    src = tmp_path / "f.csv"
    src.write_text(FACTS_CSV.replace("quality_score,quality_score_prev", "qs,quality_score_prev"), encoding="utf-8")
    code = main(["points", "score", "--standard", "srdi-2026", "--input", str(src), "--output", str(tmp_path / "o.csv")])
    assert code == 2 and "missing required column quality_score" in capsys.readouterr().err


def test_cli_standards_prints_dates_and_provisional(capsys):
    assert main(["points", "standards"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert lines[0][:7] == ["id", "version", "kind", "effective_from", "superseded_from", "region", "provisional"]
    rows = {r[0]: r for r in lines[1:]}
    assert rows["srdi-2022"][2:7] == ["srdi", "2022-06-01", "2026-04-01", "CN", "true"]
    assert rows["srdi-2026"][2:7] == ["srdi", "2026-04-01", "", "CN", "true"]
    assert rows["srdi-giant-2026"][2:7] == ["srdi_giant", "2026-04-01", "", "CN", "true"]
    assert rows["tsme-2017"][3:5] == ["2017-05-10", ""] and rows["tsme-2017"][6] == "false"
