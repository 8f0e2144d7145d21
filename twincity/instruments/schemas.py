"""The instrument API's shapes. Money is in **yuan** as decimal strings (to the fen); instants are ISO 8601
(stored and answered in UTC; an instant sent without an offset is read in Asia/Shanghai)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema

from twincity.accounts.models import City
from twincity.core.api import IsoDate, IsoDateTime, decimal_text
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
    no_show_fee: Decimal = Field(..., description="yuan")
    series: UUID | None = Field(None, description="the recurring series it is an occurrence of")
    occurrence_start: datetime | None = Field(None, description="its start as the series' rule gave it")

    @staticmethod
    def resolve_series(obj):
        return obj.series.public_id if obj.series_id is not None else None


# --- recurring series, no-shows, qualifications ----------------------------------------------------------------


class SeriesIn(Schema):
    first_start: IsoDateTime = Field(..., description="the first occurrence's start (its local time is kept)")
    first_end: IsoDateTime = Field(..., description="the first occurrence's end: every occurrence is this long")
    rrule: str = Field(..., max_length=400, description="an RFC 5545 RRULE that ends (COUNT or UNTIL), e.g. "
                       "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8; expanded in Asia/Shanghai; at most 100 occurrences")
    exdates: list[Annotated[str, Field(max_length=40)]] = Field(
        [], max_length=100, description="exceptions (EXDATE): local dates YYYY-MM-DD or ISO 8601 instants")
    skip_conflicts: bool = Field(False, description="book the occurrences the rules accept and report the others "
                                 "(`skipped`); without it one refused occurrence refuses the whole series")
    service_item: str | None = Field(None, max_length=40)
    purpose: str = Field("", max_length=200)
    override_reason: str = Field("", max_length=255, description="administrators only (logged)")


class SeriesChangeIn(Schema):
    start: str = Field(..., pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="the new local start time HH:MM")
    minutes: int = Field(..., ge=5, le=14 * 1440, description="the new length")
    from_day: IsoDate | None = Field(None, description="only the occurrences on or after this local day")
    override_reason: str = Field("", max_length=255)


class SeriesCancelIn(Schema):
    from_start: IsoDateTime | None = Field(None, description="cancel the occurrences starting then or later "
                                           "(default: now, the rest of the series)")
    reason: str = Field("", max_length=255)
    override_reason: str = Field("", max_length=255)


class SeriesOut(Schema):
    public_id: UUID
    instrument: UUID = Field(..., alias="instrument.public_id")
    user: str = Field(..., alias="user.username")
    rrule: str
    first_start: datetime
    minutes: int
    exdates: list[str]
    skip_conflicts: bool
    skipped: list[dict[str, Any]] = Field(..., description="occurrences left out, each with its refusals")
    status: str
    sequence: int
    bookings: list["BookingOut"]

    @staticmethod
    def resolve_bookings(obj):
        return obj.bookings.select_related("instrument", "user", "series").order_by("starts_at")


class QualificationIn(Schema):
    username: str = Field(..., max_length=150)
    valid_from: IsoDate
    valid_until: IsoDate
    note: str = Field("", max_length=255, description="the training record (course, date, trainer)")


class QualificationOut(Schema):
    id: int
    instrument: UUID = Field(..., alias="instrument.public_id")
    user: str = Field(..., alias="user.username")
    valid_from: date
    valid_until: date
    note: str
    granted_by: str = Field(..., alias="granted_by.username")
    revoked_at: datetime | None
    revoke_reason: str


class RevokeIn(Schema):
    reason: str = Field(..., max_length=255, pattern=r"[^\s\x1c-\x1f]", description="the reason (not blank)")


class VoucherPayIn(Schema):
    voucher: UUID = Field(..., description="the public id of one of the paying enterprise's vouchers")
    amount: Annotated[Decimal, Field(gt=0, lt=Decimal("1e10"), allow_inf_nan=False), PRICE_TEXT[0]] | None = Field(
        None, json_schema_extra=PRICE_TEXT[1],
        description="yuan: exactly this voucher part (refused above the co-pay cap or the balance); default: as "
                    "much as allowed")
