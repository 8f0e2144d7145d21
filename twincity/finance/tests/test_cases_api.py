"""The financing-case API: enterprises create, submit, withdraw; institutions (a browser session or an API
token from their own systems) list, claim, decide, disburse, record repayments; every error in the one shape
with its status; every operation and status in the OpenAPI document."""

import json
from decimal import Decimal

import pytest

from twincity.accounts.services import api_token_create
from twincity.finance.models import Application, ApplicationEvent
from twincity.finance.tests.cases import branch, officer


def post(client, url, body=None, **kwargs):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **kwargs)


DEMAND = {"kind": "demand", "amount": "2000000", "term_months": 24, "purpose": "流片", "submit": True}


def test_an_institutions_system_works_a_demand_with_its_token(client, cast):
    client.force_login(cast.alice)
    r = post(client, "/api/finance/cases", DEMAND)
    assert r.status_code == 201, r.content
    body = r.json()
    case_id = body["id"]
    assert (body["state"], body["kind"], body["amount"], body["project_city"]) == ("published", "demand",
                                                                                   "2000000.00", "chongqing")
    assert [e["action"] for e in body["events"]] == ["create", "publish"]
    client.logout()
    _, key = api_token_create(actor=cast.olivia, user=cast.bella, name="信贷系统")
    bella = {"Authorization": f"Bearer {key}"}
    r = client.get("/api/finance/cases?queue=to_claim", headers=bella)
    assert [c["id"] for c in r.json()["items"]] == [case_id]
    _, bruno_key = api_token_create(actor=cast.olivia, user=cast.bruno, name="信贷系统")
    bruno = {"Authorization": f"Bearer {bruno_key}"}
    assert client.get("/api/finance/cases", headers=bruno).json()["items"] == []
    r = client.get(f"/api/finance/cases/{case_id}", headers=bruno)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert post(client, f"/api/finance/cases/{case_id}/claim", headers=bruno).status_code == 404
    r = post(client, f"/api/finance/cases/{case_id}/claim", {"comment": "我行认领"}, headers=bella)
    assert r.status_code == 200 and r.json()["state"] == "claimed"
    r = post(client, f"/api/finance/cases/{case_id}/claim", headers=bella)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert r.json()["extra"]["allowed"] == ["approve", "refer_back", "reject", "start_review", "withdraw"]
    r = post(client, f"/api/finance/cases/{case_id}/decisions", {"decision": "reject"}, headers=bella)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = post(client, f"/api/finance/cases/{case_id}/disbursement", {}, headers=bella)
    assert r.status_code == 409
    assert Application.objects.get(pk=case_id).state == "claimed"
    r = post(client, f"/api/finance/cases/{case_id}/decisions",
             {"decision": "approve", "amount": "1800000", "rate": "0.0345", "term_months": 24}, headers=bella)
    assert r.status_code == 200 and (r.json()["state"], r.json()["approved_amount"],
                                     r.json()["approved_rate"]) == ("approved", "1800000.00", "0.034500")
    r = post(client, f"/api/finance/cases/{case_id}/disbursement", {"on": "2026-11-30"}, headers=bella)
    assert (r.json()["state"], r.json()["disbursed_amount"], r.json()["disbursed_on"]) == (
        "disbursed", "1800000.00", "2026-11-30")
    r = post(client, f"/api/finance/cases/{case_id}/overdue", {"amount": "100000"}, headers=bella)
    assert r.json()["state"] == "overdue"
    r = post(client, f"/api/finance/cases/{case_id}/repayments", {}, headers=bella)
    assert (r.json()["state"], r.json()["repaid_amount"]) == ("repaid", "1800000.00")
    events = list(ApplicationEvent.objects.filter(application_id=case_id).values_list("action", "actor__username"))
    assert events == [("create", "alice"), ("publish", "alice"), ("claim", "bella"), ("approve", "bella"),
                      ("disburse", "bella"), ("mark_overdue", "bella"), ("repay", "bella")]


