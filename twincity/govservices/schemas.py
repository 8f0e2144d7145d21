"""The public-services API's shapes. Dates are Asia/Shanghai calendar days; times are UTC ISO 8601; fees in
yuan as decimal strings; time limits in working days on the official calendar."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from twincity.govservices import rules

ItemTypeIn = Literal[tuple(rules.ITEM_TYPES)]  # type: ignore[valid-type]
HandlingIn = Literal[tuple(rules.HANDLING_KINDS)]  # type: ignore[valid-type]
ModeIn = Literal[tuple(rules.CROSS_CITY_MODES)]  # type: ignore[valid-type]
AreaIn = Literal[tuple(rules.AREAS)]  # type: ignore[valid-type]
DeliveryIn = Literal[tuple(rules.DELIVERY_MODES)]  # type: ignore[valid-type]
CityIn = Literal["chongqing", "chengdu"]
MaterialStateIn = Literal["submitted", "pledged"]


class ItemOut(Schema):
    id: int
    code: str
    version: int
    status: str
    city: str
    name: str
    item_type: str
    handling: str
    department_id: int
    department: str = Field(..., alias="department.name")
    implementing_body_id: int
    implementing_body: str = Field(..., alias="implementing_body.name")
    legal_basis: str
    legal_limit_days: int = Field(..., description="法定办结时限, working days")
    promised_limit_days: int = Field(..., description="承诺办结时限, working days")
    fee: Decimal = Field(..., description="yuan")
    fee_basis: str
    cross_city_mode: str
    areas: list[str]
    definition: dict[str, Any] = Field(..., description="situations, materials (required, tolerated 容缺, held by "
                                                        "the government), pause_steps (特殊环节 that stop the clock)")
    note: str
    created_at: datetime


class ItemIn(Schema):
    code: str = Field(..., min_length=1, max_length=64)
    city: CityIn
    name: str = Field(..., min_length=1, max_length=200)
    item_type: ItemTypeIn
    handling: HandlingIn = "new"
    department_id: int = Field(..., ge=1, le=2**31 - 1)
    implementing_body_id: int = Field(..., ge=1, le=2**31 - 1)
    legal_basis: str = Field("", max_length=5000)
    legal_limit_days: int = Field(..., ge=0, le=365)
    promised_limit_days: int = Field(..., ge=0, le=365)
    fee: Decimal = Field(Decimal(0), ge=0, lt=Decimal("1e9"), allow_inf_nan=False)
    fee_basis: str = Field("", max_length=300)
    cross_city_mode: ModeIn = "online"
    areas: list[AreaIn] = Field(default_factory=list, max_length=20)
    definition: dict[str, Any] = Field(default_factory=dict)
    note: str = Field("", max_length=255)


class ItemVersionIn(Schema):
    """Only the fields given change; the rest are carried over from the published version."""

    name: str | None = Field(None, min_length=1, max_length=200)
    item_type: ItemTypeIn | None = None
    handling: HandlingIn | None = None
    department_id: int | None = Field(None, ge=1, le=2**31 - 1)
    implementing_body_id: int | None = Field(None, ge=1, le=2**31 - 1)
    legal_basis: str | None = Field(None, max_length=5000)
    legal_limit_days: int | None = Field(None, ge=0, le=365)
    promised_limit_days: int | None = Field(None, ge=0, le=365)
    fee: Decimal | None = Field(None, ge=0, lt=Decimal("1e9"), allow_inf_nan=False)
    fee_basis: str | None = Field(None, max_length=300)
    cross_city_mode: ModeIn | None = None
    areas: list[AreaIn] | None = Field(None, max_length=20)
    definition: dict[str, Any] | None = None
    note: str = Field("", max_length=255)


class ImportOut(Schema):
    created: list[str]
    versioned: list[str]
    unchanged: list[str]


class ClockOut(Schema):
    status: str = Field(..., description="not_started, running, warning, overdue, paused, stopped")
    due_date: date | None = Field(None, description="the promised limit's last working day (None while paused)")
    legal_due_date: date | None
    days_left: int | None = Field(None, description="working days; negative when overdue")
    days_used: int | None
    days_taken: int | None


class CaseOut(Schema):
    id: int
    number: str
    state: str
    item_id: int
    item_code: str = Field(..., alias="item.code")
    item_version: int = Field(..., alias="item.version")
    item_name: str = Field(..., alias="item.name")
    item_city: str = Field(..., alias="item.city")
    situations: list[str]
    materials: dict[str, str]
    applicant_name: str
    channel: str
    intake_city: str
    intake_office_id: int | None
    department_id: int
    department: str = Field(..., alias="department.name")
    delivery: str
    correction_notice: dict[str, Any]
    outcome: str
    reason: str
    result_ref: str
    submitted_at: datetime
    forwarded_at: datetime | None
    accepted_at: datetime | None
    due_date: date | None
    legal_due_date: date | None
    decided_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    working_days_taken: int | None


class CaseEventOut(Schema):
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor_id: int | None
    organisation_id: int | None
    comment: str
    data: dict[str, Any]


class CaseDetailOut(CaseOut):
    clock: ClockOut
    allowed_actions: list[str]
    material_states: dict[str, str] = Field(..., description="per applicable material: submitted, pledged, "
                                                             "held (by the government) or missing")
    events: list[CaseEventOut]


class CaseFileIn(Schema):
    item_code: str = Field(..., min_length=1, max_length=64, description="the published version is used")
    applicant_name: str = Field(..., min_length=1, max_length=200)
    channel: Literal["online", "window"] = "online"
    situations: list[str] = Field(default_factory=list, max_length=20)
    materials: dict[str, MaterialStateIn] = Field(default_factory=dict)
    delivery: DeliveryIn = "e_licence"
    for_enterprise: bool = Field(False, description="file for your own company (enterprise users)")


class StepIn(Schema):
    action: Literal["forward", "accept", "notify_correction", "resubmit", "refuse_intake", "pause", "resume",
                    "decide", "deliver", "close", "withdraw", "supply"]
    comment: str = Field("", max_length=500)
    step: str | None = Field(None, max_length=40, description="pause: the special step's code")
    outcome: Literal["approve", "refuse"] | None = Field(None, description="decide")
    delivery: DeliveryIn | None = None
    result_ref: str = Field("", max_length=64)
    materials: dict[str, MaterialStateIn] = Field(default_factory=dict, description="resubmit, supply")


class RatingIn(Schema):
    grade: int = Field(..., description="1 非常不满意 … 5 非常满意")
    comment: str = Field("", max_length=500)


class RatingOut(Schema):
    case_id: int
    grade: int
    comment: str
    rated_at: datetime


class QueueRowOut(Schema):
    case: CaseOut
    clock: ClockOut


class OverdueCaseOut(Schema):
    case: CaseOut
    days_over: int | None


class OverdueGroupOut(Schema):
    department_id: int
    department: str
    cases: list[OverdueCaseOut]
