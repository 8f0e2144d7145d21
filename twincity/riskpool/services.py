"""The one write path of guarantees and the risk pool. Every change is audited in its transaction; every
money movement is one balanced ledger transaction (finance_engine.risk's posting rules, checked before it is
written, and held by the database's checks).

Locking: every write that posts to a pool's ledger or changes its status locks the pool's row first (then the
claim's), so postings, the balance a payout is capped by and the circuit breaker are serialised per pool."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from finance_engine import risk
from twincity.accounts.models import City, Organisation
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.finance.models import Application, ApplicationState, FinancialProduct, ProductKind
from twincity.riskpool import access
from twincity.riskpool.models import (
    GUARANTEEABLE,
    TRANSITIONS,
    Claim,
    Guarantee,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Recovery,
    RiskPool,
)

FEN = risk.FEN
ZERO = risk.ZERO
MAX_MONEY = Decimal("1e13")

POOL_SUSPENDED = ("资金池已熔断，暂停新增担保 (the pool's circuit breaker has tripped: new guarantees are suspended)")
ILLEGAL = "代偿申请状态为 {status}，不能执行 {action} (a claim that is {status} cannot be {action})"
POOL_AUDIT_FIELDS = ("name", "operator_id", "city", "default_shares", "product_shares", "breaker_threshold",
                     "payout_cap_rate", "payout_cap_amount", "status", "suspended_reason")
GUARANTEE_AUDIT_FIELDS = ("pool_id", "application_id", "product_id", "lender_id", "guarantor_id", "reguarantor_id",
                          "covered_amount", "fee_rate", "term_months", "fee_amount", "shares", "status")
CLAIM_AUDIT_FIELDS = ("status", "amount", "rejection_reason", "allocation")


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """Yuan to the fen, or 422 naming the field."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, (float, bool)) and value is not None else None
    except InvalidOperation:
        amount = None
    ok = (amount is not None and amount.is_finite() and (amount >= 0 if allow_zero else amount > 0)
          and amount < MAX_MONEY and amount == amount.quantize(FEN))
    if not ok:
        raise InvalidInput("金额须为精确到分的正数（元） (an amount in yuan, to the fen)", code="invalid_amount",
                           extra={"fields": {field: [str(value)]}})
    assert amount is not None
    return amount.quantize(FEN)


def _shares_checked(shares: Any, field: str) -> dict:
    errors = risk.validate_shares(shares, field)
    if errors:
        raise InvalidInput("分险比例无效 (invalid risk shares)", code="invalid_shares", extra={"errors": errors})
    return {role: shares[role] for role in risk.PARTY_ROLES if role in shares}


# --- the ledger ----------------------------------------------------------------------------------------------


def _account(pool: RiskPool, party: Organisation | None, kind: str) -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(pool=pool, party=party, kind=kind)
    return account


def _post(*, pool: RiskPool, kind: str, lines: list[risk.Line], parties: Mapping[Any, Organisation | None],
          actor, memo: str = "", guarantee: Guarantee | None = None, claim: Claim | None = None,
          recovery: Recovery | None = None) -> LedgerTransaction:
    """Write one balanced transaction. `parties` maps the lines' party keys to organisations (None: the pool).
    The caller holds the pool's row lock."""
    risk.check_balanced(lines)
    debit = sum((line.debit for line in lines), ZERO)
    credit = sum((line.credit for line in lines), ZERO)
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(
                pool=pool, kind=kind, guarantee=guarantee, claim=claim, recovery=recovery, memo=memo[:255],
                debit_total=debit, credit_total=credit, actor=actor if getattr(actor, "pk", None) else None)
    except IntegrityError as exc:  # the one-payout-per-claim constraint: a concurrent payout got there first
        raise Conflict("该代偿已入账 (this payout is already posted)", code="already_posted") from exc
    LedgerEntry.objects.bulk_create([
        LedgerEntry(transaction=txn, account=_account(pool, parties[line.party], line.kind),
                    debit=line.debit, credit=line.credit)
        for line in lines
    ])
    return txn


