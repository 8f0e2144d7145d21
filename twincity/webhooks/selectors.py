"""Reads of webhooks. Who sees what is decided in `access`."""

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from twincity.accounts.models import Organisation
from twincity.webhooks import access
from twincity.webhooks.models import Delivery, DeliveryAttempt, Endpoint


def endpoint_list(*, user) -> QuerySet[Endpoint]:
    return access.endpoints_visible(user).select_related("organisation").order_by("organisation__name", "-created_at",
                                                                                   "-id")


def endpoint_get(*, user, public_id: UUID) -> Endpoint | None:
    return access.endpoints_visible(user).select_related("organisation").filter(public_id=public_id).first()


def delivery_list(*, user, endpoint: Endpoint | None = None, status: str = "", event: str = "") -> QuerySet[Delivery]:
    rows = access.deliveries_visible(user).select_related("endpoint", "organisation")
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    if event:
        rows = rows.filter(event=event)
    return rows.order_by("-created_at", "-id")


def delivery_get(*, user, public_id: UUID) -> Delivery | None:
    return (access.deliveries_visible(user).select_related("endpoint__organisation", "organisation")
            .prefetch_related(Prefetch("attempt_log", DeliveryAttempt.objects.order_by("number")))
            .filter(public_id=public_id).first())


def organisation_for_webhooks(*, user, organisation_id: int) -> Organisation | None:
    return access.webhook_organisations(user).filter(pk=organisation_id).first()
