"""Writes to accounts and organisations, each audited; API tokens; the failed-login throttle."""

import hashlib

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from twincity.accounts import access
from twincity.accounts.models import ApiToken, Organisation, User
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry

ROLE_FIELDS = ("role", "organisation_id", "is_active")
ADMINISTRATORS_ONLY = "只有管理员可以执行此操作 (administrators only)"


def _full_clean(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        raise InvalidInput("数据校验失败 (invalid data)", extra={"fields": fields}) from exc


# The kind of organisation each role acts for: a bank officer works for a bank, a clerk for a government office.
# A person with no role may belong to any organisation (or none).
ROLE_ORGANISATION_KINDS: dict[str, frozenset[str]] = {
    User.Role.ENTERPRISE_USER: frozenset({Organisation.Kind.ENTERPRISE}),
    User.Role.BANK_OFFICER: frozenset({Organisation.Kind.BANK}),
    User.Role.GUARANTEE_OFFICER: frozenset({Organisation.Kind.GUARANTOR}),
    User.Role.FUND_MANAGER: frozenset({Organisation.Kind.FUND}),
    User.Role.INSTRUMENT_OWNER: frozenset({Organisation.Kind.INSTITUTE}),
    User.Role.CLERK: frozenset({Organisation.Kind.GOVERNMENT}),
    User.Role.ADMINISTRATOR: frozenset({Organisation.Kind.GOVERNMENT}),
}
ORGANISATION_FIELDS = ("name", "kind", "city", "parent_id")
USER_FIELDS = ("username", "display_name", "email", *ROLE_FIELDS)


def _save_new(instance, message: str, code: str) -> None:
    """Insert a row whose uniqueness was checked: someone inserting the same at the same moment gets 409."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(message, code=code) from exc


def _clean_name(value: str, field: str, max_length: int) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InvalidInput("请填写名称 (a name is required)", extra={"fields": {field: ["required"]}})
    if len(cleaned) > max_length:
        raise InvalidInput(f"最多 {max_length} 个字符 (at most {max_length} characters)",
                           extra={"fields": {field: [f"max_length {max_length}"]}})
    return cleaned


def _check_parent(organisation: Organisation, parent: Organisation | None) -> None:
    """Branches are one level deep and of their head's kind: a bank branch under its bank."""
    if parent is None:
        return
    if parent.parent_id is not None or (organisation.pk is not None and parent.pk == organisation.pk):
        raise InvalidInput("上级机构必须是总部机构 (the parent must be a head organisation)",
                           extra={"fields": {"parent": [str(parent.pk)]}})
    if parent.kind != organisation.kind:
        raise InvalidInput("分支机构须与上级机构类型相同 (a branch has its head's kind)",
                           extra={"fields": {"parent": [str(parent.pk)]}})


def _check_role(role: str, organisation: Organisation | None) -> None:
    if role not in User.Role.values:
        raise InvalidInput("未知角色 (unknown role)", extra={"fields": {"role": [str(role)]}})
    kinds = ROLE_ORGANISATION_KINDS.get(role)
    if kinds is None:
        return
    if organisation is None:
        raise InvalidInput("该角色须属于一个机构 (this role acts for an organisation)",
                           extra={"fields": {"organisation": ["required"]}})
    if organisation.kind not in kinds:
        raise InvalidInput("角色与机构类型不符 (the role does not fit the organisation's kind)",
                           extra={"fields": {"organisation": [str(organisation.pk)]}})


@transaction.atomic
def organisation_create(
    *, actor, name: str, kind: str, city: str = "", parent: Organisation | None = None
) -> Organisation:
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    organisation = Organisation(name=_clean_name(name, "name", 200), kind=kind, city=city or "", parent=parent)
    if Organisation.objects.filter(kind=kind, name=organisation.name).exists():
        raise Conflict("机构名称已存在 (an organisation of this kind has this name)", code="organisation_exists",
                       extra={"fields": {"name": [organisation.name]}})
    _check_parent(organisation, parent)
    _full_clean(organisation)
    _save_new(organisation, "机构名称已存在 (an organisation of this kind has this name)", "organisation_exists")
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=organisation,
                 after=snapshot(organisation, ORGANISATION_FIELDS))
    return organisation


@transaction.atomic
def organisation_update(*, actor, organisation: Organisation, name: str | None = None, city: str | None = None
                        ) -> Organisation:
    """Rename an organisation or change its city; its kind and place in the tree stay (members' roles and the
    data a bank shares along its tree depend on them)."""
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation, ORGANISATION_FIELDS)
    if name is not None:
        organisation.name = _clean_name(name, "name", 200)
    if city is not None:
        organisation.city = city
    _full_clean(organisation)
    after = snapshot(organisation, ORGANISATION_FIELDS)
    if after != before:
        organisation.save()
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=organisation, before=before,
                     after=after)
    return organisation


@transaction.atomic
def organisation_delete(*, actor, organisation: Organisation) -> None:
    """Delete an organisation nobody acts for: no members, no branches, no enterprise linked to it."""
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.members.exists() or organisation.branches.exists():
        raise Conflict("机构下仍有用户或分支机构，不能删除 (organisation still has members or branches)",
                       code="organisation_in_use")
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=organisation,
                 before=snapshot(organisation, ORGANISATION_FIELDS))
    try:
        with transaction.atomic():
            organisation.delete()
    except ProtectedError as exc:  # an enterprise or another record still points at it
        raise Conflict("仍有数据关联该机构，不能删除 (records still refer to this organisation)",
                       code="organisation_in_use") from exc


@transaction.atomic
def user_create(*, actor, username: str, display_name: str = "", email: str = "", role: str = "",
                organisation: Organisation | None = None, password: str | None = None) -> User:
    """Create a person's account. Without a password the account cannot log in until one is set (by
    `manage.py changepassword` or the password reset the deployment offers); the password is never audited."""
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("用户名已存在 (username taken)", code="username_taken",
                       extra={"fields": {"username": [username]}})
    _check_role(role, organisation)
    user = User(username=username, display_name=(display_name or "").strip(), email=(email or "").strip(),
                role=role, organisation=organisation, is_active=True)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput("密码不符合要求 (the password is too weak)",
                               extra={"fields": {"password": exc.messages}}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    _full_clean(user)
    _save_new(user, "用户名已存在 (username taken)", "username_taken")
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=user, after=snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def user_role_set(*, actor, user: User, role: str, organisation: Organisation | None,
                  is_active: bool | None = None) -> User:
    """Give a person a role in an organisation of the kind the role acts for, or deactivate the account.
    Administrators cannot take away their own administration (someone must be left to give it back)."""
    require(access.can_manage_accounts(actor), ADMINISTRATORS_ONLY)
    _check_role(role, organisation)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == getattr(actor, "pk", None) and (role != User.Role.ADMINISTRATOR or is_active is False) \
            and not user.is_superuser:
        raise Conflict("不能取消自己的管理员权限 (you cannot remove your own administration)",
                       code="own_administration")
    before = snapshot(user, ROLE_FIELDS)
    user.role = role
    user.organisation = organisation
    if is_active is not None:
        user.is_active = is_active
    after = snapshot(user, ROLE_FIELDS)
    if after != before:
        user.save(update_fields=["role", "organisation", "is_active"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, before=before, after=after)
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
