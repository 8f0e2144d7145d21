"""Importing enterprises and declarations: validation, all or nothing, idempotence, audit, access."""

import csv
import io
from decimal import Decimal

import pytest
from stdnum.cn import uscc

from twincity.core.errors import Forbidden
from twincity.core.models import AuditEntry
from twincity.enterprises.imports import (
    ImportRejected,
    RowError,
    columns_for,
    import_apply,
    import_plan,
    template_csv,
    template_xlsx,
)
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.testing import ALICE_CODE, BOB_CODE

HUAWEI, TENCENT, BAIDU = "914403001922038216", "91440300708461136T", "91110000802100433B"


def write_csv(path, rows, *, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def codes(n: int) -> list[str]:
    bodies = [f"915001{i:011d}" for i in range(n)]
    return [body + uscc.calc_check_digit(body) for body in bodies]


def counts() -> tuple[int, int, int]:
    return Enterprise.objects.count(), AnnualDeclaration.objects.count(), AuditEntry.objects.count()


def apply(cast, path, kind, actor=None):
    return import_apply(actor=actor or cast.olivia, kind=kind, path=path, filename=path.name)


def rejected(cast, path, kind, actor=None) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        apply(cast, path, kind, actor)
    return info.value


# --- Credit codes ---------------------------------------------------------------------------------------------


def test_a_wrong_check_character_is_refused(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv", [["credit_code", "name", "city"], [HUAWEI[:-1] + "7", "华为", "shenzhen"]]
    )
    before = counts()

    exc = rejected(cast, path, "enterprises")

    assert exc.error_count == 1
    error = exc.errors[0]
    assert (error.row, error.column, error.value) == (2, "credit_code", "914403001922038217")
    assert "校验位" in error.reason_zh and "check character" in error.reason_en
    assert exc.code == "import_rejected" and exc.status == 422
    assert counts() == before


def test_real_codes_of_well_known_companies_are_accepted(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["credit_code (统一社会信用代码)", "name (企业名称)", "city (注册地)"],
            [HUAWEI, "华为技术有限公司", "shenzhen"],
            [TENCENT.lower(), "深圳市腾讯计算机系统有限公司", "shenzhen"],  # lower case is normalised
            [BAIDU, "北京百度网讯科技有限公司", "beijing"],
        ],
    )

    result = apply(cast, path, "enterprises")

    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 3, 0, 0)
    assert set(Enterprise.objects.values_list("credit_code", flat=True)) == {
        ALICE_CODE,
        BOB_CODE,
        HUAWEI,
        TENCENT,
        BAIDU,
    }
    assert Enterprise.objects.get(credit_code=BAIDU).industry_cluster == "other"


# --- All or nothing; idempotence --------------------------------------------------------------------------------


def thousand(tmp_path, name="d.csv", *, bad_row=None):
    header = ["credit_code", "fiscal_year", "employees", "sales", "rd", "cost"]
    rows = [[code, 2024, 100 + i, f"{1000 + i}.5", "50", "900"] for i, code in enumerate(codes(1000))]
    if bad_row:
        rows[bad_row - 2][3] = "abc"  # header is row 1, so file row N is rows[N - 2]
    return write_csv(tmp_path / name, [header, *rows])


def registry_of_thousand():
    Enterprise.objects.bulk_create(
        Enterprise(credit_code=code, name=f"企业{i}", city="chengdu") for i, code in enumerate(codes(1000))
    )


def test_one_bad_row_among_a_thousand_writes_nothing_and_names_that_row(cast, tmp_path):
    registry_of_thousand()
    before = counts()

    exc = rejected(cast, thousand(tmp_path, bad_row=537), "declarations")

    assert exc.errors == [RowError(537, "sales", "abc", "不是有效数字", "not a number")]
    assert exc.error_count == 1
    assert counts() == before


