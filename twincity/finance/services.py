"""The one write path of tech finance: products (publish, new version, withdraw), consents (grant, revoke)
and the access log of institution-side reads. Every write that matters is audited in its transaction."""

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

import finance_engine
from twincity.accounts.models import Organisation
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.bulk import bulk_insert
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.exports import csv_lines, xlsx_bytes
from twincity.core.models import AuditEntry
from twincity.enterprises.models import Enterprise
from twincity.finance import access
from twincity.finance.models import INSTITUTION_KINDS, AccessLog, Consent, EquityRound, FinancialProduct, Purpose

PRODUCT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
NOT_YOUR_PRODUCTS = "只能管理本机构的产品 (you may manage your own institution's products only)"
NOT_YOUR_CONSENTS = "只有企业本身可以授权或撤销 (only the enterprise itself grants and revokes consent)"
NO_CONSENT = "该企业未授权本机构查看其申报数据与积分 (the enterprise has not consented to your institution reading its data)"
RATE_PLACES = Decimal("0.000001")
FEN = Decimal("0.01")
LIMIT_KEYS = ("min_amount", "max_amount", "min_term_months", "max_term_months")
PRODUCT_AUDIT_FIELDS = ("product_id", "version", "status", "institution_id", "kind", "name_zh", "rate",
                        "guarantee_fee", "interest_subsidy", "fee_subsidy", "min_amount", "max_amount",
                        "min_term_months", "max_term_months", "note")


def institution_ref(institution: Organisation) -> str:
    """How a product definition names its institution (the engine's `institution`)."""
    return f"org-{institution.pk}"


def _money(value: Any, key: str, errors: list[str]) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value)) if not isinstance(value, float) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
        errors.append(f"limits.{key}: 须为正金额（元，十进制文本） / a positive amount in yuan as decimal text")
        return None
    return amount


