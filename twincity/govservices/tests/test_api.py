"""The public-services API: the catalogue (versions, import/export all or nothing with row and column), cases
through every step, each refusal in the one error shape with its rule's code."""

import io
import json

import pytest
from openpyxl import load_workbook

from twincity.govservices import catalogue_io
from twincity.govservices.models import ServiceCase, ServiceItem

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_catalogue_versions_and_filters(client, gov, cast):
    client.force_login(cast.bob)
    r = client.get("/api/govservices/items?framework=true")
    assert r.status_code == 200
    assert [i["code"] for i in r.json()["items"]] == [gov.item.code]
    assert client.get("/api/govservices/items?area=market").json()["items"] == []
    assert post(client, f"/api/govservices/items/{gov.item.code}/versions", {"promised_limit_days": 5}).status_code == 403
    client.force_login(cast.olivia)
    r = post(client, f"/api/govservices/items/{gov.item.code}/versions", {"promised_limit_days": 30})
    assert (r.status_code, r.json()["code"]) == (422, "promise_over_legal_limit")
    r = post(client, f"/api/govservices/items/{gov.item.code}/versions", {"promised_limit_days": 5, "note": "提速"})
    assert r.status_code == 201
    assert (r.json()["version"], r.json()["promised_limit_days"], r.json()["legal_limit_days"]) == (2, 5, 20)
    versions = client.get(f"/api/govservices/items/{gov.item.code}/versions").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]
    r = post(client, "/api/govservices/items", {
        "code": gov.item.code, "city": "chongqing", "name": "x", "item_type": "licensing",
        "department_id": gov.department.pk, "implementing_body_id": gov.department.pk, "legal_limit_days": 1,
        "promised_limit_days": 1})
    assert (r.status_code, r.json()["code"]) == (409, "item_exists")
    r = post(client, "/api/govservices/items", {
        "code": "new-1", "city": "chengdu", "name": "x", "item_type": "licensing",
        "department_id": gov.department.pk, "implementing_body_id": gov.department.pk, "legal_limit_days": 1,
        "promised_limit_days": 1, "definition": {"materials": [{"code": "A B", "name": ""}]}})
    assert (r.status_code, r.json()["code"]) == (422, "definition_invalid")
    assert r.json()["extra"]["errors"] == ["materials[0]: 须有代码（小写字母数字）与名称 / a code (lowercase) and a name"]


def test_a_case_keeps_its_version(client, gov, cast):
    client.force_login(cast.alice)
    r = post(client, "/api/govservices/cases", {"item_code": gov.item.code, "applicant_name": "Alice",
                                                "situations": ["first"], "materials": {"id_card": "submitted"}})
    assert r.status_code == 201
    case_id = r.json()["id"]
    assert r.json()["material_states"] == {"id_card": "submitted", "photo": "missing", "licence": "held",
                                           "extra": "missing"}
    client.force_login(cast.olivia)
    post(client, f"/api/govservices/items/{gov.item.code}/versions", {"promised_limit_days": 5})
    client.force_login(cast.alice)
    assert client.get(f"/api/govservices/cases/{case_id}").json()["item_version"] == 1


