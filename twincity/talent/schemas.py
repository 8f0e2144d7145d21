"""The talent-card API's shapes. Dates are ISO (Asia/Shanghai days); instants ISO 8601 in UTC."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from twincity.core.api import IsoDate
from twincity.talent.models import DISCLOSABLE

DisclosableIn = Literal[DISCLOSABLE]  # type: ignore[valid-type]


class SchemeOut(Schema):
    code: str
    name: str
    city: str
    issuer: str
    issuer_level: str
    version: int | None = Field(None, description="the version in force today")
    effective_from: IsoDate | None = None
    demo: bool = Field(False, description="holds unconfirmed demo values an administrator must check")
    definition: dict | None = None


class EvidenceIn(Schema):
    criterion: str = Field(..., max_length=40)
    type: str = Field(..., max_length=40)
    reference: str = Field("", max_length=100)


class ApplicationIn(Schema):
    scheme: str = Field(..., max_length=32, description="the scheme code, e.g. jinxiongmao")
    applicant_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                     description="a colleague's user id (employer channel); default yourself")
    evidence: list[EvidenceIn] = Field(..., max_length=50)


class ApplicationOut(Schema):
    public_id: UUID
    scheme: str = Field(..., alias="scheme.code")
    applicant_id: int
    submitted_by_id: int
    channel: str
    evidence: list[dict]
    proposed_tier: str = Field(..., description="the highest tier the evidence meets (就高原则); '' for none")
    status: str
    decision_note: str
    created_at: datetime
    decided_at: datetime | None


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=255)


class CardOut(Schema):
    public_id: UUID
    number: str
    scheme: str = Field(..., alias="scheme.code")
    tier: str
    status: str
    issued_on: IsoDate
    valid_until: IsoDate
    code_version: int
    disclosure: list[str]
    verify_url: str = Field("", description="the public verify page its QR code opens")


class DisclosureIn(Schema):
    fields: list[DisclosableIn] = Field(..., max_length=len(DISCLOSABLE))  # type: ignore[valid-type]


class ServiceRequestIn(Schema):
    card: UUID
    provider: str = Field(..., max_length=32, description="the scheme whose zone provides the service")
    service: str = Field(..., max_length=40)
    for_family: bool = False


class ServiceRequestOut(Schema):
    public_id: UUID
    granted: bool
    rule: str
    reason: str
    service_code: str
    service_name: str
    provider: str = Field(..., alias="provider_scheme.code")
    provider_version: int | None = Field(None, alias="provider_version.version")
    mapping_version: int | None = Field(None, alias="mapping.version")
    home_tier: str
    used_on: IsoDate
    requested_at: datetime


class MappingIn(Schema):
    home: str = Field(..., max_length=32)
    partner: str = Field(..., max_length=32)
    effective_from: IsoDate
    effective_to: IsoDate | None = None
    pairs: dict[str, str]
    demo: bool = False
    note: str = Field("", max_length=500)


class MappingOut(Schema):
    home: str = Field(..., alias="home_scheme.code")
    partner: str = Field(..., alias="partner_scheme.code")
    version: int
    effective_from: IsoDate
    effective_to: IsoDate | None
    pairs: dict
    demo: bool


class SchemeVersionIn(Schema):
    effective_from: IsoDate
    definition: dict
    validity_years: int = Field(3, ge=1, le=20)
    renew_window_days: int = Field(30, ge=1, le=365)
    family_extension: bool = False
    yearly_quota: int | None = Field(None, ge=1, le=10**6)
    demo: bool = False
    note: str = Field("", max_length=500)


class SchemeVersionOut(Schema):
    scheme: str = Field(..., alias="scheme.code")
    version: int
    effective_from: IsoDate
    validity_years: int
    renew_window_days: int
    demo: bool