def test_the_same_file_twice_leaves_the_database_as_after_the_first_import(cast, tmp_path):
    enterprises = write_csv(
        tmp_path / "e.csv",
        [
            ["credit_code", "name", "city", "registered_on", "is_sme", "ip_I_self"],
            *[
                [code, f"企业{i}", "chongqing", f"2020-01-0{i % 9 + 1}", "是" if i % 2 else "N", i % 7]
                for i, code in enumerate(codes(1000))
            ],
        ],
    )
    declarations = thousand(tmp_path)

    first = (apply(cast, enterprises, "enterprises"), apply(cast, declarations, "declarations"))
    assert [(r.created, r.updated, r.unchanged) for r in first] == [(1000, 0, 0), (1000, 0, 0)]
    state = (
        list(Enterprise.objects.order_by("pk").values()),
        list(AnnualDeclaration.objects.order_by("pk").values()),
    )
    audit_count = AuditEntry.objects.count()
    assert audit_count == 2000

    second = (apply(cast, enterprises, "enterprises"), apply(cast, declarations, "declarations"))

    assert [(r.created, r.updated, r.unchanged) for r in second] == [(0, 0, 1000), (0, 0, 1000)]
    assert AuditEntry.objects.count() == audit_count
    assert (
        list(Enterprise.objects.order_by("pk").values()),
        list(AnnualDeclaration.objects.order_by("pk").values()),
    ) == state


def test_changing_one_figure_updates_it_with_one_audit_entry(cast, tmp_path):
    rows = [
        ["credit_code", "fiscal_year", "sales", "rd", "cost"],
        [ALICE_CODE, 2024, "100", "5", "90"],
        [ALICE_CODE, 2023, "80", "4", "70"],
    ]
    apply(cast, write_csv(tmp_path / "d.csv", rows), "declarations")
    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2024)
    audit_count = AuditEntry.objects.count()
    rows[1][2] = "120.5"

    result = apply(cast, write_csv(tmp_path / "d2.csv", rows), "declarations")

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    declaration.refresh_from_db()
    assert declaration.sales == Decimal("120.5000")
    assert AuditEntry.objects.count() == audit_count + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_type, entry.object_id) == (
        "update",
        "enterprises.annualdeclaration",
        str(declaration.pk),
    )
    assert entry.changes == {"sales": {"before": "100.0000", "after": "120.5000"}}
    assert (entry.actor, entry.context) == (cast.olivia, "import d2.csv")
    assert result.changes == [
        {
            "row": 2,
            "action": "update",
            "object": f"{ALICE_CODE} 2024",
            "changes": {"sales": {"before": "100.0000", "after": "120.5000"}},
        }
    ]


def test_creates_and_profile_changes_are_audited_with_before_and_after(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["credit_code", "name", "city", "ip_II"],
            [BOB_CODE, "成都天府星云软件有限公司", "chengdu", "41"],
            [HUAWEI, "华为技术有限公司", "shenzhen", ""],
        ],
    )

    apply(cast, path, "enterprises")

    update = AuditEntry.objects.get(object_id=str(cast.bob_co.pk), object_type="enterprises.enterprise")
    assert update.changes == {"ip_II": {"before": 40, "after": 41}}
    huawei = Enterprise.objects.get(credit_code=HUAWEI)
    create = AuditEntry.objects.get(object_id=str(huawei.pk), object_type="enterprises.enterprise")
    assert create.action == "create"
    assert create.changes["credit_code"] == {"before": None, "after": HUAWEI}
    assert create.changes["name"] == {"before": None, "after": "华为技术有限公司"}
    assert huawei.ip_II is None


def test_a_dry_run_writes_nothing_but_counts_what_would_change(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["credit_code", "name", "city", "ip_II"],
            [BOB_CODE, "成都天府星云软件有限公司", "chengdu", "41"],
            [ALICE_CODE, "重庆金凤微电子科技有限公司", "chongqing", "14"],
            [HUAWEI, "华为技术有限公司", "shenzhen", ""],
        ],
    )
    before = counts()

    result = import_plan(actor=cast.olivia, kind="enterprises", path=path, filename="e.csv")

    assert (result.dry_run, result.rows, result.created, result.updated, result.unchanged) == (
        True,
        3,
        1,
        1,
        1,
    )
    assert result.changes[0] == {
        "row": 2,
        "action": "update",
        "object": BOB_CODE,
        "changes": {"ip_II": {"before": 40, "after": 41}},
    }
    assert result.changes[1]["action"] == "create" and result.changes[1]["row"] == 4
    assert counts() == before
    assert Enterprise.objects.get(pk=cast.bob_co.pk).ip_II == 40


