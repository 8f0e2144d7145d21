"""Command line: good file -> exact output; bad inputs -> exit 2 naming row and column."""

import csv
import json

import pytest

from points_engine.cli import main

GOOD = (
    "id,employees,tech_staff,rd_y3,sales_y3,cost_y3,assets_y3,ip_I_self,ip_I_acq,ip_II,hnte_valid,"
    "nat_award_5y_top3,prov_rd_inst,led_standard_5y,note\n"
    "a,100,30,6,100,1000,100,0,0,2,N,N,N,N,keep me\n"
    "b,100,9,6,100,1000,100,1,0,0,否,N,N,N,\n"
    "c,100,30,1,100,,100,0,0,0,N,N,N,N,\n"
    "d,100,30,1,100,50,100,0,0,0,是,,,,\n"
)


def run_cli(tmp_path, text, *args, name="in.csv"):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    code = main(["points", "score", "--input", str(src), "--output", str(out), *args])
    rows = list(csv.DictReader(out.open(encoding="utf-8"))) if out.exists() else []
    return code, rows


def test_good_file_exact_output(tmp_path):
    code, rows = run_cli(tmp_path, GOOD, "--standard", "tsme-2017")
    assert code == 0
    got = [(r["id"], r["standard"], r["version"], r["verdict"], r["route"], r["score_min"], r["score_max"],
            r["points.staff"], r["points.rd"], r["points.ip"]) for r in rows]
    assert got == [
        ("a", "tsme-2017", "1", "pass", "score", "82", "82", "20", "50", "12"),
        ("b", "tsme-2017", "1", "fail", "", "80", "80", "0", "50", "30"),
        ("c", "tsme-2017", "1", "needs_review", "", "20", "70", "20", "", "0"),
        ("d", "tsme-2017", "1", "pass", "direct", "20", "20", "20", "0", "0"),
    ]
    assert rows[0]["note"] == "keep me"
    assert rows[1]["reasons"] == "科技人员指标得分为0 / S&T staff score is 0"
    assert rows[2]["reasons"] == "需复核：研发投入（两种比例取高）缺少数据 cost_y3 / needs review: R&D (better of two ratios) needs cost_y3"
    assert list(rows[0])[:9] == ["id", "standard", "version", "verdict", "route", "score_min", "score_max", "grade", "reasons"]


def test_xlsx_input(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in GOOD.strip().splitlines():
        ws.append([v if v != "" else None for v in line.split(",")])
    src = tmp_path / "in.xlsx"
    wb.save(src)
    out = tmp_path / "out.csv"
    assert main(["points", "score", "--standard", "tsme-2017", "--input", str(src), "--output", str(out)]) == 0
    assert [r["verdict"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["pass", "fail", "needs_review", "pass"]


def test_standards_command(capsys):
    assert main(["points", "standards"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[:2] == ["id", "version"]
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "hnte-2016", "innov-2022", "scp-v1", "srdi-2022", "srdi-2026", "srdi-giant-2026", "tsme-2017",
    ]


@pytest.mark.parametrize("text,args,needle", [
    (GOOD, ["--standard", "nope"], "unknown standard 'nope'"),
    (GOOD, ["--standard", "tsme-2017", "--version", "7"], "has no version '7'"),
    (GOOD.replace("cost_y3,", "cst,"), ["--standard", "tsme-2017"], "missing required column cost_y3 (header, row 1)"),
    (GOOD.replace("b,100,9,", "b,100,nine,"), ["--standard", "tsme-2017"], "row 3, column tech_staff: 'nine' is not a number"),
    (GOOD.replace("\nd,100,30,1,100,50,100,0,0,0,是", "\nd,100,30,1,100,50,100,0,0,0,maybe"), ["--standard", "tsme-2017"],
     "row 5, column hnte_valid: 'maybe' is not a boolean"),
])
def test_bad_inputs_exit_2(tmp_path, capsys, text, args, needle):
    code, _ = run_cli(tmp_path, text, *args)
    assert code == 2
    assert needle in capsys.readouterr().err


def test_expert_input_outside_band_exit_2(tmp_path, capsys):
    text = ("id,reg_days,employees,tech_staff,rd_y1,rd_y2,rd_y3,sales_y1,sales_y2,sales_y3,rd_dom_3y,hitech_rev_y3,"
            "total_income_y3,ip_I_self,ip_I_acq,ip_II,transforms_3y,na_y1,na_y2,na_y3,op_years,x_transform\n"
            "h1,800,100,20,60,60,60,1000,1000,1000,180,700,1000,1,0,3,6,100,150,200,3,10\n"
            "h2,800,100,20,60,60,60,1000,1000,1000,180,700,1000,1,0,3,6,100,150,200,3,13\n")
    code, _ = run_cli(tmp_path, text, "--standard", "hnte-2016")
    assert code == 2
    err = capsys.readouterr().err
    assert "row 3, column x_transform (id=h2): expert input 13.0 is outside the computed band D [7, 12]" in err


def test_reference_save_and_reuse(tmp_path):
    from points_engine.synthetic import synthetic_facts

    src = tmp_path / "pop.csv"
    synthetic_facts(80, seed=1).write_csv(src)
    ref = tmp_path / "ref.json"
    out1, out2 = tmp_path / "o1.csv", tmp_path / "o2.csv"
    base = ["points", "score", "--standard", "scp-v1", "--input", str(src)]
    assert main([*base, "--output", str(out1), "--save-reference", str(ref)]) == 0
    assert json.loads(ref.read_text(encoding="utf-8"))["standard"] == "scp-v1"
    assert main([*base, "--output", str(out2), "--reference", str(ref)]) == 0
    assert out1.read_text(encoding="utf-8") == out2.read_text(encoding="utf-8")
