"""The one write path of innovation vouchers. Every write is audited in its transaction.

Batches and issuing (a city office): `batch_create`, `batch_active_set`, `vouchers_issue`.
Paying a job (called by the domain that owns the job — instruments — after its own access checks):
`redemption_reserve` (at booking time), `redemption_reprice` (the job got cheaper), `redemption_release` (the
job will not happen), `redemption_use` (the job is done).
Settling: `evidence_attach`, `settlement_claim` (enterprise in the reimbursement mode, provider in the direct
mode), `settlement_decide` (the office: settled, or sent back).
The once-only registry: `subsidy_claim_register` (test subsidy, post-subsidy), `subsidy_claim_withdraw`; a
voucher redemption registers its own claim.

Balance. Every write on a voucher's money locks the voucher's row first (`SELECT … FOR UPDATE` on PostgreSQL; on
SQLite the IMMEDIATE transactions of settings let one writer in at a time) and re-reads the balance under the
lock, so of two redemptions past the balance exactly one succeeds; the check constraint
`voucher_balance_not_negative` stands behind it.

Once-only. A job key has at most one active claim (the partial unique constraint `subsidy_claim_once_per_job`):
the service looks for one and answers 409 `already_claimed` naming it; two writers racing past that look meet
the constraint, and the loser gets the same 409.
"""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from twincity.accounts.models import City, Organisation
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import InvalidInput
from twincity.core.models import AuditEntry
from twincity.notifications.services import notify
from twincity.vouchers import access
from twincity.vouchers import rules as voucher_rules
from twincity.vouchers.errors import AlreadyClaimed, EvidenceIncomplete, VoucherRefused, VoucherState
from twincity.vouchers.models import (
    EvidenceFile,
    EvidenceKind,
    Redemption,
    RedemptionStatus,
    SettlementMode,
    SubsidyClaim,
    SubsidyKind,
    Voucher,
    VoucherBatch,
)

FEN = Decimal("0.01")
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
NOT_OFFICE = "只有该市科技主管部门（创新券管理机构）可以操作 (the city's voucher office only)"
BATCH_FIELDS = ("code", "name", "city", "office_id", "amount", "valid_from", "valid_until", "categories",
                "providers", "regions", "settlement_mode", "copay_share", "active")
VOUCHER_FIELDS = ("code", "batch_id", "holder_id", "amount", "reserved", "used", "valid_from", "valid_until",
                  "status")
REDEMPTION_FIELDS = ("voucher_id", "job_kind", "job_ref", "provider_id", "provider_city", "category_code",
                     "job_date", "job_amount", "voucher_amount", "settlement_mode", "status", "status_note")
CLAIM_FIELDS = ("job_key", "kind", "claimant_id", "amount", "redemption_id", "active", "note")


def job_key(job_kind: str, job_ref: str) -> str:
    """The stable key of a payable job, e.g. "instruments.booking:<public id>"."""
    return f"{job_kind}:{job_ref}"


def _money(value: Any, name: str, *, positive: bool = True) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(FEN)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise InvalidInput("金额无效 (invalid amount)", extra={"fields": {name: ["invalid"]}}) from exc
    if amount < 0 or (positive and amount == 0) or amount >= Decimal("1e10"):
        raise InvalidInput("金额须为正数 (the amount must be positive)", extra={"fields": {name: [str(value)]}})
    return amount


# --- batches and issuing ---------------------------------------------------------------------------------------


