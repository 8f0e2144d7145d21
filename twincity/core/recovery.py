"""Work that can be left half-way (an import, a scoring run) when the process running it stops: each domain
registers how to mark its own unfinished work as interrupted, and the kernel calls them all.

A handler marks as failed (with the reason, and without partial results) the work created before `started_before`
that is still waiting or running although no task for it is queued or running any more (the task was lost: its
worker was killed and the task failed for good, or the work predates the task queue). Work whose task is alive
is left alone, so the sweep is safe while workers run: the workers run it once at start and every minute (the
"recover-interrupted" schedule); `manage.py recover_interrupted` runs it by hand.

The kernel knows no domain: domains register in their AppConfig.ready().
"""

from collections.abc import Callable
from datetime import datetime, timedelta

# Work younger than this is never taken for lost: it may be between its commit and its enqueue (Redis backend).
RECOVERY_GRACE = timedelta(minutes=2)

# name → handler(started_before) -> number of rows marked as interrupted
_HANDLERS: dict[str, Callable[[datetime], int]] = {}


def recovery_register(name: str, handler: Callable[[datetime], int]) -> None:
    _HANDLERS[name] = handler


def recover_interrupted(*, started_before: datetime) -> dict[str, int]:
    """Run every registered handler; {name: rows marked}."""
    return {name: handler(started_before) for name, handler in sorted(_HANDLERS.items())}
