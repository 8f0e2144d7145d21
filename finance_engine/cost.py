"""The net cost of a loan to the enterprise, before it applies.

    net annual rate = rate + guarantee fee − interest subsidy − fee subsidy

(issue #8; the parts are those of reference/finance.md: the bank's rate, the guarantor's fee rate, 贴息 and
the guarantee-fee subsidy such as Gansu's ≤ 1 %). A subsidy never pays more than the cost it subsidises:
the interest subsidy counts at most the rate, the fee subsidy at most the guarantee fee, so the net rate is
never negative.

In yuan, for an amount and a term in months, each part is simple interest on the whole amount,
``amount × annual rate × months / 12``, rounded ROUND_HALF_UP to 0.01 yuan (the fen); the net cost is the
sum of the rounded parts (interest + guarantee fee − interest subsidy − fee subsidy), so an itemised
statement always adds up. All arithmetic is Decimal; the annual rates are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .product import Pricing

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    """Round yuan to the fen, half up."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NetCost:
    amount: Decimal  # yuan
    term_months: int
    annual_rate: Decimal  # net, as a fraction (0.0245 = 2.45 % a year), exact
    interest: Decimal  # yuan, to the fen
    guarantee_fee: Decimal
    interest_subsidy: Decimal
    fee_subsidy: Decimal
    total: Decimal  # interest + guarantee_fee − interest_subsidy − fee_subsidy

    def to_dict(self) -> dict[str, str | int]:
        """JSON-friendly (Decimals as strings)."""
        return {
            "amount": str(self.amount),
            "term_months": self.term_months,
            "annual_rate": str(self.annual_rate),
            "interest": str(self.interest),
            "guarantee_fee": str(self.guarantee_fee),
            "interest_subsidy": str(self.interest_subsidy),
            "fee_subsidy": str(self.fee_subsidy),
            "total": str(self.total),
        }


def net_annual_rate(pricing: Pricing) -> Decimal:
    """rate + guarantee fee − interest subsidy − fee subsidy, each subsidy capped at what it subsidises."""
    interest_subsidy = min(pricing.interest_subsidy, pricing.rate)
    fee_subsidy = min(pricing.fee_subsidy, pricing.guarantee_fee)
    return pricing.rate + pricing.guarantee_fee - interest_subsidy - fee_subsidy


def net_cost(pricing: Pricing, amount: Decimal | int | str, term_months: int) -> NetCost:
    """The net cost of borrowing ``amount`` yuan for ``term_months`` months under ``pricing``."""
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"金额须为正数（元） / the amount must be positive yuan, got {amount}")
    if isinstance(term_months, bool) or not isinstance(term_months, int) or term_months <= 0:
        raise ValueError(f"期限须为正整数（月） / the term must be a positive number of months, got {term_months!r}")

    def part(rate: Decimal) -> Decimal:
        return to_fen(amount * rate * term_months / 12)

    interest = part(pricing.rate)
    fee = part(pricing.guarantee_fee)
    interest_subsidy = part(min(pricing.interest_subsidy, pricing.rate))
    fee_subsidy = part(min(pricing.fee_subsidy, pricing.guarantee_fee))
    return NetCost(
        amount=amount,
        term_months=term_months,
        annual_rate=net_annual_rate(pricing),
        interest=interest,
        guarantee_fee=fee,
        interest_subsidy=interest_subsidy,
        fee_subsidy=fee_subsidy,
        total=interest + fee - interest_subsidy - fee_subsidy,
    )
