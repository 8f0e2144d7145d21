"""Writes to the enterprise registry. Each one checks access, validates, saves and leaves an audit entry."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.consistency import declaration_flags
from twincity.enterprises.fields import ENTERPRISE_FIELDS, FIGURE_NAMES, SOURCES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification
from twincity.enterprises.selectors import enterprise_list_editable
from twincity.enterprises.validators import credit_code_problem, normalise_credit_code

EDITABLE_PROFILE_FIELDS = tuple(spec.name for spec in ENTERPRISE_FIELDS if spec.name != "credit_code")


def _validation_to_invalid(exc: ValidationError) -> InvalidInput:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    first = next(iter(fields.values()))[0]
    return InvalidInput(f"数据校验失败：{first}", extra={"fields": fields})


def _blank_text_for_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """None for a text field means "clear it": text columns store "", never NULL (the API allows null)."""
    text = {f.name for f in Enterprise._meta.concrete_fields if isinstance(f, models.CharField) and not f.null}
    return {name: "" if value is None and name in text else value for name, value in values.items()}


def _require_admin(actor) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_platform_admin):
        raise Forbidden("只有管理员可以执行此操作 (administrators only)")


def _require_editable(*, actor, enterprise: Enterprise) -> None:
    if not enterprise_list_editable(user=actor).filter(pk=enterprise.pk).exists():
        raise Forbidden("无权修改该企业 (you may not change this enterprise)")


@transaction.atomic
def enterprise_create(*, actor, credit_code: str, name: str, city: str, **profile: Any) -> Enterprise:
    _require_admin(actor)
    code = normalise_credit_code(credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise InvalidInput(f"{problem[0]} ({problem[1]})", extra={"fields": {"credit_code": [problem[0]]}},
                           code="invalid_credit_code")
    if Enterprise.objects.filter(credit_code=code).exists():
        raise InvalidInput("该统一社会信用代码已存在 (credit code already registered)",
                           extra={"fields": {"credit_code": ["已存在"]}}, code="duplicate_credit_code")
    unknown = set(profile) - set(EDITABLE_PROFILE_FIELDS) - {"organisation"}
    if unknown:
        raise InvalidInput("未知字段", extra={"fields": {name: ["unknown field"] for name in sorted(unknown)}})
    enterprise = Enterprise(credit_code=code, name=name, city=city, **_blank_text_for_none(profile))
    try:
        enterprise.full_clean()
    except ValidationError as exc:
        raise _validation_to_invalid(exc) from exc
    enterprise.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=enterprise, after=snapshot(enterprise))
    return enterprise


@transaction.atomic
def enterprise_update(*, actor, enterprise: Enterprise, changes: Mapping[str, Any]) -> Enterprise:
    _require_editable(actor=actor, enterprise=enterprise)
    unknown = set(changes) - set(EDITABLE_PROFILE_FIELDS)
    if unknown:
        raise InvalidInput("这些字段不能修改 (these fields cannot be changed)",
                           extra={"fields": {name: ["not editable"] for name in sorted(unknown)}})
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = snapshot(enterprise)
    for name, value in _blank_text_for_none(changes).items():
        setattr(enterprise, name, value)
    try:
        enterprise.full_clean()
    except ValidationError as exc:
        raise _validation_to_invalid(exc) from exc
    enterprise.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=enterprise, before=before,
                 after=snapshot(enterprise))
    return enterprise


@transaction.atomic
def enterprise_delete(*, actor, enterprise: Enterprise) -> None:
    _require_admin(actor)
    before = snapshot(enterprise)
    for declaration in enterprise.declarations.all():
        audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=declaration,
                     before=snapshot(declaration))
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=enterprise, before=before)
    enterprise.delete()


def _clean_figures(figures: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in figures.items():
        if name not in FIGURE_NAMES:
            errors[name] = ["未知指标 (unknown figure)"]
            continue
        if value is None or value == "":
            cleaned[name] = None
            continue
        try:
            if name in {"employees", "tech_staff", "rd_staff"}:
                number = Decimal(str(value))
                if number != number.to_integral_value():
                    raise InvalidOperation
                cleaned[name] = int(number)
            else:
                number = Decimal(str(value))
                if not number.is_finite():
                    raise InvalidOperation
                cleaned[name] = number.quantize(Decimal("0.0001"))
        except (InvalidOperation, ValueError):
            errors[name] = [f"不是有效数字 (not a number): {value!r}"]
    if errors:
        raise InvalidInput("申报数据有误 (invalid figures)", extra={"fields": errors})
    return cleaned


def _clean_provenance(provenance: Mapping[str, Any] | None) -> dict[str, dict[str, object]]:
    cleaned: dict[str, dict[str, object]] = {}
    errors: dict[str, list[str]] = {}
    for name, entry in (provenance or {}).items():
        if name not in FIGURE_NAMES:
            errors[name] = ["未知指标 (unknown figure)"]
            continue
        source = entry.get("source", "self_declared") if isinstance(entry, Mapping) else entry
        verified = bool(entry.get("verified", False)) if isinstance(entry, Mapping) else False
        if source not in SOURCES:
            errors[name] = [f"未知来源 (unknown source): {source!r}"]
            continue
        cleaned[name] = {"source": source, "verified": verified}
    if errors:
        raise InvalidInput("数据来源有误 (invalid provenance)", extra={"fields": errors})
    return cleaned


@transaction.atomic
def declaration_upsert(
    *,
    actor,
    enterprise: Enterprise,
    fiscal_year: int,
    figures: Mapping[str, Any],
    provenance: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> AnnualDeclaration:
    """Create or update one fiscal year's declaration. Figures not given keep their value unless `replace`.

    A declaration that fails a consistency check is stored with its flags, never refused.
    """
    _require_editable(actor=actor, enterprise=enterprise)
    if not isinstance(fiscal_year, int) or not 1980 <= fiscal_year <= date.today().year:
        raise InvalidInput("会计年度无效 (invalid fiscal year)", extra={"fields": {"fiscal_year": [str(fiscal_year)]}})
    cleaned = _clean_figures(figures)
    cleaned_provenance = _clean_provenance(provenance)
    # Lock the enterprise row: two people saving the same year at once must queue, so the second sees the
    # first one's row and updates it instead of failing on the one-per-year constraint (PostgreSQL;
    # SQLite's IMMEDIATE transactions already admit one writer at a time).
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    declaration = AnnualDeclaration.objects.filter(enterprise=enterprise, fiscal_year=fiscal_year).first()
    created = declaration is None
    if created:
        declaration = AnnualDeclaration(enterprise=enterprise, fiscal_year=fiscal_year)
        before: dict[str, Any] = {}
    else:
        before = snapshot(declaration)
    if replace:
        for name in FIGURE_NAMES:
            setattr(declaration, name, None)
        declaration.provenance = {}
    for name, value in cleaned.items():
        setattr(declaration, name, value)
    declaration.provenance = {**declaration.provenance, **cleaned_provenance}
    declaration.flags = [flag.as_dict() for flag in declaration_flags(declaration.figures())]
    declaration.submitted_by = actor
    declaration.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        instance=declaration,
        before=before,
        after=snapshot(declaration),
    )
    return declaration


@transaction.atomic
def declaration_delete(*, actor, declaration: AnnualDeclaration) -> None:
    _require_editable(actor=actor, enterprise=declaration.enterprise)
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=declaration, before=snapshot(declaration))
    declaration.delete()


@transaction.atomic
def qualification_add(
    *, actor, enterprise: Enterprise, kind: str, certificate_no: str, valid_from: date, valid_until: date | None
) -> Qualification:
    _require_admin(actor)
    qualification = Qualification(
        enterprise=enterprise, kind=kind, certificate_no=certificate_no, valid_from=valid_from,
        valid_until=valid_until,
    )
    try:
        qualification.full_clean()
    except ValidationError as exc:
        raise _validation_to_invalid(exc) from exc
    qualification.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=qualification,
                 after=snapshot(qualification), context=f"enterprise:{enterprise.pk}")
    return qualification
