"""Who may see and do what with talent cards: one predicate per decision, used by the pages, the API, the services
and the navigation.

* Talent (people of a company or of a university / institute) hold cards, apply for their own, set what their
  card's code shows, and request services with it.
* An enterprise user applies for a colleague (the employer channel): a person of the same organisation.
* Service clerks review the applications of their own city's schemes; administrators all, and they edit the
  schemes and recognition mappings (as new versions).
"""

from django.db.models import QuerySet

from twincity.accounts.access import is_admin, is_enterprise_user, is_signed_in
from twincity.accounts.models import Organisation, User
from twincity.talent.models import CardApplication, CardScheme, TalentCard


def is_talent(user) -> bool:
    """Someone who may hold a card: a company's or a university's / institute's person."""
    if is_enterprise_user(user):
        return True
    return (is_signed_in(user) and user.organisation_id is not None
            and user.organisation.kind == Organisation.Kind.INSTITUTE)


def can_hold_card(user) -> bool:
    """我的人才卡 and the service request page."""
    return is_talent(user)


def can_apply_for(user, applicant) -> bool:
    """For oneself (a talent), or for a colleague as the employer (an enterprise user of the same company)."""
    if not is_talent(applicant):
        return False
    if user.pk == applicant.pk:
        return True
    return is_enterprise_user(user) and user.organisation_id == applicant.organisation_id


def can_manage_card(user, card: TalentCard) -> bool:
    """Renew, report a loss, change, set the disclosure, request services: the holder only."""
    return is_signed_in(user) and card.holder_id == user.pk


def can_view_card(user, card: TalentCard) -> bool:
    return can_manage_card(user, card) or can_review_scheme(user, card.scheme)


def cards_visible(user) -> QuerySet[TalentCard]:
    if is_admin(user):
        return TalentCard.objects.all()
    if not is_signed_in(user):
        return TalentCard.objects.none()
    if user.role == User.Role.CLERK and user.organisation_id is not None and user.organisation.city:
        return TalentCard.objects.filter(scheme__city=user.organisation.city) | TalentCard.objects.filter(
            holder_id=user.pk)
    return TalentCard.objects.filter(holder_id=user.pk)


def can_review_any(user) -> bool:
    """The reviewer queue (人才卡审核)."""
    if is_admin(user):
        return True
    return (is_signed_in(user) and user.role == User.Role.CLERK and user.organisation_id is not None
            and bool(user.organisation.city))


def can_review_scheme(user, scheme: CardScheme) -> bool:
    if is_admin(user):
        return True
    return can_review_any(user) and user.organisation.city == scheme.city


def can_review(user, application: CardApplication) -> bool:
    return can_review_scheme(user, application.scheme)


def applications_reviewable(user) -> QuerySet[CardApplication]:
    """The list form of `can_review`."""
    if is_admin(user):
        return CardApplication.objects.all()
    if not can_review_any(user):
        return CardApplication.objects.none()
    return CardApplication.objects.filter(scheme__city=user.organisation.city)


def can_view_application(user, application: CardApplication) -> bool:
    return is_signed_in(user) and (application.applicant_id == user.pk or application.submitted_by_id == user.pk
                                   or can_review(user, application))


def can_manage_schemes(user) -> bool:
    """Publish new versions of schemes and recognition mappings (人才卡方案与互认)."""
    return is_admin(user)
