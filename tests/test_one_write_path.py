"""One write path per entity: the API and an import store the same row for the same input, and re-importing
after an API save changes nothing (no write, no audit entry). Runs on SQLite and PostgreSQL (CI runs the suite
on both)."""

import csv
import json

import pytest
from django.db import connection

from twincity.core.models import AuditEntry
from twincity.enterprises.fields import ENTERPRISE_FIELDS, FIGURE_NAMES
from twincity.enterprises.imports import import_apply
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.testing import ALICE_CODE

YEAR = 2024
# The same declaration as a JSON body and as a file row (numbers written differently on purpose).
API_BODY = {
    "figures": {"employees": 88, "tech_staff": 40, "rd_staff": 29, "sales": 3985.27, "oprev": "3985.27",
                "main": "3810", "rd": "303.7700", "cost": 3577.8, "assets": "4630.9", "liab": "1902.35",
                "na": "2728.55", "tax": 166.9, "tech_contract": "62.5"},
    "provenance": {"sales": {"source": "tax"}, "employees": {"source": "social_security"}},
}
FILE_HEADER = ["credit_code", "fiscal_year", "employees", "tech_staff", "rd_staff", "sales", "oprev", "main", "rd",
               "cost", "assets", "liab", "na", "tax", "tech_contract", "hitech_rev", "sales__source",
               "employees__source"]
FILE_ROW = ["88", "40", "29", "3,985.27", "3985.27", "3810.00", "303.77", "3577.8", "4630.90", "1902.35",
            "2728.55", "166.90", "62.5", "", "tax", "social_security"]  # hitech_rev blank: unknown, not 0
STORED = ["fiscal_year", *FIGURE_NAMES, "provenance", "flags", "submitted_by_id"]


