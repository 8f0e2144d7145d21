"""Accounts over the API: who am I, organisations and users (administrators manage them), and API tokens."""

from datetime import datetime
from typing import Literal

from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, StrictBool

from twincity.accounts import access, selectors, services
from twincity.accounts.models import City, Organisation, User
from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.core.errors import InvalidInput

router = Router(tags=["accounts 账户与机构"])
ADMINISTRATORS_ONLY = "只有管理员可以管理API令牌 (administrators only)"
ACCOUNTS_ADMINISTRATORS_ONLY = "只有管理员可以管理机构与用户 (administrators only)"
NO_SUCH_ORGANISATION = "机构不存在 (no such organisation)"
NO_SUCH_USER = "用户不存在 (no such user)"
ID = Path(..., ge=1, le=2**63 - 1)
USERNAME = Path(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
OrganisationKind = Literal[tuple(Organisation.Kind.values)]  # type: ignore[valid-type]
CityCode = Literal[tuple(City.values)]  # type: ignore[valid-type]
RoleCode = Literal[tuple(User.Role.values)]  # type: ignore[valid-type]
NAME = r"^[^\x00]*[^\s\x00][^\x00]*$"
# What Django's EmailValidator (the model's) accepts, in plain ASCII: a dot-atom, then a host name; or empty.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL = rf"^({_ATOM}(\.{_ATOM})*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}})?$"


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    city: str
    parent_id: int | None


class OrganisationDetailOut(OrganisationOut):
    member_count: int
    branch_count: int


class OrganisationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200, pattern=NAME)
    kind: OrganisationKind
    city: CityCode | Literal[""] = ""
    parent_id: int | None = Field(None, ge=1, le=2**63 - 1, description="the head organisation of a branch")


class OrganisationPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200, pattern=NAME)
    city: CityCode | Literal[""] | None = None


class UserOut(Schema):
    username: str
    display_name: str
    email: str
    role: str
    organisation_id: int | None
    is_active: bool
    last_login: datetime | None


class UserIn(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    display_name: str = Field("", max_length=64, pattern=r"^[^\x00]*$")
    email: str = Field("", max_length=254, pattern=EMAIL)
    role: RoleCode = ""
    organisation_id: int | None = Field(None, ge=1, le=2**63 - 1)
    password: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[^\x00]*$",
                                 description="initial password; omit it and the account cannot log in until one is set")


class UserRoleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    role: RoleCode
    organisation_id: int | None = Field(None, ge=1, le=2**63 - 1)
    is_active: StrictBool | None = None


class UserFilters(Schema):
    role: RoleCode | None = None
    organisation_id: int | None = Field(None, ge=1, le=2**63 - 1)
    q: str = Field("", max_length=100, pattern=r"^[^\x00]*$")


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    organisation: OrganisationOut | None


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")


class TokenOut(Schema):
    id: int
    name: str
    username: str = Field(..., alias="user.username")
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str


@router.get("/me", response={200: MeOut, **errors(401)}, summary="The caller")
def me_api(request):
    return request.user


@router.get("/organisations", response={200: list[OrganisationOut], **errors(401, 422)},
            summary="Organisations you may see")
@paginate(Pagination)
def organisation_list_api(request):
    return selectors.organisation_list(user=request.user)


def _organisation(request, organisation_id: int | None, field: str) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = selectors.organisation_get_visible(user=request.user, organisation_id=organisation_id)
    if organisation is None:  # named in the body, not the path: the body is what is wrong
        raise InvalidInput(NO_SUCH_ORGANISATION, extra={"fields": {field: [str(organisation_id)]}})
    return organisation


@router.post("/organisations", response={201: OrganisationOut, **errors(401, 403, 409, 422)},
             summary="Create an organisation (administrators)")
def organisation_create_api(request, payload: OrganisationIn):
    require(access.can_manage_accounts(request.user), ACCOUNTS_ADMINISTRATORS_ONLY)
    parent = _organisation(request, payload.parent_id, "parent_id")
    organisation = services.organisation_create(actor=request.user, name=payload.name, kind=payload.kind,
                                                city=payload.city, parent=parent)
    return Status(201, organisation)


@router.get("/organisations/{organisation_id}", response={200: OrganisationDetailOut, **errors(401, 404, 422)},
            summary="One organisation you may see")
def organisation_get_api(request, organisation_id: int = ID):
    return visible(selectors.organisation_search(user=request.user).filter(pk=organisation_id).first(),
                   NO_SUCH_ORGANISATION)


