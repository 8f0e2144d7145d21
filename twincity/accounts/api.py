"""Accounts over the API: who am I, organisations, and API tokens (administrators)."""

from datetime import datetime

from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from twincity.accounts import selectors, services
from twincity.core.api import Pagination
from twincity.core.errors import Forbidden

router = Router(tags=["accounts 账户与机构"])


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
    username: str = Field(..., min_length=1, max_length=150)
    name: str = Field(..., min_length=1, max_length=100)


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


@router.get("/me", response=MeOut, summary="The caller")
def me_api(request):
    return request.user


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations you may see")
@paginate(Pagination)
def organisation_list_api(request):
    return selectors.organisation_list_visible(user=request.user).order_by("pk")


@router.get("/tokens", response=list[TokenOut], summary="API tokens (administrators)")
@paginate(Pagination)
def token_list_api(request):
    return selectors.api_token_list_visible(user=request.user)


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Issue a token; the key is shown only once")
def token_create_api(request, payload: TokenIn):
    if not selectors.user_is_admin(request.user):
        # Refuse before looking the user up, so non-administrators get 403 whoever they name.
        raise Forbidden("只有管理员可以执行此操作 (administrators only)")
    user = selectors.user_list_visible(user=request.user).filter(username=payload.username).first()
    if user is None:
        raise Http404
    token, key = services.api_token_create(actor=request.user, user=user, name=payload.name)
    token.key = key
    return Status(201, token)


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke a token")
def token_revoke_api(request, token_id: int):
    return services.api_token_revoke(actor=request.user, token_id=token_id)
