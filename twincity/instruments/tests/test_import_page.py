"""导入仪器目录, the page: the same people as the API (access.can_import_catalogue), the same write path
(catalogue_io.catalogue_import), the counts of a good file, and a bad file's errors with their row and column as the
API answers them, nothing written."""

import re
from datetime import date
from decimal import Decimal

from twincity.core.models import AuditEntry
from twincity.instruments import catalogue_io
from twincity.instruments.models import Instrument, Price, ServiceItem
from twincity.instruments.tests.test_catalogue_io import new_row, sheet_rows, upload, workbook

PAGE = "/instruments/import/"
API = "/api/instruments/catalogue/import"


def _counts():
    return (Instrument.objects.count(), ServiceItem.objects.count(), Price.objects.count(),
            AuditEntry.objects.count())


def _stat(page: str, name: str) -> str:
    return re.search(rf'<div class="stat" data-count="{name}"><div class="value">([^<]*)</div>', page).group(1)


def test_owners_staff_import_a_good_file_from_the_page_and_see_the_counts(client, cast, sem):
    rows = sheet_rows(catalogue_io.catalogue_xlsx(actor=cast.owen, on=date(2026, 12, 7)))
    rows[1][7] = 3300000  # original value of the SEM
    data = workbook([rows[0], rows[1], new_row()])
    client.force_login(cast.owen)
    catalogue = client.get("/instruments/").content.decode()
    assert '<a class="button" href="/instruments/import/" data-link="catalogue-import">从 Excel 导入仪器目录</a>' in catalogue
    assert client.get(PAGE).status_code == 200

    response = client.post(PAGE, {"file": upload(data)})

    assert response.status_code == 200
    page = response.content.decode()
    assert [(name, _stat(page, name)) for name in ("rows", "created", "updated", "unchanged")] == [
        ("rows", "2"), ("created", "1"), ("updated", "1"), ("unchanged", "0")]
    assert "data-import-refused" not in page and '<div class="label">新增仪器</div>' in page
    sem.refresh_from_db()
    assert sem.original_value == Decimal("3300000.00")
    tem = Instrument.objects.get(name_zh="透射电子显微镜")
    assert (tem.owner, tem.category.code, tem.original_value) == (cast.institute, "0106", Decimal("12500000.00"))
    assert AuditEntry.objects.filter(object_type="instruments.instrument", action="create").count() == 1


def test_a_bad_file_shows_each_error_with_its_row_and_column_as_the_api_does_and_writes_nothing(client, cast, sem):
    data = workbook([
        catalogue_io.header(),
        new_row(category="9999"),
        new_row(name_zh="原子力显微镜", original_value="三百万", price_academic=-1),
        new_row(name_zh="原子力显微镜", service_code="afm-2", city="上海", original_value="三百万"),
        new_row(name_zh="拉曼光谱仪", service_code="", service_name_zh="机时"),
    ])
    before = _counts()
    client.force_login(cast.owen)

    response = client.post(PAGE, {"file": upload(data)})

    assert response.status_code == 422
    page = response.content.decode()
    shown = re.findall(r'<tr data-error-row="(\d+)" data-error-column="([^"]+)"><td class="num">\1</td>'
                       r'<td class="mono">\2</td><td class="mono">([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
                       page)
    assert [(int(row), column) for row, column, *_ in shown] == [
        (2, "category"), (3, "original_value"), (3, "price_academic"), (4, "original_value"), (4, "city"),
        (5, "service_code")]
    api = client.post(API, {"file": upload(data)}, format="multipart").json()
    assert [(int(row), column, value, zh, en) for row, column, value, zh, en in shown] == [
        (e["row"], e["column"], e["value"], e["reason_zh"], e["reason_en"]) for e in api["extra"]["errors"]]
    assert f'<p class="flag">{api["message"]}</p>' in page
    assert "data-import-result" not in page
    assert _counts() == before


def test_a_file_that_is_not_a_workbook_is_refused_on_the_page(client, cast):
    client.force_login(cast.olivia)
    response = client.post(PAGE, {"file": upload(b"hello", name="c.xlsx")})
    assert response.status_code == 422
    assert 'class="flag">导入被拒绝：c.xlsx 中有 1 处错误，未写入任何数据' in response.content.decode()
    response = client.post(PAGE, {"file": upload(b"a,b", name="c.csv")})
    assert response.status_code == 422
    assert '<p class="flag">只支持 .xlsx 文件 (only .xlsx files)</p>' in response.content.decode()


def test_the_page_answers_those_without_the_right_as_the_api_does(client, cast, sem):
    data = workbook([catalogue_io.header(), new_row()])
    before = _counts()
    for persona in ("alice", "charlie", "bella"):
        client.force_login(getattr(cast, persona))
        assert client.post(API, {"file": upload(data)}, format="multipart").status_code == 403
        assert (client.get(PAGE).status_code, client.post(PAGE, {"file": upload(data)}).status_code) == (403, 403)
        assert "catalogue-import" not in client.get("/instruments/").content.decode()
    client.logout()
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert _counts() == before
