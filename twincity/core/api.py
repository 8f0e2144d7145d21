"""The audit trail over the API, for administrators."""

from datetime import UTC, datetime

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import field_validator

from twincity.accounts.selectors import user_is_admin
from twincity.core.errors import Forbidden
from twincity.core.selectors import audit_search
from twincity.enterprises.schemas import AuditEntryOut

router = Router(tags=["audit 审计"])


class Pagination(LimitOffsetPagination):
    """`limit`/`offset` with upper bounds, so an absurd value is a 422 and never a database overflow (500)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=2**31 - 1)


class AuditFilters(Schema):
    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None

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


@router.get("/", response=list[AuditEntryOut], summary="The audit trail (administrators)")
@paginate(Pagination)
def audit_list_api(request, filters: Query[AuditFilters]):
    if not user_is_admin(request.user):
        raise Forbidden("只有管理员可以查看审计记录 (administrators only)")
    return audit_search(user=request.user, **filters.dict())
