"""API schemas of the registry (input ...In, output ...Out)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from twincity.enterprises.fields import INDUSTRY_CLUSTERS, SIZE_CLASSES, SOURCES

ClusterKey = Literal[tuple(INDUSTRY_CLUSTERS)]  # type: ignore[valid-type]
SizeKey = Literal[tuple(SIZE_CLASSES)]  # type: ignore[valid-type]
SourceKey = Literal[tuple(SOURCES)]  # type: ignore[valid-type]
CityText = Field(..., min_length=2, max_length=32, pattern=r"^[a-z]+$")
Money = Decimal
MoneyIn = Field(None, max_digits=16, decimal_places=4, allow_inf_nan=False)
Count = Field(None, ge=0, le=10_000_000)


class QualificationOut(Schema):
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    certificate_no: str
    valid_from: date
    valid_until: date | None


class EnterpriseOut(Schema):
    credit_code: str
    name: str
    city: str
    district: str
    registered_on: date | None
    industry_cluster: str
    industry_code: str
    size_class: str
    resident: bool | None
    prohibited: bool | None
    compliant: bool | None
    is_sme: bool | None
    ip_I_self: int | None
    ip_I_acq: int | None
    ip_I_hv: int | None
    ip_II: int | None
    transforms_3y: int | None
    sei: bool | None
    niche_years: int | None
    innov_title: bool | None
    nat_award_5y_top3: bool | None
    sci_award_3y: bool | None
    led_standard_5y: bool | None
    maker_top500_3y: bool | None
    updated_at: datetime


class EnterpriseDetailOut(EnterpriseOut):
    qualifications: list[QualificationOut]


class EnterpriseProfileIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=2, max_length=32, pattern=r"^[a-z]+$")
    district: str | None = Field(None, max_length=64)
    registered_on: date | None = None
    industry_cluster: ClusterKey | None = None
    industry_code: str | None = Field(None, max_length=8, pattern=r"^([A-T]\d{0,4})?$")
    size_class: SizeKey | None = None
    resident: bool | None = None
    prohibited: bool | None = None
    compliant: bool | None = None
    is_sme: bool | None = None
    ip_I_self: int | None = Count
    ip_I_acq: int | None = Count
    ip_I_hv: int | None = Count
    ip_II: int | None = Count
    transforms_3y: int | None = Count
    sei: bool | None = None
    niche_years: int | None = Field(None, ge=0, le=200)
    innov_title: bool | None = None
    nat_award_5y_top3: bool | None = None
    sci_award_3y: bool | None = None
    led_standard_5y: bool | None = None
    maker_top500_3y: bool | None = None


class EnterpriseCreateIn(EnterpriseProfileIn):
    credit_code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=200)
    city: str = CityText


class ProvenanceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    source: SourceKey = "self_declared"
    verified: bool = False


class FiguresIn(Schema):
    model_config = ConfigDict(extra="forbid")

    employees: int | None = Field(None, ge=-10_000_000, le=10_000_000)
    tech_staff: int | None = Field(None, ge=-10_000_000, le=10_000_000)
    rd_staff: int | None = Field(None, ge=-10_000_000, le=10_000_000)
    sales: Money | None = MoneyIn
    oprev: Money | None = MoneyIn
    main: Money | None = MoneyIn
    na: Money | None = MoneyIn
    assets: Money | None = MoneyIn
    liab: Money | None = MoneyIn
    rd: Money | None = MoneyIn
    rd_dom: Money | None = MoneyIn
    cost: Money | None = MoneyIn
    total_income: Money | None = MoneyIn
    hitech_rev: Money | None = MoneyIn
    net_profit: Money | None = MoneyIn
    tax: Money | None = MoneyIn
    equity_new: Money | None = MoneyIn
    tech_contract: Money | None = MoneyIn


class DeclarationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    figures: FiguresIn
    provenance: dict[str, ProvenanceIn] = {}
    replace: bool = False

    @field_validator("provenance")
    @classmethod
    def known_figures(cls, value: dict[str, ProvenanceIn]) -> dict[str, ProvenanceIn]:
        unknown = set(value) - set(FiguresIn.model_fields)
        if unknown:
            raise ValueError(f"unknown figures: {', '.join(sorted(unknown))}")
        return value


class FlagOut(Schema):
    code: str
    fields: list[str]
    message_zh: str
    message_en: str


class DeclarationOut(Schema):
    credit_code: str = Field(..., alias="enterprise.credit_code")
    fiscal_year: int
    employees: int | None
    tech_staff: int | None
    rd_staff: int | None
    sales: Money | None
    oprev: Money | None
    main: Money | None
    na: Money | None
    assets: Money | None
    liab: Money | None
    rd: Money | None
    rd_dom: Money | None
    cost: Money | None
    total_income: Money | None
    hitech_rev: Money | None
    net_profit: Money | None
    tax: Money | None
    equity_new: Money | None
    tech_contract: Money | None
    provenance: dict[str, dict]
    flags: list[FlagOut]
    updated_at: datetime


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str | None = Field(None, alias="actor.username")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict
    context: str