def test_steps_through_the_api_with_every_refusal_shaped(client, gov, cast):
    client.force_login(cast.alice)
    case_id = post(client, "/api/govservices/cases", {
        "item_code": gov.item.code, "applicant_name": "Alice", "situations": ["first"],
        "materials": {"id_card": "submitted", "photo": "pledged"}}).json()["id"]
    client.force_login(cast.bruno)
    assert client.get(f"/api/govservices/cases/{case_id}").status_code == 404
    client.force_login(cast.hank)
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "decide", "outcome": "approve"})
    assert r.status_code == 409
    assert set(r.json()) == {"message", "code", "extra"}
    assert r.json()["extra"]["allowed"] == ["accept", "notify_correction", "refuse_intake", "withdraw"]
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "accept"})
    assert (r.status_code, r.json()["state"], r.json()["clock"]["status"]) == (200, "handling", "running")
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "decide", "outcome": "approve"})
    assert (r.status_code, r.json()["code"], r.json()["extra"]) == (422, "pledged_not_supplied", {"missing": ["photo"]})
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "pause", "step": "inspection"})
    assert (r.json()["state"], r.json()["clock"]["status"], r.json()["due_date"]) == ("paused", "paused", None)
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "resume"})
    assert r.json()["state"] == "handling"
    client.force_login(cast.alice)
    r = post(client, f"/api/govservices/cases/{case_id}/steps", {"action": "supply", "materials": {"photo": "submitted"}})
    assert r.status_code == 200
    r = post(client, f"/api/govservices/cases/{case_id}/rating", {"grade": 5})
    assert (r.status_code, r.json()["code"]) == (409, "not_closed")
    client.force_login(cast.hank)
    for step in ({"action": "decide", "outcome": "approve"}, {"action": "deliver"}, {"action": "close"}):
        assert post(client, f"/api/govservices/cases/{case_id}/steps", step).status_code == 200
    client.force_login(cast.alice)
    assert post(client, f"/api/govservices/cases/{case_id}/rating", {"grade": 4}).status_code == 201
    r = post(client, f"/api/govservices/cases/{case_id}/rating", {"grade": 4})
    assert (r.status_code, r.json()["code"]) == (409, "already_rated")
    assert [e["action"] for e in client.get(f"/api/govservices/cases/{case_id}").json()["events"]] == [
        "intake", "accept", "pause", "resume", "supply", "decide", "deliver", "close", "rate"]
    client.force_login(cast.hank)
    queue = client.get("/api/govservices/queue").json()
    assert [row["case"]["id"] for row in queue] == []  # closed cases leave the queue
    assert client.get("/api/govservices/queue").status_code == 200
    client.force_login(cast.alice)
    assert client.get("/api/govservices/queue").status_code == 403


def _sheet(rows):
    from twincity.core.exports import xlsx_bytes

    return xlsx_bytes("s", catalogue_io.HEADER, rows)


def test_export_then_import_round_trip_and_all_or_nothing(client, gov, cast):
    client.force_login(cast.olivia)
    r = client.get("/api/govservices/items/export.xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("code（事项编码）", "city（城市）")
    assert rows[1][0] == gov.item.code
    # Unchanged round trip.
    upload = io.BytesIO(r.content)
    upload.name = "c.xlsx"
    r = client.post("/api/govservices/items/import", {"file": upload})
    assert r.json() == {"created": [], "versioned": [], "unchanged": [gov.item.code]}
    # One new item, one changed, one bad row: nothing is written, the bad cells are named.
    changed = list(rows[1])
    changed[9] = 8  # promised limit
    new = list(rows[1])
    new[0], new[2] = "cd-new-1", "成都新事项"
    bad = list(rows[1])
    bad[0], bad[8], bad[5] = "bad-1", "twenty", "不存在的局"
    upload = io.BytesIO(_sheet([changed, new, bad]))
    upload.name = "c.xlsx"
    r = client.post("/api/govservices/items/import", {"file": upload})
    assert (r.status_code, r.json()["code"]) == (422, "import_invalid")
    assert [(e["row"], e["column"]) for e in r.json()["extra"]["errors"]] == [(4, "department"),
                                                                               (4, "legal_limit_days")]
    assert ServiceItem.objects.count() == 1
    upload = io.BytesIO(_sheet([changed, new]))
    upload.name = "c.xlsx"
    r = client.post("/api/govservices/items/import", {"file": upload})
    assert r.json() == {"created": ["cd-new-1"], "versioned": [gov.item.code], "unchanged": []}
    assert ServiceItem.objects.get(code=gov.item.code, status="published").promised_limit_days == 8
    client.force_login(cast.clara)
    upload = io.BytesIO(_sheet([changed]))
    upload.name = "c.xlsx"
    assert client.post("/api/govservices/items/import", {"file": upload}).status_code == 403
    assert ServiceCase.objects.count() == 0