def _months(value: Any, key: str, errors: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 600:
        errors.append(f"limits.{key}: 须为 1–600 的整数（月） / whole months, 1–600")
        return None
    return value


def _limits(definition: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The amount and term an enterprise may ask for (definition["limits"]), checked."""
    raw = definition.get("limits") or {}
    errors: list[str] = []
    if not isinstance(raw, dict):
        return {}, ["limits: 必须是对象 / must be an object"]
    unknown = sorted(set(raw) - set(LIMIT_KEYS))
    if unknown:
        errors.append(f"limits: 未知字段 {', '.join(unknown)} / unknown keys")
    limits = {
        "min_amount": _money(raw.get("min_amount"), "min_amount", errors),
        "max_amount": _money(raw.get("max_amount"), "max_amount", errors),
        "min_term_months": _months(raw.get("min_term_months"), "min_term_months", errors),
        "max_term_months": _months(raw.get("max_term_months"), "max_term_months", errors),
    }
    if limits["min_amount"] and limits["max_amount"] and limits["min_amount"] > limits["max_amount"]:
        errors.append("limits: 最低金额大于最高金额 / min_amount is above max_amount")
    if limits["min_term_months"] and limits["max_term_months"] and limits["min_term_months"] > limits["max_term_months"]:
        errors.append("limits: 最短期限长于最长期限 / min_term_months is above max_term_months")
    return limits, errors


def product_version_build(*, institution: Organisation, product_id: str, version: int,
                           definition: dict[str, Any]) -> FinancialProduct:
    """An unsaved version from a definition in finance_engine's format (validated by the engine)."""
    if not isinstance(definition, dict):
        raise InvalidInput("产品定义无效 (invalid product)", code="invalid_product",
                           extra={"errors": ["definition: 必须是对象 / must be an object"]})
    data = dict(definition)
    data.update(id=product_id, version=str(version), institution=institution_ref(institution))
    limits, errors = _limits(data)
    try:
        errors = [*finance_engine.validate_product(data), *errors]
    except Exception as exc:  # noqa: BLE001 — a malformed definition is the caller's input: 422, never a 500
        errors = [f"{type(exc).__name__}: {exc}", *errors]
    if errors:
        raise InvalidInput("产品定义无效 (invalid product)", code="invalid_product", extra={"errors": errors})
    engine_product = finance_engine.Product.from_dict(data)
    pricing = engine_product.pricing
    for key in ("min_amount", "max_amount"):
        if limits[key] is not None:
            limits[key] = limits[key].quantize(FEN)
    return FinancialProduct(
        product_id=product_id, version=version, institution=institution, kind=engine_product.kind,
        name_zh=engine_product.name_zh[:100], name_en=engine_product.name_en[:200],
        rate=_rate(pricing.rate) if pricing else None,
        guarantee_fee=_rate(pricing.guarantee_fee if pricing else Decimal(0)),
        interest_subsidy=_rate(pricing.interest_subsidy if pricing else Decimal(0)),
        fee_subsidy=_rate(pricing.fee_subsidy if pricing else Decimal(0)),
        definition=engine_product.to_dict(), **limits,
    )


def _rate(value: Decimal) -> Decimal:
    """A rate as its column holds it (six places); the definition keeps the exact value the engine prices with."""
    return value.quantize(RATE_PLACES)


def _save_audited(*, actor, product: FinancialProduct, action: str = AuditEntry.Action.CREATE) -> FinancialProduct:
    try:
        product.full_clean()
    except Exception as exc:
        raise InvalidInput("产品定义无效 (invalid product)", code="invalid_product",
                           extra={"errors": [str(m) for m in getattr(exc, "messages", [str(exc)])]}) from exc
    product.save()
    audit_record(actor=actor, action=action, instance=product, after=snapshot(product, PRODUCT_AUDIT_FIELDS))
    return product


@transaction.atomic
def product_create(*, actor, institution: Organisation, product_id: str, definition: dict[str, Any],
                   note: str = "") -> FinancialProduct:
    """Publish a new product (version 1) of an institution."""
    require(access.can_manage_products(actor, institution), NOT_YOUR_PRODUCTS)
    if institution.kind not in INSTITUTION_KINDS:
        raise InvalidInput("只有银行、担保机构和基金可以发布产品 (only banks, guarantors and funds publish products)",
                           extra={"fields": {"institution": [str(institution.pk)]}})
    if not isinstance(product_id, str) or not PRODUCT_ID_RE.fullmatch(product_id):
        raise InvalidInput("产品编号无效：小写字母、数字、_ . -，最多64个字符 (invalid product id)",
                           extra={"fields": {"product_id": [str(product_id)]}})
    if FinancialProduct.objects.filter(product_id=product_id).exists():
        raise Conflict("该产品编号已存在 (this product id already exists)", code="product_exists")
    product = product_version_build(institution=institution, product_id=product_id, version=1,
                                     definition=definition)
    product.created_by = actor if getattr(actor, "pk", None) else None
    product.note = (note or "")[:255]
    return _save_audited(actor=actor, product=product)


@transaction.atomic
def product_version_create(*, actor, product: FinancialProduct, definition: dict[str, Any],
                           note: str = "") -> FinancialProduct:
    """Publish a change to a product as its next version; the version it replaces is kept (superseded)."""
    require(access.can_manage_products(actor, product.institution), NOT_YOUR_PRODUCTS)
    current = (FinancialProduct.objects.select_for_update().filter(product_id=product.product_id)
               .order_by("-version").first())
    if current is None or current.status != FinancialProduct.Status.PUBLISHED:
        raise Conflict("产品已撤下，不能再发布新版本 (the product is withdrawn)", code="product_withdrawn")
    created = product_version_build(institution=current.institution, product_id=current.product_id,
                                     version=current.version + 1, definition=definition)
    created.derived_from = current
    created.created_by = actor if getattr(actor, "pk", None) else None
    created.note = (note or "")[:255]
    before = snapshot(current, ("status",))
    current.status = FinancialProduct.Status.SUPERSEDED
    current.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=current, before=before,
                 after=snapshot(current, ("status",)), context=f"superseded by v{created.version}")
    return _save_audited(actor=actor, product=created)


@transaction.atomic
def product_withdraw(*, actor, product: FinancialProduct, note: str = "") -> FinancialProduct:
    """Take a product off the shelf: its published version becomes withdrawn (every version is kept)."""
    require(access.can_manage_products(actor, product.institution), NOT_YOUR_PRODUCTS)
    current = (FinancialProduct.objects.select_for_update()
               .filter(product_id=product.product_id, status=FinancialProduct.Status.PUBLISHED).first())
    if current is None:
        raise Conflict("产品已撤下 (the product is already withdrawn)", code="product_withdrawn")
    before = snapshot(current, ("status", "withdrawn_at"))
    current.status = FinancialProduct.Status.WITHDRAWN
    current.withdrawn_at = timezone.now()
    current.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=current, before=before,
                 after=snapshot(current, ("status", "withdrawn_at")), context=(note or "withdrawn")[:255])
    return current


