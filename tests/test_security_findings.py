"""The security and integrity findings of the review "One rule in one place", each as the request that found it.
Every test here failed before its fix."""

import csv
import io
import json
import threading
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from twincity.core.errors import Conflict
from twincity.core.models import AuditEntry
from twincity.enterprises import services as enterprise_services
from twincity.enterprises.imports import ImportRejected, import_apply
from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob, Qualification
from twincity.enterprises.selectors import enterprise_history
from twincity.points import services as points_services
from twincity.points.models import ScoreResult, ScoringRun
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE, PASSWORD, Cast

INJECTION = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


def _csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


# --- a company user marked its own figures verified ---------------------------------------------------------


@pytest.fixture
def verified_history(cast):
    """alice's 2024 and 2025 headcounts, 72 each, verified by an administrator from social security."""
    for year in (2024, 2025):
        enterprise_services.declaration_upsert(
            actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=year, figures={"employees": 72},
            provenance={"employees": {"source": "social_security", "verified": True}})


def test_alice_cannot_mark_a_figure_verified_through_an_import(cast, tmp_path, verified_history):
    path = _csv(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees", "employees__source",
                                      "employees__verified"], [ALICE_CODE, "2025", "999999", "social_security", "true"]])

    with pytest.raises(ImportRejected) as rejected:
        import_apply(actor=cast.alice, kind="declarations", path=path, filename="d.csv")

    assert [(e.row, e.column, e.reason_en) for e in rejected.value.errors] == [
        (2, "employees", "only administrators verify figures")]
    assert AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025).employees == 72


def test_alice_cannot_mark_a_figure_verified_through_the_api(client, cast, verified_history):
    client.force_login(cast.alice)
    response = client.put(f"/api/enterprises/{ALICE_CODE}/declarations/2025", json.dumps(
        {"figures": {"employees": 999999}, "provenance": {"employees": {"source": "social_security",
                                                                        "verified": True}}}),
        content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025).employees == 72


def test_changing_a_verified_figure_drops_its_verification_and_a_jump_is_flagged(cast, tmp_path,
                                                                                  verified_history):
    path = _csv(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees", "employees__source"],
                                     [ALICE_CODE, "2025", "999999", "social_security"]])

    import_apply(actor=cast.alice, kind="declarations", path=path, filename="d.csv")

    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025)
    assert stored.employees == 999999
    assert stored.provenance == {"employees": {"source": "social_security", "verified": False}}
    assert [(flag["code"], flag["fields"]) for flag in stored.flags] == [("year_over_year_jump", ["employees"])]


# --- formula injection in exports ----------------------------------------------------------------------------


def test_alice_cannot_rename_her_company(client, cast):
    client.force_login(cast.alice)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"name": INJECTION}),
                            content_type="application/json")
    assert response.status_code == 403
    assert Enterprise.objects.get(pk=cast.alice_co.pk).name == "重庆金凤微电子科技有限公司"


def test_exports_write_text_as_text(client, cast):
    scenario.seed(cast)
    enterprise_services.enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"name": INJECTION})
    run = scenario.run(cast, "tsme-2017")
    client.force_login(cast.olivia)

    csv_text = client.get(f"/points/runs/{run.public_id}/whitelist.csv").content.decode("utf-8-sig")
    xlsx = client.get(f"/points/runs/{run.public_id}/whitelist.xlsx").content

    rows = list(csv.reader(io.StringIO(csv_text)))
    assert "'" + INJECTION in [row[1] for row in rows]
    assert INJECTION not in [row[1] for row in rows]
    cells = [row[1] for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows()]
    injected = next(cell for cell in cells if cell.value == INJECTION)
    assert injected.data_type == "s"  # a string, not a formula ("f")


# --- history and deletion ------------------------------------------------------------------------------------


def test_the_history_keeps_deleted_declarations_and_cascaded_qualifications(cast):
    declaration = enterprise_services.declaration_upsert(actor=cast.alice, enterprise=cast.alice_co,
                                                         fiscal_year=2024, figures={"employees": 40})
    enterprise_services.qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="hnte",
                                          certificate_no="GR202450000137", valid_from=date(2024, 11, 28))
    enterprise_services.declaration_delete(actor=cast.alice, declaration=declaration)
    history = [(e.object_type, e.action) for e in enterprise_history(enterprise=cast.alice_co)]
    assert history == [("enterprises.annualdeclaration", "delete"), ("enterprises.qualification", "create"),
                       ("enterprises.annualdeclaration", "create")]

    enterprise_services.enterprise_delete(actor=cast.olivia, enterprise=cast.alice_co)

    deleted = AuditEntry.objects.filter(action="delete").order_by("id")
    assert [e.object_type for e in deleted] == ["enterprises.annualdeclaration", "enterprises.qualification",
                                                "enterprises.enterprise"]
    assert not Qualification.objects.exists()
    assert {e.subject for e in AuditEntry.objects.all()} == {f"enterprises.enterprise:{cast.alice_co.pk}"}


