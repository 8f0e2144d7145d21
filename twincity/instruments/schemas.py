"""The instrument API's shapes. Money is in **yuan** as decimal strings (to the fen); instants are ISO 8601
(stored and answered in UTC; an instant sent without an offset is read in Asia/Shanghai)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema

from twincity.accounts.models import City
from twincity.core.api import IsoDateTime, decimal_text
from twincity.instruments.models import RateClass

CityIn = Literal[tuple(City.values)]  # type: ignore[valid-type]
RateClassIn = Literal[tuple(RateClass.values)]  # type: ignore[valid-type]
PRICE_TEXT = decimal_text(r"^\d{1,10}(\.\d+)?$")


class SearchFilters(Schema):
    q: str = Field("", max_length=100, description="words (Chinese or not) in the name, model, maker, category "
                   "or specifications; every word must match")
    category: str | None = Field(None, pattern=r"^\d{2,8}$", description="a class code: the class and its subclasses")
    city: CityIn | None = None
    owner_id: int | None = Field(None, ge=1, le=2**31 - 1, description="the owner institution's organisation id")
    max_price: Annotated[Decimal, Field(ge=0, lt=Decimal("1e10"), allow_inf_nan=False), PRICE_TEXT[0]] | None = Field(
        None, json_schema_extra=PRICE_TEXT[1],
        description="yuan: an active service item priced at most this (in force today, for `rate_class`)")
    rate_class: RateClassIn | None = Field(None, description="default: the caller's own rate class is not known "
                                           "across owners, so industry")
    free_from: IsoDateTime | None = Field(None, description="with free_until: free for the whole window")
    free_until: IsoDateTime | None = None
    limit: int = Field(20, ge=1, le=100)
    after: str | None = Field(None, max_length=400, description="the cursor of the next page (next_cursor)")


class CategoryOut(Schema):
    code: str
    name_zh: str
    name_en: str
    parent_code: str | None = Field(None, alias="parent.code")


class InstrumentOut(Schema):
    public_id: UUID
    name_zh: str
    name_en: str
    model: str
    maker: str
    category_code: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name_zh")
    owner_id: int
    owner: str = Field(..., alias="owner.name")
    city: str
    site: str
    status: str
    operation: str
    original_value: Decimal = Field(..., description="yuan")
    is_large: bool = Field(..., description="original value ≥ 500,000 yuan (国发〔2014〕70号)")
    required_qualification: str


class InstrumentPageOut(Schema):
    items: list[InstrumentOut]
    next_cursor: str | None


class PriceOut(Schema):
    service_item: str
    name_zh: str
    unit: str
    rate_class: str
    amount: Decimal = Field(..., description="yuan")
    valid_from: date


class InstrumentDetailOut(InstrumentOut):
    specifications: str
    rules: dict[str, Any] = Field(..., description="the booking rules (twincity.instruments.rules' format)")
    rules_version: int
    prices: list[PriceOut] = Field(..., description="the price lines in force today")


class RulesIn(Schema):
    rules: dict[str, Any]


class BusyOut(Schema):
    starts_at: datetime
    ends_at: datetime
    blocked_from: datetime
    blocked_until: datetime
    status: str


class BusyFilters(Schema):
    start: IsoDateTime = Field(..., alias="from", description="the window's start")
    until: IsoDateTime = Field(..., description="the window's end (at most 62 days after its start)")


class BookingIn(Schema):
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    service_item: str | None = Field(None, max_length=40, description="a service item code; default: the "
                                     "instrument's first hourly item")
    purpose: str = Field("", max_length=200)
    override_reason: str = Field("", max_length=255, description="administrators only: waive the rules refused "
                                 "(never a double booking), logged")


class BookingChangeIn(Schema):
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    override_reason: str = Field("", max_length=255)


class NoteIn(Schema):
    note: str = Field("", max_length=255)


class RefuseIn(Schema):
    note: str = Field(..., max_length=255, pattern=r"[^\s\x1c-\x1f]", description="the reason (not blank)")


class CancelIn(Schema):
    reason: str = Field("", max_length=255)
    override_reason: str = Field("", max_length=255)


class WaiveIn(Schema):
    reason: str = Field(..., max_length=255, pattern=r"[^\s\x1c-\x1f]", description="the reason (not blank)")


class BookingOut(Schema):
    public_id: UUID
    instrument: UUID = Field(..., alias="instrument.public_id")
    instrument_name: str = Field(..., alias="instrument.name_zh")
    user: str = Field(..., alias="user.username")
    organisation_id: int | None
    status: str
    starts_at: datetime
    ends_at: datetime
    blocked_from: datetime
    blocked_until: datetime
    hold_expires_at: datetime | None
    purpose: str
    rate_class: str
    unit_price: Decimal | None = Field(None, description="yuan, frozen when booked")
    price_valid_from: date | None = Field(None, description="the price list line's date")
    amount: Decimal = Field(..., description="yuan")
    voucher_amount: Decimal = Field(Decimal(0), description="yuan: the part an innovation voucher pays")
    cash_amount: Decimal = Field(Decimal(0), description="yuan: amount - voucher_amount")
    decision_note: str
    cancellation_fee: Decimal = Field(..., description="yuan")
    fee_waived_reason: str
    overridden_rules: list[str]
    override_reason: str


class VoucherPayIn(Schema):
    voucher: UUID = Field(..., description="the public id of one of the paying enterprise's vouchers")
    amount: Annotated[Decimal, Field(gt=0, lt=Decimal("1e10"), allow_inf_nan=False), PRICE_TEXT[0]] | None = Field(
        None, json_schema_extra=PRICE_TEXT[1],
        description="yuan: exactly this voucher part (refused above the co-pay cap or the balance); default: as "
                    "much as allowed")