def _batch_terms(*, city: str, amount: Any, valid_from: date, valid_until: date, categories: Sequence[str],
                 providers: Sequence[int], regions: Sequence[str], settlement_mode: str,
                 copay_share: Any) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if city not in City.values:
        errors["city"] = [city]
    if settlement_mode not in SettlementMode.values:
        errors["settlement_mode"] = [settlement_mode]
    if valid_until < valid_from:
        errors["valid_until"] = ["before valid_from"]
    regions = sorted(set(regions))
    if not regions or any(region not in City.values for region in regions):
        errors["regions"] = list(regions) or ["required"]
    categories = sorted({str(code).strip() for code in categories if str(code).strip()})
    if any(not code.isdigit() or len(code) > 8 for code in categories):
        errors["categories"] = categories
    provider_ids = sorted({int(pk) for pk in providers})
    known = set(Organisation.objects.filter(pk__in=provider_ids, kind__in=access.PROVIDER_KINDS)
                .values_list("pk", flat=True))
    if set(provider_ids) - known:
        errors["providers"] = [str(pk) for pk in sorted(set(provider_ids) - known)]
    try:
        share = Decimal(str(copay_share)).quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError, TypeError):
        share = Decimal(-1)
    if not Decimal(0) <= share < 1:
        errors["copay_share"] = [str(copay_share)]
    if errors:
        raise InvalidInput("创新券批次设置无效 (invalid batch terms)", extra={"fields": errors})
    return {"city": city, "amount": _money(amount, "amount"), "valid_from": valid_from, "valid_until": valid_until,
            "categories": categories, "providers": provider_ids, "regions": regions,
            "settlement_mode": settlement_mode, "copay_share": share}


@transaction.atomic
def batch_create(*, actor, code: str, name: str, city: str, amount: Any, valid_from: date, valid_until: date,
                 regions: Sequence[str], settlement_mode: str, categories: Sequence[str] = (),
                 providers: Sequence[int] = (), copay_share: Any = "0",
                 office: Organisation | None = None) -> VoucherBatch:
    """A city office defines a batch of its city: the amount of each voucher, the validity, the eligible service
    categories (instrument category codes; a class covers its subclasses) and providers (empty: any), the cities
    whose providers accept it (cross-city acceptance), the settlement mode and the co-pay share."""
    require(access.can_manage_city(actor, city), NOT_OFFICE)
    office = access.office_of(actor) or office
    if office is None or office.kind != Organisation.Kind.GOVERNMENT:
        raise InvalidInput("请指定发券机构 (name the issuing office)", extra={"fields": {"office": ["required"]}})
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise InvalidInput("请填写批次编号和名称 (code and name are required)",
                           extra={"fields": {k: ["required"] for k, v in (("code", code), ("name", name)) if not v}})
    if VoucherBatch.objects.filter(code=code).exists():
        raise InvalidInput("批次编号已存在 (the code is taken)", extra={"fields": {"code": [code]}})
    terms = _batch_terms(city=city, amount=amount, valid_from=valid_from, valid_until=valid_until,
                         categories=categories, providers=providers, regions=regions,
                         settlement_mode=settlement_mode, copay_share=copay_share)
    batch = VoucherBatch.objects.create(code=code[:40], name=name[:200], office=office, created_by=actor, **terms)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=batch, after=snapshot(batch, BATCH_FIELDS))
    return batch


@transaction.atomic
def batch_active_set(*, actor, batch: VoucherBatch, active: bool, reason: str = "") -> VoucherBatch:
    """Close a batch (its vouchers can no longer be issued nor reserved; reservations already made stand) or open
    it again."""
    require(access.can_manage_batch(actor, batch), NOT_OFFICE)
    locked = VoucherBatch.objects.select_for_update().get(pk=batch.pk)
    before = snapshot(locked, BATCH_FIELDS)
    locked.active = active
    locked.save(update_fields=["active", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, BATCH_FIELDS), context=reason[:255])
    return locked