def pool_cash(pool: RiskPool) -> Decimal:
    """The pool's balance: debits − credits of its own cash account."""
    sums = LedgerEntry.objects.filter(account__pool=pool, account__party__isnull=True,
                                      account__kind=risk.CASH).aggregate(d=Sum("debit"), c=Sum("credit"))
    return ((sums["d"] or ZERO) - (sums["c"] or ZERO)).quantize(FEN)


def pool_loss_position(pool: RiskPool) -> tuple[Decimal, Decimal]:
    """(contributions, net losses = the pool's payouts − its recoveries), as the circuit breaker reads them."""
    entries = LedgerEntry.objects.filter(account__pool=pool)
    contributed = entries.filter(account__kind=risk.CONTRIBUTED).aggregate(d=Sum("debit"), c=Sum("credit"))
    own = entries.filter(account__party__isnull=True)
    loss = own.filter(account__kind=risk.LOSS).aggregate(d=Sum("debit"), c=Sum("credit"))
    recovered = own.filter(account__kind=risk.RECOVERY).aggregate(d=Sum("debit"), c=Sum("credit"))
    contributions = (contributed["c"] or ZERO) - (contributed["d"] or ZERO)
    net = ((loss["d"] or ZERO) - (loss["c"] or ZERO)) - ((recovered["c"] or ZERO) - (recovered["d"] or ZERO))
    return contributions.quantize(FEN), net.quantize(FEN)


def _pool_locked(pool: RiskPool) -> RiskPool:
    return RiskPool.objects.select_for_update().get(pk=pool.pk)


def _breaker_check(*, actor, pool: RiskPool) -> None:
    """Trip the breaker when the loss ratio reaches the threshold (the pool's row is locked)."""
    if pool.status == RiskPool.Status.SUSPENDED:
        return
    contributions, net = pool_loss_position(pool)
    if risk.breaker_tripped(contributions, net, pool.breaker_threshold):
        before = snapshot(pool, ("status", "suspended_reason"))
        ratio = risk.loss_ratio(contributions, net)
        pool.status = RiskPool.Status.SUSPENDED
        pool.suspended_at = timezone.now()
        pool.suspended_reason = (f"赔付率 {ratio:.2%} 达到熔断阈值 {pool.breaker_threshold:.2%} "
                                 f"(loss ratio reached the threshold)" if ratio is not None
                                 else "无出资而有损失 (losses without contributions)")[:255]
        pool.save(update_fields=["status", "suspended_at", "suspended_reason", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=pool, before=before,
                     after=snapshot(pool, ("status", "suspended_reason")), context="circuit breaker tripped")


# --- pools ---------------------------------------------------------------------------------------------------


def _decimal_in(value: Any, field: str, low: Decimal, high: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value)) if not isinstance(value, (float, bool)) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or not low < d <= high or d != d.quantize(Decimal("0.0001")):
        raise InvalidInput("比例无效 (invalid ratio)", extra={"fields": {field: [str(value)]}})
    return d


