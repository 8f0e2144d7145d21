"""Accounts over the API: who am I, organisations, and API tokens (administrators)."""

from datetime import datetime

from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import paginate

from twincity.accounts import access, selectors, services
from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors

router = Router(tags=["accounts 账户与机构"])
ADMINISTRATORS_ONLY = "只有管理员可以管理API令牌 (administrators only)"


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    city: str
    parent_id: int | None


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    organisation: OrganisationOut | None


class TokenIn(Schema):
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


@router.delete("/tokens/{token_id}", response={200: TokenOut, **errors(401, 404, 422)}, summary="Revoke a token")
def token_revoke_api(request, token_id: int = Path(..., ge=1, le=2**63 - 1)):
    token = visible(selectors.api_token_get_visible(user=request.user, token_id=token_id),
                    "令牌不存在 (no such token)")
    return services.api_token_revoke(actor=request.user, token=token)
