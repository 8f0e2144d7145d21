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
from twincity.instruments.models import OWNER_KINDS, Booking, Instrument


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
