"""The one write path of instrument sharing: an instrument's booking rules, and bookings (create, change in
place, approve, refuse, cancel with its fee, waive the fee, complete, release expired holds). Every write is
audited in its transaction.

No double booking. Every booking write runs in one transaction that first locks the instrument's row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the IMMEDIATE transaction mode of settings lets one writer in at
a time), releases the instrument's expired holds, and checks the request against the bookings that hold slots
(twincity.instruments.rules.check). On PostgreSQL the exclusion constraint `booking_no_overlap` (migration 0002)
refuses any overlap the service would not have, e.g. one written around it; that refusal answers 409 too.
"""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from twincity.accounts.models import Organisation
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.core.prepared import Prepared
from twincity.instruments import access, payments, selectors
from twincity.instruments import rules as booking_rules
from twincity.instruments.errors import BookingConflict, BookingRefused, BookingState
from twincity.instruments.models import (
    HOLDING,
    Booking,
    BookingSeries,
    Instrument,
    InstrumentBlackout,
    Price,
    RateClass,
    ServiceItem,
    UserQualification,
    rate_class_of,
)

FEN = Decimal("0.01")
NOT_BOOKABLE = "您不能预约该仪器（仅科研人员与企业用户可预约在用仪器） (you may not book this instrument)"
NOT_YOURS = "只有仪器所属单位的管理人员或平台管理员可以操作 (the owner's staff and administrators only)"
OVERRIDE_ADMINS = "只有平台管理员可以在说明理由后越过预约规则 (only administrators override rules, with a reason)"
BOOKING_AUDIT_FIELDS = ("instrument_id", "user_id", "organisation_id", "starts_at", "ends_at", "blocked_from",
                        "blocked_until", "status", "hold_expires_at", "service_item_id", "rate_class", "unit_price",
                        "price_valid_from", "amount", "rules_version", "decision_note", "cancellation_fee",
                        "fee_waived_reason", "overridden_rules", "override_reason", "exclusive", "series_id",
                        "occurrence_start", "no_show_fee", "fee_assessed")
SERIES_AUDIT_FIELDS = ("instrument_id", "user_id", "organisation_id", "rrule", "first_start", "minutes", "exdates",
                       "skip_conflicts", "skipped", "purpose", "status", "sequence")
QUALIFICATION_AUDIT_FIELDS = ("instrument_id", "user_id", "valid_from", "valid_until", "granted_by_id", "note",
                              "revoked_at", "revoked_by_id", "revoke_reason")


# --- rules -----------------------------------------------------------------------------------------------------


@transaction.atomic
def instrument_rules_set(*, actor, instrument: Instrument, definition: dict) -> Instrument:
    """Replace an instrument's booking rules (validated by twincity.instruments.rules) as their next version;
    the blackout rows follow the rules' "blackouts". Bookings already made keep their period and buffers."""
    require(access.can_manage_instrument(actor, instrument), NOT_YOURS)
    errors = booking_rules.validate_rules(definition)
    if errors:
        raise InvalidInput("预约规则无效 (invalid booking rules)", code="invalid_rules", extra={"errors": errors})
    parsed = booking_rules.Rules.from_dict(definition)
    now = timezone.now()
    instrument = _locked(instrument, now)
    before = snapshot(instrument, ("rules", "rules_version"))
    if parsed.capacity != rules_of(instrument).capacity:
        _capacity_apply(instrument, parsed.capacity, now)
    instrument.rules = definition
    instrument.rules_version += 1
    instrument.save(update_fields=["rules", "rules_version", "updated_at"])
    instrument.blackouts.all().delete()
    InstrumentBlackout.objects.bulk_create(
        InstrumentBlackout(instrument=instrument, starts_at=b.starts_at, ends_at=b.ends_at, reason=b.reason)
        for b in parsed.blackouts)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=instrument, before=before,
                 after=snapshot(instrument, ("rules", "rules_version")))
    return instrument


def rules_of(instrument: Instrument) -> booking_rules.Rules:
    """An instrument's rules, parsed (they were validated when saved)."""
    return booking_rules.Rules.from_dict(instrument.rules)


def _capacity_apply(instrument: Instrument, capacity: int, now: datetime) -> None:
    """A new capacity: the bookings holding slots must fit it (409 otherwise), and they become exclusive (covered
    by PostgreSQL's exclusion constraint) exactly when the capacity is 1."""
    holding = Booking.objects.holding(now).filter(instrument=instrument)
    rows = [booking_rules.Held(*row) for row in holding.values_list(
        "pk", "user_id", "organisation_id", "starts_at", "ends_at", "blocked_from", "blocked_until")]
    if rows:
        low, high = min(r.blocked_from for r in rows), max(r.blocked_until for r in rows)
        count, at = booking_rules.peak(rows, low, high)
        if count > capacity:
            raise BookingConflict(f"已有预约在 {booking_rules.local(at)} 同时占用 {count} 个位置，超过新容量 {capacity} "
                                  f"(existing bookings exceed the new capacity)",
                                  extra={"at": at.isoformat(), "held": count, "capacity": capacity})
    try:
        with transaction.atomic():
            holding.update(exclusive=capacity == 1)
    except IntegrityError as exc:  # pragma: no cover — the check above sees the same bookings
        raise BookingConflict("已有预约重叠，不能改为独占 (overlapping bookings)") from exc


# --- the catalogue: instruments, their service items and dated prices (used by the API, the Excel import and the
# demo) -------------------------------------------------------------------------------------------------------------

INSTRUMENT_FIELDS = ("name_zh", "name_en", "model", "maker", "category_id", "original_value", "city", "site",
                     "status", "operation", "required_qualification", "specifications")
NOT_OWNER = "只能为本单位添加仪器 (you may add instruments to your own institution only)"


def _clean(instance, exclude: tuple[str, ...] = ()) -> None:
    """Model validation as the one error shape: 422 with every field's messages under extra.fields."""
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput("数据无效 (invalid values)", extra={"fields": {
            name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}}) from exc


