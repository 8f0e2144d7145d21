"""The API: the whole flow through HTTP by the personas, the claim state machine (409, nothing changes), the
circuit breaker (409 on a new guarantee), each party seeing the same figures and another bank seeing none."""

import json
from decimal import Decimal

import pytest

from config.api import api
from twincity.core.models import AuditEntry
from twincity.riskpool import services
from twincity.riskpool.models import Claim, Guarantee, LedgerTransaction, RiskPool

from .conftest import default, make_loan

D = Decimal


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def attached(client, cast, pool, reguarantor):
    loan = make_loan(cast, amount="1500000.00")
    client.force_login(cast.gary)
    r = post(client, "/api/riskpool/guarantees", {
        "pool_id": pool.pk, "application_id": loan.pk, "guarantor_id": cast.guarantor.pk,
        "reguarantor_id": reguarantor.pk, "fee_rate": "0.01"})
    assert r.status_code == 201, r.content
    return r.json()


def test_the_flow_through_the_api(client, cast, pool, attached, operator):
    body = attached
    assert body["shares"] == {"guarantor": 4, "reguarantor": 3, "bank": 2, "pool": 1}
    assert body["fee_amount"] == "15000.00" and body["lender"] == cast.bank_a_branch.name
    assert [t["kind"] for t in body["ledger"]] == ["fee"]
    gid = body["id"]
    default(Guarantee.objects.get(pk=gid).application)

    client.force_login(cast.bella)
    r = post(client, f"/api/riskpool/guarantees/{gid}/claims", {"amount": "1234567.89", "description": "逾期"})
    assert r.status_code == 201 and r.json()["status"] == "filed"
    cid = r.json()["id"]
    # bella may not review her own bank's claim; gary (the guarantor) may; the operator pays
    assert post(client, f"/api/riskpool/claims/{cid}/review").status_code == 403
    client.force_login(cast.gary)
    assert post(client, f"/api/riskpool/claims/{cid}/review").json()["status"] == "under_review"
    assert post(client, f"/api/riskpool/claims/{cid}/approve").json()["status"] == "approved"
    assert post(client, f"/api/riskpool/claims/{cid}/pay").status_code == 403
    client.force_login(operator)
    r = post(client, f"/api/riskpool/claims/{cid}/pay")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    assert r.json()["allocation"]["borne"] == {"bank": "246913.58", "guarantor": "493827.15",
                                               "reguarantor": "370370.37", "pool": "123456.79"}
    client.force_login(cast.bella)
    r = post(client, f"/api/riskpool/claims/{cid}/recoveries", {"amount": "200000.00", "note": "处置"})
    assert r.status_code == 201 and r.json()["parts"] == {
        "bank": "40000.00", "guarantor": "80000.00", "reguarantor": "60000.00", "pool": "20000.00"}

    client.force_login(cast.olivia)
    pool_body = client.get(f"/api/riskpool/pools/{pool.pk}").json()
    assert pool_body["figures"]["balance"] == "9898418.21"
    assert pool_body["figures"]["payouts"] == "123456.79" and pool_body["figures"]["recoveries"] == "20000.00"
    trial = client.get(f"/api/riskpool/pools/{pool.pk}/trial-balance").json()
    assert trial["total"] == "0.00"
    ledger = client.get(f"/api/riskpool/pools/{pool.pk}/ledger").json()
    assert [t["kind"] for t in ledger["items"]] == ["contribution", "contribution", "fee", "payout", "recovery"]
    assert all(t["debit_total"] == t["credit_total"] for t in ledger["items"])

    # every party reads the same figures of the guarantee
    views = {}
    for who in (cast.bella, cast.gary, cast.olivia, operator):
        client.force_login(who)
        r = client.get(f"/api/riskpool/guarantees/{gid}")
        assert r.status_code == 200
        views[who.username] = {k: r.json()[k] for k in ("parties", "claims", "recoveries", "ledger", "shares")}
    assert all(v == views["olivia"] for v in views.values())
    parties = {p["role"]: (p["loss"], p["recovered"], p["net_loss"]) for p in views["olivia"]["parties"]}
    assert parties["bank"] == ("246913.58", "40000.00", "206913.58")
    # a bank sees the pool, not its overall figures
    client.force_login(cast.bella)
    assert client.get(f"/api/riskpool/pools/{pool.pk}").json()["figures"] is None
    assert client.get(f"/api/riskpool/pools/{pool.pk}/ledger").status_code == 403


