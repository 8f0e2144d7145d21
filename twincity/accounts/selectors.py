"""Reads of accounts and organisations. Who may see what is decided in `access`."""

from django.db.models import Count, Q, QuerySet

from twincity.accounts import access
from twincity.accounts.models import ApiToken, Organisation, User


def organisation_list(*, user) -> QuerySet[Organisation]:
    return access.organisations_visible(user).order_by("pk")


def organisation_search(*, user, kind: str = "", city: str = "", q: str = "") -> QuerySet[Organisation]:
    """Organisations the user may see, head organisations before their branches, with their member and branch
    counts."""
    rows = access.organisations_visible(user)
    if kind:
        rows = rows.filter(kind=kind)
    if city:
        rows = rows.filter(city=city)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(parent__name__icontains=q))
    return rows.select_related("parent").annotate(
        member_count=Count("members", distinct=True), branch_count=Count("branches", distinct=True)
    ).order_by("kind", "name")


def organisation_get_visible(*, user, organisation_id: int) -> Organisation | None:
    return access.organisations_visible(user).select_related("parent").filter(pk=organisation_id).first()


def organisation_members(*, user, organisation: Organisation) -> QuerySet[User]:
    return access.users_visible(user).filter(organisation=organisation).order_by("username")


def user_search(*, user, role: str | None = None, organisation_id: int | None = None, q: str = "",
                active: bool | None = None) -> QuerySet[User]:
    rows = access.users_visible(user).select_related("organisation")
    if role is not None:
        rows = rows.filter(role=role)
    if organisation_id is not None:
        rows = rows.filter(organisation_id=organisation_id)
    if active is not None:
        rows = rows.filter(is_active=active)
    if q:
        rows = rows.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q))
    return rows.order_by("username")


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
