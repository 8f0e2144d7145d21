"""The error codes of instrument sharing (the one error shape of twincity.core.errors)."""

from twincity.core.errors import Conflict


class BookingConflict(Conflict):
    """The period (with the instrument's set-up and clean-up) overlaps a booking that holds its slot."""

    code = "booking_conflict"


class BookingRefused(Conflict):
    """The booking rules refuse the request; `extra["refusals"]` names each rule, the timestamp it measured and
    who may override it."""

    code = "booking_refused"


class BookingState(Conflict):
    """The booking is not in a state that allows this (e.g. approving a cancelled booking)."""

    code = "booking_state"
