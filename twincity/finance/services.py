"""The one write path of tech finance: products (publish, new version, withdraw), consents (grant, revoke)
and the access log of institution-side reads. Every write that matters is audited in its transaction."""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

import finance_engine
from twincity.accounts.models import City, Organisation
from twincity.core import workdays
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.bulk import bulk_insert
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.exports import csv_lines, xlsx_bytes
from twincity.core.models import AuditEntry
from twincity.enterprises.models import Enterprise
from twincity.finance import access
from twincity.finance.models import (
    INSTITUTION_KINDS,
    AccessLog,
    Application,
    ApplicationEvent,
    ApplicationKind,
    ApplicationState,
    BranchDecision,
    Consent,
    EquityRound,
    FinancialProduct,
    Purpose,
)

logger = logging.getLogger("twincity.finance")
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


# --- demands and applications: the state machine applied ---------------------------------------------------
# finance_engine.lifecycle holds the transition table; `_transition` is the only code that sets a case's
# state: it locks the row, asks the table, writes the event and the audit entry, and announces the change,
# all in the caller's transaction. An illegal transition raises Conflict (409) and changes nothing.

CLAIM_WINDOW_WORKING_DAYS = 3  # a published demand waits this long for a claim, then it is escalated
DECISION_LIMIT_WORKING_DAYS = 10  # 渝惠融: 授信 within 10 working days of acceptance
CASE_AUDIT_FIELDS = (
    "kind", "state", "enterprise_id", "product_id", "amount", "term_months", "purpose", "registered_city",
    "project_city", "lead_institution_id", "partner_institution_id", "decision_round", "reason",
    "approved_amount", "approved_rate", "approved_term_months", "disbursed_amount", "disbursed_on",
    "repaid_amount", "repaid_on", "overdue_amount", "overdue_since", "defaulted_on", "submitted_at", "claim_due",
    "claimed_at", "decision_due", "decided_at", "escalated_at",
)
NOT_YOUR_CASE = "无权办理该事项 (you may not act on this case)"
LOAN_KINDS = ("credit_loan", "points_loan", "twin_city_loan")


def claim_window_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "FINANCE_CLAIM_WINDOW_WORKING_DAYS", CLAIM_WINDOW_WORKING_DAYS))


def decision_limit_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "FINANCE_DECISION_LIMIT_WORKING_DAYS", DECISION_LIMIT_WORKING_DAYS))


def _due(start: date, working_days: int) -> date | None:
    """The last day of a clock of `working_days` from `start` (not counted); None while the official calendar
    does not cover that year yet (twincity.core.workdays never guesses): the clock then shows no due date and
    the overdue list skips it until the calendar is updated."""
    try:
        return workdays.add_working_days(start, working_days)
    except workdays.CalendarRangeError:
        logger.warning("working-day calendar does not cover the clock of a financing case",
                       extra={"start": start.isoformat(), "working_days": working_days})
        return None


def _shanghai_today(at: datetime) -> date:
    return workdays.shanghai_date(at)


def _locked(case: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",)).select_related("enterprise", "product")
            .get(pk=case.pk))


# Event names of the announcements (notifications and webhooks): finance.<kind>.<what happened>.
ANNOUNCED = {
    "publish": ("published", "已发布", "published"), "submit": ("submitted", "已提交", "submitted"),
    "claim": ("claimed", "已受理（认领）", "claimed"), "start_review": ("review_started", "进入尽职调查", "in due diligence"),
    "branch_decision": ("branch_decided", "一方已作出决定", "one branch decided"),
    "approve": ("approved", "已批准", "approved"), "reject": ("rejected", "未获批准", "rejected"),
    "refer_back": ("referred_back", "退回补充材料", "referred back"), "resubmit": ("resubmitted", "已重新提交", "resubmitted"),
    "disburse": ("disbursed", "已放款", "disbursed"), "repayment": ("repayment", "已还款（部分）", "part repaid"),
    "repay": ("repaid", "已结清", "repaid"), "mark_overdue": ("overdue", "已逾期", "overdue"),
    "default": ("defaulted", "已违约", "defaulted"), "withdraw": ("withdrawn", "已撤回", "withdrawn"),
    "escalate": ("escalated", "认领超时，已升级督办", "escalated"),
}


