"""Who a person is on the platform: the role predicates every other domain's access rules are built from,
and the access rules of accounts' own objects (organisations, users, API tokens).

Every predicate takes any user object (anonymous included) and answers False for the inactive.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.models import INSTITUTION_KINDS, ApiToken, Organisation, User

# Roles whose people work for a financial or public body and may look up the enterprise registry.
REGISTRY_READER_ROLES = frozenset(
    {User.Role.BANK_OFFICER, User.Role.GUARANTEE_OFFICER, User.Role.FUND_MANAGER, User.Role.CLERK}
)

# Roles whose people act for an institution (a bank, guarantor or fund) as its officers.
INSTITUTION_ROLES = frozenset({User.Role.BANK_OFFICER, User.Role.GUARANTEE_OFFICER, User.Role.FUND_MANAGER})


def is_signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_admin(user) -> bool:
    """A platform administrator (the Science City management committee), or a superuser."""
    return is_signed_in(user) and (user.is_superuser or user.role == User.Role.ADMINISTRATOR)


def is_registry_reader(user) -> bool:
    """Banks, guarantors, funds and service clerks: they look up the whole enterprise registry."""
    return is_signed_in(user) and user.role in REGISTRY_READER_ROLES


def is_enterprise_user(user) -> bool:
    """Someone who acts for a company: an enterprise user with an organisation."""
    return is_signed_in(user) and user.role == User.Role.ENTERPRISE_USER and user.organisation_id is not None


def institution_of(user) -> Organisation | None:
    """The bank, guarantor or fund a person acts for as its officer (None for anyone else)."""
    if not is_signed_in(user) or user.role not in INSTITUTION_ROLES or user.organisation_id is None:
        return None
    organisation = user.organisation
    return organisation if organisation.kind in INSTITUTION_KINDS else None


def is_institution_officer(user) -> bool:
    return institution_of(user) is not None


def can_act_for_institution(user, organisation: Organisation) -> bool:
    """An institution's officers act for every organisation of its tree (the head office and its branches, as a
    bank shares its data); administrators for every organisation. The rule of whose products, webhooks, … a
    person manages."""
    if is_admin(user):
        return True
    own = institution_of(user)
    return own is not None and own.root_id == organisation.root_id


def institutions_acted_for(user) -> QuerySet[Organisation]:
    """`can_act_for_institution` as a list: the organisations of the person's institution tree (administrators:
    every institution)."""
    if is_admin(user):
        return Organisation.objects.filter(kind__in=INSTITUTION_KINDS)
    own = institution_of(user)
    if own is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(Q(pk=own.root_id) | Q(parent_id=own.root_id))


# --- organisations and users -------------------------------------------------------------------------------


def can_manage_accounts(user) -> bool:
    """Create organisations, set roles, issue and revoke API tokens."""
    return is_admin(user)


def organisations_visible(user) -> QuerySet[Organisation]:
    """Administrators see every organisation; others their own bank / office tree."""
    if is_admin(user):
        return Organisation.objects.all()
    if not is_signed_in(user) or user.organisation_id is None:
        return Organisation.objects.none()
    root_id = user.organisation.root_id
    return Organisation.objects.filter(Q(pk=root_id) | Q(parent_id=root_id))


def can_view_organisation(user, organisation: Organisation) -> bool:
    if is_admin(user):
        return True
    if not is_signed_in(user) or user.organisation_id is None:
        return False
    root_id = user.organisation.root_id
    return organisation.pk == root_id or organisation.parent_id == root_id


def users_visible(user) -> QuerySet[User]:
    """Administrators see everyone; others the people of their own organisation tree."""
    if is_admin(user):
        return User.objects.all()
    return User.objects.filter(organisation__in=organisations_visible(user))


def tokens_visible(user) -> QuerySet[ApiToken]:
    """API tokens are seen (and managed) by administrators only."""
    if can_manage_accounts(user):
        return ApiToken.objects.select_related("user", "created_by")
    return ApiToken.objects.none()
