"""Background entry points of instrument sharing: call the service."""

from django.tasks import task


@task
def booking_holds_expire_task() -> int:
    """Release the slots of pending bookings whose hold expired unanswered (every minute); how many."""
    from twincity.instruments.services import booking_holds_expire

    return booking_holds_expire()
