"""Usage of shared instruments (imported by twincity.instruments.models): usage sessions (operator check-in/out
or an instrument-PC agent), the agents' tokens, each booking's final charge, monthly statements per paying
organisation and owner, sample jobs (送样检测) and verified ratings of completed sessions."""

import hashlib
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.core.models import TimeStampedModel
from twincity.instruments import job_lifecycle
from twincity.instruments import usage_rules as ur


class SessionKind(models.TextChoices):
    NORMAL = ur.NORMAL, "正常使用"
    MAINTENANCE = ur.MAINTENANCE, "维护保养"
    BREAKDOWN = ur.BREAKDOWN, "故障停机"


class SessionSource(models.TextChoices):
    OPERATOR = "operator", "机组人员登记"
    AGENT = "agent", "仪器电脑代理"


class AgentToken(TimeStampedModel):
    """An instrument-PC agent's credential for one instrument. Only the hash is stored; the key is shown once."""

    PREFIX = "ia_"

    instrument = models.ForeignKey("instruments.Instrument", models.CASCADE, related_name="agent_tokens")
    name = models.CharField(_("name"), max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest(raw: str) -> str:
        # 256-bit random keys: a fast hash is enough, there is nothing to brute-force.
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UsageSession(TimeStampedModel):
    """A period the instrument actually ran, [started_at, ended_at) in UTC; open while ended_at is null (at most
    one open session per instrument). Normal sessions are someone's use (a booking's, a sample job's, or
    unbooked); maintenance and breakdown are the owner's and never count as 有效工作机时."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    instrument = models.ForeignKey("instruments.Instrument", models.PROTECT, related_name="sessions")
    booking = models.ForeignKey("instruments.Booking", models.PROTECT, null=True, blank=True, related_name="sessions")
    job = models.ForeignKey("instruments.SampleJob", models.PROTECT, null=True, blank=True, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    # The user's (or the job's paying) organisation when recorded: whether the use was external is read from it.
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)  # the agent's last heartbeat
    source = models.CharField(max_length=10, choices=SessionSource)
    kind = models.CharField(max_length=12, choices=SessionKind, default=SessionKind.NORMAL)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    agent = models.ForeignKey(AgentToken, models.SET_NULL, null=True, blank=True, related_name="sessions")
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-started_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                                   name="usage_session_not_empty"),
            models.UniqueConstraint(fields=["instrument"], condition=Q(ended_at__isnull=True),
                                    name="usage_session_one_open"),
        ]
        indexes = [models.Index(fields=["instrument", "started_at"], name="usage_session_instrument")]

    def __str__(self) -> str:
        end = f"{self.ended_at:%H:%M}" if self.ended_at else "…"
        return f"{self.instrument_id} {self.started_at:%Y-%m-%d %H:%M}–{end} ({self.kind})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class SessionRating(models.Model):
    """A verified rating (用户评价): by the session's own user, after it ended, once."""

    session = models.OneToOneField(UsageSession, models.CASCADE, related_name="rating")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_5")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.score}"


class BookingCharge(models.Model):
    """A booking's final charge, reconciled with its usage: the basis of the instrument's billing rule, the
    minutes booked, used, overrun and idle, the no-show flag, and the amount at the booking's frozen price line
    and rate class. Recomputed (audited) until its statement is issued."""

    booking = models.OneToOneField("instruments.Booking", models.CASCADE, related_name="charge")
    basis = models.CharField(max_length=8)
    booked_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    actual_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    overrun_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    idle_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    billable_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    no_show = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True)
    rate_class = models.CharField(max_length=12)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_valid_from = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.amount}"


class Statement(TimeStampedModel):
    """One month's statement of an owner institution to a paying organisation (Asia/Shanghai months)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ISSUED = "issued", "已出具"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payer = models.ForeignKey(Organisation, models.PROTECT, related_name="instrument_statements")
    owner = models.ForeignKey(Organisation, models.PROTECT, related_name="+")
    month = models.DateField(help_text="the first day of the month")
    status = models.CharField(max_length=8, choices=Status, default=Status.DRAFT)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    total_voucher = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    total_cash = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "owner", "payer"]
        constraints = [models.UniqueConstraint(fields=["payer", "owner", "month"], name="statement_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.owner_id}→{self.payer_id}"


class StatementLine(models.Model):
    """One charged item. `cash_amount` = `amount` − `voucher_amount` (a later voucher split fills the voucher
    part; the database keeps the identity)."""

    class Kind(models.TextChoices):
        BOOKING = "booking", "机时"
        CANCELLATION = "cancellation", "取消费"
        JOB = "job", "送样检测"

    statement = models.ForeignKey(Statement, models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=12, choices=Kind)
    booking = models.ForeignKey("instruments.Booking", models.PROTECT, null=True, blank=True, related_name="+")
    job = models.ForeignKey("instruments.SampleJob", models.PROTECT, null=True, blank=True, related_name="+")
    instrument = models.ForeignKey("instruments.Instrument", models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=8)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    rate_class = models.CharField(max_length=12)
    price_valid_from = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    voucher_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    cash_amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(cash_amount=F("amount") - F("voucher_amount")),
                                   name="statement_line_cash_is_rest"),
            models.CheckConstraint(condition=Q(voucher_amount__gte=0, voucher_amount__lte=F("amount")),
                                   name="statement_line_voucher_within"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class SampleJob(TimeStampedModel):
    """A sample job (送样检测) on an operator-run instrument; its state moves only through
    twincity.instruments.job_lifecycle."""

    State = models.TextChoices("State", [(s, job_lifecycle.LABELS_ZH[s]) for s in job_lifecycle.STATES])  # type: ignore[call-overload]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    instrument = models.ForeignKey("instruments.Instrument", models.PROTECT, related_name="jobs")
    service_item = models.ForeignKey("instruments.ServiceItem", models.PROTECT, null=True, blank=True,
                                     related_name="+")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="instrument_jobs")
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sample_count = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=12, choices=State, default=job_lifecycle.REQUESTED)
    rate_class = models.CharField(max_length=12)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_valid_from = models.DateField(null=True, blank=True)
    quote_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    quote_note = models.CharField(max_length=255, blank=True)
    quote_expires_at = models.DateTimeField(null=True, blank=True)
    quoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    turnaround_days = models.PositiveSmallIntegerField(default=10)
    received_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)  # the turnaround limit (working days from receipt)
    testing_started_at = models.DateTimeField(null=True, blank=True)
    report = models.FileField(upload_to="instrument_reports/%Y/%m/", blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["instrument", "state"], name="sample_job_state")]

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"
