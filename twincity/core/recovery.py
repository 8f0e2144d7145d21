"""Work that a stopped process can leave half-way (an import, a scoring run): each domain registers how to mark
its own unfinished work as interrupted, and `manage.py recover_interrupted` calls them all at start-up.

The kernel knows no domain: domains register in their AppConfig.ready().
"""

from collections.abc import Callable
from datetime import datetime

# name → handler(started_before) -> number of rows marked as interrupted
_HANDLERS: dict[str, Callable[[datetime], int]] = {}


def recovery_register(name: str, handler: Callable[[datetime], int]) -> None:
    _HANDLERS[name] = handler


def recover_interrupted(*, started_before: datetime) -> dict[str, int]:
    """Run every registered handler; {name: rows marked}."""
    return {name: handler(started_before) for name, handler in sorted(_HANDLERS.items())}
