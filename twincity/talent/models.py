"""Talent cards (人才卡) of both cities and their mutual recognition.

* A **card scheme** (金熊猫 of 成都高新区, 金凤凰 of 重庆高新区 / 西部(重庆)科学城, …) is an issuer and a series of
  dated **versions**. Each version holds, as data validated by the pure `twincity.talent.rules`, the tiers, the
  criteria catalogue with its evidence types and the services entitled per tier with their scope, family extension
  and quota, plus the validity and the renewal window. A change is a new version with its effective date; a version
  is never edited in place. What the sources could not confirm is seeded as demo values and flagged (`demo`).
* A **recognition mapping** maps a partner scheme's tiers onto the home scheme's, dated (effective_from,
  effective_to), versioned the same way: a new version closes the previous one on its effective date.
* **Applications** (by the talent or the employer) are reviewed with the highest-tier rule; an approved one issues a
  **card** whose QR code is a signed code (twincity.core.verification) of (card, code_version): reporting a loss
  raises code_version, so the old code no longer verifies.
* A **service request** records the entitlement decision at the moment of use: the rule that decided, the reason,
  and the scheme and mapping versions it was judged by.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel
from twincity.talent import rules

DISCLOSABLE = ("name", "scheme", "tier", "number", "valid_until", "employer")
DISCLOSABLE_LABELS = {"name": "姓名", "scheme": "卡种", "tier": "层级", "number": "卡号", "valid_until": "有效期至",
                      "employer": "工作单位"}
DEFAULT_DISCLOSURE = ["scheme", "tier", "valid_until"]


class CardScheme(TimeStampedModel):
    class Level(models.TextChoices):
        CITY = "city", "市级"
        DISTRICT = "district", "区级（园区）"

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=60)
    city = models.CharField("城市", max_length=32, choices=City)
    issuer = models.CharField("发卡机构", max_length=100)
    issuer_level = models.CharField("发卡层级", max_length=8, choices=Level, default=Level.DISTRICT)
    number_prefix = models.CharField("卡号前缀", max_length=8)

    class Meta:
        ordering = ["code"]
        verbose_name = "人才卡种"

    def __str__(self) -> str:
        return self.name


class SchemeVersionQuerySet(models.QuerySet):
    def in_force(self, on) -> "SchemeVersionQuerySet":
        """The versions in effect on `on`, newest first (the first of a scheme is the one in force)."""
        return self.filter(effective_from__lte=on).order_by("-effective_from", "-version")


class SchemeVersion(TimeStampedModel):
    scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    effective_from = models.DateField("生效日期")
    validity_years = models.PositiveSmallIntegerField("有效期（年）", default=3)
    renew_window_days = models.PositiveSmallIntegerField("续期窗口（到期前天数）", default=rules.RENEW_WINDOW_DAYS)
    family_extension = models.BooleanField("可延及家属", default=False)
    yearly_quota = models.PositiveIntegerField("年度发卡名额", null=True, blank=True)
    definition = models.JSONField("层级、认定标准与服务")
    demo = models.BooleanField("含演示值（未经核实，须管理员核对）", default=False)
    note = models.TextField("说明 / 依据", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    objects = SchemeVersionQuerySet.as_manager()

    class Meta:
        ordering = ["scheme", "-version"]
        verbose_name = "人才卡种版本"
        constraints = [models.UniqueConstraint(fields=["scheme", "version"], name="talent_scheme_version_unique")]

    def __str__(self) -> str:
        return f"{self.scheme} v{self.version}（{self.effective_from}起）"

    @property
    def parsed(self) -> rules.SchemeDefinition:
        return rules.SchemeDefinition.from_dict(self.definition)


class RecognitionMappingQuerySet(models.QuerySet):
    def in_force(self, on) -> "RecognitionMappingQuerySet":
        return (self.filter(effective_from__lte=on).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
                .order_by("-effective_from", "-version"))


class RecognitionMapping(TimeStampedModel):
    """partner tier → home tier, in force on [effective_from, effective_to)."""

    home_scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="recognitions")
    partner_scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="recognised_by")
    version = models.PositiveIntegerField()
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期（不含）", null=True, blank=True)
    pairs = models.JSONField("层级映射（对方层级 → 本方层级）")
    demo = models.BooleanField("含演示值（未经核实，须管理员核对）", default=False)
    note = models.TextField("说明 / 依据", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    objects = RecognitionMappingQuerySet.as_manager()

    class Meta:
        ordering = ["home_scheme", "partner_scheme", "-version"]
        verbose_name = "互认映射"
        constraints = [
            models.UniqueConstraint(fields=["home_scheme", "partner_scheme", "version"],
                                    name="talent_mapping_version_unique"),
            models.CheckConstraint(condition=~Q(home_scheme=models.F("partner_scheme")),
                                   name="talent_mapping_two_schemes"),
        ]

    def __str__(self) -> str:
        return f"{self.partner_scheme}→{self.home_scheme} v{self.version}"


class CardApplication(TimeStampedModel):
    class Status(models.TextChoices):
        SUBMITTED = rules.SUBMITTED, "待审核"
        APPROVED = rules.APPROVED, "已通过"
        REJECTED = rules.REJECTED, "未通过"

    class Channel(models.TextChoices):
        INDIVIDUAL = "individual", "个人申请"
        EMPLOYER = "employer", "单位申报"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="applications")
    scheme_version = models.ForeignKey(SchemeVersion, models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="talent_applications")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    channel = models.CharField("渠道", max_length=12, choices=Channel)
    employer = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    # [{"criterion": code, "type": evidence type, "reference": "证书编号 …"}]
    evidence = models.JSONField("申请材料", default=list)
    proposed_tier = models.CharField("按就高原则核定层级", max_length=16, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status, default=Status.SUBMITTED)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "人才卡申请"
        indexes = [models.Index(fields=["status", "scheme", "created_at"], name="talent_application_queue")]

    def __str__(self) -> str:
        return f"{self.scheme} 申请 {self.applicant}"


class TalentCard(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = rules.ACTIVE, "有效"
        LAPSED = rules.LAPSED, "已失效"
        REVOKED = rules.REVOKED, "已注销"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField("卡号", max_length=32, unique=True)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="talent_cards")
    holder_name = models.CharField("持卡人姓名", max_length=64)
    scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="cards")
    scheme_version = models.ForeignKey(SchemeVersion, models.PROTECT, related_name="cards")
    tier = models.CharField("层级", max_length=16)
    employer = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    application = models.OneToOneField(CardApplication, models.PROTECT, null=True, blank=True, related_name="card")
    status = models.CharField("状态", max_length=8, choices=Status, default=Status.ACTIVE)
    issued_on = models.DateField("发卡日期")
    valid_until = models.DateField("有效期至")
    # The version of the card's signed QR code: raised when a loss is reported (the old code stops verifying).
    code_version = models.PositiveIntegerField(default=1)
    reissued_count = models.PositiveSmallIntegerField(default=0)
    # The fields the holder chose to show on the public verify page (DISCLOSABLE keys).
    disclosure = models.JSONField("公开信息", default=list)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = "人才卡"
        indexes = [models.Index(fields=["status", "valid_until"], name="talent_card_lapse")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.number}"

    def facts(self) -> rules.CardFacts:
        return rules.CardFacts(self.scheme.code, self.tier, self.status, self.valid_until)


class ServiceRequest(TimeStampedModel):
    """One use of a talent service, judged when it is made; the judgement is kept as it was."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    card = models.ForeignKey(TalentCard, models.PROTECT, related_name="service_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间")
    used_on = models.DateField("使用日（上海时间）")
    provider_scheme = models.ForeignKey(CardScheme, models.PROTECT, related_name="+")
    provider_version = models.ForeignKey(SchemeVersion, models.PROTECT, null=True, related_name="+")
    city = models.CharField("服务城市", max_length=32, choices=City)
    service_code = models.CharField("服务项目", max_length=40)
    service_name = models.CharField("服务名称", max_length=100, blank=True)
    for_family = models.BooleanField("为家属申请", default=False)
    granted = models.BooleanField("准予")
    rule = models.CharField("判定规则", max_length=32)
    reason = models.CharField("理由", max_length=400)
    home_tier = models.CharField("对应本区层级", max_length=16, blank=True)
    mapping = models.ForeignKey(RecognitionMapping, models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "人才服务申请"
        indexes = [models.Index(fields=["card", "service_code", "used_on"], name="talent_request_quota")]

    def __str__(self) -> str:
        return f"{self.card.number} {self.service_code} {'准予' if self.granted else '不予'}"
