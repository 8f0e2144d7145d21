"""The catalogue in Excel: export, re-import unchanged (nothing written), import new instruments and prices through
the services, every error with its row and column (422, nothing written), access; and the GB/T 30523 export."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from twincity.core.models import AuditEntry
from twincity.enterprises.imports.service import ImportRejected
from twincity.instruments import catalogue_io
from twincity.instruments.models import Instrument, Price, ServiceItem
from twincity.instruments.tests.conftest import make_instrument

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "catalogue.xlsx") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def sheet_rows(data: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def new_row(**cells) -> list:
    base = {
        "owner": "重庆大学分析测试中心",
        "name_zh": "透射电子显微镜",
        "model": "JEM-2100F",
        "maker": "JEOL",
        "category": "0106",
        "original_value": 12500000,
        "service_code": "tem-hour",
        "service_name_zh": "机时",
        "price_internal": 480,
        "price_academic": 840,
        "price_industry": 1200,
        "price_valid_from": "2026-12-01",
    }
    base.update(cells)
    return [base.get(key, None) for key, _label in catalogue_io.COLUMNS]


def test_the_export_reimports_unchanged(cast, sem):
    data = catalogue_io.catalogue_xlsx(actor=cast.owen, on=date(2026, 12, 7))
    rows = sheet_rows(data)
    assert rows[0] == catalogue_io.header()
    assert rows[1][:3] == [str(sem.public_id), "重庆大学分析测试中心", "场发射扫描电子显微镜"]
    assert rows[1][14:] == ["machine-time", "机时", "hour", "是", 240, 420, 600, "2026-01-01"]
    audits, prices = AuditEntry.objects.count(), Price.objects.count()

    result = catalogue_io.catalogue_import(actor=cast.owen, data=data, filename="instruments.xlsx")

    assert result.as_dict() == {"rows": 1, "created": 0, "updated": 0, "unchanged": 1, "items": 1, "price_lines": 0}
    assert (AuditEntry.objects.count(), Price.objects.count()) == (audits, prices)


def test_an_import_adds_instruments_items_and_price_lines_through_the_services(cast, sem):
    rows = sheet_rows(catalogue_io.catalogue_xlsx(actor=cast.owen, on=date(2026, 12, 7)))
    rows[1][7] = 3300000  # original value of the SEM
    rows[1][20] = 650  # a new industry price from 2026-12-01
    rows[1][21] = "2026-12-01"
    data = workbook(
        [
            rows[0],
            rows[1],
            new_row(),
            new_row(service_code="tem-eds", service_name_zh="能谱分析", service_unit="per sample", price_industry=300),
        ]
    )

    result = catalogue_io.catalogue_import(actor=cast.owen, data=data, filename="c.xlsx")

    assert result.as_dict() == {"rows": 3, "created": 1, "updated": 1, "unchanged": 0, "items": 3, "price_lines": 7}
    sem.refresh_from_db()
    assert sem.original_value == Decimal("3300000.00")
    assert list(
        Price.objects.filter(service_item__instrument=sem, rate_class="industry").values_list("valid_from", "amount")
    ) == [(date(2026, 12, 1), Decimal("650.00")), (date(2026, 1, 1), Decimal("600.00"))]
    tem = Instrument.objects.get(name_zh="透射电子显微镜")
    assert (tem.owner, tem.city, tem.category.code, tem.original_value) == (
        cast.institute,
        "chongqing",
        "0106",
        Decimal("12500000.00"),
    )
    assert list(tem.service_items.order_by("code").values_list("code", "unit")) == [
        ("tem-eds", "sample"),
        ("tem-hour", "hour"),
    ]
    assert Price.objects.filter(service_item__instrument=tem).count() == 6
    created = AuditEntry.objects.filter(object_type="instruments.instrument", action="create").get()
    assert (created.actor, created.object_id) == (cast.owen, str(tem.pk))


def test_every_error_is_reported_with_its_row_and_column_and_nothing_is_written(client, cast, sem):
    header = catalogue_io.header()
    data = workbook(
        [
            header,
            new_row(category="9999"),
            new_row(name_zh="原子力显微镜", original_value="三百万", price_academic=-1),
            new_row(name_zh="原子力显微镜", service_code="afm-2", city="上海", original_value="三百万"),
            new_row(name_zh="拉曼光谱仪", service_code="", service_name_zh="机时"),
        ]
    )
    counts = (
        Instrument.objects.count(),
        ServiceItem.objects.count(),
        Price.objects.count(),
        AuditEntry.objects.count(),
    )
    client.force_login(cast.owen)

    response = client.post("/api/instruments/catalogue/import", {"file": upload(data)}, format="multipart")

    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "import_rejected"
    assert [(e["row"], e["column"]) for e in body["extra"]["errors"]] == [
        (2, "category"),
        (3, "original_value"),
        (3, "price_academic"),
        (4, "original_value"),
        (4, "city"),
        (5, "service_code"),
    ]
    assert body["extra"]["errors"][4]["reason_en"] == "expected one of chengdu、chongqing"
    assert counts == (
        Instrument.objects.count(),
        ServiceItem.objects.count(),
        Price.objects.count(),
        AuditEntry.objects.count(),
    )


def test_cells_of_one_instrument_must_agree_and_a_service_refusal_rolls_back_everything(cast, sem):
    data = workbook([catalogue_io.header(), new_row(), new_row(service_code="tem-2", site="另一栋楼")])
    with pytest.raises(ImportRejected) as caught:
        catalogue_io.catalogue_import(actor=cast.owen, data=data, filename="c.xlsx")
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "site")]

    # A price line of the same day with another amount is refused by price_set (lines are never changed); the
    # new instrument of the row before is rolled back with it.
    rows = sheet_rows(catalogue_io.catalogue_xlsx(actor=cast.owen, on=date(2026, 12, 7)))
    rows[1][20] = 999  # industry price from 2026-01-01, which already says 600
    before = Instrument.objects.count()
    with pytest.raises(ImportRejected) as caught:
        catalogue_io.catalogue_import(actor=cast.owen, data=workbook([rows[0], new_row(), rows[1]]), filename="c.xlsx")
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "price_industry")]
    assert Instrument.objects.count() == before
    assert not Instrument.objects.filter(name_zh="透射电子显微镜").exists()


def test_owners_staff_import_only_their_own_institution(cast):
    other = make_instrument(cast.institute, name="别家仪器")
    other.owner = type(cast.institute).objects.create(kind="institute", name="四川大学分析测试中心", city="chengdu")
    other.save()
    data = workbook([catalogue_io.header(), new_row(owner="四川大学分析测试中心")])
    with pytest.raises(ImportRejected) as caught:
        catalogue_io.catalogue_import(actor=cast.owen, data=data, filename="c.xlsx")
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "owner")]
    assert "本单位" in caught.value.errors[0].reason_zh
    # The export holds only owen's institution's instruments.
    assert len(sheet_rows(catalogue_io.catalogue_xlsx(actor=cast.owen))) == 1


def test_unknown_columns_and_files_are_refused(client, cast):
    client.force_login(cast.olivia)
    data = workbook([["仪器名称", "分类代码", "原值（元）", "颜色"]])
    response = client.post("/api/instruments/catalogue/import", {"file": upload(data)}, format="multipart")
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["extra"]["errors"]] == [(1, "颜色")]
    not_xlsx = io.BytesIO(b"hello")
    not_xlsx.name = "c.xlsx"
    response = client.post("/api/instruments/catalogue/import", {"file": not_xlsx}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (422, "import_rejected")


def test_the_api_exports_and_checks_access(client, cast, sem):
    client.force_login(cast.charlie)
    assert client.get("/api/instruments/catalogue/export.xlsx").status_code == 403
    client.force_login(cast.alice)
    assert client.get("/api/instruments/catalogue/export.xlsx").status_code == 403
    response = client.get("/api/instruments/catalogue/gbt30523.xlsx")
    assert (response.status_code, response["Content-Type"]) == (200, XLSX)
    rows = sheet_rows(response.content)
    assert rows[0] == list(catalogue_io.GBT30523_HEADER)
    row = dict(zip(rows[0], rows[1]))
    assert row["资源标识"] == f"urn:uuid:{sem.public_id}"
    assert (row["资源名称"], row["资源分类代码"], row["规格型号"], row["生产制造商"]) == (
        "场发射扫描电子显微镜",
        "0106",
        "Sigma 300",
        "ZEISS 卡尔蔡司",
    )
    assert (row["资源提供者"], row["所在地"], row["原值（万元）"], row["共享方式"], row["运行状态"]) == (
        "重庆大学分析测试中心",
        "重庆 重庆大学虎溪校区理科楼",
        320,
        "委托测试",
        "正常",
    )
    assert row["服务内容与收费标准"] == "机时：校内 240.00 元/小时，校外科研 420.00 元/小时，企业 600.00 元/小时"
    assert row["在线服务地址"] == f"http://testserver/instruments/{sem.public_id}/"
    client.force_login(cast.owen)
    response = client.get("/api/instruments/catalogue/export.xlsx")
    assert (response.status_code, response["Content-Type"]) == (200, XLSX)