def _institutions_told(case: Application, action: str) -> list[Organisation]:
    """The institutions told of a transition: the routed branches; while a demand waits for a claim (published,
    escalated), every institution it is offered to."""
    routed = [i for i in (case.lead_institution, case.partner_institution) if i is not None]
    if routed:
        return routed
    if case.kind == ApplicationKind.DEMAND and action in ("publish", "escalate"):
        return list(access.demand_candidates(case).order_by("pk"))
    return []


def _transition_announce(case: Application, event: ApplicationEvent) -> None:
    """Tell the parties about a transition, the one place that does: in-app (and the channels each person
    switched on) to the enterprise's users and the institutions' officers, plus the administrators when a
    demand is escalated; a signed webhook to each institution's systems. Inside the caller's transaction: the
    announcements exist exactly when the transition does."""
    from django.urls import reverse

    from twincity.accounts.models import User
    from twincity.notifications.services import notify
    from twincity.webhooks.services import webhook_emit

    what, zh, en = ANNOUNCED.get(event.action, (event.action, event.action, event.action))
    name = f"finance.{case.kind}.{what}"
    kind_zh, kind_en = (("融资需求", "Financing demand") if case.kind == ApplicationKind.DEMAND
                        else ("融资申请", "Product application"))
    title = f"{kind_zh} #{case.pk}（{case.enterprise.name}）{zh} / {kind_en} #{case.pk} {en}"
    body = event.comment
    institutions = _institutions_told(case, event.action)
    recipients: list[Any] = [*institutions]
    if case.enterprise.organisation_id:
        recipients.append(case.enterprise.organisation)
    if event.action == "escalate":
        recipients.extend(User.objects.filter(role=User.Role.ADMINISTRATOR, is_active=True))
    actor = event.actor
    notify(recipients, event=name, title=title, body=body, link=reverse("finance:case", args=[case.pk]),
           actor=actor)
    payload = {
        "event": name, "case_id": case.pk, "kind": case.kind, "action": event.action, "from_state": event.from_state,
        "state": case.state, "at": event.at, "comment": event.comment, "data": event.data,
        "enterprise": {"credit_code": case.enterprise.credit_code, "name": case.enterprise.name},
        "product": ({"product_id": product.product_id, "version": product.version}
                    if (product := case.product if case.product_id else None) is not None else None),
        "amount": case.amount, "term_months": case.term_months, "registered_city": case.registered_city,
        "project_city": case.project_city, "lead_institution_id": case.lead_institution_id,
        "partner_institution_id": case.partner_institution_id, "claim_due": case.claim_due,
        "decision_due": case.decision_due,
    }
    for institution in institutions:
        webhook_emit(institution, name, payload)


def _event_data(values: dict[str, Any]) -> dict[str, Any]:
    from twincity.core.audit import plain

    return {key: plain(value) for key, value in values.items() if value is not None}


def _transition(case: Application, action: str, *, actor, institution: Organisation | None = None,
                comment: str = "", data: dict[str, Any] | None = None, at: datetime | None = None,
                **changes: Any) -> Application:
    """Apply `action` to a locked case: the table's next state (Conflict when there is none), the field
    `changes`, one timeline event, one audit entry, the announcement."""
    try:
        new_state = finance_engine.lifecycle.transition(case.kind, case.state, action)
    except finance_engine.lifecycle.IllegalTransition as exc:
        raise Conflict(f"当前状态（{case.get_state_display()}）不允许此操作 "
                       f"(this action is not allowed in state {case.state!r})", code="illegal_transition",
                       extra={"state": case.state, "action": action,
                              "allowed": finance_engine.lifecycle.allowed_actions(case.kind, case.state)}) from exc
    return _record(case, action, new_state, actor=actor, institution=institution, comment=comment, data=data,
                   at=at, **changes)