def vouchers_issue(*, actor, batch: VoucherBatch, holders: Sequence[Organisation],
                   now: datetime | None = None) -> list[Voucher]:
    """Issue one voucher of the batch to each enterprise (a holder already holding one of this batch: 422), valid
    for the batch's period; audited, and each enterprise's users are notified."""
    require(access.can_manage_batch(actor, batch), NOT_OFFICE)
    now = now or timezone.now()
    with transaction.atomic():
        batch = VoucherBatch.objects.select_for_update().get(pk=batch.pk)  # the code sequence is the batch's
        if not batch.active or batch.valid_until < timezone.localtime(now).date():
            raise VoucherState("该批次已关闭或已过期，不能发券 (the batch is closed or over)",
                               extra={"batch": batch.code})
        holders = list({holder.pk: holder for holder in holders}.values())
        wrong = [h.pk for h in holders if h.kind != Organisation.Kind.ENTERPRISE]
        taken = set(Voucher.objects.filter(batch=batch, holder__in=holders).values_list("holder_id", flat=True))
        if not holders or wrong or taken:
            raise InvalidInput("发券对象须为尚未持有该批次创新券的企业 (enterprises not yet holding one)",
                               extra={"fields": {"holders": [str(pk) for pk in (wrong or sorted(taken))]
                                                 or ["required"]}})
        issued = batch.vouchers.count()
        vouchers = []
        for holder in sorted(holders, key=lambda h: h.pk):
            issued += 1
            voucher = Voucher.objects.create(
                code=f"{batch.code}-{issued:05d}", batch=batch, holder=holder, amount=batch.amount,
                valid_from=batch.valid_from, valid_until=batch.valid_until, issued_by=actor)
            audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=voucher,
                         after=snapshot(voucher, VOUCHER_FIELDS), context=f"issued from {batch.code}",
                         subject=batch)
            notify(holder, event="vouchers.voucher.issued", title=f"您获得一张科技创新券（{batch.amount} 元）",
                   body=f"{batch.name}：编号 {voucher.code}，有效期 {batch.valid_from} 至 {batch.valid_until}。",
                   link=reverse("vouchers:mine"), actor=actor)
            vouchers.append(voucher)
    return vouchers


# --- the once-only registry -----------------------------------------------------------------------------------


def _claim_described(claim: SubsidyClaim) -> dict[str, Any]:
    return {"id": claim.pk, "kind": claim.kind, "kind_name": claim.get_kind_display(), "job_key": claim.job_key,
            "claimant": claim.claimant.name, "amount": str(claim.amount),
            "at": claim.created_at.isoformat()}


def _already_claimed(claim: SubsidyClaim) -> AlreadyClaimed:
    return AlreadyClaimed(f"该服务已申请过{claim.get_kind_display()}（{claim.claimant.name}，"
                          f"{timezone.localtime(claim.created_at):%Y-%m-%d}），同一服务只能申请一次补贴 "
                          "(the job is already claimed)", extra={"claim": _claim_described(claim)})


def _active_claim(key: str) -> SubsidyClaim | None:
    return SubsidyClaim.objects.filter(job_key=key, active=True).select_related("claimant").first()


def _claim_add(*, actor, key: str, kind: str, claimant: Organisation, amount: Decimal,
               redemption: Redemption | None = None, note: str = "") -> SubsidyClaim:
    earlier = _active_claim(key)
    if earlier is not None:
        raise _already_claimed(earlier)
    claim = SubsidyClaim(job_key=key, kind=kind, claimant=claimant, amount=amount, redemption=redemption,
                         note=note[:255], created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError as exc:  # a concurrent writer claimed it after our look (the constraint decided)
        earlier = _active_claim(key)
        if earlier is None:
            raise
        raise _already_claimed(earlier) from exc
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=claim, after=snapshot(claim, CLAIM_FIELDS))
    return claim


def subsidy_claim_register(*, actor, kind: str, job_kind: str, job_ref: str, claimant: Organisation, amount: Any,
                           note: str = "") -> SubsidyClaim:
    """A city office records a test-subsidy (检测补贴) or post-subsidy (后补助) claim on a job; 409
    `already_claimed` naming the earlier claim if the job has one (a voucher's included)."""
    require(access.can_register_subsidy(actor), NOT_OFFICE)
    if kind not in (SubsidyKind.TEST_SUBSIDY, SubsidyKind.POST_SUBSIDY):
        raise InvalidInput("补贴类型无效 (test_subsidy or post_subsidy)", extra={"fields": {"kind": [kind]}})
    if not job_kind.strip() or not job_ref.strip():
        raise InvalidInput("请指明服务 (name the job)", extra={"fields": {"job_ref": ["required"]}})
    with transaction.atomic():
        return _claim_add(actor=actor, key=job_key(job_kind.strip(), job_ref.strip()), kind=kind,
                          claimant=claimant, amount=_money(amount, "amount", positive=False), note=note)


