"""Writes of webhooks. `webhook_emit` is what every domain calls, inside its transaction:

    webhook_emit(demand.bank, "finance.demand.published", {"demand_id": str(demand.public_id), ...})

It creates one Delivery per endpoint that is to receive the event and enqueues its sending when the caller's
transaction commits (nothing is sent for a change that rolled back).

Which endpoints receive an event of an organisation: its own active endpoints subscribed to the event; when it
has none, those of its parent (a branch's head office: a bank usually runs one system for all its branches). An
organisation never receives another tree's events.
"""

import json
import logging
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.background import task_enqueue_on_commit, task_live_values
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.events import EVENT_PATTERN, event_name_valid
from twincity.webhooks import access, transport
from twincity.webhooks.models import ALL_EVENTS, Delivery, Endpoint, secret_new
from twincity.webhooks.tasks import webhook_delivery_task

logger = logging.getLogger("twincity.webhooks")

AUDITED_FIELDS = ["organisation_id", "url", "description", "events", "active", "secret_rotated_at"]
MAX_EVENTS = 50


# --- endpoints ------------------------------------------------------------------------------------------------


def _events_clean(events: list[str]) -> list[str]:
    names = sorted({name.strip() for name in events if name.strip()})
    if not names:
        raise InvalidInput("请至少订阅一个事件，或 * 表示全部 (subscribe to at least one event, or * for all)",
                           extra={"field": "events"})
    if ALL_EVENTS in names:
        return [ALL_EVENTS]
    bad = [name for name in names if not event_name_valid(name)]
    if bad or len(names) > MAX_EVENTS:
        raise InvalidInput("事件名称无效 (invalid event names)",
                           extra={"field": "events", "invalid": bad[:10], "pattern": EVENT_PATTERN})
    return names


def _url_clean(url: str) -> str:
    url = url.strip()
    if len(url) > 500:
        raise InvalidInput("URL过长 (URL too long)", extra={"field": "url"})
    refusal = transport.url_refusal(url, resolve=False)
    if refusal:
        raise InvalidInput(refusal, extra={"field": "url"})
    return url


def endpoint_create(*, actor: User, organisation: Organisation, url: str, events: list[str],
                    description: str = "") -> Endpoint:
    """Register an endpoint for `organisation`; its secret is generated (read it on the endpoint's page)."""
    require(access.can_manage_webhooks_of(actor, organisation))
    endpoint = Endpoint(organisation=organisation, url=_url_clean(url), events=_events_clean(events),
                        description=description.strip()[:200], created_by=actor)
    with transaction.atomic():
        endpoint.save()
        audit_record(actor=actor, action="create", instance=endpoint, after=snapshot(endpoint, AUDITED_FIELDS),
                     subject=organisation)
    return endpoint


def endpoint_update(*, actor: User, endpoint: Endpoint, url: str | None = None, events: list[str] | None = None,
                    description: str | None = None, active: bool | None = None) -> Endpoint:
    """Change what is given; disabling (active=False) stops new deliveries (pending ones fail when their turn
    comes)."""
    require(access.can_manage_webhooks_of(actor, endpoint.organisation))
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = snapshot(endpoint, AUDITED_FIELDS)
        if url is not None:
            endpoint.url = _url_clean(url)
        if events is not None:
            endpoint.events = _events_clean(events)
        if description is not None:
            endpoint.description = description.strip()[:200]
        if active is not None:
            endpoint.active = active
        endpoint.save()
        audit_record(actor=actor, action="update", instance=endpoint, before=before,
                     after=snapshot(endpoint, AUDITED_FIELDS), subject=endpoint.organisation)
    return endpoint