def _record(case: Application, action: str, new_state: str, *, actor, institution: Organisation | None,
            comment: str, data: dict[str, Any] | None, at: datetime | None = None, **changes: Any) -> Application:
    at = at or timezone.now()
    before = snapshot(case, CASE_AUDIT_FIELDS)
    old_state = case.state
    case.state = new_state
    for name, value in changes.items():
        setattr(case, name, value)
    case.save()
    event = ApplicationEvent.objects.create(
        application=case, at=at, actor=actor if getattr(actor, "pk", None) else None, institution=institution,
        action=action, from_state=old_state, to_state=new_state, comment=(comment or "")[:500],
        data=_event_data(data or {}))
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=case, before=before,
                 after=snapshot(case, CASE_AUDIT_FIELDS), context=f"{action}: {comment}"[:255],
                 subject=case.enterprise)
    _transition_announce(case, event)
    return case


def _branch_of_bank_in(root_id: int, city: str, prefer: Organisation) -> Organisation | None:
    """The branch of a bank (by its head office) in a city: the product's own institution when it is there."""
    if prefer.city == city and prefer.root_id == root_id:
        return prefer
    return (Organisation.objects.filter(parent_id=root_id, city=city).order_by("pk").first()
            or Organisation.objects.filter(pk=root_id, city=city).first())


def _route(product: FinancialProduct, registered_city: str, project_city: str
           ) -> tuple[Organisation, Organisation | None]:
    """An application's lead branch (and a twin-city loan's partner): the product's institution; for a
    twin-city loan the bank's branch in the project city leads and its branch in the registered city partners."""
    institution = product.institution
    if product.kind != "twin_city_loan":
        return institution, None
    fields: dict[str, list[str]] = {}
    if registered_city not in City.values:
        fields["registered_city"] = [str(registered_city)]
    if project_city not in City.values:
        fields["project_city"] = [str(project_city)]
    if not fields and registered_city == project_city:
        fields["project_city"] = ["双城贷须注册地与项目地分属两城 (a twin-city loan spans the two cities)"]
    if fields:
        raise InvalidInput("双城贷须注明注册地与项目地 (a twin-city loan needs the registered and the project city)",
                           extra={"fields": fields})
    lead = _branch_of_bank_in(institution.root_id, project_city, institution)
    partner = _branch_of_bank_in(institution.root_id, registered_city, institution)
    if lead is None or partner is None:
        raise InvalidInput("该银行在两城未均设分支机构 (the bank has no branch in one of the two cities)",
                           code="no_branch")
    return lead, partner


def _checked_amount(value: Any, field_name: str) -> Decimal:
    errors: list[str] = []
    amount = _money(value, field_name, errors)
    if amount is None:
        raise InvalidInput("金额无效 (invalid amount)", extra={"fields": {field_name: errors or [str(value)]}})
    if amount != amount.quantize(FEN):
        raise InvalidInput("金额精确到分 (an amount is counted to the fen)",
                           extra={"fields": {field_name: [str(value)]}})
    return amount.quantize(FEN)


def _checked_months(value: Any, field_name: str) -> int:
    errors: list[str] = []
    months = _months(value, field_name, errors)
    if months is None:
        raise InvalidInput("期限无效 (invalid term)", extra={"fields": {field_name: errors}})
    return months


