"""Sending a notification over an extra channel (e-mail, SMS): one task per delivery, retried with backoff.
Services enqueue it after their commit; it makes the attempt through twincity.notifications.sending."""

from django.conf import settings
from django.tasks import task

from twincity.core.background import retry_policy, task_retries
from twincity.notifications.channels import ChannelUnavailable
from twincity.notifications.sending import channel_delivery_attempt, channel_delivery_fail


def channel_delivery_given_up(kwargs: dict, reason: str) -> None:
    channel_delivery_fail(delivery_id=kwargs["delivery_id"], reason=reason)


@task_retries(retries=settings.NOTIFICATION_DELIVERY_RETRIES, retry_on=(ChannelUnavailable,),
              on_give_up=channel_delivery_given_up)
@task(takes_context=True)
def channel_delivery_task(context, *, delivery_id: int) -> str:
    """Send one delivery; a channel that is unavailable is tried again after the backoff while retries are left,
    then the delivery is failed with the reason. Returns the delivery's status."""
    last = not retry_policy(channel_delivery_task.module_path).may_retry(context.attempt, ChannelUnavailable())
    return channel_delivery_attempt(delivery_id=delivery_id, last_attempt=last)
