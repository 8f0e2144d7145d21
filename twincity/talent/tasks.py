"""Background entry points of talent cards: call the service."""

from django.tasks import task


@task
def cards_lapse_task() -> int:
    """Cards past their last valid day lapse (daily, after midnight Asia/Shanghai); how many."""
    from twincity.talent.services import cards_lapse

    return cards_lapse()