# --- consent -----------------------------------------------------------------------------------------------

CONSENT_AUDIT_FIELDS = ("enterprise_id", "institution_id", "institution_kind", "purpose", "valid_from",
                        "valid_until", "revoked_at")


@transaction.atomic
def consent_grant(*, actor, enterprise: Enterprise, purpose: str, valid_until: datetime,
                  institution: Organisation | None = None, institution_kind: str = "",
                  valid_from: datetime | None = None) -> Consent:
    """The enterprise lets an institution (or every institution of a kind) read its declarations and points for
    a purpose, from now (or `valid_from`) until `valid_until`."""
    require(access.can_manage_consents(actor, enterprise), NOT_YOUR_CONSENTS)
    fields: dict[str, list[str]] = {}
    if (institution is None) == (not institution_kind):
        fields["institution"] = ["须指定一个机构或一类机构 (name one institution or one kind of institution)"]
    if institution is not None and institution.kind not in INSTITUTION_KINDS:
        fields["institution"] = ["只能授权银行、担保机构或基金 (a bank, a guarantor or a fund only)"]
    if institution_kind and institution_kind not in INSTITUTION_KINDS:
        fields["institution_kind"] = [institution_kind]
    if purpose not in Purpose.values:
        fields["purpose"] = [str(purpose)]
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until <= max(valid_from, now):
        fields["valid_until"] = ["须晚于开始时间和当前时间 (must be after the start and after now)"]
    if fields:
        raise InvalidInput("授权无效 (invalid consent)", extra={"fields": fields})
    consent = Consent(enterprise=enterprise, institution=institution, institution_kind=institution_kind or "",
                      purpose=purpose, valid_from=valid_from, valid_until=valid_until,
                      granted_by=actor if getattr(actor, "pk", None) else None)
    consent.full_clean()
    consent.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=consent,
                 after=snapshot(consent, CONSENT_AUDIT_FIELDS), subject=enterprise)
    return consent


@transaction.atomic
def consent_revoke(*, actor, consent: Consent) -> Consent:
    """End a consent now: from this moment no read is allowed under it."""
    require(access.can_manage_consents(actor, consent.enterprise), NOT_YOUR_CONSENTS)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise Conflict("该授权已撤销 (the consent is already revoked)", code="consent_revoked")
    before = snapshot(consent, ("revoked_at",))
    consent.revoked_at = timezone.now()
    consent.revoked_by = actor if getattr(actor, "pk", None) else None
    consent.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=consent, before=before,
                 after=snapshot(consent, ("revoked_at",)), subject=consent.enterprise)
    return consent


def institution_read_record(*, user, enterprise: Enterprise, what: str, via: str) -> AccessLog:
    """Check, at this moment, that a consent covers the person's institution, and log the read (who, which
    institution, what, when, why). Every institution-side read of declarations or points goes through here
    before it reads; without consent it answers 403 and reads nothing."""
    at = timezone.now()
    consent = access.consent_in_force(user, enterprise, at)
    require(consent is not None, NO_CONSENT)
    assert consent is not None
    return AccessLog.objects.create(at=at, enterprise=enterprise, user=user, institution=user.organisation,
                                    what=what, consent=consent, purpose=consent.purpose, via=via[:100])


NOT_YOUR_WHITELIST = "只能查看本机构产品的白名单 (you may see your own institution's products' whitelists only)"


def whitelist_read_record(*, user, product: FinancialProduct, members, via: str, at: datetime) -> int:
    """Log the reading of the whitelist members shown or exported (what=MATCH: their facts were matched against
    the product), one entry each under the consent that let them in, in one bulk insert; so each enterprise
    sees who looked. Checks the person may read the product's whitelist (403 otherwise); the members were
    selected under consents in force at `at` (selectors.whitelist)."""
    require(access.can_view_whitelist(user, product), NOT_YOUR_WHITELIST)
    rows = [(m.pk, m.consent.pk, m.consent.purpose) for m in members]
    if rows:
        bulk_insert(AccessLog, rows, ("enterprise_id", "consent_id", "purpose"),
                    constants={"at": at, "user_id": user.pk, "institution_id": user.organisation_id,
                               "what": AccessLog.What.MATCH, "via": via[:100]})
    return len(rows)


