"""Sending one notification over an extra channel (e-mail, SMS): the attempt its task makes, and its failure.
Services create the deliveries and enqueue the task (twincity.notifications.tasks); the task calls this module."""

import logging

from django.utils import timezone

from twincity.notifications.channels import SENDERS, ChannelUnavailable
from twincity.notifications.models import Channel, ChannelDelivery

logger = logging.getLogger("twincity.notifications")


def channel_delivery_attempt(*, delivery_id: int, last_attempt: bool) -> str:
    """Try to send one delivery (the delivery task). A channel that is unavailable raises ChannelUnavailable for
    the task to retry, unless this is the `last_attempt`: then the delivery is failed with the reason. Returns
    the delivery's status; a delivery already sent or failed is left as it is."""
    delivery = ChannelDelivery.objects.select_related("notification").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != ChannelDelivery.Status.PENDING:
        return delivery.status if delivery else "missing"
    ChannelDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    delivery.attempts += 1
    try:
        SENDERS[Channel(delivery.channel)](delivery.notification, delivery.address)
    except ChannelUnavailable as exc:
        delivery.last_error = str(exc)[:2000]
        if last_attempt:
            delivery.status = ChannelDelivery.Status.FAILED
        delivery.save(update_fields=["last_error", "status", "updated_at"])
        logger.warning("notification delivery failed", extra={"delivery": delivery.pk, "channel": delivery.channel,
                                                             "attempt": delivery.attempts, "error": str(exc),
                                                             "retry": not last_attempt})
        if last_attempt:
            return delivery.status
        raise
    delivery.status, delivery.sent_at, delivery.last_error = ChannelDelivery.Status.SENT, timezone.now(), ""
    delivery.save(update_fields=["status", "sent_at", "last_error", "updated_at"])
    return delivery.status


def channel_delivery_fail(*, delivery_id: int, reason: str) -> None:
    """The task gave up (its worker was lost on the last attempt, or it broke): the delivery failed."""
    ChannelDelivery.objects.filter(pk=delivery_id, status=ChannelDelivery.Status.PENDING).update(
        status=ChannelDelivery.Status.FAILED, last_error=reason[:2000], updated_at=timezone.now())
