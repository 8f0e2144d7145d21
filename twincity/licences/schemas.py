"""The 一业一证 API's shapes. Dates are ISO (Asia/Shanghai days) as YYYY-MM-DD; instants ISO 8601 in UTC."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from twincity.core.api import IsoDate


class PackageOut(Schema):
    id: int
    code: str
    version: int
    status: str
    city: str
    industry: str
    name: str
    scope: str
    demo: bool
    source: str
    definition: dict[str, Any]


class AnswersIn(Schema):
    answers: dict[str, Any]


class StartIn(AnswersIn):
    enterprise_uscc: str = Field("", max_length=18, description="at a window: the company the clerk files for")


class NoticeOut(Schema):
    answers: dict[str, Any]
    components: list[dict[str, Any]]
    not_applying: list[str]
    materials: list[dict[str, Any]]
    inspection_days: int
    promised_days: int
    legal_days: int


class ComponentOut(Schema):
    id: int
    code: str
    name: str
    route: str
    case_id: int
    case_number: str
    case_state: str
    department: str
    certificate_no: str
    valid_from: date | None
    valid_until: date | None
    cert_status: str


class ApplicationOut(Schema):
    id: int
    number: str
    package_id: int
    state: str
    answers: dict[str, Any]
    notice: dict[str, Any]
    form: dict[str, Any]
    channel: str
    intake_city: str
    submitted_at: datetime | None
    inspection_passed: bool | None
    components: list[ComponentOut]
    licence_id: int | None


class SubmitIn(Schema):
    form: dict[str, str]
    materials: dict[str, str] = {}
    routes: dict[str, str] = {}


class InspectIn(Schema):
    passed: bool
    note: str = Field("", max_length=500)


class LicenceOut(Schema):
    id: int
    number: str
    holder_name: str
    holder_uscc: str
    industry_name: str
    city: str
    issued_at: datetime
    verify_path: str
    components: list[ComponentOut]


class ComponentChangeIn(Schema):
    action: Literal["renew", "revoke"]
    valid_until: IsoDate | None = None
    certificate_no: str = Field("", max_length=64)
    reason: str = Field("", max_length=255)


class ImportOut(Schema):
    created: int
    versioned: int
    unchanged: int
