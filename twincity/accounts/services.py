"""Writes to accounts and organisations, each audited; API tokens; the failed-login throttle."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from twincity.accounts import access
from twincity.accounts.models import ApiToken, Organisation, User
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import InvalidInput
from twincity.core.models import AuditEntry

ROLE_FIELDS = ("role", "organisation_id", "is_active")
ADMINISTRATORS_ONLY = "只有管理员可以执行此操作 (administrators only)"


def _full_clean(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        raise InvalidInput("数据校验失败 (invalid data)", extra={"fields": fields}) from exc


@transaction.atomic
def organisation_create(
    *, actor, name: str, kind: str, city: str = "", parent: Organisation | None = None
) -> Organisation:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    organisation = Organisation(name=name, kind=kind, city=city, parent=parent)
    _full_clean(organisation)
    organisation.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=organisation, after=snapshot(organisation))
    return organisation


@transaction.atomic
def organisation_update(*, actor, organisation: Organisation, name: str | None = None, city: str | None = None
                        ) -> Organisation:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation)
    if name is not None:
        organisation.name = name
    if city is not None:
        organisation.city = city
    _full_clean(organisation)
    organisation.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=organisation, before=before,
                 after=snapshot(organisation))
    return organisation


@transaction.atomic
def organisation_delete(*, actor, organisation: Organisation) -> None:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    if organisation.members.exists() or organisation.branches.exists():
        raise InvalidInput("机构下仍有用户或分支机构，不能删除 (organisation still has members or branches)",
                           code="organisation_in_use")
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=organisation, before=snapshot(organisation))
    organisation.delete()


@transaction.atomic
def user_role_set(*, actor, user: User, role: str, organisation: Organisation | None) -> User:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    if role not in User.Role.values:
        raise InvalidInput("未知角色 (unknown role)", extra={"fields": {"role": [role]}})
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, ROLE_FIELDS)
    user.role = role
    user.organisation = organisation
    user.save(update_fields=["role", "organisation"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, before=before,
                 after=snapshot(user, ROLE_FIELDS))
    return user


@transaction.atomic
def api_token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for a machine client acting as `user`. Returns the token and its key, shown once."""
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    if not name.strip():
        raise InvalidInput("请填写令牌名称 (name the token)", extra={"fields": {"name": ["required"]}})
    raw = ApiToken.new_key()
    token = ApiToken.objects.create(
        name=name.strip(), user=user, created_by=actor, key_prefix=raw[:8], key_hash=ApiToken.digest(raw)
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=token,
                 after={"name": token.name, "user": user.pk, "key_prefix": token.key_prefix})
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=token,
                     before={"revoked_at": None}, after={"revoked_at": token.revoked_at.isoformat()})
    return token


def _failure_key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}|{address}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def login_is_throttled(*, username: str, address: str) -> bool:
    return cache.get(_failure_key(username, address), 0) >= settings.LOGIN_FAILURE_LIMIT


def login_failure_record(*, username: str, address: str) -> int:
    key = _failure_key(username, address)
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_failure_key(username, address))