@transaction.atomic
def case_create(*, actor, enterprise: Enterprise, kind: str, amount: Any, term_months: Any, purpose: str,
                product: FinancialProduct | None = None, registered_city: str = "", project_city: str = "",
                submit: bool = False, at: datetime | None = None) -> Application:
    """An enterprise's draft demand (no product) or application (to a product's published version); with
    `submit` it is submitted (an application) or published (a demand) at once."""
    require(access.can_create_cases(actor) and access.is_own_enterprise(actor, enterprise), NOT_YOUR_CASE)
    if kind not in ApplicationKind.values:
        raise InvalidInput("类型无效 (invalid kind)", extra={"fields": {"kind": [str(kind)]}})
    amount = _checked_amount(amount, "amount")
    term = _checked_months(term_months, "term_months")
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput("请填写融资用途 (the purpose is required)", extra={"fields": {"purpose": ["required"]}})
    registered_city = registered_city or enterprise.city
    lead = partner = None
    if kind == ApplicationKind.DEMAND:
        if product is not None:
            raise InvalidInput("融资需求不指定产品 (a demand names no product)",
                               extra={"fields": {"product": [product.product_id]}})
        project_city = project_city or registered_city
        if project_city not in City.values:
            raise InvalidInput("项目地须为重庆或成都 (the project city is Chongqing or Chengdu)",
                               extra={"fields": {"project_city": [str(project_city)]}})
    else:
        if product is None:
            raise InvalidInput("申请须指定产品 (an application names a product)",
                               extra={"fields": {"product": ["required"]}})
        if not product.is_published:
            raise Conflict("该产品版本已不在架 (this product version is no longer published)",
                           code="product_not_published")
        if product.kind not in LOAN_KINDS:
            raise InvalidInput("只能申请贷款类产品 (only loan products take applications)",
                               extra={"fields": {"product": [product.product_id]}})
        project_city = project_city or registered_city
        lead, partner = _route(product, registered_city, project_city)
    case = Application(kind=kind, enterprise=enterprise, product=product, amount=amount, term_months=term,
                       purpose=purpose[:500], registered_city=registered_city, project_city=project_city,
                       lead_institution=lead, partner_institution=partner,
                       created_by=actor if getattr(actor, "pk", None) else None)
    if at is not None:
        case.created_at = at
    case.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=case,
                 after=snapshot(case, CASE_AUDIT_FIELDS), subject=enterprise)
    ApplicationEvent.objects.create(application=case, at=at or timezone.now(),
                                    actor=actor if getattr(actor, "pk", None) else None, action="create",
                                    from_state="", to_state=case.state)
    if submit:
        return case_submit(actor=actor, case=case, at=at)
    return case


@transaction.atomic
def case_submit(*, actor, case: Application, at: datetime | None = None) -> Application:
    """Submit an application to its institution, or publish a demand to the institutions; the claim window
    of a demand starts (CLAIM_WINDOW_WORKING_DAYS working days, the day itself not counted)."""
    case = _locked(case)
    require(access.can_act_as_enterprise(actor, case), NOT_YOUR_CASE)
    at = at or timezone.now()
    action = "publish" if case.kind == ApplicationKind.DEMAND else "submit"
    claim_due = (_due(_shanghai_today(at), claim_window_days())
                 if case.kind == ApplicationKind.DEMAND else None)
    return _transition(case, action, actor=actor, at=at, submitted_at=at, claim_due=claim_due,
                       data={"claim_due": claim_due})


@transaction.atomic
def case_withdraw(*, actor, case: Application, comment: str = "", at: datetime | None = None) -> Application:
    """The enterprise withdraws its case, at any time before disbursement."""
    case = _locked(case)
    require(access.can_act_as_enterprise(actor, case), NOT_YOUR_CASE)
    return _transition(case, "withdraw", actor=actor, comment=comment, at=at)


