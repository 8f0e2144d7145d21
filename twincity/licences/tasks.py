"""Background entry points of 一业一证: the daily expiry of component permits. (A package filed at a window
of the other city is forwarded by govservices' case_forward_task, one per component case.)"""

from django.tasks import task

from twincity.core.background import task_retries


@task_retries(retries=3, backoff_seconds=30)
@task
def components_expire_task() -> list[int]:
    from twincity.licences.services import components_expire

    return components_expire()