def test_the_enterprise_sees_its_own_and_cannot_act_as_the_bank(client, cast):
    client.force_login(cast.alice)
    case_id = post(client, "/api/finance/cases", {**DEMAND, "submit": False}).json()["id"]
    assert client.get("/api/finance/cases").json()["items"][0]["state"] == "draft"
    r = post(client, f"/api/finance/cases/{case_id}/claim")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert post(client, f"/api/finance/cases/{case_id}/submit").json()["state"] == "published"
    assert post(client, f"/api/finance/cases/{case_id}/withdraw", {"comment": "不需要了"}).json()["state"] == "withdrawn"
    client.force_login(cast.bob)
    assert client.get(f"/api/finance/cases/{case_id}").status_code == 404
    assert client.get("/api/finance/cases").json()["items"] == []


@pytest.mark.parametrize("body", [
    {**DEMAND, "amount": "0"}, {**DEMAND, "amount": "1.001"}, {**DEMAND, "term_months": 0},
    {**DEMAND, "purpose": ""}, {**DEMAND, "kind": "loan"}, {**DEMAND, "project_city": "beijing"},
    {**DEMAND, "product_id": "crcb-points-loan"}, {**DEMAND, "kind": "application"},
])
def test_invalid_input_is_a_422_that_creates_nothing(client, cast, products, body):
    client.force_login(cast.alice)
    r = post(client, "/api/finance/cases", body)
    assert r.status_code == 422 and set(r.json()) == {"message", "code", "extra"}, r.content
    assert not Application.objects.exists()


def test_twin_city_application_over_the_api(client, cast, products):
    dora = officer("dora", branch(cast, "cdb_cq"))
    client.force_login(cast.bob)
    r = post(client, "/api/finance/cases", {"kind": "application", "product_id": "cdb-twin-city-loan", "version": 1,
                                            "amount": "287000000", "term_months": 60, "purpose": "储能电站",
                                            "project_city": "chongqing", "submit": True})
    assert r.status_code == 201, r.content
    case_id = r.json()["id"]
    assert (r.json()["lead_institution_id"], r.json()["partner_institution_id"]) == (dora.organisation_id,
                                                                                     cast.bank_b_branch.pk)
    r = post(client, "/api/finance/cases", {"kind": "application", "product_id": "cdb-twin-city-loan", "version": 2,
                                            "amount": "1000000", "term_months": 12, "purpose": "x"})
    assert r.status_code == 409 and r.json()["code"] == "product_version_changed"
    client.force_login(dora)
    post(client, f"/api/finance/cases/{case_id}/claim")
    r = post(client, f"/api/finance/cases/{case_id}/decisions",
             {"decision": "approve", "amount": "187000000", "rate": "0.039"})
    assert r.json()["state"] == "due_diligence"
    assert post(client, f"/api/finance/cases/{case_id}/disbursement").status_code == 409
    client.force_login(cast.bruno)
    r = post(client, f"/api/finance/cases/{case_id}/decisions",
             {"decision": "approve", "amount": "100000000", "rate": "0.039"})
    body = r.json()
    assert (body["state"], body["approved_amount"]) == ("approved", "287000000.00")
    assert [(d["institution"], d["share_amount"]) for d in body["decisions"]] == [
        ("成都银行重庆分行", "187000000.00"), ("成都银行高新支行", "100000000.00")]
    assert Application.objects.get(pk=case_id).approved_amount == Decimal("287000000.00")


def test_overdue_list_is_for_administrators(client, cast):
    client.force_login(cast.bella)
    assert client.get("/api/finance/overdue-cases").status_code == 403
    client.force_login(cast.olivia)
    assert client.get("/api/finance/overdue-cases").json() == []


def test_every_case_operation_documents_its_statuses(client):
    spec = client.get("/api/openapi.json").json()
    paths = {p: ops for p, ops in spec["paths"].items() if "/finance/cases" in p or "overdue-cases" in p}
    assert len(paths) == 13
    for path, ops in paths.items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"401", "422", "503"} <= codes, (path, method)
            if method == "post" and path != "/api/finance/cases":
                assert {"200", "403", "404", "409"} <= codes, (path, method)
