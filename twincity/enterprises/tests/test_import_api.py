"""POST /api/imports/{kind} and GET /api/imports/template/{kind}, through the real URLs (error handlers run)."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from twincity.core.models import AuditEntry
from twincity.enterprises.models import AnnualDeclaration
from twincity.testing import ALICE_CODE, BOB_CODE


def upload(rows, name="d.csv"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def post(client, kind, rows, query=""):
    return client.post(f"/api/imports/{kind}{query}", {"file": upload(rows)})


def test_it_imports_and_answers_the_counts(cast, client):
    client.force_login(cast.alice)

    r = post(client, "declarations", [["credit_code", "fiscal_year", "sales"], [ALICE_CODE, 2024, "10"]])

    assert r.status_code == 200
    body = r.json()
    assert (body["dry_run"], body["rows"], body["created"], body["updated"], body["unchanged"]) == (
        False,
        1,
        1,
        0,
        0,
    )
    assert body["filename"] == "d.csv"
    assert AnnualDeclaration.objects.get().sales == 10
    assert AuditEntry.objects.get().context == "import d.csv"


def test_a_dry_run_writes_nothing(cast, client):
    client.force_login(cast.olivia)

    r = post(
        client,
        "declarations",
        [["credit_code", "fiscal_year", "sales"], [BOB_CODE, 2024, "10"]],
        "?dry_run=true",
    )

    assert r.status_code == 200
    assert (r.json()["dry_run"], r.json()["created"]) == (True, 1)
    assert AnnualDeclaration.objects.count() == 0


def test_a_rejected_file_answers_422_with_every_row_error(cast, client):
    client.force_login(cast.alice)

    r = post(
        client,
        "declarations",
        [["credit_code", "fiscal_year", "sales"], [ALICE_CODE, 2024, "abc"], [BOB_CODE, 2024, "1"]],
    )

    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import_rejected"
    assert body["message"].startswith("导入被拒绝")
    assert body["extra"] == {
        "error_count": 2,
        "errors": [
            {
                "row": 2,
                "column": "sales",
                "value": "abc",
                "reason_zh": "不是有效数字",
                "reason_en": "not a number",
            },
            {
                "row": 3,
                "column": "credit_code",
                "value": BOB_CODE,
                "reason_zh": "无权修改该企业",
                "reason_en": "you may not change this enterprise",
            },
        ],
    }
    assert AnnualDeclaration.objects.count() == 0


def test_charlie_is_refused(cast, client):
    client.force_login(cast.charlie)
    r = post(client, "declarations", [["credit_code", "fiscal_year"], [ALICE_CODE, 2024]])
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_anonymous_callers_are_refused(cast, client):
    r = post(client, "declarations", [["credit_code", "fiscal_year"], [ALICE_CODE, 2024]])
    assert r.status_code == 401


def test_an_unknown_kind_is_a_schema_error(cast, client):
    client.force_login(cast.olivia)
    r = post(client, "qualifications", [["credit_code"], [ALICE_CODE]])
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"


def test_the_csv_template(cast, client):
    client.force_login(cast.alice)

    r = client.get("/api/imports/template/enterprises")

    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:3] == ["credit_code (统一社会信用代码)", "name (企业名称)", "city (注册地)"]