@router.patch("/organisations/{organisation_id}", response={200: OrganisationOut, **errors(401, 403, 404, 422)},
              summary="Rename an organisation or change its city (administrators)")
def organisation_update_api(request, payload: OrganisationPatch, organisation_id: int = ID):
    organisation = visible(selectors.organisation_get_visible(user=request.user, organisation_id=organisation_id),
                           NO_SUCH_ORGANISATION)
    return services.organisation_update(actor=request.user, organisation=organisation, name=payload.name,
                                        city=payload.city)


@router.delete("/organisations/{organisation_id}", response={204: None, **errors(401, 403, 404, 409, 422)},
               summary="Delete an organisation with no members, branches or records (administrators)")
def organisation_delete_api(request, organisation_id: int = ID):
    organisation = visible(selectors.organisation_get_visible(user=request.user, organisation_id=organisation_id),
                           NO_SUCH_ORGANISATION)
    services.organisation_delete(actor=request.user, organisation=organisation)
    return Status(204, None)


@router.get("/users", response={200: list[UserOut], **errors(401, 403, 422)},
            summary="People's accounts (administrators)")
@paginate(Pagination)
def user_list_api(request, filters: Query[UserFilters]):
    require(access.can_manage_accounts(request.user), ACCOUNTS_ADMINISTRATORS_ONLY)
    return selectors.user_search(user=request.user, role=filters.role, organisation_id=filters.organisation_id,
                                 q=filters.q)


@router.post("/users", response={201: UserOut, **errors(401, 403, 409, 422)},
             summary="Create a person's account (administrators)")
def user_create_api(request, payload: UserIn):
    require(access.can_manage_accounts(request.user), ACCOUNTS_ADMINISTRATORS_ONLY)
    organisation = _organisation(request, payload.organisation_id, "organisation_id")
    user = services.user_create(actor=request.user, username=payload.username, display_name=payload.display_name,
                                email=payload.email, role=payload.role, organisation=organisation,
                                password=payload.password)
    return Status(201, user)


@router.get("/users/{username}", response={200: UserOut, **errors(401, 403, 404, 422)},
            summary="One account (administrators)")
def user_get_api(request, username: str = USERNAME):
    require(access.can_manage_accounts(request.user), ACCOUNTS_ADMINISTRATORS_ONLY)
    return visible(selectors.user_get_visible(user=request.user, username=username), NO_SUCH_USER)


@router.put("/users/{username}/role", response={200: UserOut, **errors(401, 403, 404, 409, 422)},
            summary="Set a person's role and organisation, or deactivate the account (administrators)")
def user_role_set_api(request, payload: UserRoleIn, username: str = USERNAME):
    require(access.can_manage_accounts(request.user), ACCOUNTS_ADMINISTRATORS_ONLY)
    user = visible(selectors.user_get_visible(user=request.user, username=username), NO_SUCH_USER)
    organisation = _organisation(request, payload.organisation_id, "organisation_id")
    return services.user_role_set(actor=request.user, user=user, role=payload.role, organisation=organisation,
                                  is_active=payload.is_active)


@router.get("/tokens", response={200: list[TokenOut], **errors(401, 403, 422)},
            summary="API tokens (administrators)")
@paginate(Pagination)
def token_list_api(request):
    require(access.can_manage_accounts(request.user), ADMINISTRATORS_ONLY)
    return selectors.api_token_list(user=request.user)


@router.post("/tokens", response={201: TokenCreatedOut, **errors(401, 403, 404, 422)},
             summary="Issue a token; the key is shown only once")
def token_create_api(request, payload: TokenIn):
    # Refused before the user is looked up, so non-administrators get 403 whoever they name.
    require(access.can_manage_accounts(request.user), ADMINISTRATORS_ONLY)
    user = visible(selectors.user_get_visible(user=request.user, username=payload.username),
                   "用户不存在 (no such user)")
    token, key = services.api_token_create(actor=request.user, user=user, name=payload.name)
    token.key = key
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={200: TokenOut, **errors(403, 404)},
               summary="Revoke a token (administrators)")
def token_revoke_api(request, token_id: int = Path(..., ge=1, le=2**63 - 1)):
    token = visible(selectors.api_token_get_visible(user=request.user, token_id=token_id),
                    "令牌不存在 (no such token)")
    return services.api_token_revoke(actor=request.user, token=token)
