"""Risk sharing: splits to the fen (largest remainder), recoveries shared back, the pool's cap, the circuit
breaker and the double-entry posting rules. Hypothesis for the properties, exhaustive small cases beside."""

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance_engine import risk
from finance_engine.risk import (
    PayoutCap,
    RiskError,
    allocate_loss,
    balances,
    breaker_tripped,
    exact_share,
    fee_split,
    guarantee_fee,
    post_contribution,
    post_fee,
    post_payout,
    post_recovery,
    recovery_split,
    split,
)

D = Decimal
ANHUI = {"guarantor": 4, "reguarantor": 3, "bank": 2, "pool": 1}  # reference/finance.md §4.1
BRIEF = {"bank": 4, "guarantor": 3, "reguarantor": 2, "pool": 1}  # bank:guarantor:re-guarantor:pool = 4:3:2:1
TWO_EIGHT = {"bank": 2, "pool": 8}


def test_4321_default_of_1234567_89_to_the_fen():
    # exact: 493,827.156 / 370,370.367 / 246,913.578 / 123,456.789: the floors leave 3 fen, which go to the
    # remainders .009, .008, .007 (pool, bank, reguarantor); the guarantor's .006 stays down.
    assert split(D("1234567.89"), ANHUI) == {
        "bank": D("246913.58"), "guarantor": D("493827.15"), "reguarantor": D("370370.37"), "pool": D("123456.79")}
    assert split(D("1234567.89"), BRIEF) == {
        "bank": D("493827.15"), "guarantor": D("370370.37"), "reguarantor": D("246913.58"), "pool": D("123456.79")}
    assert sum(split(D("1234567.89"), ANHUI).values()) == D("1234567.89")


def test_2_8_and_ties():
    assert split(D("100.00"), TWO_EIGHT) == {"bank": D("20.00"), "pool": D("80.00")}
    # 0.01 among equal weights: the tie goes by PARTY_ROLES order (bank first)
    assert split(D("0.01"), {"pool": 1, "bank": 1}) == {"bank": D("0.01"), "pool": D("0.00")}
    # 0.02 at 1:1:1 → bank, guarantor get the fen; equal remainders, equal weights, role order
    assert split(D("0.02"), {"bank": 1, "guarantor": 1, "pool": 1}) == {
        "bank": D("0.01"), "guarantor": D("0.01"), "pool": D("0.00")}
    # equal remainders, unequal weights: the larger weight first (1 fen at 2:1... remainders 2/3 vs 1/3: not a
    # tie) — 0.03 at 1:2 is exact; 0.01 at 1:1:2 → remainders .25 .25 .5: the pool (weight 2) gets it
    assert split(D("0.01"), {"bank": 1, "guarantor": 1, "pool": 2}) == {
        "bank": D("0.00"), "guarantor": D("0.00"), "pool": D("0.01")}
    assert split(D("0"), ANHUI) == dict.fromkeys(("bank", "guarantor", "reguarantor", "pool"), D("0.00"))
    assert split(D("10"), {"bank": "0.2", "pool": "0.8"}) == {"bank": D("2.00"), "pool": D("8.00")}


def test_invalid_inputs():
    for bad in ({}, {"bank": 0}, {"bank": -1}, {"lender": 1}, {"bank": 1.5}, {"bank": "x"}, {"bank": True}):
        assert risk.validate_shares(bad)
        with pytest.raises(RiskError):
            split(D(1), bad)
    for amount in (D("-0.01"), D("0.001"), D("NaN"), "abc"):
        with pytest.raises(RiskError):
            split(amount, ANHUI)