@transaction.atomic
def instrument_create(*, actor, owner: Organisation, values: dict, rules: dict | None = None) -> Instrument:
    """Add an instrument to an owner institution's catalogue (its staff, administrators; None: the platform).
    `values` are INSTRUMENT_FIELDS (the city defaults to the owner's); `rules` are validated as
    instrument_rules_set validates them."""
    require(access.can_manage_owner(actor, owner), NOT_OWNER)
    instrument = Instrument(owner=owner, **{k: v for k, v in values.items() if k in INSTRUMENT_FIELDS})
    if not instrument.city:
        instrument.city = owner.city
    if rules:
        errors = booking_rules.validate_rules(rules)
        if errors:
            raise InvalidInput("预约规则无效 (invalid booking rules)", code="invalid_rules", extra={"errors": errors})
        instrument.rules = rules
    _clean(instrument, exclude=("owner", "category", "rules"))
    instrument.save()
    if rules:
        InstrumentBlackout.objects.bulk_create(
            InstrumentBlackout(instrument=instrument, starts_at=b.starts_at, ends_at=b.ends_at, reason=b.reason)
            for b in booking_rules.Rules.from_dict(rules).blackouts)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=instrument,
                 after=snapshot(instrument, ("owner_id", *INSTRUMENT_FIELDS)))
    return instrument


@transaction.atomic
def instrument_update(*, actor, instrument: Instrument, values: dict) -> Instrument:
    """Change an instrument's catalogue fields (not its owner, not its rules: instrument_rules_set); a change that
    changes nothing writes nothing."""
    require(actor is None or access.can_manage_instrument(actor, instrument), NOT_YOURS)
    locked = Instrument.objects.select_for_update(of=("self",)).select_related("owner").get(pk=instrument.pk)
    before = snapshot(locked, INSTRUMENT_FIELDS)
    for name, value in values.items():
        if name in INSTRUMENT_FIELDS:
            setattr(locked, name, value)
    _clean(locked, exclude=("owner", "category", "rules"))
    after = snapshot(locked, INSTRUMENT_FIELDS)
    if after != before:
        locked.save(update_fields=[*(n for n in INSTRUMENT_FIELDS if before[n] != after[n]), "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def service_item_set(*, actor, instrument: Instrument, code: str, name_zh: str, unit: str = ServiceItem.Unit.HOUR,
                     name_en: str | None = None, active: bool = True) -> ServiceItem:
    """Add a service item to an instrument, or change the one with this code (`name_en` None: kept as it is)."""
    require(actor is None or access.can_manage_instrument(actor, instrument), NOT_YOURS)
    item = ServiceItem.objects.select_for_update().filter(instrument=instrument, code=code).first()
    fields = ("code", "name_zh", "name_en", "unit", "active")
    if item is None:
        item = ServiceItem(instrument=instrument, code=code, name_zh=name_zh, name_en=name_en or "", unit=unit,
                           active=active)
        _clean(item, exclude=("instrument",))
        item.save()
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=item, after=snapshot(item, fields),
                     subject=instrument)
        return item
    before = snapshot(item, fields)
    item.name_zh, item.unit, item.active = name_zh, unit, active
    if name_en is not None:
        item.name_en = name_en
    _clean(item, exclude=("instrument",))
    if snapshot(item, fields) != before:
        item.save(update_fields=["name_zh", "name_en", "unit", "active", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=item, before=before,
                     after=snapshot(item, fields), subject=instrument)
    return item


@transaction.atomic
def price_set(*, actor, item: ServiceItem, rate_class: str, amount: Decimal, valid_from: date) -> Price | None:
    """Put a price in force from `valid_from` on: a new line of the dated price list, unless the line in force
    that day already says so (None: nothing written). Lines are never changed: a line of the same day with another
    amount answers 409, so a booking's frozen price can always be traced."""
    require(actor is None or access.can_manage_instrument(actor, item.instrument), NOT_YOURS)
    if rate_class not in RateClass.values:
        raise InvalidInput("收费类别无效 (unknown rate class)", extra={"fields": {"rate_class": [rate_class]}})
    if amount < 0:
        raise InvalidInput("价格不能为负 (a price cannot be negative)", extra={"fields": {"amount": [str(amount)]}})
    amount = Decimal(amount).quantize(FEN)
    current = selectors.price_in_force(item=item, rate_class=rate_class, on=valid_from)
    if current is not None and current.amount == amount:
        return None
    if current is not None and current.valid_from == valid_from:
        raise Conflict(f"{valid_from} 已有 {rate_class} 价格 {current.amount}，价格行只能新增不能修改 "
                       f"(a price line of that day exists; lines are added, never changed)",
                       code="price_line_exists", extra={"fields": {"amount": [str(current.amount)]}})
    line = Price.objects.create(service_item=item, rate_class=rate_class, amount=amount, valid_from=valid_from)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=line,
                 after=snapshot(line, ("service_item_id", "rate_class", "amount", "valid_from")),
                 subject=item.instrument)
    return line


# --- checks shared by create and change ------------------------------------------------------------------------