@transaction.atomic
def pool_create(*, actor, name: str, operator: Organisation, default_shares: dict, breaker_threshold: Any,
                city: str = "", product_shares: dict | None = None, payout_cap_rate: Any = None,
                payout_cap_amount: Any = None) -> RiskPool:
    require(access.can_create_pools(actor))
    fields: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        fields["name"] = ["必填，最多100字 (required, at most 100 characters)"]
    if city and city not in City.values:
        fields["city"] = [str(city)]
    if fields:
        raise InvalidInput("资金池无效 (invalid pool)", extra={"fields": fields})
    shares = _shares_checked(default_shares, "default_shares")
    by_product = {}
    if not isinstance(product_shares or {}, dict):
        raise InvalidInput("分险比例无效 (invalid risk shares)", code="invalid_shares",
                           extra={"errors": ["product_shares: 须为 产品→比例 / must map product id → shares"]})
    for product_id, s in (product_shares or {}).items():
        by_product[str(product_id)] = _shares_checked(s, f"product_shares.{product_id}")
    threshold = _decimal_in(breaker_threshold, "breaker_threshold", Decimal(0), Decimal(100))
    if threshold is None:
        raise InvalidInput("须设熔断阈值 (a circuit-breaker threshold is required)",
                           extra={"fields": {"breaker_threshold": ["required"]}})
    cap_rate = _decimal_in(payout_cap_rate, "payout_cap_rate", Decimal(0), Decimal(1))
    cap_amount = None if payout_cap_amount in (None, "") else money(payout_cap_amount, "payout_cap_amount")
    if RiskPool.objects.filter(name=name.strip()).exists():
        raise Conflict("资金池名称已存在 (a pool has this name)", code="pool_exists")
    pool = RiskPool.objects.create(
        name=name.strip(), operator=operator, city=city or "", default_shares=shares, product_shares=by_product,
        breaker_threshold=threshold, payout_cap_rate=cap_rate, payout_cap_amount=cap_amount,
        created_by=actor if getattr(actor, "pk", None) else None)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=pool, after=snapshot(pool, POOL_AUDIT_FIELDS))
    return pool


@transaction.atomic
def pool_contribute(*, actor, pool: RiskPool, contributor: Organisation, amount: Any,
                    memo: str = "") -> LedgerTransaction:
    """Money put into the pool by a contributor (e.g. the city and the district, 4:6)."""
    require(access.can_manage_pool(actor, pool))
    amount = money(amount, "amount")
    pool = _pool_locked(pool)
    txn = _post(pool=pool, kind=LedgerTransaction.Kind.CONTRIBUTION,
                lines=risk.post_contribution("contributor", amount),
                parties={"contributor": contributor, risk.POOL: None}, actor=actor,
                memo=memo or f"出资 {contributor.name}")
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=txn, subject=pool,
                 after={"kind": txn.kind, "contributor_id": contributor.pk, "amount": str(amount), "memo": txn.memo})
    return txn