def _check_split(fen: int, weights: dict):
    amount = D(fen) / 100
    parts = split(amount, weights)
    assert sum(parts.values()) == amount.quantize(D("0.01"))
    for role, part in parts.items():
        exact = exact_share(amount, weights, role)
        assert abs(Fraction(int(part * 100)) - exact) < 1  # within one fen of the exact proportion
        assert int(part * 100) in (exact.numerator // exact.denominator, exact.numerator // exact.denominator + 1)


def test_exhaustive_small_cases():
    # every amount 0.00–2.00 yuan against every weight vector in 0..3 over the four roles
    vectors = [dict(zip(risk.PARTY_ROLES, w)) for w in itertools.product(range(4), repeat=4) if sum(w)]
    for weights in vectors:
        weights = {k: v for k, v in weights.items() if v}
        for fen in range(0, 201):
            _check_split(fen, weights)


weights_st = st.dictionaries(st.sampled_from(risk.PARTY_ROLES), st.integers(0, 1000), min_size=1).filter(
    lambda w: sum(w.values()) > 0)
fen_st = st.integers(0, 10**14)


@settings(max_examples=400, deadline=None)
@given(fen_st, weights_st)
def test_split_sums_exactly_and_each_part_within_one_fen(fen, weights):
    _check_split(fen, weights)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**12), weights_st, st.lists(st.integers(1, 10**6), min_size=1, max_size=8))
def test_recoveries_shared_back_cumulatively(loss_fen, weights, tranches):
    loss = D(loss_fen) / 100
    borne = split(loss, weights)
    got: dict[str, Decimal] = {}
    recovered = 0
    for t in tranches:
        t = min(t, loss_fen - recovered)
        if t <= 0:
            break
        parts = recovery_split(D(t) / 100, weights, recovered_before=got, borne=borne)
        assert sum(parts.values()) == D(t) / 100 and all(v >= 0 for v in parts.values())
        for k, v in parts.items():
            got[k] = got.get(k, D(0)) + v
        recovered += t
        for role, total in got.items():  # cumulative: within a fen of the exact share of what came back
            assert total <= borne[role]
            assert abs(Fraction(int(total * 100)) - exact_share(D(recovered) / 100, weights, role)) <= 1
    # the remainder recovered in full: every party gets back exactly the loss it bore; nothing more can come
    rest = loss_fen - recovered
    if rest:
        parts = recovery_split(D(rest) / 100, weights, recovered_before=got, borne=borne)
        for k, v in parts.items():
            got[k] = got.get(k, D(0)) + v
    assert got == borne
    with pytest.raises(RiskError):
        recovery_split(D("0.01"), weights, recovered_before=got, borne=borne)


def test_recoveries_never_repay_a_fen_not_lost():
    """The Alabama paradox: at 1:3:3, 0.03 gives the bank 0.01 but 0.04 gives it nothing. A loss of 0.04 is
    borne 0.00 / 0.02 / 0.02; a first recovery of 0.03 must not give the bank the fen it never lost."""
    weights = {"bank": 1, "guarantor": 3, "pool": 3}
    assert split(D("0.03"), weights) == {"bank": D("0.01"), "guarantor": D("0.01"), "pool": D("0.01")}
    borne = split(D("0.04"), weights)
    assert borne == {"bank": D("0.00"), "guarantor": D("0.02"), "pool": D("0.02")}
    first = recovery_split(D("0.03"), weights, borne=borne)
    assert first["bank"] == 0 and sum(first.values()) == D("0.03")
    second = recovery_split(D("0.01"), weights, recovered_before=first, borne=borne)
    assert {k: first[k] + second[k] for k in first} == borne


def test_recovery_example_anhui():
    first = recovery_split(D("200000.00"), ANHUI)
    assert first == {"bank": D("40000.00"), "guarantor": D("80000.00"), "reguarantor": D("60000.00"),
                     "pool": D("20000.00")}
    second = recovery_split(D("0.03"), ANHUI, recovered_before=first)
    assert sum(second.values()) == D("0.03")