def test_an_enterprise_with_finished_results_cannot_be_deleted(client, cast):
    scenario.seed(cast)
    scenario.run(cast, "tsme-2017")
    client.force_login(cast.olivia)

    response = client.delete(f"/api/enterprises/{ALICE_CODE}")

    assert response.status_code == 409
    assert response.json()["code"] == "enterprise_has_results"
    assert Enterprise.objects.filter(pk=cast.alice_co.pk).exists()
    assert ScoreResult.objects.filter(enterprise=cast.alice_co).count() == 1
    with pytest.raises(Conflict):
        enterprise_services.enterprise_delete(actor=cast.olivia, enterprise=cast.alice_co)


@pytest.mark.django_db(transaction=True)
def test_deleting_an_enterprise_while_a_run_writes_does_not_fail_the_run(monkeypatch):
    cast = Cast.create()
    scenario.seed(cast)
    standard = scenario.selectors.standard_get(standard_id="tsme-2017", version="1")
    run = points_services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=scenario.EVAL)
    second_chunk, deleted = threading.Event(), threading.Event()
    original = points_services._save_chunk
    calls = []

    def pause_before_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # alice's result is stored; bob's chunk is scored but not yet written
            second_chunk.set()
            deleted.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(points_services, "_save_chunk", pause_before_the_second_chunk)
    outcome = {}

    def execute():
        try:
            outcome["run"] = points_services.scoring_run_execute(run_id=run.pk, batch_size=1)
        finally:
            connection.close()

    worker = threading.Thread(target=execute)
    worker.start()
    assert second_chunk.wait(timeout=30)
    enterprise_services.enterprise_delete(actor=cast.olivia, enterprise=cast.bob_co)
    deleted.set()
    worker.join(timeout=60)

    finished = ScoringRun.objects.get(pk=run.pk)
    assert (finished.status, finished.error) == ("done", "")
    assert list(finished.results.values_list("enterprise__credit_code", flat=True)) == [ALICE_CODE]
    assert finished.done == 1 and finished.verdict_counts == {"pass": 1}
    assert not Enterprise.objects.filter(pk=cast.bob_co.pk).exists()


# --- login throttling behind a proxy, upload size, local dates, the standards list ---------------------------


def _fail(client, address_chain: str):
    return client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.2",
                       HTTP_X_FORWARDED_FOR=address_chain)


def test_the_login_throttle_keys_on_the_client_the_proxy_reports(settings, cast):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        _fail(client, "203.0.113.7")
    # The first client is throttled even with the right password, and even when it forges the header…
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2",
                       HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7").status_code == 200
    # …while another client behind the same proxy still logs in.
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert response.status_code == 302


def test_an_upload_above_the_limit_is_refused_with_413(client, cast, settings):
    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(cast.alice)
    big = SimpleUploadedFile("d.csv", b"credit_code,fiscal_year,employees\n" + b"x" * 2000, "text/csv")

    api = client.post("/api/imports/declarations", {"file": big})
    big.seek(0)
    page = client.post("/enterprises/import/", {"kind": "declarations", "file": big, "action": "import"})

    assert api.status_code == 413
    assert api.json()["code"] == "too_large" and api.json()["extra"]["max_bytes"] == 1000
    assert page.status_code == 413
    assert not ImportJob.objects.exists()


def test_the_fiscal_year_follows_the_local_date(cast):
    # 16:30 UTC on New Year's Eve is already 2027 in Chongqing and Chengdu.
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=new_year):
        assert enterprise_services.fiscal_year_max() == 2027
        enterprise_services.declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=2027,
                                               figures={"employees": 1})
    assert AnnualDeclaration.objects.filter(fiscal_year=2027).count() == 1


def test_the_standards_list_makes_a_fixed_number_of_queries(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    base = scenario.selectors.standard_get(standard_id="tsme-2017", version="1")
    client.force_login(cast.olivia)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = {url: queries(url) for url in ("/points/standards/", "/api/points/standards")}
    for number in range(2, 8):  # six more versions, each naming the administrator who made it
        points_services.standard_version_create(actor=cast.olivia, base=base, definition=base.definition,
                                                version=str(number))
    after = {url: queries(url) for url in ("/points/standards/", "/api/points/standards")}
    assert after == before