@transaction.atomic
def case_resubmit(*, actor, case: Application, comment: str = "", amount: Any = None, term_months: Any = None,
                  purpose: str | None = None, at: datetime | None = None) -> Application:
    """The enterprise answers a referral (with the information asked, optionally a changed amount, term or
    purpose): the case is back in due diligence, in a new decision round, and the decision clock restarts."""
    case = _locked(case)
    require(access.can_act_as_enterprise(actor, case), NOT_YOUR_CASE)
    at = at or timezone.now()
    changes: dict[str, Any] = {}
    if amount is not None:
        changes["amount"] = _checked_amount(amount, "amount")
    if term_months is not None:
        changes["term_months"] = _checked_months(term_months, "term_months")
    if purpose is not None and purpose.strip():
        changes["purpose"] = purpose.strip()[:500]
    decision_due = _due(_shanghai_today(at), decision_limit_days())
    return _transition(case, "resubmit", actor=actor, comment=comment, at=at, data={**changes,
                       "decision_due": decision_due}, decision_round=case.decision_round + 1,
                       decision_due=decision_due, reason="", **changes)


def _acting_institution(actor, case: Application) -> Organisation:
    institution = access.routed_institution_of(actor, case)
    require(institution is not None, NOT_YOUR_CASE)
    assert institution is not None
    return institution


@transaction.atomic
def case_claim(*, actor, case: Application, comment: str = "", at: datetime | None = None) -> Application:
    """A bank branch claims a published demand offered to it (the first claim wins; the others answer 409), or
    the routed branch accepts (受理) an application. The decision clock starts: DECISION_LIMIT_WORKING_DAYS
    working days from acceptance."""
    case = _locked(case)
    require(access.is_institution_officer(actor), NOT_YOUR_CASE)
    at = at or timezone.now()
    if case.kind == ApplicationKind.DEMAND:
        if case.state != ApplicationState.PUBLISHED or case.lead_institution_id is not None:
            _transition(case, "claim", actor=actor)  # claimed already (or not published): the 409
        require(access.is_offered_to(actor, case), NOT_YOUR_CASE)
        lead = access.institution_of(actor)
        assert lead is not None
        if lead.parent_id is None:  # a head office claims for its branch the demand is offered to
            lead = access.demand_candidates(case).filter(parent_id=lead.pk).order_by("pk").first() or lead
    else:
        _acting_institution(actor, case)
        lead = case.lead_institution
    decision_due = _due(_shanghai_today(at), decision_limit_days())
    return _transition(case, "claim", actor=actor, institution=lead, comment=comment, at=at, claimed_at=at,
                       lead_institution=lead, decision_due=decision_due, data={"decision_due": decision_due})


@transaction.atomic
def case_start_review(*, actor, case: Application, comment: str = "", at: datetime | None = None) -> Application:
    """The routed branch starts due diligence (尽职调查)."""
    case = _locked(case)
    institution = _acting_institution(actor, case)
    return _transition(case, "start_review", actor=actor, institution=institution, comment=comment, at=at)


def _line_used(cases, exclude_pk: int) -> Decimal:
    from django.db.models import Sum

    used = (cases.filter(state__in=finance_engine.lifecycle.LINE_USED).exclude(pk=exclude_pk)
            .aggregate(total=Sum("approved_amount"))["total"])
    return (used or Decimal(0)).quantize(FEN)


def _enterprise_grade(enterprise: Enterprise, standard: str | None) -> str | None:
    if standard is None:
        return None
    from twincity.points.selectors import result_latest

    result = result_latest(enterprise=enterprise, standard_id=standard)
    return (result.grade or None) if result is not None else None