@transaction.atomic
def pool_resume(*, actor, pool: RiskPool, note: str = "") -> RiskPool:
    """Lift a tripped breaker; refused while the loss ratio is still at or over the threshold."""
    require(access.can_manage_pool(actor, pool))
    pool = _pool_locked(pool)
    if pool.status != RiskPool.Status.SUSPENDED:
        raise Conflict("资金池未熔断 (the pool is not suspended)", code="pool_not_suspended")
    contributions, net = pool_loss_position(pool)
    if risk.breaker_tripped(contributions, net, pool.breaker_threshold):
        raise Conflict("赔付率仍达到熔断阈值，须先增加出资 (the loss ratio is still at the threshold: contribute first)",
                       code="breaker_still_tripped")
    before = snapshot(pool, ("status", "suspended_reason"))
    pool.status, pool.suspended_at, pool.suspended_reason = RiskPool.Status.ACTIVE, None, ""
    pool.save(update_fields=["status", "suspended_at", "suspended_reason", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=pool, before=before,
                 after=snapshot(pool, ("status", "suspended_reason")), context=(note or "resumed")[:255])
    return pool


# --- guarantees ----------------------------------------------------------------------------------------------


def _fee_rate(value: Any) -> Decimal:
    """An annual fee rate: a fraction in [0, 0.2), at most six places (0.01 = 1 % a year)."""
    try:
        d = Decimal(str(value)) if not isinstance(value, (float, bool)) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or not 0 <= d < Decimal("0.2") or d != d.quantize(Decimal("0.000001")):
        raise InvalidInput("担保费率须为 [0, 0.2) 的年费率 (an annual fee rate in [0, 0.2))",
                           extra={"fields": {"fee_rate": [str(value)]}})
    return d


def _loan_amount(application: Application) -> Decimal:
    return application.disbursed_amount or application.approved_amount or application.amount


def _role_parties(guarantee: Guarantee) -> dict[str, Organisation | None]:
    return {risk.BANK: guarantee.lender, risk.GUARANTOR: guarantee.guarantor,
            risk.REGUARANTOR: guarantee.reguarantor, risk.POOL: None}


@transaction.atomic
def guarantee_attach(*, actor, pool: RiskPool, application: Application, guarantor: Organisation,
                     reguarantor: Organisation | None = None, product: FinancialProduct | None = None,
                     covered_amount: Any = None, fee_rate: Any = None, term_months: int | None = None) -> Guarantee:
    """Attach a guarantee to an approved or disbursed loan under a pool: the shares are frozen now (the
    product's shares in the pool, else its default), the fee is charged and posted to the ledger. A pool whose
    breaker has tripped takes no new guarantee (409)."""
    require(access.can_attach_guarantee(actor, pool, guarantor))
    pool = _pool_locked(pool)
    if pool.status != RiskPool.Status.ACTIVE:
        raise Conflict(POOL_SUSPENDED, code="pool_suspended", extra={"reason": pool.suspended_reason})
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.state not in GUARANTEEABLE:
        raise Conflict("只能为已批准或已放款的贷款提供担保 (only an approved or disbursed loan takes a guarantee)",
                       code="loan_not_guaranteeable", extra={"state": application.state})
    if Guarantee.objects.filter(application=application).exists():
        raise Conflict("该贷款已有担保 (the loan already has a guarantee)", code="guarantee_exists")
    lender = application.lead_institution
    fields: dict[str, list[str]] = {}
    if lender is None or lender.kind != Organisation.Kind.BANK:
        fields["application"] = ["贷款须有放贷银行 (the loan needs a lending bank)"]
    if guarantor.kind != Organisation.Kind.GUARANTOR:
        fields["guarantor"] = ["须为担保机构 (must be a guarantor)"]
    if reguarantor is not None and (reguarantor.kind != Organisation.Kind.GUARANTOR or reguarantor == guarantor):
        fields["reguarantor"] = ["须为另一家担保机构 (must be another guarantor)"]
    if product is not None and (product.kind != ProductKind.GUARANTEE or product.institution_id != guarantor.pk):
        fields["product_id"] = ["须为该担保机构的担保产品 (must be the guarantor's guarantee product)"]
    if fields:
        raise InvalidInput("担保无效 (invalid guarantee)", extra={"fields": fields})
    assert lender is not None
    shares = pool.shares_for(product.product_id if product else None)
    if risk.REGUARANTOR in risk.normalise_shares(shares) and reguarantor is None:
        raise InvalidInput("分险比例含再担保，须指定再担保机构 (the shares name a re-guarantor: name one)",
                           extra={"fields": {"reguarantor_id": ["required"]}})
    loan = _loan_amount(application)
    covered = loan if covered_amount in (None, "") else money(covered_amount, "covered_amount")
    if covered > loan:
        raise InvalidInput("担保金额不能超过贷款金额 (the covered amount cannot exceed the loan)",
                           extra={"fields": {"covered_amount": [str(covered)]}})
    if product is not None and product.max_amount is not None and covered > product.max_amount:
        raise InvalidInput("担保金额超过担保产品的最高金额 (the covered amount exceeds the product's maximum)",
                           extra={"fields": {"covered_amount": [str(covered)]}, "max_amount": str(product.max_amount)})
    if fee_rate in (None, ""):
        rate = product.guarantee_fee if product is not None else Decimal(0)
    else:
        rate = _fee_rate(fee_rate)
    term = term_months or application.approved_term_months or application.term_months
    if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= 600:
        raise InvalidInput("期限须为 1–600 个月 (term in whole months, 1–600)", extra={"fields": {"term_months": [str(term)]}})
    fee = risk.guarantee_fee(covered, rate, term)
    guarantee = Guarantee.objects.create(
        pool=pool, application=application, product=product, lender=lender, guarantor=guarantor,
        reguarantor=reguarantor, covered_amount=covered, fee_rate=rate, term_months=term, fee_amount=fee,
        shares=shares, created_by=actor if getattr(actor, "pk", None) else None)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=guarantee,
                 after=snapshot(guarantee, GUARANTEE_AUDIT_FIELDS), subject=pool)
    if fee > 0:
        _post(pool=pool, kind=LedgerTransaction.Kind.FEE, lines=risk.post_fee(risk.fee_split(fee, shares)),
              parties=_role_parties(guarantee), actor=actor, guarantee=guarantee,
              memo=f"担保费 {fee} (guarantee fee, {risk.shares_text(shares)})")
    return guarantee