def _write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _raw_row(table: str, columns: list[str], where: str, params: list) -> tuple:
    """The row exactly as the database holds it (no model conversion)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE {where}", params)
        return cursor.fetchone()


def _declaration_row(enterprise) -> tuple:
    return _raw_row(AnnualDeclaration._meta.db_table, STORED, "enterprise_id = %s AND fiscal_year = %s",
                    [enterprise.pk, YEAR])


def test_the_api_and_the_import_store_byte_identical_declarations(client, cast, tmp_path):
    client.force_login(cast.olivia)
    response = client.put(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}", json.dumps(API_BODY),
                          content_type="application/json")
    assert response.status_code == 200, response.content

    path = _write(tmp_path / "d.csv", [FILE_HEADER, [cast.bob_co.credit_code, str(YEAR), *FILE_ROW]])
    result = import_apply(actor=cast.olivia, kind="declarations", path=path, filename=path.name)

    assert (result.created, result.updated) == (1, 0)
    assert _declaration_row(cast.alice_co) == _declaration_row(cast.bob_co)
    # …and the audit trail says the same of both.
    api_entry, import_entry = AuditEntry.objects.filter(object_type="enterprises.annualdeclaration").order_by("id")
    own = {"id", "enterprise_id", "created_at"}  # the row's own identity and time
    assert {k: v for k, v in api_entry.changes.items() if k not in own} == \
        {k: v for k, v in import_entry.changes.items() if k not in own}


def test_reimporting_after_an_api_save_changes_nothing(client, cast, tmp_path):
    client.force_login(cast.alice)
    response = client.put(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}", json.dumps(API_BODY),
                          content_type="application/json")
    assert response.status_code == 200, response.content
    before = _declaration_row(cast.alice_co)
    updated_at = AnnualDeclaration.objects.get(enterprise=cast.alice_co).updated_at
    entries = AuditEntry.objects.count()

    path = _write(tmp_path / "d.csv", [FILE_HEADER, [ALICE_CODE, str(YEAR), *FILE_ROW]])
    result = import_apply(actor=cast.alice, kind="declarations", path=path, filename=path.name)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert _declaration_row(cast.alice_co) == before
    assert AnnualDeclaration.objects.get(enterprise=cast.alice_co).updated_at == updated_at
    assert AuditEntry.objects.count() == entries


def test_a_template_with_only_employees_filled_changes_only_employees(client, cast, tmp_path):
    # Found by hand: filling only 职工总数 in the downloaded template cleared every other figure of the year.
    client.force_login(cast.alice)
    client.put(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}", json.dumps(API_BODY),
               content_type="application/json")
    header = ["credit_code", "fiscal_year", *FIGURE_NAMES]
    row = [ALICE_CODE, str(YEAR), *("120" if name == "employees" else "" for name in FIGURE_NAMES)]

    result = import_apply(actor=cast.alice, kind="declarations", path=_write(tmp_path / "t.csv", [header, row]),
                          filename="t.csv")

    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co)
    assert result.updated == 1
    assert [change["changes"] for change in result.changes] == [
        {"employees": {"before": 88, "after": 120}, "provenance": {
            "before": {"employees": {"source": "social_security", "verified": False},
                       "sales": {"source": "tax", "verified": False}},
            "after": {"sales": {"source": "tax", "verified": False}}}}]
    assert (stored.employees, str(stored.sales), str(stored.rd)) == (120, "3985.2700", "303.7700")


ENTERPRISE_BODY = {"name": "华为技术有限公司", "city": "chongqing", "district": "高新区", "registered_on": "2019-06-18",
                   "industry_cluster": "ict", "industry_code": "c3921", "size_class": "large", "resident": True,
                   "is_sme": False, "ip_I_self": 12, "contact_person": "张三"}
ENTERPRISE_FILE = {"name": "华为技术有限公司", "city": "重庆", "district": "高新区", "registered_on": "2019-06-18",
                   "industry_cluster": "新一代信息技术/软件", "industry_code": "C3921", "size_class": "大型",
                   "resident": "是", "is_sme": "N", "ip_I_self": "12", "contact_person": "张三"}
PROFILE = [spec.name for spec in ENTERPRISE_FIELDS if spec.name != "credit_code"]


@pytest.mark.parametrize("codes", [("914403001922038216", "91440300708461136T")])
def test_the_api_and_the_import_store_identical_enterprises(client, cast, tmp_path, codes):
    by_api, by_import = codes
    client.force_login(cast.olivia)
    response = client.post("/api/enterprises/", json.dumps({"credit_code": by_api, **ENTERPRISE_BODY}),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    path = _write(tmp_path / "e.csv", [["credit_code", *ENTERPRISE_FILE], [by_import, *ENTERPRISE_FILE.values()]])
    import_apply(actor=cast.olivia, kind="enterprises", path=path, filename=path.name)

    table = Enterprise._meta.db_table
    assert _raw_row(table, PROFILE, "credit_code = %s", [by_api]) == _raw_row(table, PROFILE, "credit_code = %s",
                                                                               [by_import])


def test_an_import_replans_a_chunk_someone_changed_between_its_passes(cast, tmp_path, monkeypatch):
    """Pass 1 works out the plan outside the write lock; a change made before pass 2 takes the lock is not
    overwritten: the chunk is merged again with it."""
    from twincity.enterprises import services
    from twincity.enterprises.imports import service

    services.declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                                figures={"employees": 40, "tax": "3"})
    original = service._spooled

    def someone_edits_first(spool):
        services.declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR,
                                    figures={"tax": "9.5"})
        yield from original(spool)

    monkeypatch.setattr(service, "_spooled", someone_edits_first)
    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees"], [ALICE_CODE, str(YEAR), "50"]])

    result = import_apply(actor=cast.alice, kind="declarations", path=path, filename="d.csv")

    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    assert (result.updated, stored.employees, str(stored.tax)) == (1, 50, "9.5000")
    last = AuditEntry.objects.filter(object_type="enterprises.annualdeclaration").order_by("-id").first()
    assert last.changes["employees"] == {"before": 40, "after": 50} and "tax" not in last.changes
