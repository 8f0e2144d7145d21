"""The audit trail over the API, for administrators."""

from datetime import UTC, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import field_validator

from twincity.audit import selectors
from twincity.audit.access import can_view_audit_trail
from twincity.core.access import require
from twincity.core.api import AuditEntryOut, IsoDateTime, RegistryPagination, errors

router = Router(tags=["audit 审计"])


class AuditFilters(Schema):
    object_type: str = Field("", max_length=64, pattern=r"^[a-z0-9_.]*$")
    object_id: str = Field("", max_length=64, pattern=r"^[^\x00]*$")
    actor: str = Field("", max_length=150, pattern=r"^[\w.@+-]*$")
    action: Literal["", "create", "update", "delete"] = ""
    since: IsoDateTime | None = None
    until: IsoDateTime | None = None

    @field_validator("since", "until")
    @classmethod
    def in_utc(cls, value: datetime | None) -> datetime | None:
        # PostgreSQL accepts UTC offsets up to ±15:59 only; Python up to ±23:59. Compare in UTC.
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("date out of range") from None


@router.get("/", response={200: list[AuditEntryOut], **errors(401, 403, 422)},
            summary="The audit trail (administrators)")
@paginate(RegistryPagination)
def audit_list_api(request, filters: Query[AuditFilters]):
    require(can_view_audit_trail(request.user), "只有管理员可以查看审计记录 (administrators only)")
    return selectors.audit_search(**filters.dict())
