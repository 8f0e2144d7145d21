"""Who may see and do what in instrument sharing: one predicate per decision.

* The catalogue (instruments, prices, rules, the busy periods of their calendars) is read by everyone signed in.
* Researchers (people of a university or institute) and enterprise users book instruments in service;
  administrators may book too, and obey the rules like everyone else unless they override them with a reason.
* An owner institution's instrument staff (role instrument_owner, organisation = the owner's legal entity)
  manage its instruments and approve, refuse and complete their bookings; administrators all.
* A booking is seen by the person who made it, people of its paying organisation, the owner's staff and
  administrators; it is cancelled by its booker, the owner's staff or an administrator.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.access import is_admin, is_enterprise_user, is_signed_in
from twincity.accounts.models import Organisation, User
from twincity.instruments.models import OWNER_KINDS, Booking, BookingSeries, Instrument


def owner_of(user) -> Organisation | None:
    """The owner institution (legal entity, the root of its tree) a person manages instruments for."""
    if not is_signed_in(user) or user.role != User.Role.INSTRUMENT_OWNER or user.organisation_id is None:
        return None
    organisation = user.organisation.root
    return organisation if organisation.kind in OWNER_KINDS else None


def is_researcher(user) -> bool:
    """Someone of a university or research institute."""
    return (is_signed_in(user) and user.organisation_id is not None
            and user.organisation.kind == Organisation.Kind.INSTITUTE)


# --- the catalogue ---------------------------------------------------------------------------------------------


def can_view_catalogue(user) -> bool:
    return is_signed_in(user)


def can_view_instrument(user, instrument: Instrument) -> bool:
    """Retired instruments stay visible to their owner's staff and administrators only."""
    if instrument.status != Instrument.Status.RETIRED:
        return can_view_catalogue(user)
    return can_manage_instrument(user, instrument)


def can_manage_instrument(user, instrument: Instrument) -> bool:
    """Change its rules, prices and status; approve, refuse and complete its bookings."""
    if is_admin(user):
        return True
    owner = owner_of(user)
    return owner is not None and owner.pk == instrument.owner.root_id


def can_manage_owner(user, owner: Organisation | None) -> bool:
    """Add instruments to an owner institution's catalogue (and import its rows): its staff, administrators.
    `actor=None` is the platform itself (the demo, a command)."""
    if user is None or is_admin(user):
        return user is None or owner is not None
    mine = owner_of(user)
    return owner is not None and mine is not None and mine.pk == owner.root_id


def can_import_catalogue(user) -> bool:
    """Import and export the catalogue in Excel: administrators and owner institutions' staff (their rows)."""
    return is_admin(user) or owner_of(user) is not None


def instruments_managed(user) -> QuerySet[Instrument]:
    """The list form of `can_manage_instrument`."""
    if is_admin(user):
        return Instrument.objects.all()
    owner = owner_of(user)
    if owner is None:
        return Instrument.objects.none()
    return Instrument.objects.filter(Q(owner_id=owner.pk) | Q(owner__parent_id=owner.pk))


# --- booking ---------------------------------------------------------------------------------------------------


def can_book_any(user) -> bool:
    """Researchers, enterprise users and administrators book instruments (and have a "my bookings" page)."""
    return is_researcher(user) or is_enterprise_user(user) or is_admin(user)


def can_book(user, instrument: Instrument) -> bool:
    return can_book_any(user) and can_view_instrument(user, instrument) and instrument.is_bookable


def can_override_rules(user) -> bool:
    """Waive a booking rule (never a double booking), with a reason that is logged."""
    return is_admin(user)


def can_approve_any(user) -> bool:
    return is_admin(user) or owner_of(user) is not None


def can_decide(user, booking: Booking) -> bool:
    """Approve or refuse a pending booking, mark a confirmed one completed, waive a cancellation fee."""
    return can_manage_instrument(user, booking.instrument)


def can_view_booking(user, booking: Booking) -> bool:
    if not is_signed_in(user):
        return False
    if booking.user_id == user.pk or can_decide(user, booking):
        return True
    return booking.organisation_id is not None and booking.organisation_id == user.organisation_id


def can_cancel(user, booking: Booking) -> bool:
    return is_signed_in(user) and (booking.user_id == user.pk or can_decide(user, booking))


def can_change(user, booking: Booking) -> bool:
    """Move or resize a booking in place: its booker, or an administrator."""
    return is_signed_in(user) and (booking.user_id == user.pk or is_admin(user))


def can_change_series(user, series: BookingSeries) -> bool:
    """Move a recurring series' coming occurrences in place: its booker, or an administrator."""
    return is_signed_in(user) and (series.user_id == user.pk or is_admin(user))


