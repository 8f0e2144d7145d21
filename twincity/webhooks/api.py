"""Institutions' webhooks over the API (a bank's own system, with its API token): endpoints, their secrets, the
delivery log and resending. Requests to the endpoints are signed as docs/webhooks.md describes."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.core.errors import InvalidInput
from twincity.core.events import EVENT_MAX_LENGTH
from twincity.webhooks import access, selectors, services
from twincity.webhooks.services import MAX_EVENTS

router = Router(tags=["webhooks"])

NO_SUCH_ENDPOINT = "端点不存在 (no such endpoint)"
NO_SUCH_DELIVERY = "投递记录不存在 (no such delivery)"
MANAGERS_ONLY = "只有机构人员和管理员可以管理 webhook (institutions' officers and administrators only)"
EventName = Annotated[str, Field(min_length=1, max_length=EVENT_MAX_LENGTH, pattern=r"^(\*|[a-z][a-z0-9_.]*)$")]


class EndpointIn(Schema):
    organisation_id: int = Field(..., ge=1, le=2**63 - 1)
    url: str = Field(..., min_length=1, max_length=500, pattern=r"^https?://[^\s\x00]+$")
    events: list[EventName] = Field(..., min_length=1, max_length=MAX_EVENTS,
                                    description='Event names, or ["*"] for every event')
    description: str = Field("", max_length=200, pattern=r"^[^\x00]*$")


class EndpointPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=500, pattern=r"^https?://[^\s\x00]+$")
    events: list[EventName] | None = Field(None, min_length=1, max_length=MAX_EVENTS)
    description: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$")
    active: bool | None = None


class EndpointOut(Schema):
    id: UUID = Field(..., alias="public_id")
    organisation_id: int
    organisation: str = Field(..., alias="organisation.name")
    url: str
    description: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None


class EndpointSecretOut(EndpointOut):
    secret: str = Field(..., description="The HMAC key of the X-Twincity-Signature header")


class AttemptOut(Schema):
    number: int
    at: datetime
    timestamp: int
    status_code: int | None
    error: str
    response_excerpt: str
    duration_ms: int


class DeliveryOut(Schema):
    id: UUID = Field(..., alias="public_id")
    endpoint_id: UUID = Field(..., alias="endpoint.public_id")
    organisation_id: int
    event: str
    event_id: UUID
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetailOut(DeliveryOut):
    payload: dict
    response_excerpt: str
    attempt_log: list[AttemptOut] = Field(..., alias="attempt_log.all")


class DeliveryFilters(Schema):
    endpoint_id: UUID | None = None
    status: Literal["", "pending", "delivered", "failed"] = ""
    event: str = Field("", max_length=EVENT_MAX_LENGTH, pattern=r"^[a-z0-9_.]*$")


def _endpoint(request, endpoint_id: UUID):
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    return visible(selectors.endpoint_get(user=request.user, public_id=endpoint_id), NO_SUCH_ENDPOINT)


@router.get("/endpoints", response={200: list[EndpointOut], **errors(401, 403, 422)},
            summary="The endpoints of my institution (administrators: all)")
@paginate(Pagination)
def endpoint_list_api(request):
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    return selectors.endpoint_list(user=request.user)


@router.post("/endpoints", response={201: EndpointSecretOut, **errors(401, 403, 422)},
             summary="Register an endpoint; the answer holds its secret",
             description="An organisation outside your institution, a URL that is not http(s) or (in production) "
                         "points at a private address, or an invalid event name answers 422.")
def endpoint_create_api(request, payload: EndpointIn):
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    organisation = selectors.organisation_for_webhooks(user=request.user, organisation_id=payload.organisation_id)
    if organisation is None:
        raise InvalidInput("机构不存在或无权管理 (no such organisation of yours)",
                           extra={"fields": {"organisation_id": [str(payload.organisation_id)]}})
    endpoint = services.endpoint_create(actor=request.user, organisation=organisation, url=payload.url,
                                        events=payload.events, description=payload.description)
    return Status(201, endpoint)


@router.get("/endpoints/{endpoint_id}", response={200: EndpointOut, **errors(401, 403, 404, 422)},
            summary="One endpoint")
def endpoint_get_api(request, endpoint_id: UUID):
    return _endpoint(request, endpoint_id)


@router.get("/endpoints/{endpoint_id}/secret", response={200: EndpointSecretOut, **errors(401, 403, 404, 422)},
            summary="One endpoint with its secret")
def endpoint_secret_api(request, endpoint_id: UUID):
    return _endpoint(request, endpoint_id)


@router.patch("/endpoints/{endpoint_id}", response={200: EndpointOut, **errors(401, 403, 404, 422)},
              summary="Change an endpoint's URL, events or description, or disable (active=false) or enable it")
def endpoint_update_api(request, payload: EndpointPatch, endpoint_id: UUID):
    endpoint = _endpoint(request, endpoint_id)
    return services.endpoint_update(actor=request.user, endpoint=endpoint, url=payload.url, events=payload.events,
                                    description=payload.description, active=payload.active)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response={200: EndpointSecretOut, **errors(401, 403, 404, 422)},
             summary="Replace the endpoint's secret; the answer holds the new one",
             description="Every attempt from now on, retries included, is signed with the new secret.")
def endpoint_rotate_api(request, endpoint_id: UUID):
    return services.endpoint_rotate_secret(actor=request.user, endpoint=_endpoint(request, endpoint_id))


@router.get("/deliveries", response={200: list[DeliveryOut], **errors(401, 403, 404, 422)},
            summary="The delivery log of my institution's endpoints, newest first",
            description="An `endpoint_id` you may not see answers 404.")
@paginate(Pagination)
def delivery_list_api(request, filters: Query[DeliveryFilters]):
    endpoint = _endpoint(request, filters.endpoint_id) if filters.endpoint_id else None
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    return selectors.delivery_list(user=request.user, endpoint=endpoint, status=filters.status, event=filters.event)


@router.get("/deliveries/{delivery_id}", response={200: DeliveryDetailOut, **errors(401, 403, 404, 422)},
            summary="One delivery with its payload and every attempt")
def delivery_get_api(request, delivery_id: UUID):
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    return visible(selectors.delivery_get(user=request.user, public_id=delivery_id), NO_SUCH_DELIVERY)


@router.post("/deliveries/{delivery_id}/resend", response={202: DeliveryOut, **errors(401, 403, 404, 409, 422)},
             summary="Send a delivered or failed delivery again (same event id and body, a fresh signature)",
             description="A delivery still being sent, or one whose endpoint is disabled, answers 409.")
def delivery_resend_api(request, delivery_id: UUID):
    require(access.can_use_webhooks(request.user), MANAGERS_ONLY)
    delivery = visible(selectors.delivery_get(user=request.user, public_id=delivery_id), NO_SUCH_DELIVERY)
    return Status(202, services.delivery_resend(actor=request.user, delivery=delivery))
