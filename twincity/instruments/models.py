"""Large-instrument sharing, first slice: the catalogue (owner institutions' instruments in the national
classification, service items with dated prices per rate class), each instrument's booking rules (data,
validated and applied by the pure `twincity.instruments.rules`) and its bookings.

Bookings are half-open periods [starts_at, ends_at) stored in UTC. A booking holds [blocked_from, blocked_until)
of its instrument: its period with the instrument's set-up before and clean-up after, fixed when it is booked. No
two bookings that hold a slot (pending, confirmed) overlap there: on PostgreSQL an exclusion constraint says so
(migration 0002), on SQLite the write transactions are serialized (IMMEDIATE) and the service checks inside.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel

# 国发〔2014〕70号: instruments of an original value of 50万元 and more are "large" (the evaluation's scope).
LARGE_VALUE = Decimal("500000")
# The organisations that own and share instruments: universities and research institutes (legal entities).
OWNER_KINDS = (Organisation.Kind.INSTITUTE,)


class InstrumentCategory(models.Model):
    """A class of the national classification of large research instruments (two levels: class and subclass,
    e.g. 01 分析仪器 › 0106 电子光学仪器). Data, so an administrator can complete it."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=100)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")

    class Meta:
        ordering = ["code"]
        verbose_name = _("instrument category")
        verbose_name_plural = _("instrument categories")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class InstrumentQuerySet(models.QuerySet):
    def large(self) -> "InstrumentQuerySet":
        """`Instrument.is_large` as a query."""
        return self.filter(original_value__gte=LARGE_VALUE)