def _aware_utc(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise InvalidInput("时间须带时区 (a time needs its UTC offset)", extra={"fields": {field: [str(value)]}})
    return value.astimezone(timezone.UTC)


# What a booking's decision reads of its instrument: re-read under the lock (the rest of the row is the caller's).
LOCKED_FIELDS = ("owner_id", "status", "operation", "required_qualification", "rules", "rules_version")
LOCK = Prepared(lambda *, pk: Instrument.objects.select_for_update(of=("self",)).filter(pk=pk)
                .values_list(*LOCKED_FIELDS), pk=(1, 2))


def _lock(instrument: Instrument) -> Instrument:
    """Lock the instrument (PostgreSQL; SQLite's IMMEDIATE transaction already excludes other writers) and re-read
    what the booking rules depend on (LOCKED_FIELDS, into the same object; prepared once: it runs on every
    booking attempt)."""
    [row] = LOCK.rows(pk=instrument.pk)
    for name, value in zip(LOCKED_FIELDS, row, strict=True):
        setattr(instrument, name, value)  # a new owner_id drops the owner loaded before (Django's FK attribute)
    return instrument


def _release(stale: list[int], now: datetime) -> None:
    """Release these pending bookings whose hold has expired (the instrument is locked)."""
    for booking in Booking.objects.select_for_update().filter(pk__in=stale).order_by("pk") if stale else ():
        _expire(booking, now)


def _locked(instrument: Instrument, now: datetime) -> Instrument:
    """Lock the instrument and release its expired holds, so the check and the exclusion constraint see the same
    bookings."""
    _lock(instrument)
    _release(list(selectors.stale_holds(now=now, instrument=instrument).values_list("pk", flat=True)), now)
    return instrument


def _judge(*, actor, refusals: list[booking_rules.Refusal], override_reason: str) -> list[str]:
    """Raise for the refusals nobody may override (409 booking_conflict, or 422 for an empty period); for the
    others, answer the rules an administrator waives with a reason, or raise 409 booking_refused."""
    if not refusals:
        return []
    for refusal in refusals:
        if refusal.override != booking_rules.ADMINISTRATOR:
            extra = {"refusals": [r.as_dict() for r in refusals]}
            if refusal.rule == "period":
                raise InvalidInput("结束时间须晚于开始时间 (the end must be after the start)", extra=extra)
            raise BookingConflict(f"该时段已被预约：{refusal.message_zh} ({refusal.message_en})", extra=extra)
    if override_reason.strip():
        require(access.can_override_rules(actor), OVERRIDE_ADMINS)
        return [r.rule for r in refusals]
    first = refusals[0]
    raise BookingRefused(f"不符合预约规则：{first.message_zh} ({first.message_en})",
                         extra={"refusals": [r.as_dict() for r in refusals]})


def _save_guarded(booking: Booking, update_fields: list[str] | None = None) -> None:
    """Save; an overlap refused by the database (PostgreSQL's exclusion constraint) answers 409. Every caller
    saves inside its own transaction and lets the 409 leave it, which rolls it back: no savepoint is needed (two
    round trips fewer per booking)."""
    try:
        with transaction.atomic(savepoint=False):
            booking.save(update_fields=update_fields)
    except IntegrityError as exc:
        if "booking_no_overlap" in str(exc):
            raise BookingConflict("该时段已被预约 (the slot is taken)", extra={"constraint": "booking_no_overlap"}) from exc
        raise


def _amount(unit_price: Decimal | None, unit: str, starts_at: datetime, ends_at: datetime) -> Decimal:
    if unit_price is None:
        return Decimal(0)
    if unit == ServiceItem.Unit.HOUR:
        hours = Decimal((ends_at - starts_at).total_seconds()) / 3600
        return (unit_price * hours).quantize(FEN, rounding=ROUND_HALF_UP)
    return unit_price.quantize(FEN)


def _qualifications(instrument: Instrument, user) -> list[booking_rules.Qualification]:
    if not instrument.required_qualification or instrument.operation != Instrument.Operation.SELF:
        return []
    return [booking_rules.Qualification(q.valid_from, q.valid_until) for q in
            UserQualification.objects.filter(instrument=instrument, user=user, revoked_at__isnull=True)]


def _gate(instrument: Instrument, quals: list[booking_rules.Qualification], starts_at: datetime,
          ends_at: datetime) -> list[booking_rules.Refusal]:
    """The qualification gate (self-run instruments that require a qualification)."""
    return booking_rules.check_qualification(
        required=instrument.required_qualification, self_run=instrument.operation == Instrument.Operation.SELF,
        starts_at=starts_at, ends_at=ends_at, held=quals)


def _build(*, actor, instrument: Instrument, rules: booking_rules.Rules, starts_at: datetime, ends_at: datetime,
           item: ServiceItem | None, purpose: str, waived: list[str], override_reason: str, now: datetime,
           series: BookingSeries | None = None) -> Booking:
    """A new booking (not saved): its buffers, its status (pending with a hold when approval is required) and
    its service item (`item`, else the instrument's default) with its price frozen (the line in force on the
    local date of the start, for the payer's rate class)."""
    rate_class = rate_class_of(actor.organisation, instrument.owner)
    terms = selectors.charge_terms(instrument=instrument, item=item, rate_class=rate_class,
                                   on=timezone.localtime(starts_at).date())
    blocked_from, blocked_until = booking_rules.blocked_period(rules, starts_at, ends_at)
    hold = booking_rules.hold_until(rules, now)
    booking = Booking(
        instrument=instrument, user=actor, organisation=actor.organisation, starts_at=starts_at,
        ends_at=ends_at, blocked_from=blocked_from, blocked_until=blocked_until,
        status=Booking.Status.PENDING if hold is not None else Booking.Status.CONFIRMED, hold_expires_at=hold,
        purpose=purpose[:200], service_item=terms.item, rate_class=rate_class,
        unit_price=terms.unit_price, price_valid_from=terms.valid_from,
        amount=_amount(terms.unit_price, terms.item.unit if terms.item else "", starts_at, ends_at),
        rules_version=instrument.rules_version, overridden_rules=waived,
        override_reason=override_reason.strip()[:255] if waived else "", exclusive=rules.capacity == 1,
        series=series, occurrence_start=starts_at if series is not None else None,
    )
    booking.cash_amount = booking.amount  # a voucher may pay part later (twincity.instruments.payments)
    return booking


def _relieve_rebooked(*, instrument: Instrument, rules: booking_rules.Rules, booking: Booking, now: datetime,
                      candidates: list[int] | None = None) -> None:
    """Someone else now holds (part of) a slot released by a cancellation or a no-show: its fee drops by the
    share rebooked (none when all of it is). Fees only ever drop here; each drop is audited. `candidates`: the
    fee-bearing released bookings the period overlaps, when the caller has read them already."""
    if candidates == []:
        return
    released = (Booking.objects.select_for_update()
                .filter(instrument=instrument, status__in=(Booking.Status.CANCELLED, Booking.Status.NO_SHOW),
                        starts_at__lt=booking.ends_at, ends_at__gt=booking.starts_at)
                .filter(Q(cancellation_fee__gt=0) | Q(no_show_fee__gt=0)).exclude(user_id=booking.user_id))
    if candidates is not None:
        released = released.filter(pk__in=candidates)
    for row in released.order_by("pk"):
        taking = (Booking.objects.filter(Q(pk__in=Booking.objects.holding(now).values("pk"))
                                         | Q(status=Booking.Status.COMPLETED),
                                         instrument=instrument, starts_at__lt=row.ends_at, ends_at__gt=row.starts_at)
                  .exclude(user_id=row.user_id).values_list("starts_at", "ends_at"))
        part = booking_rules.rebooked_part(row.starts_at, row.ends_at, list(taking), rules.capacity)
        field = "cancellation_fee" if row.status == Booking.Status.CANCELLED else "no_show_fee"
        relieved = booking_rules.fee_after_rebooking(row.fee_assessed, starts_at=row.starts_at, ends_at=row.ends_at,
                                                     rebooked=part)
        if relieved >= getattr(row, field):
            continue
        before = snapshot(row, BOOKING_AUDIT_FIELDS)
        setattr(row, field, relieved)
        row.save(update_fields=[field, "updated_at"])
        audit_record(actor=None, action=AuditEntry.Action.UPDATE, instance=row, before=before,
                     after=snapshot(row, BOOKING_AUDIT_FIELDS),
                     context=f"slot rebooked ({int(part.total_seconds() // 60)} min) by booking {booking.public_id}",
                     subject=instrument)


# --- bookings --------------------------------------------------------------------------------------------------


def booking_create(*, actor, instrument: Instrument, starts_at: datetime, ends_at: datetime,
                   service_item: ServiceItem | None = None, purpose: str = "", override_reason: str = "",
                   now: datetime | None = None) -> Booking:
    """Book [starts_at, ends_at) of an instrument for the actor (paid by the actor's organisation): confirmed,
    or pending (holding the slot until the hold expires) when the instrument needs approval. The price in force
    on the local date of the start, for the payer's rate class, is frozen on the booking.

    A request the rules refuse raises 409 booking_refused naming each rule; an administrator may book anyway
    by giving `override_reason` (logged). An overlap raises 409 booking_conflict, for everyone."""
    require(access.can_book(actor, instrument), NOT_BOOKABLE)
    starts_at, ends_at = _aware_utc(starts_at, "starts_at"), _aware_utc(ends_at, "ends_at")
    if service_item is not None and service_item.instrument_id != instrument.pk:
        raise InvalidInput("服务项目不属于该仪器 (the service item is not this instrument's)",
                           extra={"fields": {"service_item": [service_item.code]}})
    with transaction.atomic():
        now = now or timezone.now()
        instrument = _lock(instrument)
        if not instrument.is_bookable:
            raise BookingState("仪器当前不可预约 (the instrument is not in service)", extra={"status": instrument.status})
        rules = rules_of(instrument)
        near = selectors.booking_neighbours(instrument=instrument, starts_at=starts_at, ends_at=ends_at, rules=rules,
                                            now=now)
        _release(near.stale, now)  # the expired holds this booking could meet (the schedule releases the others)
        request = booking_rules.Request(starts_at=starts_at, ends_at=ends_at, user_id=actor.pk,
                                        organisation_id=actor.organisation_id, now=now)
        refusals = booking_rules.check(rules, request, near.held)
        refusals += _gate(instrument, _qualifications(instrument, actor), starts_at, ends_at)
        waived = _judge(actor=actor, refusals=refusals, override_reason=override_reason)
        booking = _build(actor=actor, instrument=instrument, rules=rules, starts_at=starts_at, ends_at=ends_at,
                         item=service_item, purpose=purpose, waived=waived, override_reason=override_reason, now=now)
        _save_guarded(booking)
        context = f"override ({', '.join(waived)}): {booking.override_reason}" if waived else ""
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=booking,
                     after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context, subject=instrument)
        _relieve_rebooked(instrument=instrument, rules=rules, booking=booking, now=now, candidates=near.released)
    return booking


