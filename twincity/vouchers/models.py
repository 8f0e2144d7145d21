"""Innovation vouchers (科技创新券): a city office's voucher batches (dated configuration: issuing city, amount,
validity, eligible service categories, providers and regions — whether a Chongqing voucher is accepted in Chengdu
and the reverse —, settlement mode, co-pay share), the vouchers issued from them to enterprises, the
redemptions that reserve, use and settle part of a voucher for a paid job, the evidence bundle of each job, and
the one registry of subsidy claims that lets a job be claimed once across voucher, test subsidy (检测补贴) and
post-subsidy (后补助).

A job is named by a stable key, not a foreign key: `job_kind` (e.g. "instruments.booking") and `job_ref` (e.g.
the booking's public id), so this app sits below the domains whose jobs it pays for (instruments calls into it).

Money is Decimal. A voucher's balance is `amount - reserved - used`, never negative (a check constraint says so
and every write locks the voucher's row first).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel


class SettlementMode(models.TextChoices):
    # 通用：企业申领、企业兑付 — the enterprise pays in full, then claims the voucher part back with evidence.
    REIMBURSEMENT = "reimbursement", "企业申领、企业兑付（先全额支付，后凭证报销）"
    # 通兑：企业申领、机构兑付 — the enterprise pays its share, the provider redeems the voucher part.
    DIRECT = "direct", "企业申领、机构兑付（企业付自付部分，服务机构兑付券额）"


class VoucherBatch(TimeStampedModel):
    """One batch (scheme) of a city office: its terms are fixed once a voucher is issued from it (a change of
    terms is a new batch), so every voucher and redemption can be traced to the terms it was spent under."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField("编号", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    city = models.CharField("发券城市", max_length=32, choices=City)
    office = models.ForeignKey(Organisation, models.PROTECT, related_name="voucher_batches",
                               verbose_name="发券机构")
    amount = models.DecimalField("每张面额（元）", max_digits=12, decimal_places=2)
    valid_from = models.DateField("有效期自")
    valid_until = models.DateField("有效期至")
    # Instrument category codes (a class code covers its subclasses: "01" covers "0106"); empty: any category.
    categories = models.JSONField("可用服务类别", default=list, blank=True)
    # Organisation ids of the approved providers (入库服务机构); empty: any provider in an accepted region.
    providers = models.JSONField("入库服务机构", default=list, blank=True)
    # The cities whose providers accept this batch's vouchers (the issuing city, and the other if it is accepted
    # there: 川渝互认 as configuration).
    regions = models.JSONField("接受使用的城市", default=list)
    settlement_mode = models.CharField("兑付方式", max_length=16, choices=SettlementMode)
    # The share of a job the enterprise always pays itself (0.30 = 30 %); the voucher covers at most the rest.
    copay_share = models.DecimalField("企业自付比例", max_digits=4, decimal_places=3, default=Decimal(0))
    active = models.BooleanField("开放发放与使用", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-valid_from", "code"]
        verbose_name = "创新券批次"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_batch_amount_positive"),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="voucher_batch_dates"),
            models.CheckConstraint(condition=Q(copay_share__gte=0, copay_share__lt=1), name="voucher_batch_copay"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def copay_percent(self) -> str:
        """How every page shows the co-pay share: 0.300 → "30%", 0.125 → "12.5%", 0 → "0%"."""
        return f"{(Decimal(self.copay_share) * 100).normalize():f}%"


class VoucherStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    REVOKED = "revoked", "已撤销"


class Voucher(TimeStampedModel):
    Status = VoucherStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField("编号", max_length=40, unique=True)
    batch = models.ForeignKey(VoucherBatch, models.PROTECT, related_name="vouchers")
    holder = models.ForeignKey(Organisation, models.PROTECT, related_name="vouchers", verbose_name="持券企业")
    amount = models.DecimalField("面额（元）", max_digits=12, decimal_places=2)
    # Reserved by redemptions whose job is not done yet; used by redemptions whose job is done (settled or not).
    reserved = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    used = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    valid_from = models.DateField("有效期自")
    valid_until = models.DateField("有效期至")
    status = models.CharField("状态", max_length=8, choices=VoucherStatus, default=VoucherStatus.ACTIVE)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = "科技创新券"
        constraints = [
            models.UniqueConstraint(fields=["batch", "holder"], name="voucher_one_per_holder_per_batch"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_amount_positive"),
            models.CheckConstraint(condition=Q(reserved__gte=0, used__gte=0), name="voucher_parts_not_negative"),
            models.CheckConstraint(condition=Q(amount__gte=F("reserved") + F("used")),
                                   name="voucher_balance_not_negative"),
        ]
        indexes = [models.Index(fields=["holder", "valid_until"], name="voucher_holder")]

    def __str__(self) -> str:
        return self.code

    @property
    def balance(self) -> Decimal:
        return self.amount - self.reserved - self.used


class RedemptionStatus(models.TextChoices):
    RESERVED = "reserved", "已预留"
    RELEASED = "released", "已释放"
    USED = "used", "已使用（待兑付）"
    CLAIMED = "claimed", "已申请兑付"
    SETTLED = "settled", "已兑付核销"


# The redemptions that take part of their voucher's balance: reserved, or used (done, settled or not).
TAKING = (RedemptionStatus.RESERVED, RedemptionStatus.USED, RedemptionStatus.CLAIMED, RedemptionStatus.SETTLED)


class Redemption(TimeStampedModel):
    """Part of a voucher spent on one job: reserved when the job is booked, released if it does not happen,
    used when it is done, then claimed (with a complete evidence bundle) and settled by the office. In the
    reimbursement mode the enterprise claims; in the direct mode the provider does."""

    Status = RedemptionStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    voucher = models.ForeignKey(Voucher, models.PROTECT, related_name="redemptions")
    job_kind = models.CharField(max_length=40)
    job_ref = models.CharField(max_length=64)
    job_label = models.CharField(max_length=200, blank=True)
    provider = models.ForeignKey(Organisation, models.PROTECT, related_name="voucher_redemptions",
                                 verbose_name="服务机构")
    provider_city = models.CharField(max_length=32, choices=City)
    category_code = models.CharField(max_length=8, blank=True)
    job_date = models.DateField()
    job_amount = models.DecimalField(max_digits=12, decimal_places=2)
    voucher_amount = models.DecimalField(max_digits=12, decimal_places=2)
    settlement_mode = models.CharField(max_length=16, choices=SettlementMode)
    status = models.CharField(max_length=10, choices=RedemptionStatus, default=RedemptionStatus.RESERVED)
    status_note = models.CharField(max_length=255, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = "创新券使用"
        constraints = [
            models.CheckConstraint(condition=Q(voucher_amount__gt=0, job_amount__gte=F("voucher_amount")),
                                   name="redemption_within_job"),
        ]
        indexes = [models.Index(fields=["job_kind", "job_ref"], name="redemption_job")]

    def __str__(self) -> str:
        return f"{self.job_key} {self.voucher_amount}"

    @property
    def job_key(self) -> str:
        return f"{self.job_kind}:{self.job_ref}"

    @property
    def cash_amount(self) -> Decimal:
        return self.job_amount - self.voucher_amount


class EvidenceKind(models.TextChoices):
    CONTRACT = "contract", "服务合同"
    REPORT = "report", "检测/服务报告"
    INVOICE = "invoice", "发票"
    PAYMENT = "payment", "付款凭证"


def evidence_path(instance: "EvidenceFile", filename: str) -> str:
    return f"vouchers/evidence/{instance.redemption.public_id}/{instance.kind}-{uuid.uuid4().hex[:8]}-{filename}"


class EvidenceFile(TimeStampedModel):
    """One file of a job's evidence bundle (contract, report, invoice, payment record)."""

    Kind = EvidenceKind

    redemption = models.ForeignKey(Redemption, models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=10, choices=EvidenceKind)
    file = models.FileField(upload_to=evidence_path, max_length=255)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["redemption", "kind", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class SubsidyKind(models.TextChoices):
    VOUCHER = "voucher", "科技创新券"
    TEST_SUBSIDY = "test_subsidy", "检测补贴"
    POST_SUBSIDY = "post_subsidy", "后补助"


class SubsidyClaim(TimeStampedModel):
    """The one registry of claims on a job: a job key has at most one active claim, whichever scheme it is under
    (the partial unique constraint says so in the database, for every writer)."""

    Kind = SubsidyKind

    job_key = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=SubsidyKind)
    claimant = models.ForeignKey(Organisation, models.PROTECT, related_name="subsidy_claims")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    redemption = models.ForeignKey(Redemption, models.PROTECT, null=True, blank=True, related_name="claims")
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=255, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job_key"], condition=Q(active=True), name="subsidy_claim_once_per_job"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="subsidy_claim_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.job_key}"