def guarantee_release(application: Application, *, actor) -> Guarantee | None:
    """A repaid loan releases its guarantee: called by finance (case_repaid_register, in RiskPoolConfig.ready())
    inside the repayment's transaction, which holds the loan's row. An active guarantee becomes released (audited)
    and can take no claim; one with a claim open or compensated keeps its status. None when the loan has none."""
    guarantee = Guarantee.objects.select_for_update().filter(application_id=application.pk).first()
    if guarantee is None or guarantee.status != Guarantee.Status.ACTIVE:
        return guarantee
    before = snapshot(guarantee, ("status",))
    guarantee.status = Guarantee.Status.RELEASED
    guarantee.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=guarantee, before=before,
                 after=snapshot(guarantee, ("status",)), subject=guarantee.pool, context="released: loan repaid")
    return guarantee


# --- claims --------------------------------------------------------------------------------------------------


def claim_file_refusal(guarantee: Guarantee) -> Conflict | None:
    """Why a claim cannot be filed on this guarantee now (None when it can): the one rule the claim service
    enforces and the guarantee page asks before it offers the form."""
    if guarantee.status == Guarantee.Status.RELEASED:
        return Conflict("贷款已结清，担保已解除，不能申请代偿 (the loan is repaid and its guarantee released)",
                        code="guarantee_released")
    if guarantee.application.state != ApplicationState.DEFAULTED:
        return Conflict("贷款未违约，不能申请代偿 (the loan has not defaulted)", code="loan_not_defaulted",
                        extra={"state": guarantee.application.state})
    if guarantee.status != Guarantee.Status.ACTIVE:
        return Conflict("该担保已有代偿申请或已代偿 (the guarantee already has a claim)", code="claim_exists")
    return None


@transaction.atomic
def claim_file(*, actor, guarantee: Guarantee, amount: Any, description: str = "") -> Claim:
    """The lending bank claims compensation after the loan defaulted (at most the covered amount)."""
    require(access.can_file_claim(actor, guarantee))
    _pool_locked(guarantee.pool)
    # The loan's row before the guarantee's: the order a repayment takes them in (guarantee_release).
    application = Application.objects.select_for_update().get(pk=guarantee.application_id)
    guarantee = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
    guarantee.application = application
    refusal = claim_file_refusal(guarantee)
    if refusal is not None:
        raise refusal
    amount = money(amount, "amount")
    if amount > guarantee.covered_amount:
        raise InvalidInput("代偿金额不能超过担保金额 (the claim cannot exceed the covered amount)",
                           extra={"fields": {"amount": [str(amount)]}})
    claim = Claim.objects.create(guarantee=guarantee, amount=amount, description=(description or "")[:500],
                                 filed_by=actor if getattr(actor, "pk", None) else None)
    guarantee.status = Guarantee.Status.CLAIMED
    guarantee.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=claim,
                 after={**snapshot(claim, CLAIM_AUDIT_FIELDS), "guarantee_id": guarantee.pk}, subject=guarantee)
    _claim_announce(claim, "file", actor)
    return claim