@transaction.atomic
def subsidy_claim_withdraw(*, actor, claim: SubsidyClaim, reason: str) -> SubsidyClaim:
    """A city office withdraws a test-subsidy or post-subsidy claim (a voucher's claim follows its redemption)."""
    require(access.can_register_subsidy(actor), NOT_OFFICE)
    if claim.kind == SubsidyKind.VOUCHER:
        raise VoucherState("创新券的申请随其使用记录释放 (a voucher's claim follows its redemption)")
    if not reason.strip():
        raise InvalidInput("请说明理由 (give the reason)", extra={"fields": {"reason": ["required"]}})
    locked = SubsidyClaim.objects.select_for_update().get(pk=claim.pk)
    if not locked.active:
        raise VoucherState("该申请已撤回 (already withdrawn)")
    _claim_deactivate(actor, locked, f"withdrawn: {reason}")
    return locked


def _claim_deactivate(actor, claim: SubsidyClaim, context: str) -> None:
    before = snapshot(claim, CLAIM_FIELDS)
    claim.active = False
    claim.withdrawn_at = timezone.now()
    claim.save(update_fields=["active", "withdrawn_at", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=claim, before=before,
                 after=snapshot(claim, CLAIM_FIELDS), context=context[:255])


# --- paying a job ----------------------------------------------------------------------------------------------


def terms_of(voucher: Voucher) -> voucher_rules.Terms:
    batch = voucher.batch
    return voucher_rules.Terms(
        holder_id=voucher.holder_id, active=voucher.status == Voucher.Status.ACTIVE and batch.active,
        valid_from=voucher.valid_from, valid_until=voucher.valid_until, balance=voucher.balance,
        categories=tuple(batch.categories), providers=tuple(batch.providers), regions=tuple(batch.regions),
        copay_share=batch.copay_share)


def _locked_voucher(voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update(of=("self",)).select_related("batch").get(pk=voucher_id)


def redemption_reserve(*, actor, voucher: Voucher, job_kind: str, job_ref: str, job: voucher_rules.Job,
                       job_label: str = "", wanted: Decimal | None = None) -> Redemption:
    """Reserve part of a voucher for a job at booking time: exactly `wanted` (refused above the co-pay cap or the
    balance), or by default as much as the co-pay share and the balance allow. 403 unless the actor may use the voucher; 409 `voucher_refused` naming each
    rule broken (validity, category, region, provider, balance…); 409 `already_claimed` naming the earlier claim
    when the job is claimed already (voucher, test subsidy or post-subsidy). Registers the job's claim."""
    require(access.can_use_voucher(actor, voucher), "只有持券企业的用户可以使用该创新券 (the holder's users only)")
    with transaction.atomic():
        locked = _locked_voucher(voucher.pk)
        terms = terms_of(locked)
        refusals = voucher_rules.check(terms, job)
        part = Decimal(0)
        if not refusals:
            part, refusals = voucher_rules.voucher_part(terms, job, wanted)
        if refusals:
            raise VoucherRefused("该创新券不能用于此项服务：" + "；".join(r.message for r in refusals)
                                 + " (the voucher cannot pay for this job)",
                                 extra={"refusals": [r.as_dict() for r in refusals]})
        redemption = Redemption.objects.create(
            voucher=locked, job_kind=job_kind, job_ref=job_ref, job_label=job_label[:200], provider_id=job.provider_id,
            provider_city=job.provider_city, category_code=job.category_code, job_date=job.on,
            job_amount=job.amount, voucher_amount=part, settlement_mode=locked.batch.settlement_mode,
            created_by=actor)
        _claim_add(actor=actor, key=job_key(job_kind, job_ref), kind=SubsidyKind.VOUCHER, claimant=locked.holder,
                   amount=part, redemption=redemption)
        _voucher_move(actor, locked, reserved=part, context=f"reserved for {redemption.job_key}")
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=redemption,
                     after=snapshot(redemption, REDEMPTION_FIELDS), subject=locked)
    return redemption


def _voucher_move(actor, voucher: Voucher, *, reserved: Decimal = Decimal(0), used: Decimal = Decimal(0),
                  context: str) -> None:
    """Change a locked voucher's reserved and used parts (the balance never goes below zero)."""
    before = snapshot(voucher, VOUCHER_FIELDS)
    voucher.reserved += reserved
    voucher.used += used
    if voucher.reserved < 0 or voucher.used < 0 or voucher.balance < 0:
        raise VoucherState("创新券余额不足 (the balance would go below zero)",
                           extra={"balance": str(voucher.amount - voucher.reserved - voucher.used)})
    voucher.save(update_fields=["reserved", "used", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=voucher, before=before,
                 after=snapshot(voucher, VOUCHER_FIELDS), context=context[:255])


def _job_redemption(job_kind: str, job_ref: str, statuses: Sequence[str]) -> Redemption | None:
    return (Redemption.objects.select_for_update(of=("self",)).select_related("voucher")
            .filter(job_kind=job_kind, job_ref=job_ref, status__in=statuses).first())


def redemption_of(*, job_kind: str, job_ref: str) -> Redemption | None:
    """The redemption paying for a job (reserved, used, claimed or settled), if any."""
    return (Redemption.objects.select_related("voucher__batch", "voucher__holder", "provider")
            .filter(job_kind=job_kind, job_ref=job_ref, status__in=[s for s in RedemptionStatus.values
                                                                    if s != RedemptionStatus.RELEASED]).first())


def redemption_release(*, actor, job_kind: str, job_ref: str, reason: str) -> Redemption | None:
    """The job will not happen (cancelled, refused, expired) or the payer takes the voucher off before approval:
    give the reserved part back to the voucher and withdraw the job's claim. None when nothing is reserved."""
    with transaction.atomic():
        redemption = _job_redemption(job_kind, job_ref, (RedemptionStatus.RESERVED,))
        if redemption is None:
            return None
        voucher = _locked_voucher(redemption.voucher_id)
        before = snapshot(redemption, REDEMPTION_FIELDS)
        redemption.status = RedemptionStatus.RELEASED
        redemption.status_note = reason[:255]
        redemption.save(update_fields=["status", "status_note", "updated_at"])
        _voucher_move(actor, voucher, reserved=-redemption.voucher_amount, context=f"released {redemption.job_key}")
        for claim in SubsidyClaim.objects.select_for_update().filter(redemption=redemption, active=True):
            _claim_deactivate(actor, claim, f"released: {reason}")
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=redemption, before=before,
                     after=snapshot(redemption, REDEMPTION_FIELDS), context=f"released: {reason}", subject=voucher)
    return redemption


def redemption_reprice(*, actor, job_kind: str, job_ref: str, job_amount: Decimal) -> Redemption | None:
    """The job's amount changed while reserved: the voucher part stays as it is, or shrinks to the new cap (it
    never grows by itself; the payer applies the voucher again for more). None when nothing is reserved."""
    with transaction.atomic():
        redemption = _job_redemption(job_kind, job_ref, (RedemptionStatus.RESERVED,))
        if redemption is None:
            return None
        voucher = _locked_voucher(redemption.voucher_id)
        part = min(redemption.voucher_amount, voucher_rules.cap(terms_of(voucher), job_amount))
        before = snapshot(redemption, REDEMPTION_FIELDS)
        if part <= 0:
            redemption.status = RedemptionStatus.RELEASED
            redemption.status_note = "job amount is zero"
            for claim in SubsidyClaim.objects.select_for_update().filter(redemption=redemption, active=True):
                _claim_deactivate(actor, claim, "released: job amount is zero")
        _voucher_move(actor, voucher, reserved=max(part, Decimal(0)) - redemption.voucher_amount,
                      context=f"repriced {redemption.job_key}")
        if part > 0:  # a released redemption keeps the amounts it was reserved with
            redemption.job_amount, redemption.voucher_amount = job_amount, part
        redemption.save(update_fields=["job_amount", "voucher_amount", "status", "status_note", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=redemption, before=before,
                     after=snapshot(redemption, REDEMPTION_FIELDS), context="repriced", subject=voucher)
    return redemption


def redemption_use(*, actor, job_kind: str, job_ref: str, now: datetime | None = None) -> Redemption | None:
    """The job is done: its reserved part becomes used (now awaiting the evidence and the claim); the holder's
    users are told. None when nothing is reserved for the job."""
    now = now or timezone.now()
    with transaction.atomic():
        redemption = _job_redemption(job_kind, job_ref, (RedemptionStatus.RESERVED,))
        if redemption is None:
            return None
        voucher = _locked_voucher(redemption.voucher_id)
        before = snapshot(redemption, REDEMPTION_FIELDS)
        redemption.status = RedemptionStatus.USED
        redemption.used_at = now
        redemption.save(update_fields=["status", "used_at", "updated_at"])
        _voucher_move(actor, voucher, reserved=-redemption.voucher_amount, used=redemption.voucher_amount,
                      context=f"used by {redemption.job_key}")
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=redemption, before=before,
                     after=snapshot(redemption, REDEMPTION_FIELDS), context="job done", subject=voucher)
        who = "请上传合同、报告、发票和付款凭证后申请报销" if redemption.settlement_mode == SettlementMode.REIMBURSEMENT \
            else "服务机构将凭证据材料申请兑付券额部分"
        notify(voucher.holder, event="vouchers.redemption.used",
               title=f"创新券 {voucher.code} 已使用 {redemption.voucher_amount} 元",
               body=f"{redemption.job_label or redemption.job_key}：{who}。", link=reverse("vouchers:mine"),
               actor=actor)
    return redemption


# --- evidence and settlement -----------------------------------------------------------------------------------


def evidence_missing(redemption: Redemption) -> list[str]:
    """The kinds of evidence the job's bundle still lacks (contract, report, invoice, payment record)."""
    kinds = set(redemption.evidence.values_list("kind", flat=True))
    paid_in_cash = redemption.settlement_mode == SettlementMode.REIMBURSEMENT or redemption.cash_amount > 0
    return voucher_rules.evidence_missing(kinds, paid_in_cash=paid_in_cash)


@transaction.atomic
def evidence_attach(*, actor, redemption: Redemption, kind: str, upload: File, name: str = "") -> EvidenceFile:
    """Attach one file to a job's evidence bundle (the holder's users, the provider's staff), until it is
    claimed. At most 20 MB a file."""
    require(access.can_attach_evidence(actor, redemption), "无权上传该服务的证明材料 (you may not attach evidence here)")
    if kind not in EvidenceKind.values:
        raise InvalidInput("材料类型无效 (invalid kind)", extra={"fields": {"kind": [kind]}})
    locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if locked.status not in (RedemptionStatus.RESERVED, RedemptionStatus.USED):
        raise VoucherState(f"该服务状态为“{locked.get_status_display()}”，不能再上传材料 (the bundle is closed)",
                           extra={"status": locked.status})
    size = upload.size or 0
    if size == 0 or size > EVIDENCE_MAX_BYTES:
        raise InvalidInput("文件为空或超过 20 MB (empty, or larger than 20 MB)", extra={"fields": {"file": [str(size)]}})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    filename = (name or upload.name or kind).replace("/", "_").replace("\\", "_")[-100:]
    evidence = EvidenceFile(redemption=locked, kind=kind, name=filename, size=size, sha256=digest.hexdigest(),
                            uploaded_by=actor)
    evidence.file.save(filename, upload, save=False)
    evidence.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=evidence,
                 after={"kind": kind, "name": filename, "size": size, "sha256": evidence.sha256}, subject=locked)
    return evidence


