"""The demo data through the services, the API (one error shape, statuses), the Excel round trip, the pages."""

import io as _io

import pytest
from openpyxl import load_workbook

from twincity.core.models import AuditEntry
from twincity.core.verification import code_verify
from twincity.demo.licences import demo_licences_load, demo_licences_reset
from twincity.govservices import services as gov
from twincity.licences import io, services
from twincity.licences.models import IndustryLicence, IndustryPackage, PackageApplication
from twincity.licences.tests.conftest import FORM


def test_demo_load(cast):
    cast.bob_co.contact_person = "鲍勃"
    cast.bob_co.save()
    assert demo_licences_load() == 1
    assert demo_licences_load() == 1  # a second run adds nothing
    assert IndustryPackage.objects.filter(status="published", demo=True).count() == 4
    assert sorted(PackageApplication.objects.values_list("state", flat=True)) == ["issued", "submitted"]
    licence = IndustryLicence.objects.get()
    verification = code_verify(services.licence_token(licence)).verification
    assert verification.status == "valid" and len([f for f in verification.fields if "有效 · " in f[1]]) == 4
    demo_licences_reset()
    assert PackageApplication.objects.count() == 0 and IndustryLicence.objects.count() == 0


def test_api_flow_and_errors(client, cast, yy):
    client.force_login(cast.bob)
    pk = yy.cq_catering.pk
    r = client.post(f"/api/licences/packages/{pk}/notice", {"answers": {"area": 10}}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "answers_invalid" and set(r.json()) == {"message", "code", "extra"}
    answers = {"area": 50, "seats": 10, "food_prep": False, "tobacco": False, "outdoor_sign": True}
    r = client.post(f"/api/licences/packages/{pk}/notice", {"answers": answers}, content_type="application/json")
    assert r.status_code == 200 and [c["code"] for c in r.json()["components"]] == ["food", "sign"]
    assert PackageApplication.objects.count() == 0  # a preview writes nothing
    r = client.post(f"/api/licences/packages/{pk}/applications", {"answers": answers},
                    content_type="application/json")
    assert r.status_code == 201
    app_id = r.json()["id"]
    materials = {m["code"]: "submitted" for m in r.json()["notice"]["materials"] if not m["held"]}
    r = client.post(f"/api/licences/applications/{app_id}/submit",
                    {"form": FORM, "materials": materials, "routes": {"sign": "pledge"}}, content_type="application/json")
    assert r.status_code == 200 and [c["case_state"] for c in r.json()["components"]] == ["received", "received"]
    r = client.post(f"/api/licences/applications/{app_id}/submit", {"form": FORM}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "already_submitted"
    r = client.post(f"/api/licences/applications/{app_id}/inspect", {"passed": True}, content_type="application/json")
    assert r.status_code == 403
    client.force_login(cast.alice)
    assert client.get(f"/api/licences/applications/{app_id}").status_code == 404
    client.force_login(cast.clara)
    r = client.post(f"/api/licences/applications/{app_id}/inspect", {"passed": True}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "components_not_accepted"
    app = PackageApplication.objects.get(pk=app_id)
    for c in app.components.select_related("case"):
        gov.case_decide(actor=cast.olivia, case=gov.case_accept(actor=cast.clara, case=c.case), outcome="approve")
    r = client.post(f"/api/licences/applications/{app_id}/issue")
    assert r.status_code == 409 and r.json()["code"] == "not_inspected"
    r = client.post(f"/api/licences/applications/{app_id}/inspect", {"passed": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "inspected"
    r = client.post(f"/api/licences/applications/{app_id}/issue")
    assert r.status_code == 201
    body = r.json()
    assert [c["cert_status"] for c in body["components"]] == ["valid", "valid"]
    assert client.get(body["verify_path"]).status_code == 200
    sign = body["components"][1]["id"]
    r = client.post(f"/api/licences/components/{sign}", {"action": "revoke"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = client.post(f"/api/licences/components/{sign}", {"action": "revoke", "reason": "违规"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["cert_status"] == "revoked"
    r = client.post(f"/api/licences/components/{sign}", {"action": "renew", "valid_until": "2040-01-01"},
                    content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "revoked"
    client.logout()
    page = client.get(body["verify_path"]).content.decode()
    assert "已撤销 · " in page and "违规" in page


def test_excel_round_trip_and_versions(cast, yy):
    content = io.packages_xlsx(IndustryPackage.objects.filter(status="published").order_by("code"))
    sheet = load_workbook(_io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "code（套餐编码）" and len(rows) == 5
    assert io.packages_import(actor=cast.olivia, content=content) == {"created": 0, "versioned": 0, "unchanged": 4}
    # one row changed (the inspection days), one new code for an existing region+industry is refused
    code_at = [r[0] for r in rows].index("yyyz-cq-catering")
    sheet.cell(row=code_at + 1, column=10, value=5)
    out = _io.BytesIO()
    sheet.parent.save(out)
    assert io.packages_import(actor=cast.olivia, content=out.getvalue()) == {
        "created": 0, "versioned": 1, "unchanged": 3}
    versions = IndustryPackage.objects.filter(code="yyyz-cq-catering").order_by("version")
    assert [(v.version, v.status, v.definition["inspection_days"]) for v in versions] == [
        (1, "superseded", 3), (2, "published", 5)]
    sheet.cell(row=code_at + 1, column=9, value='[{"code": "x", "item_code": "a"}, {"code": "x", "item_code": "b"}]')
    sheet.cell(row=2 if code_at != 1 else 3, column=2, value="beijing")
    out = _io.BytesIO()
    sheet.parent.save(out)
    before = AuditEntry.objects.count()
    from twincity.core.errors import InvalidInput
    with pytest.raises(InvalidInput) as exc:
        io.packages_import(actor=cast.olivia, content=out.getvalue())
    errors = exc.value.extra["errors"]
    assert exc.value.code == "import_invalid"
    assert {(e["row"], e["column"]) for e in errors} == {(code_at + 1, "components"), (2 if code_at != 1 else 3, "city")}
    assert AuditEntry.objects.count() == before  # nothing written


def test_pages(client, cast, yy):
    client.force_login(cast.olivia)
    assert client.get("/licences/").status_code == 200
    assert client.get("/licences/packages.xlsx").status_code == 200
    assert client.get("/licences/packages/import/").status_code == 200
    client.force_login(cast.bella)
    assert client.get("/licences/packages/import/").status_code == 403
    assert client.get(f"/licences/packages/{yy.cq_catering.pk}/").status_code == 200
    r = client.post(f"/licences/packages/{yy.cq_catering.pk}/", {"q_area": "1"})
    assert r.status_code == 403


def test_a_tampered_licence_code_is_rejected(client, cast):
    cast.bob_co.contact_person = "鲍勃"
    cast.bob_co.save()
    demo_licences_load()
    token = services.licence_token(IndustryLicence.objects.get())
    assert client.get(f"/verify/{token}/").status_code == 200
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    r = client.get(f"/verify/{tampered}/")
    assert r.status_code == 400 and "签名无效" in r.content.decode()
    from twincity.core.verification import code_sign
    assert client.get(f"/verify/{code_sign(kind=services.CODE_KIND, object_id='nope', version=1)}/").status_code == 404