def can_cancel_series(user, series: BookingSeries) -> bool:
    """Cancel the rest of a series: its booker, the owner's staff, administrators."""
    return is_signed_in(user) and (series.user_id == user.pk or can_manage_instrument(user, series.instrument))


def can_view_series(user, series: BookingSeries) -> bool:
    return can_cancel_series(user, series) or (
        is_signed_in(user) and series.organisation_id is not None and series.organisation_id == user.organisation_id)


def bookings_visible(user) -> QuerySet[Booking]:
    """The list form of `can_view_booking`."""
    if is_admin(user):
        return Booking.objects.all()
    if not is_signed_in(user):
        return Booking.objects.none()
    visible = Q(user_id=user.pk)
    if user.organisation_id is not None:
        visible |= Q(organisation_id=user.organisation_id)
    owner = owner_of(user)
    if owner is not None:
        visible |= Q(instrument__owner_id=owner.pk) | Q(instrument__owner__parent_id=owner.pk)
    return Booking.objects.filter(visible)


# --- usage, statements, sample jobs, evaluation (second slice) -------------------------------------------------


def can_record_usage(user, instrument: Instrument) -> bool:
    """Check bookings in and out, record maintenance and breakdown, manage the instrument-PC agents' tokens,
    settle charges: the owner's staff and administrators."""
    return can_manage_instrument(user, instrument)


def can_rate_session(user, session) -> bool:
    """A verified rating: only the person who used the instrument in that session, once it ended."""
    return (is_signed_in(user) and session.user_id == user.pk and session.ended_at is not None
            and session.kind == "normal")


def can_view_statements_any(user) -> bool:
    return is_admin(user) or owner_of(user) is not None or (is_signed_in(user) and user.organisation_id is not None
                                                             and can_book_any(user))


def statements_visible(user) -> QuerySet:
    """Statements seen by the paying organisation's people, the owner's staff and administrators."""
    from twincity.instruments.models import Statement

    if is_admin(user):
        return Statement.objects.all()
    if not is_signed_in(user):
        return Statement.objects.none()
    visible = Q(pk__in=[])
    if user.organisation_id is not None:
        visible |= Q(payer_id=user.organisation_id)
    owner = owner_of(user)
    if owner is not None:
        visible |= Q(owner_id=owner.pk)
    return Statement.objects.filter(visible)


def can_view_statement(user, statement) -> bool:
    return statements_visible(user).filter(pk=statement.pk).exists()


def can_issue_statements(user, owner: Organisation) -> bool:
    """Generate and issue an owner's statements: its staff, administrators."""
    if is_admin(user):
        return True
    mine = owner_of(user)
    return mine is not None and mine.pk == owner.pk


def can_request_job(user, instrument: Instrument) -> bool:
    """Send samples: people who may book, to an operator-run instrument in service."""
    return (can_book_any(user) and can_view_instrument(user, instrument) and instrument.is_bookable
            and instrument.operation == Instrument.Operation.OPERATOR)


def can_view_job(user, job) -> bool:
    if not is_signed_in(user):
        return False
    if job.requester_id == user.pk or can_manage_instrument(user, job.instrument):
        return True
    return job.organisation_id is not None and job.organisation_id == user.organisation_id


def can_operate_job(user, job) -> bool:
    """Quote, decline, receive, test, deliver, close: the instrument's owner staff and administrators."""
    return can_manage_instrument(user, job.instrument)


def can_request_side(user, job) -> bool:
    """Accept the quote, cancel, close: the requester (or an administrator)."""
    return is_signed_in(user) and (job.requester_id == user.pk or is_admin(user))


def jobs_visible(user) -> QuerySet:
    from twincity.instruments.models import SampleJob

    if is_admin(user):
        return SampleJob.objects.all()
    if not is_signed_in(user):
        return SampleJob.objects.none()
    visible = Q(requester_id=user.pk)
    if user.organisation_id is not None:
        visible |= Q(organisation_id=user.organisation_id)
    owner = owner_of(user)
    if owner is not None:
        visible |= Q(instrument__owner_id=owner.pk) | Q(instrument__owner__parent_id=owner.pk)
    return SampleJob.objects.filter(visible)


def can_view_jobs_any(user) -> bool:
    return can_book_any(user) or owner_of(user) is not None


def evaluation_owners(user) -> QuerySet[Organisation]:
    """The owner legal entities whose sharing evaluation a person sees: their own (owner staff); all
    (administrators)."""
    if is_admin(user):
        return Organisation.objects.filter(kind__in=OWNER_KINDS, parent__isnull=True, instruments__isnull=False
                                           ).distinct().order_by("name")
    owner = owner_of(user)
    return Organisation.objects.filter(pk=owner.pk) if owner is not None else Organisation.objects.none()


def can_view_evaluation_any(user) -> bool:
    return is_admin(user) or owner_of(user) is not None
