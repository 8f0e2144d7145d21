"""The import page: upload, progress partial, result and error table; templates; the command line."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from twincity.core.models import AuditEntry
from twincity.enterprises.imports.jobs import import_job_progress
from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob
from twincity.testing import ALICE_CODE, BOB_CODE

HUAWEI = "914403001922038216"


@pytest.fixture(autouse=True)
def _inline(settings, tmp_path):
    settings.IMPORT_RUN_INLINE = True  # no background thread with the in-memory test database
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_file(text: str, name: str = "d.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_alice_imports_her_declarations_and_sees_the_result(cast, client):
    client.force_login(cast.alice)

    r = client.post(
        "/enterprises/import/",
        {
            "kind": "declarations",
            "action": "import",
            "file": csv_file(f"credit_code,fiscal_year,sales\n{ALICE_CODE},2024,10\n"),
        },
        follow=True,
    )

    job = ImportJob.objects.get()
    assert r.redirect_chain == [(f"/enterprises/import/jobs/{job.pk}/", 302)]
    assert (job.status, job.dry_run, job.created_by, job.filename) == ("done", False, cast.alice, "d.csv")
    assert job.result["created"] == 1
    assert job.stored_path.startswith("imports/") and job.finished_at is not None
    assert AnnualDeclaration.objects.get().sales == 10
    page = r.content.decode()
    assert '<div style="width:100%">' in page
    assert "hx-trigger" not in page  # finished: no more polling
    assert f"{ALICE_CODE} 2024" in page


def test_a_preview_writes_nothing_and_offers_the_real_import(cast, client):
    client.force_login(cast.olivia)

    r = client.post(
        "/enterprises/import/",
        {
            "kind": "enterprises",
            "action": "preview",
            "file": csv_file(f"credit_code,name,city\n{HUAWEI},华为技术有限公司,shenzhen\n", "e.csv"),
        },
        follow=True,
    )

    preview = ImportJob.objects.get()
    assert (preview.dry_run, preview.status, preview.result["created"]) == (True, "done", 1)
    assert Enterprise.objects.filter(credit_code=HUAWEI).count() == 0
    assert 'name="from_job"' in r.content.decode()

    client.post("/enterprises/import/", {"from_job": preview.pk})

    job = ImportJob.objects.exclude(pk=preview.pk).get()
    assert (job.dry_run, job.status, job.stored_path) == (False, "done", preview.stored_path)
    assert Enterprise.objects.get(credit_code=HUAWEI).name == "华为技术有限公司"


def test_a_rejected_file_shows_the_error_table(cast, client):
    client.force_login(cast.alice)

    r = client.post(
        "/enterprises/import/",
        {
            "kind": "declarations",
            "action": "import",
            "file": csv_file(f"credit_code,fiscal_year,sales\n{ALICE_CODE},2024,abc\n{BOB_CODE},2024,1\n"),
        },
        follow=True,
    )

    job = ImportJob.objects.get()
    assert job.status == "rejected"
    assert job.result["error_count"] == 2
    assert [e["row"] for e in job.result["errors"]] == [2, 3]
    page = r.content.decode()
    assert "不是有效数字" in page and "not a number" in page and "无权修改该企业" in page
    assert (AnnualDeclaration.objects.count(), AuditEntry.objects.count()) == (0, 0)


def test_the_status_partial_polls_while_the_job_runs(cast, client):
    client.force_login(cast.alice)
    job = ImportJob.objects.create(
        created_by=cast.alice,
        kind="declarations",
        filename="d.csv",
        stored_path="imports/x.csv",
        status="running",
        done=30,
        total=120,
    )

    r = client.get(f"/enterprises/import/jobs/{job.pk}/", headers={"HX-Request": "true"})

    page = r.content.decode()
    assert page.lstrip().startswith('<section id="job-status"')
    assert "<h1>" not in page
    assert 'hx-trigger="every 1s"' in page and 'hx-target="#job-status"' in page
    assert '<div style="width:25%">' in page
    assert import_job_progress(job) == (30, 120)


def test_jobs_of_others_are_hidden(cast, client):
    job = ImportJob.objects.create(
        created_by=cast.alice, kind="declarations", filename="d.csv", stored_path="imports/x.csv"
    )
    client.force_login(cast.bob)
    assert client.get(f"/enterprises/import/jobs/{job.pk}/").status_code == 404
    client.force_login(cast.olivia)
    assert client.get(f"/enterprises/import/jobs/{job.pk}/").status_code == 200


@pytest.mark.parametrize("who", ["charlie", "bella"])
def test_the_page_is_refused_to_people_without_a_company(cast, client, who):
    client.force_login(getattr(cast, who))
    assert client.get("/enterprises/import/").status_code == 403


def test_a_wrong_file_type_is_refused_on_the_form(cast, client):
    client.force_login(cast.alice)
    r = client.post(
        "/enterprises/import/", {"kind": "declarations", "action": "import", "file": csv_file("x", "d.pdf")}
    )
    assert r.status_code == 422
    assert "只支持 .csv 和 .xlsx 文件" in r.content.decode()
    assert ImportJob.objects.count() == 0


def test_the_templates_download(cast, client):
    client.force_login(cast.alice)

    csv_response = client.get("/enterprises/import/template/declarations.csv")
    xlsx_response = client.get("/enterprises/import/template/enterprises.xlsx")

    assert csv_response.status_code == 200
    assert csv_response.content.decode("utf-8-sig").startswith(
        "credit_code (统一社会信用代码),fiscal_year (会计年度),"
    )
    assert xlsx_response["Content-Disposition"] == 'attachment; filename="enterprises-template.xlsx"'
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("credit_code (统一社会信用代码)", "name (企业名称)")
    assert len(rows) == 2
    assert client.get("/enterprises/import/template/users.csv").status_code == 404


# --- manage.py import_registry --------------------------------------------------------------------------------


def test_the_command_imports_as_the_system(cast, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(f"credit_code,name,city\n{HUAWEI},华为技术有限公司,shenzhen\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_registry", str(path), kind="enterprises", stdout=out, stderr=err)

    assert out.getvalue().strip() == "e.csv: 1 rows; 1 were created, 0 were updated, 0 unchanged"
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.context, entry.action) == (None, "import e.csv", "create")


def test_the_command_lists_the_errors_and_fails(cast, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(f"credit_code,name,city\n{HUAWEI[:-1]}7,华为,shenzhen\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="import rejected: 1 error"):
        call_command("import_registry", str(path), kind="enterprises", dry_run=True, stderr=err)

    assert "row 2, credit_code, '914403001922038217': 统一社会信用代码校验位错误" in err.getvalue()
    assert Enterprise.objects.count() == 2


def test_the_command_acts_as_a_user(cast, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f"credit_code,fiscal_year,sales\n{BOB_CODE},2024,1\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command(
            "import_registry", str(path), kind="declarations", username="alice", stderr=io.StringIO()
        )
    call_command(
        "import_registry",
        str(path),
        kind="declarations",
        username="bob",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert AnnualDeclaration.objects.get().submitted_by == cast.bob


def test_the_page_offers_the_form_and_the_templates(cast, client):
    client.force_login(cast.alice)

    r = client.get("/enterprises/import/")

    assert r.status_code == 200
    page = r.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="action" value="preview"' in page and 'name="action" value="import"' in page
    for link in ("enterprises.csv", "enterprises.xlsx", "declarations.csv", "declarations.xlsx"):
        assert f'href="/enterprises/import/template/{link}"' in page
    assert 'id="job-status"' not in page


def test_a_long_error_list_says_how_many_are_shown(cast, client):
    error = {
        "row": 2,
        "column": "sales",
        "value": "x",
        "reason_zh": "不是有效数字",
        "reason_en": "not a number",
    }
    job = ImportJob.objects.create(
        created_by=cast.alice,
        kind="declarations",
        filename="d.csv",
        stored_path="imports/x.csv",
        status="rejected",
        result={"message": "导入被拒绝", "errors": [error] * 200, "error_count": 1234},
    )
    client.force_login(cast.alice)

    page = client.get(f"/enterprises/import/jobs/{job.pk}/", headers={"Accept-Language": "en"}).content.decode()

    assert "The first 200 of 1,234 errors:" in page
    assert page.count("<td>not a number</td>") == 200


def test_a_malformed_preview_job_id_is_not_found_not_a_server_error(client, cast):
    client.force_login(cast.alice)
    assert client.post("/enterprises/import/", {"from_job": "abc"}).status_code == 404
    assert client.post("/enterprises/import/", {"from_job": "9" * 40}).status_code == 404
