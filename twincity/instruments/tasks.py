"""Background entry points of instrument sharing: call the service."""

from django.tasks import task


@task
def booking_holds_expire_task() -> int:
    """Release the slots of pending bookings whose hold expired unanswered (every minute); how many."""
    from twincity.instruments.services import booking_holds_expire

    return booking_holds_expire()


@task
def sessions_silent_close_task() -> int:
    """Close the agent sessions whose heartbeat stopped (every 5 minutes); how many."""
    from twincity.instruments.usage import sessions_silent_close

    return sessions_silent_close()


@task
def job_quotes_expire_task() -> int:
    """Mark the sample-job quotes that expired unanswered (hourly); how many."""
    from twincity.instruments.jobs import job_quotes_expire

    return job_quotes_expire()


@task
def statements_monthly_task() -> int:
    """Issue last month's statements (the 1st of each month, 02:00 Asia/Shanghai); how many."""
    from django.utils import timezone

    from twincity.instruments.usage import statements_month_run
    from twincity.instruments.usage_rules import previous_month

    year, month = previous_month(timezone.localdate())
    return statements_month_run(year=year, month=month)
