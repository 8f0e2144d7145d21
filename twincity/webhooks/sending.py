"""Sending one webhook delivery: its body and signed headers, the attempt its task makes, and its failure.
Services create the deliveries and enqueue the task (twincity.webhooks.tasks); the task calls this module."""

import json
import logging
import time
from datetime import timedelta

from django.utils import timezone

from twincity.webhooks import transport
from twincity.webhooks.models import Delivery, DeliveryAttempt
from twincity.webhooks.signing import signature_header
from twincity.webhooks.transport import WebhookAttemptFailed

logger = logging.getLogger("twincity.webhooks")


def delivery_body(delivery: Delivery) -> bytes:
    """The request body: the same bytes on every attempt (only the timestamp and signature change)."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "organisation_id": delivery.organisation_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def delivery_headers(delivery: Delivery, *, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "X-Twincity-Event": delivery.event,
        "X-Twincity-Delivery": str(delivery.public_id),
        "X-Twincity-Timestamp": str(timestamp),
        "X-Twincity-Signature": signature_header(secret, timestamp, body),
    }


def delivery_attempt(*, delivery_id: int, last_attempt: bool, retry_in: float = 0.0) -> str:
    """One attempt of a delivery (the delivery task): sign it now, POST it, log the attempt. No 2xx answer: the
    delivery waits `retry_in` seconds and WebhookAttemptFailed is raised for the task to retry, unless this is the
    `last_attempt`, which fails the delivery with the reason. Returns the delivery's status."""
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return delivery.status if delivery else "missing"
    number = delivery.attempts + 1
    # Claim the attempt: a second runner of the same delivery (there should be none) finds the count moved on.
    if not Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts,
                                   status=Delivery.Status.PENDING).update(attempts=number):
        return Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)
    delivery.attempts = number
    endpoint = delivery.endpoint
    timestamp = int(time.time())
    now = timezone.now()
    if not endpoint.active:
        result = transport.PostResult(None, "端点已停用 (the endpoint is disabled)", "", 0)
        last_attempt = True
    else:
        body = delivery_body(delivery)
        result = transport.post(endpoint.url, body,
                                delivery_headers(delivery, secret=endpoint.secret, body=body, timestamp=timestamp))
    DeliveryAttempt.objects.create(delivery=delivery, number=number, at=now, timestamp=timestamp,
                                   status_code=result.status_code, error=result.error,
                                   response_excerpt=result.excerpt, duration_ms=result.duration_ms)
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    delivery.response_excerpt = result.excerpt
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = Delivery.Status.DELIVERED, now, None
    elif last_attempt:
        delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code", "last_error",
                                 "response_excerpt", "updated_at"])
    logger.info("webhook attempt", extra={"delivery": str(delivery.public_id), "event": delivery.event,
                                          "endpoint": endpoint.pk, "attempt": number,
                                          "status_code": result.status_code, "error": result.error,
                                          "outcome": delivery.status})
    if delivery.status == Delivery.Status.PENDING:
        raise WebhookAttemptFailed(f"attempt {number}: {result.error}")
    return delivery.status


def delivery_fail(*, delivery_id: int, reason: str) -> None:
    """The task gave up (its worker was lost on the last attempt): the delivery failed with the reason."""
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error=reason[:2000], next_attempt_at=None, updated_at=timezone.now())