def endpoint_rotate_secret(*, actor: User, endpoint: Endpoint) -> Endpoint:
    """A new secret at once: every attempt from now on is signed with it (the old one stops verifying). The
    audit trail records that it was rotated, never the secret."""
    require(access.can_manage_webhooks_of(actor, endpoint.organisation))
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = snapshot(endpoint, AUDITED_FIELDS)
        endpoint.secret, endpoint.secret_rotated_at = secret_new(), timezone.now()
        endpoint.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit_record(actor=actor, action="update", instance=endpoint, before=before,
                     after=snapshot(endpoint, AUDITED_FIELDS), context="secret rotated",
                     subject=endpoint.organisation)
    return endpoint


# --- emitting -------------------------------------------------------------------------------------------------


def endpoints_for(organisation: Organisation, event: str) -> list[Endpoint]:
    """The endpoints that receive `event` of `organisation` (see the module docstring): one query."""
    candidates = [endpoint for endpoint in Endpoint.objects.filter(
        organisation_id__in=[pk for pk in (organisation.pk, organisation.parent_id) if pk], active=True,
    ).order_by("pk") if endpoint.subscribes(event)]
    own = [endpoint for endpoint in candidates if endpoint.organisation_id == organisation.pk]
    return own or candidates


def payload_plain(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` as JSON keeps it (decimals and dates as text, UUIDs as text); refuses what JSON cannot hold."""
    if not isinstance(payload, dict):
        raise InvalidInput("webhook payload must be an object")
    try:
        return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"webhook payload is not JSON: {exc}") from exc


def webhook_emit(organisation: Organisation, event: str, payload: dict[str, Any]) -> list[Delivery]:
    """Announce `event` of `organisation` with `payload` to its webhook endpoints: one delivery per endpoint, sent
    by a task (signed, retried with backoff) once the caller's transaction commits. The deliveries, by endpoint."""
    if not event_name_valid(event):
        raise InvalidInput("事件名称无效 (invalid event name)", extra={"event": event, "pattern": EVENT_PATTERN})
    data = payload_plain(payload)
    endpoints = endpoints_for(organisation, event)
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    with transaction.atomic():
        deliveries = Delivery.objects.bulk_create([
            Delivery(endpoint=endpoint, organisation=organisation, event=event, event_id=event_id, payload=data,
                     next_attempt_at=timezone.now())
            for endpoint in endpoints
        ])
    for delivery in deliveries:
        task_enqueue_on_commit(webhook_delivery_task, delivery_id=delivery.pk)
    return deliveries


def delivery_resend(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a delivered or failed delivery again (same event id, same body, a new signature): it becomes pending
    and gets a fresh round of attempts. A pending one is already being sent: 409."""
    require(access.can_manage_webhooks_of(actor, delivery.endpoint.organisation))
    with transaction.atomic():
        before = snapshot(delivery, ["status"])
        updated = Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), updated_at=timezone.now())
        if not updated:
            raise Conflict("该投递正在发送中 (this delivery is being sent)", code="delivery_pending")
        delivery.refresh_from_db()
        if not delivery.endpoint.active:
            raise Conflict("端点已停用，无法重新发送 (the endpoint is disabled)", code="endpoint_disabled")
        audit_record(actor=actor, action="update", instance=delivery, before=before,
                     after=snapshot(delivery, ["status"]), context="resend", subject=delivery.endpoint)
        task_enqueue_on_commit(webhook_delivery_task, delivery_id=delivery.pk)
    return delivery


def deliveries_interrupted_recover(started_before) -> int:
    """The recovery sweep (twincity.core.recovery): a pending delivery last touched before `started_before` whose
    task is neither queued nor running was lost (its worker died on the last retry, the queue was emptied): fail it
    with the reason, so the log says so and it can be resent. Backends that cannot tell are left alone."""
    live = task_live_values(webhook_delivery_task, "delivery_id")
    if live is None:
        return 0
    lost = Delivery.objects.filter(status=Delivery.Status.PENDING, updated_at__lt=started_before).exclude(pk__in=live)
    return lost.update(status=Delivery.Status.FAILED, next_attempt_at=None, updated_at=timezone.now(),
                       last_error="中断：发送任务已丢失，可重新发送 (interrupted: its task was lost; resend it)")