# --- equity rounds -----------------------------------------------------------------------------------------

NOT_YOUR_ROUNDS = ("只有企业本身或出资基金可以登记融资轮次 (only the enterprise or the investing fund records a round)")
ROUND_AUDIT_FIELDS = ("enterprise_id", "closed_on", "amount", "investor_id", "investor_name", "stage")


@transaction.atomic
def equity_round_record(*, actor, enterprise: Enterprise, closed_on, amount, stage: str,
                        investor: Organisation | None = None, investor_name: str = "") -> EquityRound:
    """Record an equity round the enterprise closed (股贷债保): by the enterprise itself, or by the fund that
    invested (naming itself), or an administrator. Audited; from then on the matching reads it (equity facts)."""
    require(access.can_record_equity_round(actor, EquityRound(enterprise=enterprise, investor=investor)),
            NOT_YOUR_ROUNDS)
    fields: dict[str, list[str]] = {}
    try:
        money = Decimal(str(amount))
    except InvalidOperation:
        money = None
    if money is None or not money.is_finite() or money <= 0 or money >= Decimal("1e12"):
        fields["amount"] = ["须为正金额（元） (a positive amount in yuan)"]
    if stage not in EquityRound.Stage.values:
        fields["stage"] = [str(stage)]
    if closed_on is None or closed_on > timezone.localdate():
        fields["closed_on"] = ["不能晚于今天 (not after today)"]
    investor_name = (investor_name or "").strip()
    if investor is None and not investor_name:
        fields["investor"] = ["须指定投资机构 (name the investor)"]
    if investor is not None and investor.kind not in INSTITUTION_KINDS:
        fields["investor"] = ["投资方须为基金、银行或担保机构 (a fund, bank or guarantor on the platform)"]
    if fields:
        raise InvalidInput("融资轮次无效 (invalid equity round)", extra={"fields": fields})
    assert money is not None
    round_ = EquityRound(enterprise=enterprise, closed_on=closed_on, amount=money.quantize(FEN), stage=stage,
                         investor=investor, investor_name=investor_name[:200],
                         recorded_by=actor if getattr(actor, "pk", None) else None)
    round_.full_clean()
    round_.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=round_,
                 after=snapshot(round_, ROUND_AUDIT_FIELDS), subject=enterprise)
    return round_


# --- whitelist export --------------------------------------------------------------------------------------

WHITELIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("credit_code", "统一社会信用代码"),
    ("name", "企业名称"),
    ("city", "注册地"),
    ("industry_cluster", "重点产业集群"),
    ("product_id", "产品"),
    ("version", "版本"),
    ("evaluation_date", "匹配日期"),
    ("consent_purpose", "授权用途"),
    ("consent_valid_until", "授权有效至"),
)


def whitelist_rows(*, product: FinancialProduct, members, details, on) -> Iterator[tuple]:
    """The export's rows (header excluded), one per member, in the whitelist's order (`details`:
    selectors.member_details)."""
    for m in members:
        e = details[m.pk].enterprise
        yield (e.credit_code, e.name, e.city, e.industry_cluster, product.product_id, product.version, on,
               m.consent.purpose, details[m.pk].consent_valid_until)


def whitelist_file(*, product: FinancialProduct, members, details, on, fmt: str) -> Iterable[str] | bytes:
    """The whitelist as CSV text in pieces (for a streaming response) or XLSX bytes, through core.exports (text
    cells can never be formulas); a header of column names (WHITELIST_COLUMNS)."""
    header = [key for key, _zh in WHITELIST_COLUMNS]
    rows = whitelist_rows(product=product, members=members, details=details, on=on)
    if fmt == "csv":
        return csv_lines(header, rows)
    if fmt == "xlsx":
        return xlsx_bytes("whitelist", header, rows)
    raise InvalidInput("不支持的格式 (unsupported format)", extra={"fields": {"format": [str(fmt)]}})
