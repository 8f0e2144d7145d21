"""Sending a webhook delivery (services enqueue it after their commit; it makes the attempt through
twincity.webhooks.sending): one task per delivery, one HTTP attempt per run, retried with exponential backoff
(settings.TASKS_RETRY_BACKOFF_SECONDS, doubling) up to settings.WEBHOOK_MAX_ATTEMPTS attempts."""

from django.conf import settings
from django.tasks import task

from twincity.core.background import retry_policy, task_retries
from twincity.webhooks.sending import delivery_attempt, delivery_fail
from twincity.webhooks.transport import WebhookAttemptFailed


def webhook_delivery_given_up(kwargs: dict, reason: str) -> None:
    delivery_fail(delivery_id=kwargs["delivery_id"], reason=reason)


@task_retries(retries=settings.WEBHOOK_MAX_ATTEMPTS - 1, retry_on=(WebhookAttemptFailed,),
              on_give_up=webhook_delivery_given_up)
@task(takes_context=True)
def webhook_delivery_task(context, *, delivery_id: int) -> str:
    policy = retry_policy(webhook_delivery_task.module_path)
    attempt = context.attempt
    return delivery_attempt(delivery_id=delivery_id, last_attempt=not policy.may_retry(attempt, WebhookAttemptFailed()),
                            retry_in=policy.delay(attempt))
