"""The finance API's shapes. Money is in **yuan** as decimal strings (to the fen), since costs are computed
to the fen; rates are annual fractions as decimal strings (0.0345 = 3.45 % a year)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from twincity.core.api import IsoDateTime, decimal_text
from twincity.enterprises.fields import CREDIT_CODE_PATTERN
from twincity.finance.models import INSTITUTION_KINDS, ProductKind, Purpose

InstitutionKind = Literal[tuple(k.value for k in INSTITUTION_KINDS)]  # type: ignore[valid-type]
PurposeIn = Literal[tuple(Purpose.values)]  # type: ignore[valid-type]
KindIn = Literal[tuple(ProductKind.values)]  # type: ignore[valid-type]


# An amount asked, in yuan: at least one fen, under 10^12; as text, digits with an optional fraction.
AMOUNT_TEXT = decimal_text(r"^([1-9]\d{0,11}(\.\d+)?|0?\.(0[1-9]|[1-9])\d*)$")


class MatchFilters(Schema):
    enterprise: str | None = Field(None, pattern=CREDIT_CODE_PATTERN, description="credit code; default: your own "
                                   "company")
    amount: Annotated[Decimal, Field(ge=Decimal("0.01"), lt=Decimal("1e12"), allow_inf_nan=False),
                      AMOUNT_TEXT[0]] | None = Field(None, json_schema_extra=AMOUNT_TEXT[1],
                                                     description="yuan; counted to the fen (half up)")
    term_months: int = Field(12, ge=1, le=600, description="months; used with an amount")


class ProductOut(Schema):
    product_id: str
    version: int
    status: str
    institution_id: int
    institution: str = Field(..., alias="institution.name")
    kind: str
    name_zh: str
    name_en: str
    rate: Decimal | None
    guarantee_fee: Decimal
    interest_subsidy: Decimal
    fee_subsidy: Decimal
    min_amount: Decimal | None = Field(None, description="yuan")
    max_amount: Decimal | None = Field(None, description="yuan")
    min_term_months: int | None
    max_term_months: int | None
    created_at: datetime


class ProductVersionOut(Schema):
    version: int
    status: str
    created_at: datetime
    note: str


class ProductDetailOut(ProductOut):
    definition: dict[str, Any] = Field(..., description="the product in finance_engine's format")
    versions: list[ProductVersionOut]


class ProductCreateIn(Schema):
    product_id: str = Field(..., max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    institution_id: int = Field(..., ge=1, le=2**31 - 1)
    definition: dict[str, Any] = Field(..., description="finance_engine's product format (id, version and "
                                       "institution are set by the platform), plus `limits`: min_amount, "
                                       "max_amount (yuan, text), min_term_months, max_term_months")
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")


class ProductVersionIn(Schema):
    definition: dict[str, Any]
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")


class ProductWithdrawIn(Schema):
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")


class ConditionOut(Schema):
    id: str
    name_zh: str
    name_en: str
    met: bool | None = Field(..., description="null: unknown (a fact it reads is blank)")
    reason_zh: str
    reason_en: str


class LimitOut(Schema):
    id: Literal["amount", "credit_line", "term"]
    met: bool
    reason_zh: str
    reason_en: str


class CostOut(Schema):
    amount: Decimal = Field(..., description="yuan")
    term_months: int
    annual_rate: Decimal = Field(..., description="net: rate + guarantee fee − interest subsidy − fee subsidy")
    interest: Decimal
    guarantee_fee: Decimal
    interest_subsidy: Decimal
    fee_subsidy: Decimal
    total: Decimal = Field(..., description="yuan, to the fen: interest + guarantee fee − both subsidies")


class OfferOut(Schema):
    product_id: str
    version: int
    name_zh: str
    name_en: str
    institution: str
    kind: str
    verdict: Literal["eligible", "needs_review", "ineligible"]
    conditions: list[ConditionOut]
    limits: list[LimitOut]
    credit_line: Decimal | None = Field(None, description="yuan, at the enterprise's grade")
    annual_rate: Decimal | None = Field(None, description="net annual rate")
    cost: CostOut | None = None


class MatchOut(Schema):
    credit_code: str
    evaluation_date: date
    amount: Decimal | None
    term_months: int | None
    offers: list[OfferOut]


class ConsentOut(Schema):
    id: int
    credit_code: str = Field(..., alias="enterprise.credit_code")
    institution_id: int | None
    institution: str | None
    institution_kind: str
    purpose: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    active: bool

    @staticmethod
    def resolve_institution(obj) -> str | None:
        return obj.institution.name if obj.institution_id else None

    @staticmethod
    def resolve_active(obj) -> bool:
        from django.utils import timezone

        return obj.active_at(timezone.now())


class ConsentIn(Schema):
    credit_code: str | None = Field(None, pattern=CREDIT_CODE_PATTERN, description="default: your own company")
    institution_id: int | None = Field(None, ge=1, le=2**31 - 1)
    institution_kind: InstitutionKind | None = None
    purpose: PurposeIn
    valid_until: IsoDateTime = Field(..., description="ISO 8601; without an offset it is read in Asia/Shanghai")


class AccessLogOut(Schema):
    id: int
    at: datetime
    user: str | None
    institution_id: int
    institution: str = Field(..., alias="institution.name")
    what: str
    purpose: str
    consent_id: int
    via: str

    @staticmethod
    def resolve_user(obj) -> str | None:
        return obj.user.username if obj.user_id else None


class PointsResultOut(Schema):
    standard_id: str
    version: str
    evaluation_date: date
    verdict: str
    score_min: Decimal | None
    score_max: Decimal | None
    grade: str


# --- demands and applications ------------------------------------------------------------------------------

CaseKindIn = Literal["demand", "application"]
CityIn = Literal["chongqing", "chengdu"]
MoneyIn = Annotated[Decimal, Field(ge=Decimal("0.01"), lt=Decimal("1e12"), allow_inf_nan=False), AMOUNT_TEXT[0]]
RateIn = Annotated[Decimal, Field(ge=Decimal(0), lt=Decimal(1), allow_inf_nan=False),
                   decimal_text(r"^0?\.\d+|0$")[0]]
Comment = Field("", max_length=500, pattern=r"^[^\x00]*$")


class CaseCreateIn(Schema):
    kind: CaseKindIn
    product_id: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
                                   description="an application: the product (its published version is recorded)")
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version seen; 409 if no longer published")
    amount: MoneyIn = Field(..., json_schema_extra=AMOUNT_TEXT[1], description="yuan, to the fen")
    term_months: int = Field(..., ge=1, le=600)
    purpose: str = Field(..., min_length=1, max_length=500, pattern=r"^[^\x00]*$")
    registered_city: CityIn | None = Field(None, description="default: the enterprise's city")
    project_city: CityIn | None = Field(None, description="default: the registered city; a twin-city loan "
                                        "needs the other city")
    submit: bool = Field(False, description="submit (an application) or publish (a demand) at once")


class CommentIn(Schema):
    comment: str = Comment


class ResubmitIn(Schema):
    comment: str = Comment
    amount: MoneyIn | None = Field(None, json_schema_extra=AMOUNT_TEXT[1])
    term_months: int | None = Field(None, ge=1, le=600)
    purpose: str | None = Field(None, max_length=500, pattern=r"^[^\x00]*$")


class DecisionIn(Schema):
    decision: Literal["approve", "reject", "refer_back"]
    comment: str = Field("", max_length=500, pattern=r"^[^\x00]*$",
                         description="mandatory for reject and refer_back (422 without)")
    amount: MoneyIn | None = Field(None, json_schema_extra=AMOUNT_TEXT[1],
                                   description="approve: the amount (a twin-city branch: its share), yuan")
    rate: RateIn | None = Field(None, description="approve: the annual rate as a fraction")
    term_months: int | None = Field(None, ge=1, le=600, description="approve: default the term asked")


class MoneyEventIn(Schema):
    amount: MoneyIn | None = Field(None, json_schema_extra=AMOUNT_TEXT[1],
                                   description="yuan; default: all (approved / outstanding)")
    on: date | None = Field(None, description="default: today in Asia/Shanghai")
    comment: str = Comment


class OverdueIn(Schema):
    amount: MoneyIn = Field(..., json_schema_extra=AMOUNT_TEXT[1], description="the overdue amount, yuan")
    on: date | None = None
    comment: str = Comment


class DefaultIn(Schema):
    on: date | None = None
    comment: str = Field(..., min_length=1, max_length=500, pattern=r"^[^\x00]*$")


class CaseEventOut(Schema):
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor: str | None
    institution: str | None
    comment: str
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_institution(obj) -> str | None:
        return obj.institution.name if obj.institution_id else None


class BranchDecisionOut(Schema):
    round: int
    institution_id: int
    institution: str = Field(..., alias="institution.name")
    decision: str
    share_amount: Decimal | None
    rate: Decimal | None
    term_months: int | None
    comment: str
    decided_at: datetime


class CaseOut(Schema):
    id: int
    kind: str
    state: str
    credit_code: str = Field(..., alias="enterprise.credit_code")
    enterprise: str = Field(..., alias="enterprise.name")
    product_id: str | None
    product_version: int | None
    amount: Decimal = Field(..., description="yuan")
    term_months: int
    purpose: str
    registered_city: str
    project_city: str
    lead_institution_id: int | None
    partner_institution_id: int | None
    decision_round: int
    reason: str
    approved_amount: Decimal | None
    approved_rate: Decimal | None
    approved_term_months: int | None
    disbursed_amount: Decimal | None
    disbursed_on: date | None
    repaid_amount: Decimal
    repaid_on: date | None
    overdue_amount: Decimal | None
    overdue_since: date | None
    defaulted_on: date | None
    submitted_at: datetime | None
    claim_due: date | None = Field(None, description="a published demand: the last working day to claim it")
    claimed_at: datetime | None
    decision_due: date | None = Field(None, description="the last working day of the approval limit")
    decided_at: datetime | None
    escalated_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_product_id(obj) -> str | None:
        product = obj["product"] if isinstance(obj, dict) else obj.product
        return product.product_id if product is not None else None

    @staticmethod
    def resolve_product_version(obj) -> int | None:
        product = obj["product"] if isinstance(obj, dict) else obj.product
        return product.version if product is not None else None


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    decisions: list[BranchDecisionOut]


class OverdueOut(Schema):
    case: CaseOut
    clock: Literal["claim", "decision"]
    due: date
    working_days_late: int
    late: list[str] = Field(..., description="the institutions that have not acted")
