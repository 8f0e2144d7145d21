"""The error codes of innovation vouchers (the one error shape of twincity.core.errors)."""

from twincity.core.errors import Conflict


class VoucherRefused(Conflict):
    """The voucher may not pay for this job; `extra["refusals"]` names each rule broken."""

    code = "voucher_refused"


class AlreadyClaimed(Conflict):
    """The job already has an active claim (voucher, test subsidy or post-subsidy); `extra["claim"]` names it."""

    code = "already_claimed"


class VoucherState(Conflict):
    """The batch, voucher or redemption is not in a state that allows this."""

    code = "voucher_state"


class EvidenceIncomplete(Conflict):
    """The evidence bundle lacks a required document; `extra["missing"]` lists the kinds."""

    code = "evidence_incomplete"
