"""一业一证 (one industry, one licence): industry packages and the applications filed on them.

* `IndustryPackage` is one version of a package (主题套餐) of a region (city) and an industry: the situational
  questions and the component permits (each a govservices catalogue item) with the conditions that make them
  apply (`definition`, see licences.rules). Never edited in place: the editor publishes a new version.
* `PackageApplication` is one applicant's filing: the answers, the notice (告知单) generated from them (kept
  as generated), the one form (shared fields filled from the enterprise registry), then one govservices case
  per applying component (`ApplicationComponent`), the joint inspection (一同核查) and the licence.
* `IndustryLicence` (行业综合许可证) wraps the component permits: each `ApplicationComponent` keeps its own
  certificate number, validity and status; a change of any of them bumps `code_version`, so the QR code printed
  before the change is refused and the licence re-renders.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel

INDUSTRIES = {"catering": "餐饮", "maternal_infant": "母婴店"}


class IndustryPackage(TimeStampedModel):
    class Status(models.TextChoices):
        PUBLISHED = "published", "已发布"
        SUPERSEDED = "superseded", "已被新版本取代"
        WITHDRAWN = "withdrawn", "已停用"

    code = models.CharField("套餐编码", max_length=64, db_index=True)
    version = models.PositiveIntegerField("版本")
    status = models.CharField("状态", max_length=12, choices=Status, default=Status.PUBLISHED)
    city = models.CharField("城市", max_length=32, choices=City)
    industry = models.CharField("行业", max_length=32, choices=list(INDUSTRIES.items()))
    name = models.CharField("套餐名称", max_length=200)
    scope = models.TextField("适用范围", blank=True)
    definition = models.JSONField(default=dict)  # licences.rules.definition_check's format
    demo = models.BooleanField("演示数据（来源未确认）", default=False)
    source = models.CharField("依据 / 来源", max_length=500, blank=True)
    derived_from = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField("修改说明", max_length=255, blank=True)

    class Meta:
        ordering = ["city", "industry", "-version"]
        verbose_name = "一业一证套餐"
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="industry_package_version_unique"),
            models.UniqueConstraint(fields=["code"], condition=Q(status="published"),
                                    name="industry_package_one_published"),
            models.UniqueConstraint(fields=["city", "industry"], condition=Q(status="published"),
                                    name="industry_package_one_per_region_industry"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


class PackageApplication(TimeStampedModel):
    class State(models.TextChoices):
        NOTICED = "noticed", "已生成告知单"
        SUBMITTED = "submitted", "已提交（各许可并联办理）"
        INSPECTED = "inspected", "已联合核查"
        ISSUED = "issued", "已发综合许可证"
        REFUSED = "refused", "不予许可"
        WITHDRAWN = "withdrawn", "已撤回"

    number = models.CharField("申请编号", max_length=32, unique=True)
    package = models.ForeignKey(IndustryPackage, models.PROTECT, related_name="applications",
                                verbose_name="套餐（版本）")
    state = models.CharField("状态", max_length=12, choices=State, default=State.NOTICED, db_index=True)
    answers = models.JSONField("情形问题回答", default=dict)
    notice = models.JSONField("告知单", default=dict)
    form = models.JSONField("申请表", default=dict, blank=True)
    applicant_user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                       related_name="package_applications", verbose_name="申请账号")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, null=True, blank=True,
                                   related_name="package_applications", verbose_name="申请企业")
    channel = models.CharField("渠道", max_length=8, default="online")
    intake_city = models.CharField("收件城市", max_length=32, choices=City, blank=True)
    intake_office = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name="收件窗口")
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    inspected_at = models.DateTimeField("核查时间", null=True, blank=True)
    inspected_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    inspection_passed = models.BooleanField("核查通过", null=True)
    inspection_note = models.CharField("核查意见", max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "一业一证申请"

    def __str__(self) -> str:
        return f"{self.number} {self.package.name}"


class ApplicationComponent(models.Model):
    """One applying component permit of an application: its govservices case, the route, and — once issued —
    the certificate with its own validity and status (shown by the licence's QR code)."""

    class CertStatus(models.TextChoices):
        PENDING = "pending", "办理中"
        VALID = "valid", "有效"
        REVOKED = "revoked", "已撤销"
        EXPIRED = "expired", "已过期"
        REFUSED = "refused", "不予许可"

    application = models.ForeignKey(PackageApplication, models.CASCADE, related_name="components")
    code = models.CharField("许可代码", max_length=40)
    name = models.CharField("许可名称", max_length=200)
    case = models.OneToOneField("govservices.ServiceCase", models.PROTECT, related_name="package_component",
                                verbose_name="办件")
    route = models.CharField("办理方式", max_length=8, default="standard")  # rules.ROUTES
    valid_years = models.PositiveSmallIntegerField("有效期（年）", default=0)
    certificate_no = models.CharField("证照编号", max_length=64, blank=True)
    valid_from = models.DateField("有效期自", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True)
    cert_status = models.CharField("证照状态", max_length=8, choices=CertStatus, default=CertStatus.PENDING)
    status_note = models.CharField("状态说明", max_length=300, blank=True)

    class Meta:
        ordering = ["application", "pk"]
        constraints = [models.UniqueConstraint(fields=["application", "code"], name="application_component_once")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.code}"


# What a licence's public verify page may leave out, when its holder chooses: the rest (number, holder, industry, every
# component with its validity and status) is always shown — that is what the code is for.
LICENCE_DISCLOSABLE = {"holder_uscc": "统一社会信用代码", "address": "经营场所", "certificate_no": "分项证照编号"}


def licence_disclosure_default() -> list[str]:
    return list(LICENCE_DISCLOSABLE)


class IndustryLicence(TimeStampedModel):
    number = models.CharField("许可证编号", max_length=40, unique=True)
    application = models.OneToOneField(PackageApplication, models.PROTECT, related_name="licence")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code_version = models.PositiveIntegerField("二维码版本", default=1)
    holder_name = models.CharField("持证主体", max_length=200)
    holder_uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    address = models.CharField("经营场所", max_length=300, blank=True)
    industry_name = models.CharField("行业", max_length=100)
    city = models.CharField("发证地", max_length=32, choices=City)
    issued_at = models.DateTimeField("发证时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField("注销时间", null=True, blank=True)
    # The optional fields (LICENCE_DISCLOSABLE) the holder lets the public verify page show.
    disclosure = models.JSONField("扫码公开信息", default=licence_disclosure_default, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = "行业综合许可证"

    def __str__(self) -> str:
        return f"{self.number} {self.holder_name}"
