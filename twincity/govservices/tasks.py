"""Background entry points of public services: forwarding cases collected in the other city, and the clock."""

from django.tasks import task

from twincity.core.background import task_retries


@task_retries(retries=3, backoff_seconds=30)
@task
def case_forward_task(case_id: int) -> str:
    """Forward a case collected at a window of the other city to the item's city (异地代收代办): the case moves
    from "collected" to "received" and the department is told. Answers the case's state (a case forwarded or
    withdrawn meanwhile is left alone)."""
    from twincity.govservices.models import ServiceCase
    from twincity.govservices.services import case_forward

    case = ServiceCase.objects.filter(pk=case_id).first()
    if case is None or case.state != "collected":
        return case.state if case is not None else "missing"
    return case_forward(actor=None, case=case).state


@task_retries(retries=3, backoff_seconds=30)
@task
def cases_warn_task() -> list[int]:
    """Warn the departments of the cases due within 2 working days (once each); the ids warned."""
    from twincity.govservices.services import cases_warn

    return cases_warn()