def test_a_dry_run_reports_row_errors_too(cast, tmp_path):
    path = write_csv(tmp_path / "e.csv", [["credit_code", "name", "city"], [HUAWEI, "", "shenzhen"]])
    with pytest.raises(ImportRejected) as info:
        import_plan(actor=cast.olivia, kind="enterprises", path=path, filename="e.csv")
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "name")]


# --- Rows that cannot be imported -----------------------------------------------------------------------------


def test_every_invalid_cell_is_reported_with_row_and_column(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["credit_code", "name", "city", "registered_on", "industry_cluster", "is_sme", "ip_II"],
            [HUAWEI, "华为", "Shen Zhen", "2020-13-01", "chips", "maybe", "-1"],
            [HUAWEI, "华为", "shenzhen", "", "", "", ""],
            ["", "无代码", "chengdu", "", "", "", ""],
        ],
    )

    exc = rejected(cast, path, "enterprises")

    assert [(e.row, e.column, e.value) for e in exc.errors] == [
        (2, "city", "Shen Zhen"),
        (2, "registered_on", "2020-13-01"),
        (2, "industry_cluster", "chips"),
        (2, "is_sme", "maybe"),
        (2, "ip_II", "-1"),
        (3, "credit_code", HUAWEI),
        (4, "credit_code", ""),
    ]
    assert exc.errors[5].reason_zh == "与第2行重复"
    assert Enterprise.objects.count() == 2


def test_a_declaration_for_an_unknown_company_is_a_row_error(cast, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [
            ["credit_code", "fiscal_year", "sales"],
            [HUAWEI, 2024, "1"],
            [ALICE_CODE, 2024, "1"],
            [ALICE_CODE, 2024, "2"],
            [ALICE_CODE, 1900, "2"],
        ],
    )

    exc = rejected(cast, path, "declarations")

    assert [(e.row, e.column, e.reason_zh) for e in exc.errors] == [
        (2, "credit_code", "企业库中没有该企业，请先导入企业"),
        (4, "fiscal_year", "与第3行重复"),
        (5, "fiscal_year", exc.errors[2].reason_zh),
    ]
    assert exc.errors[2].reason_en.startswith("expected a value between 1980 and")
    assert AnnualDeclaration.objects.count() == 0


def test_declarations_keep_provenance_and_consistency_flags(cast, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [
            [
                "credit_code",
                "fiscal_year",
                "employees",
                "rd_staff",
                "sales",
                "sales__source",
                "sales__verified",
            ],
            [ALICE_CODE, 2024, 10, 12, "1,200.5", "税务", "是"],
        ],
    )

    result = apply(cast, path, "declarations")

    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2024)
    assert (declaration.employees, declaration.rd_staff, declaration.sales) == (10, 12, Decimal("1200.5000"))
    assert declaration.provenance == {"sales": {"source": "tax", "verified": True}}
    assert [flag["code"] for flag in declaration.flags] == ["rd_staff_exceeds_employees"]
    assert declaration.submitted_by == cast.olivia
    assert result.flagged == 1


def test_blank_cells_and_absent_columns_change_nothing_and_a_clear_marker_clears(cast, tmp_path):
    apply(
        cast,
        write_csv(
            tmp_path / "d.csv",
            [["credit_code", "fiscal_year", "sales", "rd", "tax"], [ALICE_CODE, 2024, "100", "7", "3"]],
        ),
        "declarations",
    )

    result = apply(
        cast,
        write_csv(tmp_path / "d2.csv", [["credit_code", "fiscal_year", "sales", "tax"], [ALICE_CODE, 2024, "", "清空"]]),
        "declarations",
    )

    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2024)
    assert (declaration.sales, declaration.rd, declaration.tax) == (Decimal("100.0000"), Decimal("7.0000"), None)
    assert result.changes == [{"row": 2, "action": "update", "object": f"{ALICE_CODE} 2024",
                               "changes": {"tax": {"before": "3.0000", "after": None}}}]