class Instrument(TimeStampedModel):
    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("In service")
        MAINTENANCE = "maintenance", _("Under maintenance")
        RETIRED = "retired", _("Retired")

    class Operation(models.TextChoices):
        OPERATOR = "operator", _("Run by the owner's operator")
        SELF = "self", _("Self-run by trained users")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Organisation, models.PROTECT, related_name="instruments", verbose_name=_("owner"))
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    maker = models.CharField(_("maker"), max_length=100, blank=True)
    category = models.ForeignKey(InstrumentCategory, models.PROTECT, related_name="instruments",
                                 verbose_name=_("category"))
    original_value = models.DecimalField(_("original value (yuan)"), max_digits=14, decimal_places=2)
    city = models.CharField(_("city"), max_length=32, choices=City)
    site = models.CharField(_("site"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.IN_SERVICE)
    specifications = models.TextField(_("specifications"), blank=True)
    operation = models.CharField(_("operation"), max_length=8, choices=Operation, default=Operation.OPERATOR)
    required_qualification = models.CharField(_("required qualification"), max_length=200, blank=True)
    # The booking rules in twincity.instruments.rules' format (validated there); versioned on every change.
    rules = models.JSONField(_("booking rules"), default=dict)
    rules_version = models.PositiveIntegerField(default=1)

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        ordering = ["name_zh", "pk"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [
            models.CheckConstraint(condition=Q(original_value__gte=0), name="instrument_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["name_zh", "id"], name="instrument_name"),
            models.Index(fields=["city", "name_zh"], name="instrument_city"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} {self.model}".strip()

    @property
    def is_large(self) -> bool:
        return self.original_value >= LARGE_VALUE

    @property
    def is_bookable(self) -> bool:
        return self.status == self.Status.IN_SERVICE


class InstrumentBlackout(models.Model):
    """A blackout or maintenance period of an instrument: the rows mirror its rules' "blackouts" (written only
    by the service that saves the rules), so availability can be searched in SQL."""

    instrument = models.ForeignKey(Instrument, models.CASCADE, related_name="blackouts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="blackout_not_empty")]
        indexes = [models.Index(fields=["instrument", "starts_at"], name="blackout_instrument")]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} {self.reason}"


class RateClass(models.TextChoices):
    INTERNAL = "internal", _("Internal (the owner's own legal entity)")
    ACADEMIC = "academic", _("External academic")
    INDUSTRY = "industry", _("Industry")


def rate_class_of(payer: Organisation | None, owner: Organisation) -> str:
    """The rate a payer pays at an owner: internal within the owner's legal entity (its tree), external
    academic for other universities, institutes and public offices, industry for companies and anyone else."""
    if payer is not None and payer.root_id == owner.root_id:
        return RateClass.INTERNAL
    if payer is not None and payer.kind in (Organisation.Kind.INSTITUTE, Organisation.Kind.GOVERNMENT):
        return RateClass.ACADEMIC
    return RateClass.INDUSTRY


class ServiceItem(TimeStampedModel):
    class Unit(models.TextChoices):
        HOUR = "hour", _("per hour")
        SAMPLE = "sample", _("per sample")

    instrument = models.ForeignKey(Instrument, models.CASCADE, related_name="service_items")
    code = models.CharField(_("code"), max_length=40)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit, default=Unit.HOUR)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument", "code"]
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="service_item_code_unique")]

    def __str__(self) -> str:
        return self.name_zh


class Price(models.Model):
    """One line of a dated price list: from `valid_from` (a local date) on, until a later line of the same item
    and rate class replaces it. Lines are added, never changed, so a booking's frozen price can be traced."""

    service_item = models.ForeignKey(ServiceItem, models.CASCADE, related_name="prices")
    rate_class = models.CharField(_("rate class"), max_length=12, choices=RateClass)
    amount = models.DecimalField(_("price (yuan)"), max_digits=12, decimal_places=2)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering = ["service_item", "rate_class", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["service_item", "rate_class", "valid_from"], name="price_line_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service_item_id} {self.rate_class} {self.amount} from {self.valid_from}"


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", "未到场"


# The statuses whose bookings hold their slot (and count toward quotas).
HOLDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def holds_at(status: str, hold_expires_at, at) -> bool:
    """Whether a booking in `status` holds its slot at `at`: `BookingQuerySet.holding` for one row already read
    (the two say the same; a test checks them against each other)."""
    return status == BookingStatus.CONFIRMED or (
        status == BookingStatus.PENDING and (hold_expires_at is None or hold_expires_at > at))


class BookingQuerySet(models.QuerySet):
    def holding(self, at) -> "BookingQuerySet":
        """The bookings that hold their slot at `at`: confirmed ones, and pending ones whose hold has not expired
        (an expired hold is released by the schedule, and by the next write on the instrument, whichever is
        first). `holds_at` is the same rule for a row in hand."""
        return self.filter(Q(status=BookingStatus.CONFIRMED)
                           | Q(status=BookingStatus.PENDING) & (Q(hold_expires_at__isnull=True)
                                                                | Q(hold_expires_at__gt=at)))


class Booking(TimeStampedModel):
    Status = BookingStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    instrument = models.ForeignKey(Instrument, models.PROTECT, related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="instrument_bookings")
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("paying organisation"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # What the booking holds of the instrument: the period with the set-up before and the clean-up after.
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(_("status"), max_length=12, choices=BookingStatus)
    hold_expires_at = models.DateTimeField(_("held until"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    # The price frozen when booked: the service item, the rate class, the price-list line and the amount.
    service_item = models.ForeignKey(ServiceItem, models.PROTECT, null=True, blank=True, related_name="+")
    rate_class = models.CharField(_("rate class"), max_length=12, choices=RateClass)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_valid_from = models.DateField(null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, default=Decimal(0))
    # How the amount is paid: the part an innovation voucher covers (reserved in twincity.vouchers under the job
    # key "instruments.booking:<public_id>") and the cash part; amount = voucher_amount + cash_amount.
    voucher_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    cash_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    rules_version = models.PositiveIntegerField(default=1)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    fee_waived_reason = models.CharField(max_length=255, blank=True)
    # An administrator's override: the rules waived and why (also in the audit trail).
    overridden_rules = models.JSONField(default=list, blank=True)
    override_reason = models.CharField(max_length=255, blank=True)
    # Exclusive: the instrument had capacity 1 when booked (or since its rules last changed); PostgreSQL's
    # exclusion constraint covers the exclusive bookings that hold their slot (migration 0004_instrules_…).
    exclusive = models.BooleanField(default=True)
    # An occurrence of a recurring series: the series and the start the rule gave it (RFC 5545 RECURRENCE-ID),
    # which stays when the occurrence is moved in place.
    series = models.ForeignKey("BookingSeries", models.PROTECT, null=True, blank=True, related_name="bookings")
    occurrence_start = models.DateTimeField(null=True, blank=True)
    # The no-show fee (the owner marked a no-show), and the fee first assessed (cancellation or no-show) before a
    # waiver or the relief of the slot being rebooked by someone else.
    no_show_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    fee_assessed = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    # RFC 5545 SEQUENCE of the booking's calendar event: raised by every service write that changes its period
    # or status (change, approve, refuse, cancel, complete, expire), so calendar apps take the new version.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_not_empty"),
            models.CheckConstraint(condition=Q(blocked_from__lte=F("starts_at"), blocked_until__gte=F("ends_at")),
                                   name="booking_blocked_covers_period"),
        ]
        indexes = [
            models.Index(fields=["user", "starts_at"], name="booking_user_start"),
            models.Index(fields=["status", "hold_expires_at"], name="booking_status_hold"),
            # Availability search (selectors.catalogue_search): "does a booking that holds its slot overlap
            # [from, until)" probes instrument = X AND blocked_until > from AND blocked_from < until: the range
            # starts at the first booking ending after `from` (the instrument's history before it is never read)
            # and blocked_from is checked in the index, so only a candidate's row is read. SQLite and PostgreSQL
            # both pick it (a partial index on the holding statuses is not: SQLite does not match a partial
            # index's condition against bound parameters). It replaces (instrument, blocked_from), which read every
            # booking that started before the window's end, the instrument's history included, and which SQLite
            # kept choosing when both existed; the rule check's read (selectors.held_for_check) uses this one too.
            models.Index(fields=["instrument", "blocked_until", "blocked_from"], name="booking_instrument_until"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M} ({self.status})"

    @property
    def holds_slot(self) -> bool:
        return self.status in HOLDING


class BookingSeries(TimeStampedModel):
    """A recurring booking: an RFC 5545 RRULE with EXDATE exceptions, expanded in Asia/Shanghai from the first
    start; its occurrences are Bookings (`series`), created together in one transaction. Edited in place (the
    audit trail keeps every version), never deleted and recreated."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        ENDED = "ended", "已结束（其余已取消）"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    instrument = models.ForeignKey(Instrument, models.PROTECT, related_name="series")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="instrument_series")
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    rrule = models.CharField(_("recurrence rule (RFC 5545)"), max_length=400)
    first_start = models.DateTimeField()
    minutes = models.PositiveIntegerField()
    exdates = models.JSONField(default=list, blank=True)  # the exceptions, as given (local dates or instants)
    skip_conflicts = models.BooleanField(default=False)
    # The occurrences left out when created with skip_conflicts: [{"starts_at", "refusals": [...]}].
    skipped = models.JSONField(default=list, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.ACTIVE)
    sequence = models.PositiveIntegerField(default=0)  # RFC 5545 SEQUENCE: up on every edit

    class Meta:
        ordering = ["first_start", "pk"]
        verbose_name = "周期预约"
        verbose_name_plural = "周期预约"

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.rrule} from {self.first_start:%Y-%m-%d %H:%M}"


class UserQualification(TimeStampedModel):
    """A person's qualification (training record) for an instrument, valid on the local days [valid_from,
    valid_until]; granted (and revoked) by the owner's staff, audited. Self-run instruments that require a
    qualification are booked only with a valid one."""

    instrument = models.ForeignKey(Instrument, models.PROTECT, related_name="qualifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="instrument_qualifications")
    valid_from = models.DateField("有效期自")
    valid_until = models.DateField("有效期至")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    note = models.CharField("培训记录", max_length=255, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["instrument", "user", "-valid_until"]
        verbose_name = "仪器使用资质"
        verbose_name_plural = "仪器使用资质"
        constraints = [models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")),
                                              name="qualification_dates_ordered")]
        indexes = [models.Index(fields=["instrument", "user"], name="qualification_instrument_user")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.instrument_id} {self.valid_from}–{self.valid_until}"


class CalendarToken(models.Model):
    """A person's secret calendar-feed address: calendar apps cannot sign in, so the feed URL carries a random
    token. Only its SHA-256 digest is stored (the address is shown once, when made); rotating makes a new one
    and revokes the old, revoking stops the feed. At most one live token per person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="calendar_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(revoked_at__isnull=True),
                                    name="calendar_token_one_live_per_user"),
        ]

    def __str__(self) -> str:
        return f"calendar token of {self.user_id} ({'revoked' if self.revoked_at else 'live'})"


# Usage, billing, statements, sample jobs and ratings (the second slice) live in their own module.
from twincity.instruments.usage_models import (  # noqa: E402, F401
    AgentToken,
    BookingCharge,
    SampleJob,
    SessionKind,
    SessionRating,
    SessionSource,
    Statement,
    StatementLine,
    UsageSession,
)

