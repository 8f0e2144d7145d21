from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet

from twincity.core.models import AuditEntry


def audit_search(
    *,
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The audit trail, filtered, newest first (callers check `access.can_view_audit_trail`)."""
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


def audited_object_types() -> list[tuple[str, str]]:
    """(object_type, label) of every platform model, as the trail names them."""
    return sorted(
        (model._meta.label_lower, str(model._meta.verbose_name))
        for model in apps.get_models()
        if model.__module__.startswith("twincity.") and model is not AuditEntry
    )
