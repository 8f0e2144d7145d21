"""Background entry points of tech finance: the clocks of demands and applications."""

from django.tasks import task

from twincity.core.background import task_retries


@task_retries(retries=3, backoff_seconds=30)
@task
def demands_escalate_task() -> list[int]:
    """Escalate every published demand that no institution claimed within its claim window (3 working days on
    the official calendar): marked escalated, offered to the bank branches of both cities, announced to them and
    to the administrators. Retried on failure (each demand is escalated in its own transaction, once). Answers
    the ids escalated."""
    from twincity.finance.services import demands_escalate

    return demands_escalate()
