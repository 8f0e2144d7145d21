"""The voucher API's shapes. Money is in **yuan** as decimal strings (to the fen); dates are local
(Asia/Shanghai) ISO dates; instants ISO 8601 in UTC."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema

from twincity.accounts.models import City
from twincity.core.api import IsoDate, decimal_text
from twincity.vouchers.models import EvidenceKind, SettlementMode

CityIn = Literal[tuple(City.values)]  # type: ignore[valid-type]
ModeIn = Literal[tuple(SettlementMode.values)]  # type: ignore[valid-type]
EvidenceKindIn = Literal[tuple(EvidenceKind.values)]  # type: ignore[valid-type]
SubsidyKindIn = Literal["test_subsidy", "post_subsidy"]
MONEY_TEXT = decimal_text(r"^\d{1,10}(\.\d{1,2})?$")
Money = Annotated[Decimal, Field(gt=0, lt=Decimal("1e10"), allow_inf_nan=False), MONEY_TEXT[0]]
ZeroOrMoney = Annotated[Decimal, Field(ge=0, lt=Decimal("1e10"), allow_inf_nan=False), MONEY_TEXT[0]]


class BatchIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    city: CityIn
    amount: Money = Field(..., description="yuan per voucher", json_schema_extra=MONEY_TEXT[1])
    valid_from: IsoDate
    valid_until: IsoDate
    categories: list[Annotated[str, Field(pattern=r"^\d{2,8}$")]] = Field(
        default_factory=list, max_length=100, description="instrument category codes (a class covers its "
                                                          "subclasses); empty: any")
    providers: list[int] = Field(default_factory=list, max_length=500,
                                 description="provider organisation ids (institutes); empty: any")
    regions: list[CityIn] = Field(..., min_length=1, description="the cities whose providers accept the voucher "
                                                                 "(cross-city acceptance)")
    settlement_mode: ModeIn = Field(..., description="reimbursement (企业兑付) or direct (机构兑付)")
    copay_share: Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        Decimal(0), description="the share the enterprise pays itself, 0–0.999")


class BatchOut(Schema):
    public_id: UUID
    code: str
    name: str
    city: str
    office: str = Field(..., alias="office.name")
    amount: Decimal
    valid_from: IsoDate
    valid_until: IsoDate
    categories: list[str]
    providers: list[int]
    regions: list[str]
    settlement_mode: str
    copay_share: Decimal
    active: bool


class IssueIn(Schema):
    holders: list[int] = Field(..., min_length=1, max_length=500, description="enterprise organisation ids")


class VoucherOut(Schema):
    public_id: UUID
    code: str
    batch: str = Field(..., alias="batch.code")
    batch_name: str = Field(..., alias="batch.name")
    holder_id: int
    holder: str = Field(..., alias="holder.name")
    amount: Decimal
    reserved: Decimal
    used: Decimal
    balance: Decimal
    valid_from: IsoDate
    valid_until: IsoDate
    status: str
    regions: list[str] = Field(..., alias="batch.regions")
    settlement_mode: str = Field(..., alias="batch.settlement_mode")
    copay_share: Decimal = Field(..., alias="batch.copay_share")


class EvidenceOut(Schema):
    id: int
    kind: str
    name: str
    size: int
    sha256: str
    created_at: datetime


class RedemptionOut(Schema):
    public_id: UUID
    voucher: str = Field(..., alias="voucher.code")
    holder: str = Field(..., alias="voucher.holder.name")
    job_key: str
    job_label: str
    provider_id: int
    provider: str = Field(..., alias="provider.name")
    provider_city: str
    category_code: str
    job_date: IsoDate
    job_amount: Decimal
    voucher_amount: Decimal
    cash_amount: Decimal
    settlement_mode: str
    status: str
    status_note: str
    used_at: datetime | None
    claimed_at: datetime | None
    settled_at: datetime | None


class RedemptionDetailOut(RedemptionOut):
    evidence: list[EvidenceOut] = Field(..., alias="evidence_files")
    missing: list[str] = Field(..., description="evidence kinds still missing before a claim")


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=255, description="required to send a claim back")


class ClaimIn(Schema):
    kind: SubsidyKindIn
    job_kind: str = Field(..., min_length=1, max_length=40, pattern=r"^[a-z_]+\.[a-z_]+$")
    job_ref: str = Field(..., min_length=1, max_length=64)
    claimant_id: int
    amount: ZeroOrMoney = Field(..., json_schema_extra=MONEY_TEXT[1])
    note: str = Field("", max_length=255)


class ClaimOut(Schema):
    id: int
    job_key: str
    kind: str
    claimant_id: int
    amount: Decimal
    active: bool
    note: str
    created_at: datetime


class PeriodFilters(Schema):
    period_from: IsoDate | None = Field(None, description="service dates from (included), YYYY-MM-DD")
    period_until: IsoDate | None = Field(None, description="service dates until (included), YYYY-MM-DD")


class WithdrawIn(Schema):
    reason: str = Field(..., min_length=1, max_length=255)
