"""Who manages an institution's webhooks: its own officers (accounts.access.institution_of: a bank's, guarantor's or
fund's staff) for the endpoints of their organisation tree (a head office and its branches, as accounts shares a
bank's data), and the platform administrators for every organisation. Nobody else sees an endpoint, its secret or
its deliveries."""

from django.db.models import Q, QuerySet

from twincity.accounts.access import (
    can_act_for_institution,
    institution_of,
    institutions_acted_for,
    is_admin,
    is_institution_officer,
)
from twincity.accounts.models import Organisation
from twincity.webhooks.models import Delivery, Endpoint


def can_use_webhooks(user) -> bool:
    """Opens the webhook pages: platform administrators and institutions' officers."""
    return is_admin(user) or is_institution_officer(user)


def can_manage_webhooks_of(user, organisation: Organisation) -> bool:
    """Add, change, rotate and read the secret of the endpoints of `organisation`, and resend its deliveries."""
    return can_act_for_institution(user, organisation)


def webhook_organisations(user) -> QuerySet[Organisation]:
    """The organisations whose endpoints the person manages (administrators: every institution)."""
    return institutions_acted_for(user)


def endpoints_visible(user) -> QuerySet[Endpoint]:
    if is_admin(user):
        return Endpoint.objects.all()
    own = institution_of(user)
    if own is None:
        return Endpoint.objects.none()
    return Endpoint.objects.filter(Q(organisation_id=own.root_id) | Q(organisation__parent_id=own.root_id))


def deliveries_visible(user) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint__in=endpoints_visible(user))
