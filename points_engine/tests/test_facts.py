"""read_facts: CSV/XLSX coercion and errors naming row and column."""

import datetime as dt

import pytest
from openpyxl import Workbook

from points_engine import FactsError, explain, load_builtin, read_facts, score_batch


def write(tmp_path, text, name="f.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_coercion(tmp_path):
    p = write(tmp_path, "id,employees,sales_y3,hnte_valid,sei,is_sme,compliant,registered_on,note\n"
                        "a,10,1.5,Y,是,true,1,2020-01-02,x\n"
                        "b,,,N,否,FALSE,0,,\n")
    df = read_facts(p)
    assert df.to_dicts() == [
        {"id": "a", "employees": 10, "sales_y3": 1.5, "hnte_valid": True, "sei": True, "is_sme": True,
         "compliant": True, "registered_on": dt.date(2020, 1, 2), "note": "x"},
        {"id": "b", "employees": None, "sales_y3": None, "hnte_valid": False, "sei": False, "is_sme": False,
         "compliant": False, "registered_on": None, "note": None},
    ]


@pytest.mark.parametrize("text,row,col", [
    ("id,employees\na,10\nb,ten\n", 3, "employees"),
    ("id,sales_y3\na,1x\n", 2, "sales_y3"),
    ("id,hnte_valid\na,Y\nb,Y\nc,maybe\n", 4, "hnte_valid"),
    ("id,employees\na,1.5\n", 2, "employees"),
    ("id,registered_on\na,2020-02-30\n", 2, "registered_on"),
])
def test_csv_errors_name_row_and_column(tmp_path, text, row, col):
    with pytest.raises(FactsError) as exc:
        read_facts(write(tmp_path, text))
    assert (exc.value.row, exc.value.column) == (row, col)
    assert f"row {row}, column {col}" in str(exc.value)


def test_xlsx(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "employees", "sales_y3", "hnte_valid", "registered_on"])
    ws.append(["a", 10, 2.5, "是", dt.datetime(2021, 5, 6)])
    ws.append(["b", None, None, True, None])
    ws.append(["c", "n/a", 1, "N", None])
    p = tmp_path / "f.xlsx"
    wb.save(p)
    with pytest.raises(FactsError) as exc:
        read_facts(p)
    assert (exc.value.row, exc.value.column) == (4, "employees")
    ws.delete_rows(4)
    wb.save(p)
    assert read_facts(p).to_dicts() == [
        {"id": "a", "employees": 10, "sales_y3": 2.5, "hnte_valid": True, "registered_on": dt.date(2021, 5, 6)},
        {"id": "b", "employees": None, "sales_y3": None, "hnte_valid": True, "registered_on": None},
    ]


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(FactsError, match="unsupported file type"):
        read_facts(write(tmp_path, "x", "f.txt"))
    with pytest.raises(FactsError, match="file not found"):
        read_facts(tmp_path / "nope.csv")


def test_reg_days_derived_from_registration_date_in_both_paths():
    hnte = load_builtin("hnte-2016")
    facts = {"id": "a", "registered_on": "2025-04-01"}
    day = dt.date(2026, 4, 1)  # 365 days later
    e = explain(facts, hnte, evaluation_date=day)
    b = score_batch([facts], hnte, evaluation_date=day).frame
    assert not any("registered for at least 365 days" in en for _zh, en in e.reasons)
    early = explain(facts, hnte, evaluation_date=dt.date(2026, 3, 31))
    assert ("不满足条件：注册成立一年以上（≥365天）", "condition not met: registered for at least 365 days") in early.reasons
    assert b["verdict"][0] == e.verdict


def test_record_values_are_coerced_like_files():
    tsme = load_builtin("tsme-2017")
    with pytest.raises(FactsError, match="column employees"):
        explain({"id": "a", "employees": "many"}, tsme)
    e = explain({"id": "a", "employees": "100", "tech_staff": "30", "hnte_valid": "是", "sales_y3": "1e3",
                 "assets_y3": " 20000 "}, tsme)
    assert (e.verdict, e.route) == ("pass", "direct")
