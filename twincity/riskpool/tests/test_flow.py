"""The issue's line: a default on a guaranteed loan with 4:3:2:1 shares gives each party the right loss to the
fen, and the pool's ledger balances after the payout and a recovery."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.finance import services as finance_services
from twincity.finance.models import ApplicationState
from twincity.riskpool import selectors, services
from twincity.riskpool.models import Claim, Guarantee, LedgerEntry, LedgerTransaction, Recovery, RiskPool

from .conftest import ANHUI, default, make_loan

D = Decimal


def assert_every_transaction_balances(pool):
    per_txn = LedgerEntry.objects.filter(transaction__pool=pool).values("transaction").annotate(
        d=Sum("debit"), c=Sum("credit"))
    assert per_txn and all(row["d"] == row["c"] for row in per_txn)
    for txn in LedgerTransaction.objects.filter(pool=pool):
        assert txn.debit_total == txn.credit_total == sum(e.debit for e in txn.entries.all())
    assert sum(a.balance for a in selectors.trial_balance(pool)) == 0


@pytest.fixture
def guaranteed(cast, pool, reguarantor):
    loan = make_loan(cast, amount="1500000.00")
    guarantee = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                          reguarantor=reguarantor, fee_rate="0.01")
    return guarantee


def test_4321_default_payout_and_recoveries_to_the_fen(cast, pool, guaranteed, reguarantor):
    g = guaranteed
    assert g.shares == ANHUI and g.covered_amount == D("1500000.00") and g.term_months == 12
    assert g.fee_amount == D("15000.00") and g.lender == cast.bank_a_branch
    # the fee: earned by the risk carriers other than the lender, 4:3:1
    assert {p.role: p.fee for p in selectors.guarantee_parties(g)} == {
        "bank": D("0"), "guarantor": D("7500.00"), "reguarantor": D("5625.00"), "pool": D("1875.00")}

    default(g.application)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="1234567.89", description="逾期90天")
    for action in ("review", "approve", "pay"):
        claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)
    assert claim.status == Claim.Status.PAID
    assert claim.allocation["borne"] == {"bank": "246913.58", "guarantor": "493827.15",
                                         "reguarantor": "370370.37", "pool": "123456.79"}
    assert claim.allocation["pool_capped"] == "0.00"
    g.refresh_from_db()
    assert g.status == Guarantee.Status.COMPENSATED

    services.recovery_record(actor=cast.bella, claim=claim, amount="200000.00", note="处置抵押物")
    figures = selectors.pool_figures(pool)
    assert figures.contributions == D("10000000.00")
    assert figures.fees == D("1875.00")
    assert figures.payouts == D("123456.79")
    assert figures.recoveries == D("20000.00")
    assert figures.balance == D("10000000.00") + D("1875.00") - D("123456.79") + D("20000.00") == D("9898418.21")
    assert figures.net_losses == D("103456.79") and figures.loss_ratio == D("103456.79") / D("10000000.00")
    assert not figures.tripped
    assert_every_transaction_balances(pool)

    by_role = {p.role: (p.loss, p.recovered, p.net_loss) for p in selectors.guarantee_parties(g)}
    assert by_role == {
        "bank": (D("246913.58"), D("40000.00"), D("206913.58")),
        "guarantor": (D("493827.15"), D("80000.00"), D("413827.15")),
        "reguarantor": (D("370370.37"), D("60000.00"), D("310370.37")),
        "pool": (D("123456.79"), D("20000.00"), D("103456.79")),
    }
    # The rest recovered: every party gets back exactly the loss it bore; nothing more can be recovered.
    services.recovery_record(actor=cast.gary, claim=claim, amount="1034567.89")
    assert all(p.net_loss == 0 for p in selectors.guarantee_parties(g))
    assert selectors.pool_figures(pool).balance == D("10001875.00")
    with pytest.raises(InvalidInput):
        services.recovery_record(actor=cast.gary, claim=claim, amount="0.01")
    assert Recovery.objects.count() == 2
    assert_every_transaction_balances(pool)

    # each party's own accounts in the ledger say the same
    balances = {(a.party.pk if a.party else None, a.kind): a.balance for a in selectors.trial_balance(pool)}
    assert balances[(cast.bank_a_branch.pk, "defaulted")] == D("-1234567.89")
    assert balances[(reguarantor.pk, "cash")] == D("5625.00")  # its fee; the loss came back in full
    assert balances[(None, "cash")] == D("10001875.00")

    kinds = list(AuditEntry.objects.filter(object_type__startswith="riskpool.").values_list("object_type", "action"))
    assert ("riskpool.guarantee", "create") in kinds and ("riskpool.recovery", "create") in kinds
    assert kinds.count(("riskpool.claim", "update")) == 3


def test_two_eight_product_shares_and_the_pool_cap(cast, pool):
    RiskPool.objects.filter(pk=pool.pk).update(payout_cap_amount=D("500000.00"))
    pool.refresh_from_db()
    product = finance_services.product_create(actor=cast.gary, institution=cast.guarantor, product_id="two-eight",
                                              definition={"kind": "guarantee", "name_zh": "知识价值担保",
                                                          "name_en": "Knowledge-value guarantee",
                                                          "pricing": {"rate": "0", "guarantee_fee": "0.005"}})
    loan2 = make_loan(cast, amount="1000000.00")
    g2 = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan2, guarantor=cast.guarantor,
                                   product=product, term_months=24)
    # the pool's shares for this product (2:8), no re-guarantor needed; the product's fee rate
    assert g2.shares == {"bank": 2, "pool": 8} and g2.fee_rate == D("0.005") and g2.fee_amount == D("10000.00")
    # a later change of the pool's shares does not touch the frozen ones
    RiskPool.objects.filter(pk=pool.pk).update(product_shares={"two-eight": {"bank": 5, "pool": 5}})
    g2.refresh_from_db()
    assert g2.shares == {"bank": 2, "pool": 8}
    default(loan2)
    claim = services.claim_file(actor=cast.bella, guarantee=g2, amount="1000000.00")
    for action in ("review", "approve", "pay"):
        claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)
    # 2:8 gives the pool 800,000; its cap of 500,000 a claim moves 300,000 to the lender
    assert claim.allocation["by_shares"] == {"bank": "200000.00", "pool": "800000.00"}
    assert claim.allocation["borne"] == {"bank": "500000.00", "pool": "500000.00"}
    assert claim.allocation["pool_capped"] == "300000.00"
    # recoveries then follow the losses as borne (1:1)
    r = services.recovery_record(actor=cast.bella, claim=claim, amount="100000.00")
    assert r.parts == {"bank": "50000.00", "pool": "50000.00"}
    assert_every_transaction_balances(pool)


def test_guarantee_attach_rules(cast, pool, reguarantor):
    loan = make_loan(cast)
    with pytest.raises(InvalidInput):  # the default shares name a re-guarantor
        services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor)
    with pytest.raises(InvalidInput):  # more than the loan
        services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor, covered_amount="2000000.01")
    draft = make_loan(cast, state=ApplicationState.DRAFT)
    with pytest.raises(Conflict) as exc:
        services.guarantee_attach(actor=cast.gary, pool=pool, application=draft, guarantor=cast.guarantor,
                                  reguarantor=reguarantor)
    assert exc.value.code == "loan_not_guaranteeable"
    services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                              reguarantor=reguarantor)
    with pytest.raises(Conflict) as exc:
        services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor)
    assert exc.value.code == "guarantee_exists"
    assert Guarantee.objects.count() == 1
    # no fee given and no product: a zero fee, and no ledger posting
    assert not LedgerTransaction.objects.filter(kind="fee").exists()


def test_a_claim_needs_a_default_and_at_most_the_covered_amount(cast, pool, guaranteed):
    with pytest.raises(Conflict) as exc:
        services.claim_file(actor=cast.bella, guarantee=guaranteed, amount="100.00")
    assert exc.value.code == "loan_not_defaulted"
    default(guaranteed.application)
    with pytest.raises(InvalidInput):
        services.claim_file(actor=cast.bella, guarantee=guaranteed, amount="1500000.01")
    services.claim_file(actor=cast.bella, guarantee=guaranteed, amount="1500000.00")
    with pytest.raises(Conflict):
        services.claim_file(actor=cast.bella, guarantee=guaranteed, amount="1.00")
    assert Claim.objects.count() == 1
