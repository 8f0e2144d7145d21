"""The error codes of talent cards (the one error shape of twincity.core.errors)."""

from twincity.core.errors import Conflict


class TalentState(Conflict):
    """The card or application is not in a state that allows this (e.g. renewing a revoked card)."""

    code = "talent_state"


class RenewWindowClosed(Conflict):
    """A renewal outside the window that opens 30 days before the card's last valid day."""

    code = "renew_window_closed"


class NoTierMet(Conflict):
    """The evidence meets no criterion of the scheme: no tier to issue."""

    code = "no_tier_met"


class QuotaFull(Conflict):
    """The scheme version's yearly issuing quota is used up."""

    code = "quota_full"


class VersionOrder(Conflict):
    """A new version must take effect after the latest one (versions are never inserted into the past)."""

    code = "version_order"
