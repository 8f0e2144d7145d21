"""Who manages an institution's webhooks: its own officers (a bank's or guarantor's or fund's staff) for the
endpoints of their organisation tree (a head office and its branches, as accounts shares a bank's data), and the
platform administrators for every organisation. Nobody else sees an endpoint, its secret or its deliveries."""

from django.db.models import Q, QuerySet

from twincity.accounts.access import is_admin, is_signed_in
from twincity.accounts.models import Organisation, User
from twincity.webhooks.models import Delivery, Endpoint

# The roles that act for an institution's systems.
WEBHOOK_MANAGER_ROLES = frozenset({User.Role.BANK_OFFICER, User.Role.GUARANTEE_OFFICER, User.Role.FUND_MANAGER})
INSTITUTION_KINDS = frozenset({Organisation.Kind.BANK, Organisation.Kind.GUARANTOR, Organisation.Kind.FUND})


def _is_institution_officer(user) -> bool:
    return (is_signed_in(user) and user.role in WEBHOOK_MANAGER_ROLES and user.organisation_id is not None
            and user.organisation.kind in INSTITUTION_KINDS)


def can_use_webhooks(user) -> bool:
    """Opens the webhook pages: platform administrators and institutions' officers."""
    return is_admin(user) or _is_institution_officer(user)


def can_manage_webhooks_of(user, organisation: Organisation) -> bool:
    """Add, change, rotate and read the secret of the endpoints of `organisation`, and resend its deliveries."""
    if is_admin(user):
        return True
    if not _is_institution_officer(user):
        return False
    root_id = user.organisation.root_id
    return organisation.pk == root_id or organisation.parent_id == root_id


def webhook_organisations(user) -> QuerySet[Organisation]:
    """The organisations whose endpoints the person manages."""
    if is_admin(user):
        return Organisation.objects.filter(kind__in=INSTITUTION_KINDS)
    if not _is_institution_officer(user):
        return Organisation.objects.none()
    root_id = user.organisation.root_id
    return Organisation.objects.filter(Q(pk=root_id) | Q(parent_id=root_id))


def endpoints_visible(user) -> QuerySet[Endpoint]:
    if is_admin(user):
        return Endpoint.objects.all()
    if not _is_institution_officer(user):
        return Endpoint.objects.none()
    root_id = user.organisation.root_id
    return Endpoint.objects.filter(Q(organisation_id=root_id) | Q(organisation__parent_id=root_id))


def deliveries_visible(user) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint__in=endpoints_visible(user))