@transaction.atomic
def claim_transition(*, actor, claim: Claim, action: str, reason: str = "") -> Claim:
    """review / approve / reject (with a reason) / pay. An action the claim's status does not allow is a
    Conflict (409) and changes nothing; paying posts the payout (each party's loss by the frozen shares, the
    pool up to its cap) and may trip the pool's circuit breaker."""
    require(access.can_act_on_claim(actor, claim, action))
    pool = _pool_locked(claim.guarantee.pool)
    claim = Claim.objects.select_for_update().select_related("guarantee").get(pk=claim.pk)
    target = TRANSITIONS.get((claim.status, action))
    if target is None:
        raise Conflict(ILLEGAL.format(status=claim.status, action=action), code="illegal_transition",
                       extra={"status": claim.status, "action": action})
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise InvalidInput("驳回须说明理由 (a rejection needs a reason)", code="reason_required",
                           extra={"fields": {"reason": ["required"]}})
    before = snapshot(claim, CLAIM_AUDIT_FIELDS)
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    guarantee = claim.guarantee
    if action == "review":
        claim.reviewed_by, claim.reviewed_at = user, now
    elif action in ("approve", "reject"):
        claim.decided_by, claim.decided_at = user, now
        if action == "reject":
            claim.rejection_reason = reason[:500]
            guarantee.status = Guarantee.Status.ACTIVE
            guarantee.save(update_fields=["status", "updated_at"])
    elif action == "pay":
        allocation = risk.allocate_loss(
            claim.amount, guarantee.shares,
            cap=risk.PayoutCap(rate=pool.payout_cap_rate, amount=pool.payout_cap_amount),
            pool_available=pool_cash(pool))
        claim.allocation = allocation.to_dict()
        claim.paid_by, claim.paid_at = user, now
        claim.status = target
        claim.save()
        _post(pool=pool, kind=LedgerTransaction.Kind.PAYOUT, lines=risk.post_payout(allocation.borne, risk.BANK),
              parties=_role_parties(guarantee), actor=actor, guarantee=guarantee, claim=claim,
              memo=f"代偿 {claim.amount} (payout by {risk.shares_text(guarantee.shares)})")
        guarantee.status = Guarantee.Status.COMPENSATED
        guarantee.save(update_fields=["status", "updated_at"])
    claim.status = target
    claim.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=claim, before=before,
                 after=snapshot(claim, CLAIM_AUDIT_FIELDS), subject=guarantee, context=f"{action}: {reason}"[:255])
    _claim_announce(claim, action, actor)
    if action == "pay":
        _breaker_check(actor=actor, pool=pool)
    return claim


# A claim's announced steps: action → (the event's last word, Chinese, English).
CLAIM_ANNOUNCED = {
    "file": ("filed", "已提交", "filed"), "review": ("under_review", "审核中", "under review"),
    "approve": ("approved", "已批准", "approved"), "reject": ("rejected", "已驳回", "rejected"),
    "pay": ("paid", "已代偿", "paid"), "recover": ("recovered", "已追偿入账", "recovery recorded"),
}