def _check_lines(case: Application, amount: Decimal) -> None:
    """An approval may not take the product's total line (credit_line.total) or the enterprise's line on the
    product (its line at its grade, capped by the product's maximum) past its limit. Called with the product's
    versions and the enterprise locked, so two concurrent approvals are counted one after the other."""
    if case.product is None:
        return
    versions = list(FinancialProduct.objects.select_for_update().filter(product_id=case.product.product_id)
                    .order_by("pk"))
    Enterprise.objects.select_for_update().filter(pk=case.enterprise_id).first()
    from twincity.finance.selectors import engine_product

    engine = engine_product(case.product)
    on_product = Application.objects.filter(product__in=versions)
    if engine.total_line is not None:
        used = _line_used(on_product, case.pk)
        if used + amount > engine.total_line:
            raise Conflict("超出产品总额度 (the approval would exceed the product's total line)",
                           code="product_line_exceeded",
                           extra={"line": str(engine.total_line.quantize(FEN)), "used": str(used), "amount": str(amount)})
    if engine.lines_by_grade is None and engine.max_amount is None:
        return
    line = engine.credit_line(_enterprise_grade(case.enterprise, engine.standard)) or Decimal(0)
    used = _line_used(on_product.filter(enterprise_id=case.enterprise_id), case.pk)
    if used + amount > line:
        raise Conflict("超出企业授信额度 (the approval would exceed the enterprise's credit line on this product)",
                       code="enterprise_line_exceeded",
                       extra={"line": str(line.quantize(FEN)), "used": str(used), "amount": str(amount)})


def _rate_in(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value)) if value is not None and not isinstance(value, float) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate < 1:
        raise InvalidInput("年利率须为 [0, 1) 的小数 (the rate is an annual fraction in [0, 1))",
                           extra={"fields": {"rate": [str(value)]}})
    return rate.quantize(RATE_PLACES)


@transaction.atomic
def case_decide(*, actor, case: Application, decision: str, comment: str = "", amount: Any = None,
                rate: Any = None, term_months: Any = None, at: datetime | None = None) -> Application:
    """A routed branch records its decision in the current round: approve (its amount or share, the rate and
    the term), reject (a reason is mandatory) or refer back for information (say what is missing). A single
    branch's decision decides; a twin-city loan is approved only when both branches approve, and either may
    refer back or reject. An approval respects the product's and the enterprise's lines."""
    case = _locked(case)
    institution = _acting_institution(actor, case)
    at = at or timezone.now()
    comment = (comment or "").strip()
    if decision not in BranchDecision.Decision.values:
        raise InvalidInput("决定无效 (invalid decision)", extra={"fields": {"decision": [str(decision)]}})
    # The state machine first: a decision on a case that cannot take one is a 409 whatever else is wrong.
    if decision not in finance_engine.lifecycle.allowed_actions(case.kind, case.state):
        _transition(case, decision, actor=actor)  # raises the 409
    if decision in finance_engine.lifecycle.REASON_REQUIRED and not comment:
        raise InvalidInput("拒绝或退回须填写原因 (a rejection or a referral needs a reason)",
                           code="reason_required", extra={"fields": {"comment": ["required"]}})
    share = approved_rate = approved_term = None
    if decision == BranchDecision.Decision.APPROVE:
        share = _checked_amount(amount, "amount")
        approved_rate = _rate_in(rate)
        approved_term = _checked_months(term_months if term_months is not None else case.term_months, "term_months")
    if BranchDecision.objects.filter(application=case, round=case.decision_round, institution=institution).exists():
        raise Conflict("本机构本轮已作出决定 (your branch has decided in this round)", code="already_decided")
    BranchDecision.objects.create(application=case, round=case.decision_round, institution=institution,
                                  decision=decision, share_amount=share, rate=approved_rate,
                                  term_months=approved_term, comment=comment[:500],
                                  decided_by=actor if getattr(actor, "pk", None) else None, decided_at=at)
    decisions = list(BranchDecision.objects.filter(application=case, round=case.decision_round)
                     .select_related("institution"))
    branches = 2 if case.is_joint else 1
    outcome = finance_engine.lifecycle.joint_outcome(
        {str(d.institution_id): d.decision for d in decisions}, branches)
    data = _event_data({"decision": decision, "share_amount": share, "rate": approved_rate,
                        "term_months": approved_term, "round": case.decision_round})
    if outcome is None:  # a twin-city loan waits for the other branch: recorded, the state stays
        if case.state == ApplicationState.CLAIMED:
            return _transition(case, "start_review", actor=actor, institution=institution,
                               comment=comment, at=at, data=data)
        return _record(case, "branch_decision", case.state, actor=actor, institution=institution,
                       comment=comment, data=data, at=at)
    if outcome == "approve":
        total = sum((d.share_amount or Decimal(0) for d in decisions), Decimal(0))  # every approval names its share
        if total > case.amount:
            raise InvalidInput("批准金额不得超过申请金额 (the approved amount exceeds the amount asked)",
                               extra={"fields": {"amount": [str(total)]}})
        _check_lines(case, total)
        lead = next((d for d in decisions if d.institution_id == case.lead_institution_id), decisions[0])
        return _transition(case, "approve", actor=actor, institution=institution, comment=comment, at=at,
                           data={**data, "approved_amount": total}, approved_amount=total,
                           approved_rate=lead.rate, approved_term_months=lead.term_months, decided_at=at)
    reason = next(d.comment for d in decisions if d.decision == outcome)
    return _transition(case, outcome, actor=actor, institution=institution, comment=comment, at=at, data=data,
                       reason=reason, decided_at=at)