def booking_create_paid(*, actor, voucher, wanted: Decimal | None = None, **booking) -> Booking:
    """Book (booking_create's arguments) and pay part with an innovation voucher (a vouchers.Voucher, or None: cash),
    in one transaction: a voucher refused leaves no booking either."""
    with transaction.atomic():
        created = booking_create(actor=actor, **booking)
        if voucher is None:
            return created
        return payments.booking_voucher_apply(actor=actor, booking=created, voucher=voucher, wanted=wanted,
                                              now=booking.get("now"))


def booking_change(*, actor, booking: Booking, starts_at: datetime, ends_at: datetime, override_reason: str = "",
                   now: datetime | None = None) -> Booking:
    """Move or resize a booking in place (same row, same id; the audit trail keeps the old period). The new
    period obeys the rules as a new booking would, the change notice counted from the earlier of the old and the
    new start; the price line stays the one frozen when booked, the amount follows the new length."""
    require(access.can_change(actor, booking), "只有预约人或平台管理员可以修改 (the booker or an administrator only)")
    starts_at, ends_at = _aware_utc(starts_at, "starts_at"), _aware_utc(ends_at, "ends_at")
    with transaction.atomic():
        now = now or timezone.now()
        _locked(booking.instrument, now)
        booking = (Booking.objects.select_for_update(of=("self",)).select_related("instrument", "service_item")
                   .get(pk=booking.pk))
        if not booking.holds_slot:
            raise BookingState("该预约已不能修改 (the booking can no longer be changed)", extra={"status": booking.status})
        rules = rules_of(booking.instrument)
        held = selectors.held_for_check(instrument=booking.instrument, starts_at=starts_at, ends_at=ends_at,
                                        rules=rules, now=now)
        request = booking_rules.Request(starts_at=starts_at, ends_at=ends_at, user_id=booking.user_id,
                                        organisation_id=booking.organisation_id, now=now, action="change",
                                        booking_id=booking.pk, current_starts_at=booking.starts_at)
        refusals = booking_rules.check(rules, request, held)
        refusals += _gate(booking.instrument, _qualifications(booking.instrument, booking.user), starts_at, ends_at)
        waived = _judge(actor=actor, refusals=refusals, override_reason=override_reason)
        before = snapshot(booking, BOOKING_AUDIT_FIELDS)
        booking.starts_at, booking.ends_at = starts_at, ends_at
        booking.blocked_from, booking.blocked_until = booking_rules.blocked_period(rules, starts_at, ends_at)
        booking.exclusive = rules.capacity == 1
        booking.amount = _amount(booking.unit_price, booking.service_item.unit if booking.service_item else "",
                                 starts_at, ends_at)
        if waived:
            booking.overridden_rules = sorted(set(booking.overridden_rules) | set(waived))
            booking.override_reason = override_reason.strip()[:255]
        booking.sequence += 1  # the calendar event's new version (twincity.instruments.feeds)
        _save_guarded(booking, ["starts_at", "ends_at", "blocked_from", "blocked_until", "amount", "overridden_rules",
                                "override_reason", "exclusive", "sequence", "updated_at"])
        payments.booking_voucher_follow(actor=actor, booking=booking)
        context = f"override ({', '.join(waived)}): {booking.override_reason}" if waived else "changed"
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                     after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context, subject=booking.instrument)
        _relieve_rebooked(instrument=booking.instrument, rules=rules, booking=booking, now=now)
    return booking