# --- Headers and formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["sales", "销售收入", "sales (销售收入)", "sales（销售收入）", " sales  "])
def test_a_header_may_be_the_name_the_label_or_both(cast, tmp_path, header):
    path = write_csv(
        tmp_path / "d.csv",
        [["统一社会信用代码", "fiscal_year (会计年度)", header], [ALICE_CODE, 2024, "100"]],
    )
    apply(cast, path, "declarations")
    assert AnnualDeclaration.objects.get().sales == Decimal(100)


def test_labels_with_parentheses_are_recognised(cast, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [["credit_code", "fiscal_year", "净资产(年末)", "na (净资产(年末))"], [ALICE_CODE, 2024, "1", "1"]],
    )
    exc = rejected(cast, path, "declarations")
    assert [(e.row, e.column, e.reason_en) for e in exc.errors] == [
        (1, "na", "duplicate column: '净资产(年末)' and 'na (净资产(年末))'")
    ]


def test_an_unknown_column_rejects_the_file_and_names_it(cast, tmp_path):
    path = write_csv(tmp_path / "d.csv", [["credit_code", "fiscal_year", "salse"], [ALICE_CODE, 2024, "100"]])

    exc = rejected(cast, path, "declarations")

    assert [(e.row, e.column) for e in exc.errors] == [(1, "salse")]
    assert exc.errors[0].reason_zh == "未知的列“salse”；是否应为 sales？"
    assert exc.errors[0].reason_en == "unknown column 'salse'; did you mean sales?"
    assert AnnualDeclaration.objects.count() == 0


def test_a_missing_key_column_rejects_the_file(cast, tmp_path):
    exc = rejected(
        cast, write_csv(tmp_path / "d.csv", [["credit_code", "sales"], [ALICE_CODE, "1"]]), "declarations"
    )
    assert [(e.row, e.column) for e in exc.errors] == [(1, "fiscal_year")]