@transaction.atomic
def settlement_claim(*, actor, redemption: Redemption, now: datetime | None = None) -> Redemption:
    """Ask the office for the voucher part of a done job: the enterprise (reimbursement mode) or the provider
    (direct mode), once the evidence bundle is complete (409 `evidence_incomplete` lists what is missing)."""
    require(access.can_claim_settlement(actor, redemption), "无权申请兑付 (you may not claim this)")
    locked = Redemption.objects.select_for_update(of=("self",)).select_related("voucher__batch__office").get(pk=redemption.pk)
    if locked.status != RedemptionStatus.USED:
        raise VoucherState(f"该服务状态为“{locked.get_status_display()}”，不能申请兑付 (not done, or claimed)",
                           extra={"status": locked.status})
    missing = evidence_missing(locked)
    if missing:
        names = "、".join(EvidenceKind(kind).label for kind in missing)
        raise EvidenceIncomplete(f"证明材料不全，缺少：{names} (the evidence bundle is incomplete)",
                                 extra={"missing": missing})
    before = snapshot(locked, REDEMPTION_FIELDS)
    locked.status = RedemptionStatus.CLAIMED
    locked.claimed_at = now or timezone.now()
    locked.status_note = ""
    locked.save(update_fields=["status", "claimed_at", "status_note", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, REDEMPTION_FIELDS), context="settlement claimed", subject=locked.voucher)
    notify(locked.voucher.batch.office, event="vouchers.settlement.claimed",
           title=f"创新券兑付申请：{locked.voucher.code} {locked.voucher_amount} 元",
           body=locked.job_label or locked.job_key,
           link=reverse("vouchers:batch", args=[locked.voucher.batch.public_id]), actor=actor)
    return locked