def _transition(*, actor, booking: Booking, allowed_from: tuple[str, ...], to: str, context: str,
                now: datetime, **changes) -> Booking:
    locked = Booking.objects.select_for_update().select_related("instrument").get(pk=booking.pk)
    if locked.status not in allowed_from:
        raise BookingState(f"该预约当前状态为“{locked.get_status_display()}”，不能执行此操作 "
                           f"(the booking is {locked.status})", extra={"status": locked.status})
    before = snapshot(locked, BOOKING_AUDIT_FIELDS)
    locked.status = to
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.sequence += 1  # the calendar event's new version (twincity.instruments.feeds)
    locked.save(update_fields=["status", *changes, "sequence", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, BOOKING_AUDIT_FIELDS), context=context[:255], subject=locked.instrument)
    payments.booking_voucher_follow(actor=actor, booking=locked)
    return locked


@transaction.atomic
def booking_approve(*, actor, booking: Booking, note: str = "", now: datetime | None = None) -> Booking:
    """The owner's staff confirm a pending booking while its hold lasts (after it, 409: the slot is released)."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    _locked(booking.instrument, now)  # releases this booking too if its hold has expired
    return _transition(actor=actor, booking=booking, allowed_from=(Booking.Status.PENDING,),
                       to=Booking.Status.CONFIRMED, context=f"approved {note}".strip(), now=now,
                       decided_by=actor, decided_at=now, decision_note=note[:255], hold_expires_at=None)


@transaction.atomic
def booking_refuse(*, actor, booking: Booking, note: str, now: datetime | None = None) -> Booking:
    """The owner's staff refuse a pending booking, saying why; its slot is free again."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    if not note.strip():
        raise InvalidInput("请说明拒绝理由 (give the reason)", extra={"fields": {"note": ["required"]}})
    now = now or timezone.now()
    _locked(booking.instrument, now)
    return _transition(actor=actor, booking=booking, allowed_from=(Booking.Status.PENDING,),
                       to=Booking.Status.REFUSED, context=f"refused: {note}", now=now,
                       decided_by=actor, decided_at=now, decision_note=note.strip()[:255])


def _cancel_refusals(*, actor, booking: Booking, rules: booking_rules.Rules, now: datetime) -> tuple[bool, list]:
    """Whether the owner's staff (or an administrator) cancel someone else's booking (no notice, no fee), and
    otherwise the cancel-notice refusals."""
    by_owner = access.can_decide(actor, booking) and booking.user_id != actor.pk
    if by_owner:
        return True, []
    return False, booking_rules.check_cancel(rules, starts_at=booking.starts_at, now=now)


def _cancel(*, actor, booking: Booking, rules: booking_rules.Rules, by_owner: bool, waived: list[str], reason: str,
            override_reason: str, now: datetime) -> Booking:
    fee = Decimal("0.00") if by_owner else booking_rules.cancellation_fee(rules, starts_at=booking.starts_at, now=now,
                                                                      amount=booking.amount)
    context = f"cancelled: {reason}".strip()
    if waived:
        context += f" · override ({', '.join(waived)}): {override_reason.strip()}"
    return _transition(actor=actor, booking=booking, allowed_from=HOLDING, to=Booking.Status.CANCELLED,
                       context=context, now=now, cancelled_at=now, cancellation_fee=fee, fee_assessed=fee,
                       hold_expires_at=None)