def test_other_file_types_are_refused(cast, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("credit_code\n")
    exc = rejected(cast, path, "declarations")
    assert exc.errors[0].reason_en == "only .csv and .xlsx files can be imported"


def test_a_broken_xlsx_file_is_refused(cast, tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("credit_code,fiscal_year\n")
    exc = rejected(cast, path, "declarations")
    assert exc.errors[0].reason_zh == "无法读取该 XLSX 文件"


def test_a_gbk_csv_is_read(cast, tmp_path):
    path = write_csv(
        tmp_path / "e.csv",
        [["统一社会信用代码", "企业名称", "注册地"], [HUAWEI, "华为技术有限公司", "深圳"]],
        encoding="gbk",
    )
    exc = rejected(cast, path, "enterprises")  # 深圳 is not pinyin: the message proves the file was decoded
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(2, "city", "深圳")]


def test_a_utf8_bom_csv_with_tabs_is_read(cast, tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes("credit_code\tname\tcity\n".encode("utf-8-sig") + f"{HUAWEI}\t华为\t重庆\n".encode())
    apply(cast, path, "enterprises")
    assert Enterprise.objects.get(credit_code=HUAWEI).city == "chongqing"


@pytest.mark.parametrize("kind", ["enterprises", "declarations"])
def test_the_xlsx_template_round_trips(cast, tmp_path, kind):
    if kind == "declarations":  # the example declaration belongs to the example enterprise
        apply(cast, _write(tmp_path / "e.xlsx", template_xlsx("enterprises")), "enterprises")
    path = _write(tmp_path / f"{kind}.xlsx", template_xlsx(kind))

    result = apply(cast, path, kind)

    assert (result.rows, result.created) == (1, 1)
    if kind == "declarations":
        declaration = AnnualDeclaration.objects.get()
        assert declaration.sales == Decimal("8650.5")
        assert declaration.provenance == {"sales": {"source": "tax", "verified": False}}
    assert apply(cast, path, kind).unchanged == 1


def test_the_csv_template_has_every_column_as_name_and_label(cast):
    text = template_csv("declarations").decode("utf-8-sig")
    header, example = list(csv.reader(io.StringIO(text)))
    assert header == [column.header for column in columns_for("declarations")]
    assert header[:3] == ["credit_code (统一社会信用代码)", "fiscal_year (会计年度)", "employees (职工总数)"]
    assert "sales__source (销售收入·数据来源)" in header
    assert len(example) == len(header)


def test_an_xlsx_file_with_an_error_reports_the_spreadsheet_row(cast, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["credit_code", "fiscal_year", "sales"])
    sheet.append([ALICE_CODE, 2024, 12.5])
    sheet.append([])  # a blank row keeps its number
    sheet.append([int(HUAWEI), 2024, "x"])
    path = tmp_path / "d.xlsx"
    workbook.save(path)

    exc = rejected(cast, path, "declarations")

    assert [(e.row, e.column) for e in exc.errors] == [(4, "credit_code"), (4, "sales")]
    assert "文本格式" in exc.errors[0].reason_zh


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# --- Access ---------------------------------------------------------------------------------------------------


def test_alice_may_import_only_her_own_company(cast, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [
            ["credit_code", "fiscal_year", "sales"],
            [ALICE_CODE, 2024, "1"],
            [BOB_CODE, 2024, "2"],
            [HUAWEI, 2024, "3"],
        ],
    )

    exc = rejected(cast, path, "declarations", actor=cast.alice)

    assert [(e.row, e.column, e.value, e.reason_zh) for e in exc.errors] == [
        (3, "credit_code", BOB_CODE, "无权修改该企业"),
        (4, "credit_code", HUAWEI, "无权修改该企业"),  # not "not in the registry": no probing
    ]
    assert AnnualDeclaration.objects.count() == 0

    result = apply(
        cast,
        write_csv(tmp_path / "mine.csv", [["credit_code", "fiscal_year", "sales"], [ALICE_CODE, 2024, "1"]]),
        "declarations",
        cast.alice,
    )
    assert result.created == 1
    assert AuditEntry.objects.get().actor == cast.alice


def test_alice_may_not_add_enterprises(cast, tmp_path):
    path = write_csv(tmp_path / "e.csv", [["credit_code", "name", "city"], [HUAWEI, "华为", "shenzhen"]])
    exc = rejected(cast, path, "enterprises", actor=cast.alice)
    assert exc.errors[0].reason_zh == "无权修改该企业"  # the same whether or not the company exists


@pytest.mark.parametrize("who", ["charlie", "bella"])
def test_people_without_a_company_may_not_import(cast, tmp_path, who):
    path = write_csv(tmp_path / "d.csv", [["credit_code", "fiscal_year"], [ALICE_CODE, 2024]])
    with pytest.raises(Forbidden):
        apply(cast, path, "declarations", actor=getattr(cast, who))


@pytest.mark.parametrize(("kind", "header", "row", "column"), [
    ("declarations", ["credit_code", "fiscal_year", "employees"], [ALICE_CODE, "清空", "3"], "fiscal_year"),
    ("declarations", ["credit_code", "fiscal_year", "employees"], ["clear", "2024", "3"], "credit_code"),
    ("enterprises", ["credit_code", "name", "city"], ["clear", "华为", "chongqing"], "credit_code"),
])
def test_a_clear_marker_in_a_key_column_is_a_row_error(cast, tmp_path, kind, header, row, column):
    # Found by the type checker: a key column holding the clear marker crashed the import.
    exc = rejected(cast, write_csv(tmp_path / "k.csv", [header, row]), kind)
    assert [(e.row, e.column, e.reason_zh) for e in exc.errors] == [(2, column, "必填项不能为空")]
    assert counts() == (2, 0, 0)