@transaction.atomic
def settlement_decide(*, actor, redemption: Redemption, approve: bool, note: str = "",
                      now: datetime | None = None) -> Redemption:
    """The office settles a claim (兑付核销) or sends it back with the reason (it may be claimed again once
    corrected); the claimant's side is told."""
    require(access.can_settle(actor, redemption), NOT_OFFICE)
    locked = (Redemption.objects.select_for_update(of=("self",)).select_related("voucher__holder", "provider")
              .get(pk=redemption.pk))
    if locked.status != RedemptionStatus.CLAIMED:
        raise VoucherState(f"该服务状态为“{locked.get_status_display()}”，没有待审核的兑付申请 (no claim to decide)",
                           extra={"status": locked.status})
    if not approve and not note.strip():
        raise InvalidInput("请说明退回理由 (give the reason)", extra={"fields": {"note": ["required"]}})
    if approve and evidence_missing(locked):
        raise EvidenceIncomplete("证明材料不全 (the evidence bundle is incomplete)",
                                 extra={"missing": evidence_missing(locked)})
    before = snapshot(locked, REDEMPTION_FIELDS)
    locked.status = RedemptionStatus.SETTLED if approve else RedemptionStatus.USED
    locked.status_note = note.strip()[:255]
    if approve:
        locked.settled_at = now or timezone.now()
    locked.save(update_fields=["status", "status_note", "settled_at", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, REDEMPTION_FIELDS), context=("settled " if approve else "sent back ") + note,
                 subject=locked.voucher)
    to = locked.voucher.holder if locked.settlement_mode == SettlementMode.REIMBURSEMENT else locked.provider
    title = (f"创新券兑付已核销：{locked.voucher_amount} 元" if approve
             else f"创新券兑付申请被退回：{note.strip()[:60]}")
    notify(to, event="vouchers.settlement.decided", title=title, body=locked.job_label or locked.job_key,
           link=reverse("vouchers:mine") if to == locked.voucher.holder else reverse("vouchers:provider"),
           actor=actor)
    return locked