@transaction.atomic
def booking_cancel(*, actor, booking: Booking, reason: str = "", override_reason: str = "",
                   now: datetime | None = None) -> Booking:
    """Cancel a booking that holds its slot. The booker cancels no later than the rules' cancel notice (an
    administrator may override it with a reason) and owes the fee of the rules' tiers (less the share of the
    slot someone else rebooks later); the owner's staff and administrators cancelling someone else's booking do
    so at any time, without a fee. Cancelling one occurrence of a series adds it to the series' exceptions."""
    require(access.can_cancel(actor, booking), "无权取消该预约 (you may not cancel this booking)")
    now = now or timezone.now()
    instrument = _locked(booking.instrument, now)
    rules = rules_of(instrument)
    by_owner, refusals = _cancel_refusals(actor=actor, booking=booking, rules=rules, now=now)
    waived = _judge(actor=actor, refusals=refusals, override_reason=override_reason)
    cancelled = _cancel(actor=actor, booking=booking, rules=rules, by_owner=by_owner, waived=waived, reason=reason,
                        override_reason=override_reason, now=now)
    if cancelled.series_id is not None and cancelled.occurrence_start is not None:
        series = BookingSeries.objects.select_for_update().get(pk=cancelled.series_id)
        before = snapshot(series, SERIES_AUDIT_FIELDS)
        series.exdates = [*series.exdates, cancelled.occurrence_start.isoformat()]
        series.sequence += 1
        series.save(update_fields=["exdates", "sequence", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=series, before=before,
                     after=snapshot(series, SERIES_AUDIT_FIELDS),
                     context=f"occurrence {cancelled.public_id} cancelled", subject=instrument)
    return cancelled


@transaction.atomic
def booking_no_show(*, actor, booking: Booking, note: str = "", now: datetime | None = None) -> Booking:
    """The owner's staff mark a confirmed booking a no-show once it has started: its slot is released and the
    rules' no-show fee (percent or fixed) is owed, less the share someone else rebooks; waivable with a reason."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    if booking.starts_at > now:
        raise BookingState("预约尚未开始 (the booking has not started)", extra={"starts_at": booking.starts_at.isoformat()})
    instrument = _locked(booking.instrument, now)
    fee = booking_rules.no_show_fee(rules_of(instrument), amount=booking.amount)
    return _transition(actor=actor, booking=booking, allowed_from=(Booking.Status.CONFIRMED,),
                       to=Booking.Status.NO_SHOW, context=f"no-show {note}".strip(), now=now, no_show_fee=fee,
                       fee_assessed=fee, decided_by=actor, decided_at=now, decision_note=note[:255])


@transaction.atomic
def booking_fee_waive(*, actor, booking: Booking, reason: str) -> Booking:
    """The owner's staff waive a cancellation or no-show fee, saying why."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    if not reason.strip():
        raise InvalidInput("请说明免除理由 (give the reason)", extra={"fields": {"reason": ["required"]}})
    locked = Booking.objects.select_for_update().get(pk=booking.pk)
    if locked.status == Booking.Status.NO_SHOW and locked.no_show_fee > 0:
        field = "no_show_fee"
    elif locked.status == Booking.Status.CANCELLED and locked.cancellation_fee > 0:
        field = "cancellation_fee"
    else:
        raise BookingState("该预约没有可免除的费用 (no fee to waive)", extra={"status": locked.status})
    before = snapshot(locked, BOOKING_AUDIT_FIELDS)
    setattr(locked, field, Decimal("0.00"))
    locked.fee_waived_reason = reason.strip()[:255]
    locked.save(update_fields=[field, "fee_waived_reason", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, BOOKING_AUDIT_FIELDS), context=f"fee waived: {reason}"[:255],
                 subject=booking.instrument)
    return locked


@transaction.atomic
def booking_complete(*, actor, booking: Booking, now: datetime | None = None) -> Booking:
    """The owner's staff mark a confirmed booking completed once it has started."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    if booking.starts_at > now:
        raise BookingState("预约尚未开始 (the booking has not started)", extra={"starts_at": booking.starts_at.isoformat()})
    return _transition(actor=actor, booking=booking, allowed_from=(Booking.Status.CONFIRMED,),
                       to=Booking.Status.COMPLETED, context="completed", now=now)


def _expire(booking: Booking, now: datetime) -> None:
    before = snapshot(booking, ("status", "hold_expires_at"))
    booking.status = Booking.Status.EXPIRED
    booking.sequence += 1  # the calendar event's new version (twincity.instruments.feeds)
    booking.save(update_fields=["status", "sequence", "updated_at"])
    audit_record(actor=None, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                 after=snapshot(booking, ("status", "hold_expires_at")),
                 context=f"hold expired at {booking.hold_expires_at:%Y-%m-%d %H:%M:%S}Z unanswered")
    payments.booking_voucher_follow(actor=None, booking=booking)


def booking_holds_expire(*, now: datetime | None = None) -> int:
    """Release every pending booking whose hold has expired (the schedule runs this each minute); how many."""
    now = now or timezone.now()
    released = 0
    for instrument_id in set(selectors.stale_holds(now=now).values_list("instrument_id", flat=True)):
        with transaction.atomic():
            instrument = Instrument.objects.select_for_update().get(pk=instrument_id)
            for booking in selectors.stale_holds(now=now, instrument=instrument).select_for_update():
                _expire(booking, now)
                released += 1
    return released



def categories_sync() -> int:
    """Put the built-in classification (twincity.instruments.classification) in the table; how many rows it has."""
    from twincity.instruments.classification import CLASSES, SUBCLASSES
    from twincity.instruments.models import InstrumentCategory

    parents = {}
    for code, zh, en in CLASSES:
        parents[code], _ = InstrumentCategory.objects.update_or_create(code=code, defaults={"name_zh": zh,
                                                                                            "name_en": en})
    for code, zh, en in SUBCLASSES:
        InstrumentCategory.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en,
                                                                         "parent": parents[code[:2]]})
    return InstrumentCategory.objects.count()


# --- recurring bookings ----------------------------------------------------------------------------------------


def _series_refused(results: list[booking_rules.OccurrenceResult], *, skipped: bool = False) -> None:
    """Raise for a series some of whose occurrences are refused: 409 booking_conflict when every refusal is one
    nobody may override (an overlap, the capacity), else 409 booking_refused; `extra.occurrences` names each
    refused occurrence with its refusals (rule, time used, who may override)."""
    refused = [r for r in results if r.refusals]
    occurrences = [{"starts_at": r.request.starts_at.isoformat(), "refusals": [x.as_dict() for x in r.refusals]}
                   for r in refused]
    first = refused[0].refusals[0]
    extra = {"occurrences": occurrences, "refusals": occurrences[0]["refusals"]}
    what = f"{len(refused)} 次不能预约" if not skipped else "没有一次可以预约"
    message = (f"周期预约中 {what}；第一个：{booking_rules.local(refused[0].request.starts_at)} {first.message_zh} "
               f"({len(refused)} occurrence(s) refused; first: {first.message_en})")
    if all(x.override != booking_rules.ADMINISTRATOR for r in refused for x in r.refusals):
        raise BookingConflict(message, extra=extra)
    raise BookingRefused(message, extra=extra)


def _occurrence_verdicts(results: list[booking_rules.OccurrenceResult], override_reason: str,
                         actor) -> list[list[str]]:
    """Per occurrence, the rules waived (an administrator's reason waives what an administrator may); the
    refusals that stand are left in `results`."""
    waived_all: list[list[str]] = []
    for result in results:
        waivable = bool(override_reason.strip()) and result.refusals and all(
            r.override == booking_rules.ADMINISTRATOR for r in result.refusals)
        waived_all.append([r.rule for r in result.refusals] if waivable else [])
        if waivable:
            result.refusals.clear()
    if any(waived_all):
        require(access.can_override_rules(actor), OVERRIDE_ADMINS)
    return waived_all


def _kept(override_reason: str):
    """check_series' `accept`: an occurrence is kept (and counts for the next ones) without refusals, or when
    an administrator's reason waives them all."""
    def accept(refusals: list[booking_rules.Refusal]) -> bool:
        return not refusals or bool(override_reason.strip()) and all(
            r.override == booking_rules.ADMINISTRATOR for r in refusals)
    return accept


def series_create(*, actor, instrument: Instrument, rrule: str, first_start: datetime, first_end: datetime,
                  exdates: Sequence[str] = (), skip_conflicts: bool = False, service_item: ServiceItem | None = None,
                  purpose: str = "", override_reason: str = "",
                  now: datetime | None = None) -> tuple[BookingSeries, list[Booking]]:
    """Book a recurring series: the RRULE's occurrences (Asia/Shanghai wall time, less the EXDATE exceptions),
    each `first_end − first_start` long, validated one by one in one transaction against the rules, the held
    bookings and the series' earlier occurrences (quotas count them). Without `skip_conflicts` one refused
    occurrence refuses the whole series (409, `extra.occurrences`); with it the refused dates are skipped and
    reported (`series.skipped`). Each occurrence is a Booking audited like any other."""
    require(access.can_book(actor, instrument), NOT_BOOKABLE)
    first_start, first_end = _aware_utc(first_start, "first_start"), _aware_utc(first_end, "first_end")
    if first_end <= first_start:
        raise InvalidInput("结束时间须晚于开始时间 (the end must be after the start)",
                           extra={"fields": {"first_end": ["after first_start"]}})
    if service_item is not None and service_item.instrument_id != instrument.pk:
        raise InvalidInput("服务项目不属于该仪器 (the service item is not this instrument's)",
                           extra={"fields": {"service_item": [service_item.code]}})
    minutes = int((first_end - first_start).total_seconds() // 60)
    try:
        occurrences = booking_rules.expand_series(rrule, first_start=first_start, minutes=minutes,
                                                  exdates=list(exdates))
    except booking_rules.SeriesError as exc:
        raise InvalidInput(f"周期规则无效：{exc}", code="invalid_series", extra={"fields": {"rrule": [str(exc)]}}) from exc
    if not occurrences:
        raise InvalidInput("该规则没有任何一次 (the rule gives no occurrence)", code="invalid_series",
                           extra={"fields": {"rrule": ["no occurrence"]}})
    with transaction.atomic():
        now = now or timezone.now()
        instrument = _locked(instrument, now)
        if not instrument.is_bookable:
            raise BookingState("仪器当前不可预约 (the instrument is not in service)", extra={"status": instrument.status})
        rules = rules_of(instrument)
        held = selectors.held_for_check(instrument=instrument, starts_at=occurrences[0].starts_at,
                                        ends_at=occurrences[-1].ends_at, rules=rules, now=now)
        quals = _qualifications(instrument, actor)
        requests = [booking_rules.Request(starts_at=o.starts_at, ends_at=o.ends_at, user_id=actor.pk,
                                          organisation_id=actor.organisation_id, now=now) for o in occurrences]
        results = booking_rules.check_series(
            rules, requests, held, accept=_kept(override_reason),
            extra=lambda r: _gate(instrument, quals, r.starts_at, r.ends_at))
        waived_all = _occurrence_verdicts(results, override_reason, actor)
        refused = [r for r in results if r.refusals]
        kept = [(r, w) for r, w in zip(results, waived_all, strict=True) if not r.refusals]
        if refused and not skip_conflicts:
            _series_refused(results)
        if not kept:
            _series_refused(results, skipped=True)
        series = BookingSeries(
            instrument=instrument, user=actor, organisation=actor.organisation, rrule=rrule.strip()[:400],
            first_start=first_start, minutes=minutes, exdates=[x.strip() for x in exdates],
            skip_conflicts=skip_conflicts, purpose=purpose[:200],
            skipped=[{"starts_at": r.request.starts_at.isoformat(), "refusals": [x.as_dict() for x in r.refusals]}
                     for r in refused])
        series.save()
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=series,
                     after=snapshot(series, SERIES_AUDIT_FIELDS),
                     context=f"{len(kept)} booked, {len(refused)} skipped"[:255], subject=instrument)
        bookings = []
        for result, waived in kept:
            booking = _build(actor=actor, instrument=instrument, rules=rules, starts_at=result.request.starts_at,
                             ends_at=result.request.ends_at, item=service_item, purpose=purpose, waived=waived,
                             override_reason=override_reason, now=now, series=series)
            _save_guarded(booking)
            context = f"series {series.public_id}"
            if waived:
                context += f" · override ({', '.join(waived)}): {booking.override_reason}"
            audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=booking,
                         after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context[:255], subject=instrument)
            _relieve_rebooked(instrument=instrument, rules=rules, booking=booking, now=now)
            bookings.append(booking)
    return series, bookings


def _series_locked(series: BookingSeries) -> BookingSeries:
    return BookingSeries.objects.select_for_update(of=("self",)).select_related("instrument").get(pk=series.pk)


def series_change(*, actor, series: BookingSeries, start: time, minutes: int, from_day: date | None = None,
                  override_reason: str = "", now: datetime | None = None) -> BookingSeries:
    """Move the series' coming occurrences (those holding their slot, on or after `from_day`) to a new local
    start time and length, in place: each occurrence keeps its row, id and date (its RECURRENCE-ID); all are
    validated together and either all move or none (409 with `extra.occurrences`). Audited, SEQUENCE + 1."""
    require(access.can_change_series(actor, series), "只有预约人或平台管理员可以修改 (the booker or an administrator only)")
    if not 5 <= minutes <= 14 * 1440:
        raise InvalidInput("时长无效 (an invalid length)", extra={"fields": {"minutes": ["5–20160"]}})
    with transaction.atomic():
        now = now or timezone.now()
        instrument = _locked(series.instrument, now)
        series = _series_locked(series)
        rules = rules_of(instrument)
        targets = list(series.bookings.holding(now).filter(starts_at__gte=now).select_for_update(of=("self",))
                       .select_related("service_item").order_by("starts_at"))
        if from_day is not None:
            targets = [b for b in targets if timezone.localtime(b.occurrence_start or b.starts_at).date() >= from_day]
        if not targets:
            raise BookingState("该周期预约没有可修改的后续预约 (no coming occurrence to change)",
                               extra={"status": series.status})
        requests = []
        for booking in targets:
            day = timezone.localtime(booking.occurrence_start or booking.starts_at).date()
            starts_at = booking_rules.at_clock(day, start)
            requests.append(booking_rules.Request(
                starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), user_id=booking.user_id,
                organisation_id=booking.organisation_id, now=now, action="change", booking_id=booking.pk,
                current_starts_at=booking.starts_at))
        held = selectors.held_for_check(instrument=instrument, starts_at=requests[0].starts_at,
                                        ends_at=requests[-1].ends_at, rules=rules, now=now)
        quals = _qualifications(instrument, series.user)
        results = booking_rules.check_series(rules, requests, held, accept=_kept(override_reason),
                                             extra=lambda r: _gate(instrument, quals, r.starts_at, r.ends_at))
        waived_all = _occurrence_verdicts(results, override_reason, actor)
        if any(r.refusals for r in results):
            _series_refused(results)
        for booking, request, waived in zip(targets, requests, waived_all, strict=True):
            before = snapshot(booking, BOOKING_AUDIT_FIELDS)
            booking.starts_at, booking.ends_at = request.starts_at, request.ends_at
            booking.blocked_from, booking.blocked_until = booking_rules.blocked_period(
                rules, request.starts_at, request.ends_at)
            booking.amount = _amount(booking.unit_price, booking.service_item.unit if booking.service_item else "",
                                     request.starts_at, request.ends_at)
            booking.exclusive = rules.capacity == 1
            if waived:
                booking.overridden_rules = sorted(set(booking.overridden_rules) | set(waived))
                booking.override_reason = override_reason.strip()[:255]
            _save_guarded(booking, ["starts_at", "ends_at", "blocked_from", "blocked_until", "amount", "exclusive",
                                    "overridden_rules", "override_reason", "updated_at"])
            context = f"series {series.public_id} changed"
            if waived:
                context += f" · override ({', '.join(waived)}): {booking.override_reason}"
            audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                         after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context[:255], subject=instrument)
        before = snapshot(series, SERIES_AUDIT_FIELDS)
        series.minutes = minutes
        series.sequence += 1
        series.save(update_fields=["minutes", "sequence", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=series, before=before,
                     after=snapshot(series, SERIES_AUDIT_FIELDS),
                     context=f"{len(targets)} occurrence(s) moved to {start:%H:%M} for {minutes} min", subject=instrument)
    return series


def series_cancel(*, actor, series: BookingSeries, from_start: datetime | None = None, reason: str = "",
                  override_reason: str = "", now: datetime | None = None) -> list[Booking]:
    """Cancel the rest of a series: every occurrence holding its slot that starts at or after `from_start`
    (default: now), each as `booking_cancel` would (notice and fee tiers for the booker; the owner's staff
    without). One occurrence inside the cancel notice refuses the whole request (409, `extra.occurrences`) unless
    an administrator overrides it. The series ends (audited); the cancelled occurrences are returned."""
    require(access.can_cancel_series(actor, series), "无权取消该周期预约 (you may not cancel this series)")
    with transaction.atomic():
        now = now or timezone.now()
        instrument = _locked(series.instrument, now)
        series = _series_locked(series)
        rules = rules_of(instrument)
        since = _aware_utc(from_start, "from_start") if from_start is not None else now
        targets = list(series.bookings.holding(now).filter(starts_at__gte=since).order_by("starts_at"))
        if not targets:
            raise BookingState("没有可取消的后续预约 (no coming occurrence to cancel)", extra={"status": series.status})
        verdicts = [_cancel_refusals(actor=actor, booking=b, rules=rules, now=now) for b in targets]
        results = [booking_rules.OccurrenceResult(
            booking_rules.Request(starts_at=b.starts_at, ends_at=b.ends_at, user_id=b.user_id,
                                  organisation_id=b.organisation_id, now=now), list(refusals))
            for b, (_, refusals) in zip(targets, verdicts, strict=True)]
        waived_all = _occurrence_verdicts(results, override_reason, actor)
        if any(r.refusals for r in results):
            _series_refused(results)
        cancelled = [_cancel(actor=actor, booking=b, rules=rules, by_owner=by_owner, waived=waived,
                             reason=f"series: {reason}".strip(), override_reason=override_reason, now=now)
                     for b, (by_owner, _), waived in zip(targets, verdicts, waived_all, strict=True)]
        before = snapshot(series, SERIES_AUDIT_FIELDS)
        if not series.bookings.holding(now).exists():
            series.status = BookingSeries.Status.ENDED
        series.sequence += 1
        series.save(update_fields=["status", "sequence", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=series, before=before,
                     after=snapshot(series, SERIES_AUDIT_FIELDS),
                     context=f"{len(cancelled)} occurrence(s) cancelled from {since:%Y-%m-%d %H:%M}Z: {reason}"[:255],
                     subject=instrument)
    return cancelled


# --- qualifications --------------------------------------------------------------------------------------------


@transaction.atomic
def qualification_grant(*, actor, instrument: Instrument, user, valid_from: date, valid_until: date,
                        note: str = "") -> UserQualification:
    """The owner's staff record a person's qualification (training) for an instrument, valid on the local days
    [valid_from, valid_until]; audited."""
    require(access.can_manage_instrument(actor, instrument), NOT_YOURS)
    if valid_until < valid_from:
        raise InvalidInput("有效期至须不早于有效期自 (valid_until before valid_from)",
                           extra={"fields": {"valid_until": ["on or after valid_from"]}})
    qualification = UserQualification.objects.create(instrument=instrument, user=user, valid_from=valid_from,
                                                     valid_until=valid_until, granted_by=actor, note=note.strip()[:255])
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=qualification,
                 after=snapshot(qualification, QUALIFICATION_AUDIT_FIELDS), context="qualification granted",
                 subject=instrument)
    return qualification


@transaction.atomic
def qualification_revoke(*, actor, qualification: UserQualification, reason: str,
                         now: datetime | None = None) -> UserQualification:
    """The owner's staff revoke a qualification, saying why (bookings already made stay; new ones need another)."""
    require(access.can_manage_instrument(actor, qualification.instrument), NOT_YOURS)
    if not reason.strip():
        raise InvalidInput("请说明撤销理由 (give the reason)", extra={"fields": {"reason": ["required"]}})
    locked = UserQualification.objects.select_for_update().get(pk=qualification.pk)
    if locked.revoked_at is not None:
        raise BookingState("该资质已撤销 (already revoked)", extra={"revoked_at": locked.revoked_at.isoformat()})
    before = snapshot(locked, QUALIFICATION_AUDIT_FIELDS)
    locked.revoked_at, locked.revoked_by, locked.revoke_reason = now or timezone.now(), actor, reason.strip()[:255]
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                 after=snapshot(locked, QUALIFICATION_AUDIT_FIELDS), context=f"revoked: {reason}"[:255],
                 subject=qualification.instrument)
    return locked