def _claim_announce(claim: Claim, action: str, actor, *, recovery: Recovery | None = None) -> None:
    """Tell the guarantee's parties about a claim's step, the one place that does: in-app (and each person's
    channels) to the lending bank, the guarantor, the re-guarantor if any and the pool's operator; a signed
    webhook "riskpool.claim.<step>" to the lending bank's systems. Inside the caller's transaction: the
    announcements exist exactly when the step does."""
    from django.urls import reverse

    from twincity.notifications.services import notify
    from twincity.webhooks.services import webhook_emit

    what, zh, en = CLAIM_ANNOUNCED[action]
    name = f"riskpool.claim.{what}"
    guarantee = claim.guarantee
    application = guarantee.application
    title = (f"代偿申请 #{claim.pk}（{application.enterprise.name}）{zh} / Claim #{claim.pk} {en}")
    if recovery is not None:
        body = f"追偿 {recovery.amount} 元 (recovered {recovery.amount} yuan)"
    elif action == "reject":
        body = claim.rejection_reason
    else:
        body = f"代偿金额 {claim.amount} 元 (claimed {claim.amount} yuan)"
    parties = [guarantee.lender, guarantee.guarantor, guarantee.reguarantor, guarantee.pool.operator]
    notify([p for p in parties if p is not None], event=name, title=title, body=body,
           link=reverse("riskpool:guarantee", args=[guarantee.pk]), actor=actor)
    payload = {
        "event": name, "claim_id": claim.pk, "guarantee_id": guarantee.pk, "pool_id": guarantee.pool_id,
        "case_id": application.pk, "action": action, "status": claim.status, "amount": claim.amount,
        "at": timezone.now(), "rejection_reason": claim.rejection_reason, "allocation": claim.allocation,
        "recovery": ({"recovery_id": recovery.pk, "amount": recovery.amount, "parts": recovery.parts}
                     if recovery is not None else None),
    }
    webhook_emit(guarantee.lender, name, payload)


def recovered_by_party(claim: Claim) -> dict[str, Decimal]:
    got: dict[str, Decimal] = {}
    for parts in claim.recoveries.values_list("parts", flat=True):
        for role, value in parts.items():
            got[role] = got.get(role, ZERO) + Decimal(value)
    return got


@transaction.atomic
def recovery_record(*, actor, claim: Claim, amount: Any, note: str = "") -> Recovery:
    """Money recovered from the borrower after the payout, shared back by the same shares (cumulatively, to
    the fen); the total recovered never exceeds the loss paid."""
    require(access.can_record_recovery(actor, claim))
    pool = _pool_locked(claim.guarantee.pool)
    claim = Claim.objects.select_for_update().select_related("guarantee").get(pk=claim.pk)
    if claim.status != Claim.Status.PAID:
        raise Conflict("只能对已代偿的申请记录追偿 (recoveries follow a paid claim)", code="claim_not_paid",
                       extra={"status": claim.status})
    amount = money(amount, "amount")
    before = recovered_by_party(claim)
    if sum(before.values(), ZERO) + amount > claim.amount:
        raise InvalidInput("追偿总额不能超过损失 (recoveries cannot exceed the loss)", code="recovery_too_large",
                           extra={"fields": {"amount": [str(amount)]},
                                  "unrecovered": str(claim.amount - sum(before.values(), ZERO))})
    allocation = risk.LossAllocation(
        loss=Decimal(claim.allocation["loss"]),
        by_shares={k: Decimal(v) for k, v in claim.allocation["by_shares"].items()},
        borne={k: Decimal(v) for k, v in claim.allocation["borne"].items()},
        pool_capped=Decimal(claim.allocation["pool_capped"]))
    weights = risk.recovery_weights(allocation, claim.guarantee.shares)
    parts = risk.recovery_split(amount, weights, recovered_before=before, borne=allocation.borne)
    recovery = Recovery.objects.create(claim=claim, amount=amount, parts={k: str(v) for k, v in parts.items()},
                                       note=(note or "")[:255],
                                       recorded_by=actor if getattr(actor, "pk", None) else None)
    guarantee = claim.guarantee
    _post(pool=pool, kind=LedgerTransaction.Kind.RECOVERY,
          lines=risk.post_recovery({k: v for k, v in parts.items() if v > 0}, risk.BANK),
          parties=_role_parties(guarantee), actor=actor, guarantee=guarantee, claim=claim, recovery=recovery,
          memo=f"追偿 {amount} (recovery)")
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=recovery, subject=guarantee,
                 after={"claim_id": claim.pk, "amount": str(amount), "parts": recovery.parts, "note": recovery.note})
    _claim_announce(claim, "recover", actor, recovery=recovery)
    return recovery