def test_pool_cap_moves_the_rest_to_the_lender():
    # 2:8 with the 知识价值 cap: the pool pays at most 80 % — here its share is exactly 80 %
    a = allocate_loss(D("1000000.00"), TWO_EIGHT, cap=PayoutCap(rate=D("0.8")))
    assert a.borne == {"bank": D("200000.00"), "pool": D("800000.00")} and a.pool_capped == 0
    # an amount cap of 500,000 per claim: the lender bears the other 300,000
    a = allocate_loss(D("1000000.00"), TWO_EIGHT, cap=PayoutCap(amount=D("500000.00")))
    assert a.borne == {"bank": D("500000.00"), "pool": D("500000.00")} and a.pool_capped == D("300000.00")
    assert sum(a.borne.values()) == a.loss
    # the pool's balance is a cap too
    a = allocate_loss(D("1000.00"), TWO_EIGHT, pool_available=D("100.00"))
    assert a.borne == {"bank": D("900.00"), "pool": D("100.00")}
    # a rate cap rounds down to the fen
    assert risk.pool_payout(D("9.99"), D("0.99"), PayoutCap(rate=D("0.333"))) == D("0.32")
    assert risk.recovery_weights(a, TWO_EIGHT) == {"bank": "900.00", "pool": "100.00"}


def test_breaker_trips_at_the_threshold():
    assert not breaker_tripped(D("1000000"), D("499999.99"), D("0.5"))
    assert breaker_tripped(D("1000000"), D("500000.00"), D("0.5"))
    assert not breaker_tripped(D("0"), D("0"), D("0.5"))
    assert breaker_tripped(D("0"), D("0.01"), D("0.5"))
    assert risk.loss_ratio(D("0"), D("1")) is None


def test_guarantee_fee_and_its_split():
    assert guarantee_fee(D("1500000.00"), D("0.01"), 12) == D("15000.00")
    assert guarantee_fee(D("1234567.89"), D("0.008"), 18) == D("14814.81")
    # everyone but the lender earns the fee by shares: 4:3:1 of 15,000 → 7,500 / 5,625 / 1,875
    assert fee_split(D("15000.00"), ANHUI) == {"guarantor": D("7500.00"), "reguarantor": D("5625.00"),
                                               "pool": D("1875.00")}
    assert fee_split(D("100.00"), TWO_EIGHT) == {"pool": D("100.00")}
    assert fee_split(D("100.00"), {"bank": 1}) == {"guarantor": D("100.00")}


def test_postings_balance_and_the_pool_balance_follows():
    loss = D("1234567.89")
    a = allocate_loss(loss, ANHUI)
    transactions = [
        post_contribution("gov-city", D("4000000.00")),
        post_contribution("gov-district", D("6000000.00")),
        post_fee(fee_split(D("15000.00"), ANHUI)),
        post_payout(a.borne, "bank"),
    ]
    back = recovery_split(D("200000.00"), ANHUI)
    transactions.append(post_recovery(back, "bank"))
    for t in transactions:
        risk.check_balanced(t)
    trial = balances(line for t in transactions for line in t)
    assert sum(trial.values()) == 0
    assert trial[("pool", "cash")] == D("10000000.00") + D("1875.00") - D("123456.79") + D("20000.00")
    assert trial[("bank", "loss")] == D("246913.58") and trial[("bank", "recovery")] == D("-40000.00")
    assert trial[("bank", "defaulted")] == -loss
    # the lender's cash: compensated by the others, then passes their recoveries on
    assert trial[("bank", "cash")] == loss - D("246913.58") + D("40000.00")
    assert trial[("guarantor", "cash")] == D("7500.00") - D("493827.15") + D("80000.00")


def test_unbalanced_or_malformed_lines_are_refused():
    L = risk.Line
    with pytest.raises(RiskError):
        risk.check_balanced([L("pool", "cash", debit=D("1.00")), L("c", "contributed", credit=D("0.99"))])
    with pytest.raises(RiskError):
        risk.check_balanced([L("pool", "cash", debit=D("1.00"), credit=D("1.00")), L("c", "fee", credit=D("1"))])
    with pytest.raises(RiskError):
        risk.check_balanced([L("pool", "cash", debit=D("1.001")), L("c", "fee", credit=D("1.001"))])
    with pytest.raises(RiskError):
        risk.check_balanced([L("pool", "nope", debit=D("1")), L("c", "fee", credit=D("1"))])
    with pytest.raises(RiskError):
        risk.check_balanced([L("pool", "cash", debit=D("1"))])
    with pytest.raises(RiskError):
        post_contribution("c", D("0"))
