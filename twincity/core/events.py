"""The names of the events domains announce (notifications, webhooks): dotted lower-case words, e.g.
"finance.demand.claimed". One rule for every place that takes an event name."""

import re

EVENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
EVENT_MAX_LENGTH = 64
_EVENT_RE = re.compile(EVENT_PATTERN)


def event_name_valid(name: str) -> bool:
    return len(name) <= EVENT_MAX_LENGTH and bool(_EVENT_RE.fullmatch(name))
