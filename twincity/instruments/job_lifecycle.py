"""The life of a sample job (送样检测) as a pure transition table. No Django (import-linter).

    requested → quoted (amount, expiry) → accepted → received (samples) → testing → reported (file) → closed
    requested → declined (operator, with a reason)
    quoted → expired (the quote's expiry passed; the operator may quote again) / re-quoted
    requested, quoted, expired, accepted → cancelled (the requester)

`transition(state, action)` is the only way to a new state: it answers the next state or raises
IllegalTransition (the platform answers 409 and changes nothing). Who may act is the platform's access rules;
this module knows which action is legal in which state and who takes it (`ACTOR_OF`).
"""

from __future__ import annotations

REQUESTED, QUOTED, ACCEPTED, RECEIVED, TESTING, REPORTED, CLOSED = (
    "requested", "quoted", "accepted", "received", "testing", "reported", "closed")
DECLINED, EXPIRED, CANCELLED = "declined", "expired", "cancelled"
STATES = (REQUESTED, QUOTED, ACCEPTED, RECEIVED, TESTING, REPORTED, CLOSED, DECLINED, EXPIRED, CANCELLED)

#: States a job never leaves.
FINAL = frozenset({CLOSED, DECLINED, CANCELLED})
#: States in which the turnaround clock runs (from samples received to the report).
CLOCK_RUNS = frozenset({RECEIVED, TESTING})

_TABLE: dict[tuple[str, str], str] = {
    (REQUESTED, "quote"): QUOTED,
    (QUOTED, "quote"): QUOTED,  # a revised quote replaces the previous one
    (EXPIRED, "quote"): QUOTED,
    (REQUESTED, "decline"): DECLINED,
    (QUOTED, "accept"): ACCEPTED,
    (QUOTED, "expire"): EXPIRED,
    (ACCEPTED, "receive"): RECEIVED,
    (RECEIVED, "start"): TESTING,
    (TESTING, "deliver"): REPORTED,
    (REPORTED, "close"): CLOSED,
    **{(state, "cancel"): CANCELLED for state in (REQUESTED, QUOTED, EXPIRED, ACCEPTED)},
}

ACTIONS = ("quote", "decline", "accept", "expire", "receive", "start", "deliver", "close", "cancel")

OPERATOR, REQUESTER, SYSTEM = "operator", "requester", "system"
ACTOR_OF: dict[str, str] = {
    "quote": OPERATOR, "decline": OPERATOR, "receive": OPERATOR, "start": OPERATOR, "deliver": OPERATOR,
    "close": OPERATOR, "accept": REQUESTER, "cancel": REQUESTER, "expire": SYSTEM,
}
#: Actions that need a reason.
REASON_REQUIRED = frozenset({"decline"})

LABELS_ZH = {
    REQUESTED: "已申请", QUOTED: "已报价", ACCEPTED: "已接受报价", RECEIVED: "已收样", TESTING: "检测中",
    REPORTED: "已出报告", CLOSED: "已完结", DECLINED: "已婉拒", EXPIRED: "报价已过期", CANCELLED: "已取消",
}
ACTION_LABELS_ZH = {
    "quote": "报价", "decline": "婉拒", "accept": "接受报价", "expire": "报价过期", "receive": "确认收样",
    "start": "开始检测", "deliver": "交付报告", "close": "完结", "cancel": "取消",
}


class IllegalTransition(ValueError):
    """The action is not allowed in the job's state."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"“{LABELS_ZH.get(state, state)}”状态下不能执行“{ACTION_LABELS_ZH.get(action, action)}” / "
                         f"{action!r} is not allowed on a sample job in state {state!r}")
        self.state, self.action = state, action


def transition(state: str, action: str) -> str:
    """The state after `action` in `state`; IllegalTransition when there is none."""
    nxt = _TABLE.get((state, action))
    if nxt is None:
        raise IllegalTransition(state, action)
    return nxt


def allowed_actions(state: str, actor: str | None = None) -> list[str]:
    """The actions legal in `state` (those `actor` takes, when given), in a stable order."""
    return [a for a in ACTIONS if (state, a) in _TABLE and (actor is None or ACTOR_OF[a] == actor)]