def _day_in(value: Any, at: datetime) -> date:
    if value is None:
        return _shanghai_today(at)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise InvalidInput("日期无效 (invalid date)", extra={"fields": {"on": [str(value)]}})


def _servicing_institution(actor, case: Application) -> Organisation:
    require(access.can_service(actor, case), NOT_YOUR_CASE)
    assert case.lead_institution is not None
    return case.lead_institution


@transaction.atomic
def case_disburse(*, actor, case: Application, amount: Any = None, on: Any = None, comment: str = "",
                  at: datetime | None = None) -> Application:
    """The lead branch records the disbursement (at most the approved amount; default all of it)."""
    case = _locked(case)
    institution = _servicing_institution(actor, case)
    at = at or timezone.now()
    if case.state != ApplicationState.APPROVED:
        _transition(case, "disburse", actor=actor)
    approved = case.approved_amount  # set by the approval (the state is approved)
    disbursed = _checked_amount(amount, "amount") if amount is not None else approved
    if disbursed is None or approved is None or disbursed > approved:
        raise InvalidInput("放款金额不得超过批准金额 (the disbursement exceeds the approved amount)",
                           extra={"fields": {"amount": [str(amount)]}})
    day = _day_in(on, at)
    return _transition(case, "disburse", actor=actor, institution=institution, comment=comment, at=at,
                       data={"amount": disbursed, "on": day}, disbursed_amount=disbursed, disbursed_on=day)


# Called with (case, actor) when a loan is repaid in full, inside the repayment's transaction: the domains above
# finance (e.g. riskpool: the loan's guarantee is released) register here in their AppConfig.ready(), so finance
# imports none of them.
_CASE_REPAID: list[Callable[..., None]] = []


def case_repaid_register(callback: Callable[..., None]) -> None:
    if callback not in _CASE_REPAID:
        _CASE_REPAID.append(callback)


@transaction.atomic
def case_repay(*, actor, case: Application, amount: Any = None, on: Any = None, comment: str = "",
               at: datetime | None = None) -> Application:
    """The lead branch records a repayment (default: all that is outstanding). When the whole disbursed amount
    is repaid the loan is repaid; a part repayment is a timeline event that keeps the state."""
    case = _locked(case)
    institution = _servicing_institution(actor, case)
    at = at or timezone.now()
    if case.state not in (ApplicationState.DISBURSED, ApplicationState.OVERDUE):
        _transition(case, "repay", actor=actor)
    lent = case.disbursed_amount or Decimal(0)  # set by the disbursement (the state is disbursed or overdue)
    outstanding = lent - case.repaid_amount
    paid = _checked_amount(amount, "amount") if amount is not None else outstanding
    if paid > outstanding:
        raise InvalidInput("还款金额超过未还本金 (the repayment exceeds what is outstanding)",
                           extra={"fields": {"amount": [str(paid)]}, "outstanding": str(outstanding)})
    day = _day_in(on, at)
    total = case.repaid_amount + paid
    data = {"amount": paid, "on": day, "repaid_amount": total}
    if total < lent:
        return _record(case, "repayment", case.state, actor=actor, institution=institution, comment=comment,
                       data=data, at=at, repaid_amount=total)
    case = _transition(case, "repay", actor=actor, institution=institution, comment=comment, at=at, data=data,
                       repaid_amount=total, repaid_on=day)
    for callback in _CASE_REPAID:
        callback(case, actor=actor)
    return case


