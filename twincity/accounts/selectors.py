"""Reads of accounts and organisations. Who may see what is decided in `access`."""

from django.db.models import QuerySet

from twincity.accounts import access
from twincity.accounts.models import ApiToken, Organisation, User


def organisation_list(*, user) -> QuerySet[Organisation]:
    return access.organisations_visible(user).order_by("pk")


def user_get_visible(*, user, username: str) -> User | None:
    return access.users_visible(user).filter(username=username).first()


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return access.tokens_visible(user)


def api_token_get_visible(*, user, token_id: int) -> ApiToken | None:
    return access.tokens_visible(user).filter(pk=token_id).first()


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
