"""Reads of accounts and organisations, and the one access rule for each of their types."""

from django.db.models import Q, QuerySet

from twincity.accounts.models import ApiToken, Organisation, User

# Roles whose people work for a financial or public body and may look up the enterprise registry.
REGISTRY_READER_ROLES = frozenset(
    {
        User.Role.BANK_OFFICER,
        User.Role.GUARANTEE_OFFICER,
        User.Role.FUND_MANAGER,
        User.Role.CLERK,
    }
)


def user_is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_platform_admin)


def organisation_list_visible(*, user) -> QuerySet[Organisation]:
    """The one access rule for organisations: administrators see all; others their own bank/office tree."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    if user.is_platform_admin:
        return Organisation.objects.all()
    if user.organisation_id is None:
        return Organisation.objects.none()
    root_id = user.organisation.root_id
    return Organisation.objects.filter(Q(pk=root_id) | Q(parent_id=root_id))


def organisation_get_visible(*, user, pk: int) -> Organisation | None:
    return organisation_list_visible(user=user).filter(pk=pk).first()


def user_list_visible(*, user) -> QuerySet[User]:
    """The one access rule for users: administrators see all; others the people of their own tree."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return User.objects.none()
    if user.is_platform_admin:
        return User.objects.all()
    return User.objects.filter(organisation__in=organisation_list_visible(user=user))


def api_token_list_visible(*, user) -> QuerySet[ApiToken]:
    """Tokens are managed by administrators only."""
    if user_is_admin(user):
        return ApiToken.objects.select_related("user", "created_by")
    return ApiToken.objects.none()


def api_token_user(*, raw_key: str) -> User | None:
    """The active user a presented API key acts as, or None. Revoked keys and inactive users get nothing."""
    if not raw_key or not raw_key.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.digest(raw_key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    token.mark_used()
    return token.user
