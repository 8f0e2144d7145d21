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


class SessionState(Conflict):
    """A usage session cannot be started or stopped now (one already open on the instrument, none open, or the
    booking is not in a state that has usage)."""

    code = "session_state"


class ChargeFrozen(Conflict):
    """The booking's charge is on an issued statement: it no longer changes."""

    code = "charge_frozen"


class StatementState(Conflict):
    """The statement is issued: it is not regenerated."""

    code = "statement_state"


class JobTransition(Conflict):
    """The sample job's state does not allow the action (twincity.instruments.job_lifecycle)."""

    code = "job_transition"


class JobCapacity(Conflict):
    """The instrument already has as many jobs in testing as its operators can run (sample_jobs.capacity)."""

    code = "job_capacity"


class RatingState(Conflict):
    """The session cannot be rated (not the rater's, not ended, not normal use, or already rated)."""

    code = "rating_state"
