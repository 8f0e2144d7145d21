"""The life of a financing case (a demand or an application) as a pure transition table.

    draft → submitted (application) / published (demand) → claimed → due_diligence
          → approved (amount, rate, term) / rejected (a reason is mandatory) / referred_back (the enterprise
            resubmits: back to due_diligence)
    approved → disbursed → repaid / overdue → repaid / defaulted
    withdrawn by the enterprise at any time before disbursement.

`transition(kind, state, action)` is the only way to a new state: it answers the next state or raises
IllegalTransition (the platform answers 409 and changes nothing). Who may take an action is the platform's
access rules; this module only knows which action is legal in which state and who acts (`ACTOR_OF`).
"""

from __future__ import annotations

from .errors import FinanceEngineError

DEMAND, APPLICATION = "demand", "application"
KINDS = (DEMAND, APPLICATION)

STATES = ("draft", "submitted", "published", "claimed", "due_diligence", "approved", "rejected", "referred_back",
          "disbursed", "repaid", "overdue", "defaulted", "withdrawn")

#: States a case never leaves.
FINAL = frozenset({"rejected", "repaid", "defaulted", "withdrawn"})
#: States in which an approved amount is lent or promised: they count against a product's and an
#: enterprise's credit line ("approved and not finished").
LINE_USED = frozenset({"approved", "disbursed", "overdue"})
#: States in which an institution still has to act (the work queue, the clocks).
OPEN = frozenset({"submitted", "published", "claimed", "due_diligence"})

_WITHDRAWABLE = ("draft", "submitted", "published", "claimed", "due_diligence", "referred_back", "approved")

#: (kind or None for both, state, action) → next state.
_TABLE: dict[tuple[str | None, str, str], str] = {
    (APPLICATION, "draft", "submit"): "submitted",
    (DEMAND, "draft", "publish"): "published",
    (DEMAND, "published", "claim"): "claimed",
    (APPLICATION, "submitted", "claim"): "claimed",  # the routed institution accepts (受理) it
    (None, "claimed", "start_review"): "due_diligence",
    (None, "claimed", "approve"): "approved",
    (None, "due_diligence", "approve"): "approved",
    (None, "claimed", "reject"): "rejected",
    (None, "due_diligence", "reject"): "rejected",
    (None, "claimed", "refer_back"): "referred_back",
    (None, "due_diligence", "refer_back"): "referred_back",
    (None, "referred_back", "resubmit"): "due_diligence",
    (None, "approved", "disburse"): "disbursed",
    (None, "disbursed", "repay"): "repaid",
    (None, "overdue", "repay"): "repaid",
    (None, "disbursed", "mark_overdue"): "overdue",
    (None, "overdue", "default"): "defaulted",
    **{(None, state, "withdraw"): "withdrawn" for state in _WITHDRAWABLE},
}

ACTIONS = tuple(sorted({action for (_, _, action) in _TABLE}))

#: Who takes each action: the enterprise or the institution the case is routed to.
ENTERPRISE, INSTITUTION = "enterprise", "institution"
ACTOR_OF: dict[str, str] = {
    "submit": ENTERPRISE, "publish": ENTERPRISE, "resubmit": ENTERPRISE, "withdraw": ENTERPRISE,
    "claim": INSTITUTION, "start_review": INSTITUTION, "approve": INSTITUTION, "reject": INSTITUTION,
    "refer_back": INSTITUTION, "disburse": INSTITUTION, "repay": INSTITUTION, "mark_overdue": INSTITUTION,
    "default": INSTITUTION,
}

#: Actions that need a reason (渝惠融: 拒单有原因; a referral says what is missing).
REASON_REQUIRED = frozenset({"reject", "refer_back"})


class IllegalTransition(FinanceEngineError):
    """The action is not allowed in the case's state."""

    def __init__(self, kind: str, state: str, action: str) -> None:
        super().__init__(f"“{state}”状态下不能执行“{action}” / {action!r} is not allowed on a {kind} in state {state!r}")
        self.kind, self.state, self.action = kind, state, action


def transition(kind: str, state: str, action: str) -> str:
    """The state after `action` on a case of `kind` in `state`; IllegalTransition when there is none."""
    if kind not in KINDS or state not in STATES:
        raise IllegalTransition(kind, state, action)
    nxt = _TABLE.get((kind, state, action)) or _TABLE.get((None, state, action))
    if nxt is None:
        raise IllegalTransition(kind, state, action)
    return nxt


def allowed_actions(kind: str, state: str) -> list[str]:
    """The actions legal in `state`, in a stable order."""
    return [action for action in ACTIONS
            if (kind, state, action) in _TABLE or (None, state, action) in _TABLE]


def joint_outcome(decisions: dict[str, str], branches: int) -> str | None:
    """The outcome of one decision round of a case routed to `branches` branches (1, or 2 for a twin-city loan),
    from each branch's decision ("approve", "reject", "refer_back"): a referral or a rejection by any branch
    decides at once (referral first); an approval needs every branch's approval; None while one is missing."""
    values = list(decisions.values())
    if "refer_back" in values:
        return "refer_back"
    if "reject" in values:
        return "reject"
    if len(values) >= branches and all(v == "approve" for v in values):
        return "approve"
    return None