def test_illegal_transitions_answer_409_and_change_nothing(client, cast, pool, attached):
    gid = attached["id"]
    default(Guarantee.objects.get(pk=gid).application)
    claim = services.claim_file(actor=cast.bella, guarantee=Guarantee.objects.get(pk=gid), amount="1000.00")
    client.force_login(cast.olivia)
    audit_before = AuditEntry.objects.count()
    for action in ("approve", "pay"):  # filed: only review or reject
        r = post(client, f"/api/riskpool/claims/{claim.pk}/{action}")
        assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
        assert r.json()["extra"] == {"status": "filed", "action": action}
    assert post(client, f"/api/riskpool/claims/{claim.pk}/reject").status_code == 422  # no reason
    assert post(client, f"/api/riskpool/claims/{claim.pk}/bogus").status_code == 422
    claim.refresh_from_db()
    assert claim.status == "filed" and claim.decided_at is None and claim.allocation == {}
    assert AuditEntry.objects.count() == audit_before
    assert not LedgerTransaction.objects.filter(kind="payout").exists()

    r = post(client, f"/api/riskpool/claims/{claim.pk}/reject", {"reason": "材料不全"})
    assert r.status_code == 200 and r.json()["rejection_reason"] == "材料不全"
    for action in ("review", "approve", "reject", "pay"):  # rejected is final
        assert post(client, f"/api/riskpool/claims/{claim.pk}/{action}", {"reason": "x"}).status_code == 409
    assert post(client, f"/api/riskpool/claims/{claim.pk}/recoveries", {"amount": "1.00"}).status_code == 409
    # the guarantee is active again: a new claim may be filed
    assert Guarantee.objects.get(pk=gid).status == "active"
    client.force_login(cast.bella)
    assert post(client, f"/api/riskpool/guarantees/{gid}/claims", {"amount": "1000.00"}).status_code == 201


def test_the_breaker_trips_at_the_threshold_and_blocks_new_guarantees(client, cast, district):
    pool = services.pool_create(actor=cast.olivia, name="熔断测试池", operator=cast.committee,
                                default_shares={"bank": 2, "pool": 8}, breaker_threshold="0.5")
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=district, amount="200000.00")

    def paid_loss(amount):
        loan = make_loan(cast, amount="500000.00")
        g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor)
        default(loan)
        claim = services.claim_file(actor=cast.bella, guarantee=g, amount=amount)
        for action in ("review", "approve", "pay"):
            claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)
        return claim

    # one fen under the threshold: 2:8 of 124,999.99 gives the pool 99,999.99 → 49.999995 % (bank 25,000.00)
    claim = paid_loss("124999.99")
    assert claim.allocation["borne"] == {"bank": "25000.00", "pool": "99999.99"}
    pool.refresh_from_db()
    assert pool.status == RiskPool.Status.ACTIVE
    # the next loss takes it past: 0.01 more of the pool's is enough (2:8 of 0.02 → pool 0.02)
    paid_loss("0.02")
    pool.refresh_from_db()
    assert pool.status == RiskPool.Status.SUSPENDED and "50.00%" in pool.suspended_reason

    guarantees = Guarantee.objects.count()
    client.force_login(cast.gary)
    loan = make_loan(cast)
    r = post(client, "/api/riskpool/guarantees", {"pool_id": pool.pk, "application_id": loan.pk,
                                                  "guarantor_id": cast.guarantor.pk})
    assert r.status_code == 409 and r.json()["code"] == "pool_suspended"
    assert "熔断" in r.json()["message"]
    assert Guarantee.objects.count() == guarantees

    client.force_login(cast.olivia)
    r = post(client, f"/api/riskpool/pools/{pool.pk}/resume")
    assert r.status_code == 409 and r.json()["code"] == "breaker_still_tripped"
    assert post(client, f"/api/riskpool/pools/{pool.pk}/contributions",
                {"contributor_id": district.pk, "amount": "100000.00"}).status_code == 201
    r = post(client, f"/api/riskpool/pools/{pool.pk}/resume", {"note": "追加出资"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["figures"]["contributions"] == "300000.00"
    client.force_login(cast.gary)
    assert post(client, "/api/riskpool/guarantees", {"pool_id": pool.pk, "application_id": loan.pk,
                                                     "guarantor_id": cast.guarantor.pk}).status_code == 201


def test_exactly_at_the_threshold_trips(cast, district):
    pool = services.pool_create(actor=cast.olivia, name="阈值池", operator=cast.committee,
                                default_shares={"bank": 2, "pool": 8}, breaker_threshold="0.5")
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=district, amount="200000.00")
    loan = make_loan(cast, amount="500000.00")
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor)
    default(loan)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="125000.00")  # pool: 100,000 = 50 %
    for action in ("review", "approve", "pay"):
        services.claim_transition(actor=cast.olivia, claim=claim, action=action)
    pool.refresh_from_db()
    assert pool.status == RiskPool.Status.SUSPENDED


