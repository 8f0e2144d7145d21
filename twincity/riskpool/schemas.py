"""The risk-pool API's shapes. Money is in **yuan** as decimal strings to the fen; shares are party role →
weight (`bank`, `guarantor`, `reguarantor`, `pool`; e.g. 4:3:2:1 or 2:8); ratios are fractions as decimal
strings (0.5 = 50 %)."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from twincity.riskpool.models import CLAIM_ACTIONS, Claim

MONEY_PATTERN = r"^\d{1,13}(\.\d{1,2})?$"
RATIO_PATTERN = r"^\d{1,2}(\.\d{1,4})?$"
FEE_RATE_PATTERN = r"^0(\.\d{1,6})?$"
TEXT = r"^[^\x00]*$"
Money = Field(..., pattern=MONEY_PATTERN, description="yuan, to the fen, as decimal text")
ClaimStatus = Literal[tuple(Claim.Status.values)]  # type: ignore[valid-type]
ClaimAction = Literal[CLAIM_ACTIONS]  # type: ignore[valid-type]


class PoolOut(Schema):
    id: int
    name: str
    operator_id: int
    operator: str = Field(..., alias="operator.name")
    city: str
    status: str
    suspended_reason: str
    default_shares: dict
    product_shares: dict
    breaker_threshold: Decimal
    payout_cap_rate: Decimal | None
    payout_cap_amount: Decimal | None = Field(None, description="yuan")


class FiguresOut(Schema):
    balance: Decimal
    contributions: Decimal
    fees: Decimal
    payouts: Decimal
    recoveries: Decimal
    net_losses: Decimal
    loss_ratio: Decimal | None
    threshold: Decimal
    tripped: bool
    guarantees: int
    covered: Decimal
    open_claims: int


class PoolDetailOut(PoolOut):
    figures: FiguresOut | None = Field(None, description="the pool's overall figures: its operator, "
                                       "administrators and its guarantors only (null for the others)")


class PoolIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, pattern=TEXT)
    operator_id: int = Field(..., ge=1, le=2**31 - 1)
    city: Literal["chongqing", "chengdu", ""] = ""
    default_shares: dict[str, int | str] = Field(..., description="role → weight, e.g. {\"bank\": 2, \"pool\": 8}")
    product_shares: dict[str, dict[str, int | str]] = Field(default_factory=dict,
                                                            description="product id → shares")
    breaker_threshold: str = Field(..., pattern=RATIO_PATTERN, description="loss ratio, e.g. \"0.5\"")
    payout_cap_rate: str | None = Field(None, pattern=RATIO_PATTERN, description="at most this share of a loss")
    payout_cap_amount: str | None = Field(None, pattern=MONEY_PATTERN, description="yuan per claim")


class ContributionIn(Schema):
    contributor_id: int = Field(..., ge=1, le=2**31 - 1)
    amount: str = Money
    memo: str = Field("", max_length=255, pattern=TEXT)


class NoteIn(Schema):
    note: str = Field("", max_length=255, pattern=TEXT)


class LineOut(Schema):
    party_id: int | None = Field(None, description="the organisation; null: the pool itself")
    party: str
    kind: str
    debit: Decimal
    credit: Decimal


class TransactionOut(Schema):
    id: int
    kind: str
    at: datetime
    memo: str
    guarantee_id: int | None
    claim_id: int | None
    debit_total: Decimal
    credit_total: Decimal
    lines: list[LineOut]


class AccountOut(Schema):
    party_id: int | None
    party: str
    kind: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Field(..., description="debit − credit")


class TrialBalanceOut(Schema):
    accounts: list[AccountOut]
    total: Decimal = Field(..., description="the sum of the balances: always 0.00")


class GuaranteeIn(Schema):
    pool_id: int = Field(..., ge=1, le=2**31 - 1)
    application_id: int = Field(..., ge=1, le=2**31 - 1, description="the loan (a finance financing case)")
    guarantor_id: int = Field(..., ge=1, le=2**31 - 1)
    reguarantor_id: int | None = Field(None, ge=1, le=2**31 - 1)
    product_id: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
                                   description="the guarantor's guarantee product (its published version)")
    covered_amount: str | None = Field(None, pattern=MONEY_PATTERN, description="yuan; default the loan")
    fee_rate: str | None = Field(None, pattern=FEE_RATE_PATTERN, description="annual; default the product's")
    term_months: int | None = Field(None, ge=1, le=600)


class GuaranteeOut(Schema):
    id: int
    pool_id: int
    application_id: int
    product_id: int | None = Field(None, description="the product version's row id")
    lender_id: int
    lender: str = Field(..., alias="lender.name")
    guarantor_id: int
    guarantor: str = Field(..., alias="guarantor.name")
    reguarantor_id: int | None
    enterprise: str = Field(..., alias="application.enterprise.name")
    covered_amount: Decimal
    fee_rate: Decimal
    term_months: int
    fee_amount: Decimal
    shares: dict
    status: str
    created_at: datetime


class PartyOut(Schema):
    role: str
    organisation_id: int | None
    organisation: str
    weight: str
    fee: Decimal
    loss: Decimal
    recovered: Decimal
    net_loss: Decimal


class ClaimIn(Schema):
    amount: str = Money
    description: str = Field("", max_length=500, pattern=TEXT)


class ActionIn(Schema):
    reason: str = Field("", max_length=500, pattern=TEXT, description="required to reject")


class RecoveryIn(Schema):
    amount: str = Money
    note: str = Field("", max_length=255, pattern=TEXT)


class RecoveryOut(Schema):
    id: int
    claim_id: int
    amount: Decimal
    parts: dict
    note: str
    created_at: datetime


class ClaimOut(Schema):
    id: int
    guarantee_id: int
    amount: Decimal
    status: str
    description: str
    rejection_reason: str
    allocation: dict
    created_at: datetime
    decided_at: datetime | None
    paid_at: datetime | None


class GuaranteeDetailOut(GuaranteeOut):
    parties: list[PartyOut]
    claims: list[ClaimOut]
    recoveries: list[RecoveryOut]
    ledger: list[TransactionOut]


class ClaimFilters(Schema):
    status: ClaimStatus | None = None
