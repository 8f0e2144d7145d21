"""Net cost: rate + guarantee fee − interest subsidy − fee subsidy, as an annual rate and in yuan (exact)."""

from decimal import Decimal

import pytest

from finance_engine import Pricing, net_annual_rate, net_cost

D = Decimal


def test_one_year_million_yuan():
    cost = net_cost(Pricing(D("0.0345"), D("0.01"), D("0.015"), D("0.005")), D("1000000"), 12)
    assert cost.annual_rate == D("0.0245")
    assert (cost.interest, cost.guarantee_fee, cost.interest_subsidy, cost.fee_subsidy) == (
        D("34500.00"), D("10000.00"), D("15000.00"), D("5000.00"),
    )
    assert cost.total == D("24500.00")
    assert cost.to_dict()["total"] == "24500.00" and cost.to_dict()["annual_rate"] == "0.0245"


def test_odd_amount_and_term_round_each_part_half_up_to_the_fen():
    cost = net_cost(Pricing(D("0.0365"), D("0.012"), D("0.02"), D("0.005")), "333333.33", 7)
    # 333333.33 × 0.0365 × 7 / 12 = 7097.22215125; × 0.012 … = 2333.33331; × 0.02 … = 3888.888885;
    # × 0.005 … = 972.2222125
    assert cost.interest == D("7097.22")
    assert cost.guarantee_fee == D("2333.33")
    assert cost.interest_subsidy == D("3888.89")
    assert cost.fee_subsidy == D("972.22")
    assert cost.total == D("4569.44")  # the sum of the rounded parts
    assert cost.annual_rate == D("0.0235")


def test_half_a_fen_rounds_up():
    assert net_cost(Pricing(D("0.001")), 25, 12).interest == D("0.03")  # 0.025 → 0.03 (not 0.02)
    assert net_cost(Pricing(D("0.001")), 15, 12).interest == D("0.02")  # 0.015 → 0.02


def test_a_subsidy_never_pays_more_than_its_cost():
    pricing = Pricing(rate=D("0.03"), guarantee_fee=D("0"), interest_subsidy=D("0.05"), fee_subsidy=D("0.01"))
    assert net_annual_rate(pricing) == D("0")
    cost = net_cost(pricing, 100000, 6)
    assert (cost.interest, cost.interest_subsidy, cost.fee_subsidy, cost.total) == (
        D("1500.00"), D("1500.00"), D("0.00"), D("0.00"),
    )


def test_guarantee_fee_only_and_a_short_term():
    cost = net_cost(Pricing(D("0.031"), D("0.008")), 2_870_000, 1)
    assert cost.interest == D("7414.17")  # 2,870,000 × 0.031 / 12 = 7414.1666…
    assert cost.guarantee_fee == D("1913.33")  # 2,870,000 × 0.008 / 12 = 1913.333…
    assert cost.total == D("9327.50")
    assert cost.annual_rate == D("0.039")


@pytest.mark.parametrize("amount,term", [(0, 12), (-5, 12), ("NaN", 12), (1000, 0), (1000, 1.5), (1000, True)])
def test_bad_amount_or_term(amount, term):
    with pytest.raises(ValueError):
        net_cost(Pricing(D("0.03")), amount, term)