def test_another_bank_sees_nothing(client, cast, pool, attached, reguarantor):
    # bruno's bank has its own guaranteed loan in the same pool
    bruno_loan = make_loan(cast, enterprise=cast.bob_co, lender=cast.bank_b_branch)
    mine = services.guarantee_attach(actor=cast.gary, pool=pool, application=bruno_loan, guarantor=cast.guarantor,
                                     reguarantor=reguarantor)
    gid = attached["id"]
    client.force_login(cast.bruno)
    assert [g["id"] for g in client.get("/api/riskpool/guarantees").json()["items"]] == [mine.pk]
    assert client.get(f"/api/riskpool/guarantees/{gid}").status_code == 404
    assert post(client, f"/api/riskpool/guarantees/{gid}/claims", {"amount": "1.00"}).status_code == 404
    assert client.get("/api/riskpool/claims").json()["count"] == 0
    client.force_login(cast.bella)
    assert [g["id"] for g in client.get("/api/riskpool/guarantees").json()["items"]] == [gid]
    assert client.get(f"/api/riskpool/guarantees/{mine.pk}").status_code == 404
    client.force_login(cast.alice)
    assert client.get("/api/riskpool/guarantees").json()["count"] == 0
    assert client.get(f"/api/riskpool/pools/{pool.pk}").status_code == 404
    client.force_login(cast.gary)
    assert client.get("/api/riskpool/guarantees").json()["count"] == 2
    client.force_login(cast.olivia)
    assert client.get("/api/riskpool/guarantees").json()["count"] == 2


def test_invalid_input_answers_422_in_the_one_shape(client, cast, pool):
    client.force_login(cast.olivia)
    r = post(client, "/api/riskpool/pools", {"name": "x", "operator_id": cast.committee.pk,
                                             "default_shares": {"bank": -1}, "breaker_threshold": "0.5"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_shares"
    r = post(client, "/api/riskpool/pools", {"name": pool.name, "operator_id": cast.committee.pk,
                                             "default_shares": {"bank": 2, "pool": 8}, "breaker_threshold": "0.5"})
    assert r.status_code == 409
    r = post(client, f"/api/riskpool/pools/{pool.pk}/contributions", {"contributor_id": cast.committee.pk,
                                                                      "amount": "1.001"})
    assert r.status_code == 422
    client.force_login(cast.bella)
    r = post(client, "/api/riskpool/pools", {"name": "y", "operator_id": cast.committee.pk,
                                             "default_shares": {"bank": 2, "pool": 8}, "breaker_threshold": "0.5"})
    assert r.status_code == 403
    assert RiskPool.objects.count() == 1


def test_the_openapi_document_states_every_status():
    schema = api.get_openapi_schema()
    ops = {f"{m.upper()} {p}": o for p, item in schema["paths"].items() if p.startswith("/api/riskpool/")
           for m, o in item.items()}
    assert set(ops["POST /api/riskpool/claims/{claim_id}/{action}"]["responses"]) >= {200, 403, 404, 409, 422}
    assert set(ops["POST /api/riskpool/guarantees"]["responses"]) >= {201, 403, 404, 409, 422}
    assert len(ops) == 14
    assert Claim.Status.values == ["filed", "under_review", "approved", "paid", "rejected"]