@transaction.atomic
def case_mark_overdue(*, actor, case: Application, amount: Any, on: Any = None, comment: str = "",
                      at: datetime | None = None) -> Application:
    """The lead branch reports an overdue loan (the overdue amount, since when)."""
    case = _locked(case)
    institution = _servicing_institution(actor, case)
    at = at or timezone.now()
    if case.state != ApplicationState.DISBURSED:
        _transition(case, "mark_overdue", actor=actor)
    overdue = _checked_amount(amount, "amount")
    if overdue > (case.disbursed_amount or Decimal(0)) - case.repaid_amount:
        raise InvalidInput("逾期金额超过未还本金 (the overdue amount exceeds what is outstanding)",
                           extra={"fields": {"amount": [str(overdue)]}})
    day = _day_in(on, at)
    return _transition(case, "mark_overdue", actor=actor, institution=institution, comment=comment, at=at,
                       data={"amount": overdue, "on": day}, overdue_amount=overdue, overdue_since=day)


@transaction.atomic
def case_default(*, actor, case: Application, on: Any = None, comment: str = "",
                 at: datetime | None = None) -> Application:
    """The lead branch declares an overdue loan in default (a reason is mandatory)."""
    case = _locked(case)
    institution = _servicing_institution(actor, case)
    at = at or timezone.now()
    if case.state != ApplicationState.OVERDUE:
        _transition(case, "default", actor=actor)
    if not (comment or "").strip():
        raise InvalidInput("违约须填写说明 (a default needs a reason)", code="reason_required",
                           extra={"fields": {"comment": ["required"]}})
    day = _day_in(on, at)
    return _transition(case, "default", actor=actor, institution=institution, comment=comment, at=at,
                       data={"on": day}, defaulted_on=day)


def demands_to_escalate(*, now: datetime):
    """Published demands nobody claimed within the claim window (its last day is over in Shanghai) and not yet
    escalated."""
    today = _shanghai_today(now)
    return Application.objects.filter(kind=ApplicationKind.DEMAND, state=ApplicationState.PUBLISHED,
                                      lead_institution__isnull=True, escalated_at__isnull=True,
                                      claim_due__lt=today)


@transaction.atomic
def demand_escalate(*, case: Application, now: datetime | None = None) -> Application | None:
    """Escalate one unclaimed demand past its window: marked escalated, offered to the bank branches of both
    cities (access.demand_candidates) and announced to them and to the administrators. None when it was claimed
    or escalated meanwhile."""
    now = now or timezone.now()
    case = _locked(case)
    if (case.state != ApplicationState.PUBLISHED or case.lead_institution_id is not None
            or case.escalated_at is not None or case.claim_due is None or case.claim_due >= _shanghai_today(now)):
        return None
    return _record(case, "escalate", case.state, actor=None, institution=None, at=now,
                   comment="认领时限已过，已扩大推送至两城全部银行并提交管委会督办 "
                           "(claim window over: offered to every bank of both cities, referred to the administrators)",
                   data={"claim_due": case.claim_due}, escalated_at=now)


def demands_escalate(*, now: datetime | None = None) -> list[int]:
    """Escalate every demand past its claim window (the scheduled job); the ids escalated."""
    now = now or timezone.now()
    done = []
    for case in demands_to_escalate(now=now).order_by("pk"):
        if demand_escalate(case=case, now=now) is not None:
            done.append(case.pk)
    return done
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
