"""Public services (政务服务) of both cities: the service catalogue (versioned items after GB/T 39554.1) and the
cases filed on them, on legal clocks counted in working days on the official calendar.

* `ServiceItem` is one version of a catalogue item (业务办理项). Never edited in place: the editor publishes a new
  version (the old one becomes superseded and is kept); a case keeps the version it was filed under.
* `ServiceCase` changes state only through services._transition, by the pure table of govservices.rules; every
  step is a `CaseEvent` and an audit entry. `CasePause` records the special steps (特殊环节) that stop the clock.
* `CaseRating` is the applicant's 好差评, once, after the case is closed.
* Departments (主管部门 / 实施机关) and service halls are accounts.Organisation rows of kind "government".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel
from twincity.govservices import rules


class ServiceHall(models.Model):
    """A government office that runs service windows (政务服务中心): its clerks take cases at the window
    (either city's items; one of the other city's is collected and forwarded), accept and deliver the cases of
    its city's items (一窗受理、受办分离). Every other government organisation is a department."""

    organisation = models.OneToOneField(
        Organisation, models.PROTECT, related_name="service_hall", verbose_name="政务服务中心"
    )
    city = models.CharField("城市", max_length=32, choices=City)

    class Meta:
        ordering = ["city", "pk"]
        verbose_name = "政务服务大厅"

    def __str__(self) -> str:
        return str(self.organisation)


class ServiceItem(TimeStampedModel):
    """One version of a catalogue item: a 业务办理项 (item code + handling kind) of one city, with the six basic
    elements, the 办事指南 elements that drive the rules (`definition`: situations, materials, pause steps; see
    govservices.rules) and the columns the queues and pages filter on."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "已发布"
        SUPERSEDED = "superseded", "已被新版本取代"
        WITHDRAWN = "withdrawn", "已停用"

    code = models.CharField("事项编码", max_length=64, db_index=True)
    version = models.PositiveIntegerField("版本")
    status = models.CharField("状态", max_length=12, choices=Status, default=Status.PUBLISHED)
    city = models.CharField("城市", max_length=32, choices=City)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=16, choices=list(rules.ITEM_TYPES.items()))
    handling = models.CharField("业务办理项", max_length=8, choices=list(rules.HANDLING_KINDS.items()), default="new")
    department = models.ForeignKey(Organisation, models.PROTECT, related_name="service_items", verbose_name="主管部门")
    implementing_body = models.ForeignKey(
        Organisation, models.PROTECT, related_name="implemented_items", verbose_name="实施机关"
    )
    legal_basis = models.TextField("设定和实施依据", blank=True)
    legal_limit_days = models.PositiveSmallIntegerField("法定办结时限（工作日）")
    promised_limit_days = models.PositiveSmallIntegerField("承诺办结时限（工作日）")
    fee = models.DecimalField("收费（元）", max_digits=12, decimal_places=2, default=0)
    fee_basis = models.CharField("收费依据", max_length=300, blank=True)
    cross_city_mode = models.CharField(
        "川渝通办方式", max_length=12, choices=list(rules.CROSS_CITY_MODES.items()), default="online"
    )
    areas = models.JSONField("领域标签", default=list, blank=True)  # codes of rules.AREAS
    definition = models.JSONField(default=dict)  # rules.definition_check's format
    derived_from = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField("修改说明", max_length=255, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = "政务服务事项"
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="service_item_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(status="published"), name="service_item_one_published"
            ),
            models.CheckConstraint(
                condition=Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="service_item_promise_within_law",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


class ServiceCase(TimeStampedModel):
    """A case filed on one item version. `state` moves only by rules.transition (services._transition).
    The clock starts at acceptance: `due_date` (promised limit) and `legal_due_date` are recomputed at each pause
    and resumption with twincity.core.workdays (None while paused)."""

    class Channel(models.TextChoices):
        WINDOW = "window", "窗口"
        ONLINE = "online", "网上办理"

    number = models.CharField("办件编号", max_length=32, unique=True)
    item = models.ForeignKey(ServiceItem, models.PROTECT, related_name="cases", verbose_name="事项（版本）")
    state = models.CharField("状态", max_length=16, choices=list(rules.STATE_NAMES.items()), db_index=True)
    situations = models.JSONField("办理情形", default=list, blank=True)
    materials = models.JSONField("材料", default=dict, blank=True)  # code → rules.SUBMITTED / PLEDGED
    applicant_name = models.CharField("申请人", max_length=200)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_cases",
        verbose_name="申请账号",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_cases",
        verbose_name="申请企业",
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel)
    intake_city = models.CharField("收件城市", max_length=32, choices=City)
    intake_office = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="收件窗口"
    )
    # The department that handles it (the item's implementing body), kept on the case for the queues.
    department = models.ForeignKey(Organisation, models.PROTECT, related_name="service_cases", verbose_name="办理部门")
    delivery = models.CharField(
        "送达方式", max_length=12, choices=list(rules.DELIVERY_MODES.items()), default="e_licence"
    )
    correction_notice = models.JSONField("一次性告知", default=dict, blank=True)
    outcome = models.CharField("决定", max_length=8, choices=list(rules.OUTCOMES.items()), blank=True)
    reason = models.CharField("理由", max_length=500, blank=True)
    result_ref = models.CharField("证照编号 / 邮件号", max_length=64, blank=True)
    submitted_at = models.DateTimeField("收件时间")
    forwarded_at = models.DateTimeField("转办时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    due_date = models.DateField("承诺办结日", null=True, blank=True)
    legal_due_date = models.DateField("法定办结日", null=True, blank=True)
    paused_since = models.DateTimeField("暂停自", null=True, blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    working_days_taken = models.PositiveSmallIntegerField("实际用时（工作日）", null=True, blank=True)
    warned_at = models.DateTimeField("预警时间", null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = "办件"
        indexes = [
            models.Index(fields=["department", "state"], name="service_case_queue"),
            models.Index(fields=["intake_office", "state"], name="service_case_hall"),
            models.Index(fields=["state", "due_date"], name="service_case_clock"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.item.name}"

    @property
    def is_cross_city(self) -> bool:
        return self.intake_city != self.item.city


class CaseEvent(models.Model):
    """One step of a case (a transition, or a clock event that keeps the state: a warning, a material supplied,
    a rating): who, for which organisation, when, from and to, why. Append-only; the case's timeline."""

    case = models.ForeignKey(ServiceCase, models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField("步骤", max_length=20)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    comment = models.CharField("说明", max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}: {self.from_state} → {self.to_state}"


class CasePause(models.Model):
    """A special step (特殊环节) that stops the clock: from `started_at` until `ended_at` (open while None)."""

    case = models.ForeignKey(ServiceCase, models.CASCADE, related_name="pauses")
    step = models.CharField("环节", max_length=40)
    step_name = models.CharField("环节名称", max_length=100)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(ended_at__isnull=True), name="case_one_open_pause"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step} {self.started_at:%Y-%m-%d}"


class CaseRating(models.Model):
    """好差评: the applicant's grade (rules.RATING_GRADES) of a closed case, once."""

    case = models.OneToOneField(ServiceCase, models.CASCADE, related_name="rating")
    grade = models.PositiveSmallIntegerField("评价", choices=sorted(rules.RATING_GRADES.items(), reverse=True))
    comment = models.CharField("意见", max_length=500, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    rated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-rated_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=5), name="case_rating_grade")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.grade}"
