"""The audit trail over the API, for administrators."""

from datetime import datetime

from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from twincity.accounts.selectors import user_is_admin
from twincity.core.errors import Forbidden
from twincity.core.selectors import audit_search
from twincity.enterprises.schemas import AuditEntryOut

router = Router(tags=["audit 审计"])


class AuditFilters(Schema):
    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@router.get("/", response=list[AuditEntryOut], summary="The audit trail (administrators)")
@paginate(LimitOffsetPagination)
def audit_list_api(request, filters: Query[AuditFilters]):
    if not user_is_admin(request.user):
        raise Forbidden("只有管理员可以查看审计记录 (administrators only)")
    return audit_search(user=request.user, **filters.dict())
