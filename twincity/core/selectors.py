from datetime import datetime

from django.db.models import QuerySet

from twincity.accounts.selectors import user_is_admin
from twincity.core.models import AuditEntry


def audit_search(
    *,
    user,
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The one access rule for the audit trail: administrators only."""
    if not user_is_admin(user):
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor__username=actor)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")
