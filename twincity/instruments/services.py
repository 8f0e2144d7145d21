"""The one write path of instrument sharing: an instrument's booking rules, and bookings (create, change in
place, approve, refuse, cancel with its fee, waive the fee, complete, release expired holds). Every write is
audited in its transaction.

No double booking. Every booking write runs in one transaction that first locks the instrument's row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the IMMEDIATE transaction mode of settings lets one writer in at
a time), releases the instrument's expired holds, and checks the request against the bookings that hold slots
(twincity.instruments.rules.check). On PostgreSQL the exclusion constraint `booking_no_overlap` (migration 0002)
refuses any overlap the service would not have, e.g. one written around it; that refusal answers 409 too.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from twincity.accounts.models import Organisation
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import access, selectors
from twincity.instruments import rules as booking_rules
from twincity.instruments.errors import BookingConflict, BookingRefused, BookingState
from twincity.instruments.models import (
    Booking,
    Instrument,
    InstrumentBlackout,
    Price,
    RateClass,
    ServiceItem,
    rate_class_of,
)

FEN = Decimal("0.01")
NOT_BOOKABLE = "您不能预约该仪器（仅科研人员与企业用户可预约在用仪器） (you may not book this instrument)"
NOT_YOURS = "只有仪器所属单位的管理人员或平台管理员可以操作 (the owner's staff and administrators only)"
OVERRIDE_ADMINS = "只有平台管理员可以在说明理由后越过预约规则 (only administrators override rules, with a reason)"
BOOKING_AUDIT_FIELDS = ("instrument_id", "user_id", "organisation_id", "starts_at", "ends_at", "blocked_from",
                        "blocked_until", "status", "hold_expires_at", "service_item_id", "rate_class", "unit_price",
                        "price_valid_from", "amount", "rules_version", "decision_note", "cancellation_fee",
                        "fee_waived_reason", "overridden_rules", "override_reason")


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
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    before = snapshot(instrument, ("rules", "rules_version"))
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


def _locked(instrument: Instrument, now: datetime) -> Instrument:
    """Lock the instrument (PostgreSQL; SQLite's IMMEDIATE transaction already excludes other writers) and
    release its expired holds, so the check and the exclusion constraint see the same bookings."""
    locked = Instrument.objects.select_for_update(of=("self",)).select_related("owner").get(pk=instrument.pk)
    for booking in selectors.stale_holds(now=now, instrument=locked).select_for_update():
        _expire(booking, now)
    return locked


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
    """Save; an overlap refused by the database (PostgreSQL's exclusion constraint) answers 409."""
    try:
        with transaction.atomic():
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
        instrument = _locked(instrument, now)
        if not instrument.is_bookable:
            raise BookingState("仪器当前不可预约 (the instrument is not in service)", extra={"status": instrument.status})
        rules = rules_of(instrument)
        held = selectors.held_for_check(instrument=instrument, starts_at=starts_at, ends_at=ends_at, rules=rules,
                                        now=now)
        request = booking_rules.Request(starts_at=starts_at, ends_at=ends_at, user_id=actor.pk,
                                        organisation_id=actor.organisation_id, now=now)
        waived = _judge(actor=actor, refusals=booking_rules.check(rules, request, held),
                        override_reason=override_reason)
        item = service_item or selectors.default_service_item(instrument=instrument)
        rate_class = rate_class_of(actor.organisation, instrument.owner)
        on = timezone.localtime(starts_at).date()
        line = selectors.price_in_force(item=item, rate_class=rate_class, on=on) if item is not None else None
        blocked_from, blocked_until = booking_rules.blocked_period(rules, starts_at, ends_at)
        hold = booking_rules.hold_until(rules, now)
        booking = Booking(
            instrument=instrument, user=actor, organisation=actor.organisation, starts_at=starts_at,
            ends_at=ends_at, blocked_from=blocked_from, blocked_until=blocked_until,
            status=Booking.Status.PENDING if hold is not None else Booking.Status.CONFIRMED, hold_expires_at=hold,
            purpose=purpose[:200], service_item=item, rate_class=rate_class,
            unit_price=line.amount if line else None, price_valid_from=line.valid_from if line else None,
            amount=_amount(line.amount if line else None, item.unit if item else "", starts_at, ends_at),
            rules_version=instrument.rules_version, overridden_rules=waived,
            override_reason=override_reason.strip()[:255] if waived else "",
        )
        _save_guarded(booking)
        context = f"override ({', '.join(waived)}): {booking.override_reason}" if waived else ""
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=booking,
                     after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context, subject=instrument)
    return booking


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
        waived = _judge(actor=actor, refusals=booking_rules.check(rules, request, held),
                        override_reason=override_reason)
        before = snapshot(booking, BOOKING_AUDIT_FIELDS)
        booking.starts_at, booking.ends_at = starts_at, ends_at
        booking.blocked_from, booking.blocked_until = booking_rules.blocked_period(rules, starts_at, ends_at)
        booking.amount = _amount(booking.unit_price, booking.service_item.unit if booking.service_item else "",
                                 starts_at, ends_at)
        if waived:
            booking.overridden_rules = sorted(set(booking.overridden_rules) | set(waived))
            booking.override_reason = override_reason.strip()[:255]
        booking.sequence += 1  # the calendar event's new version (twincity.instruments.feeds)
        _save_guarded(booking, ["starts_at", "ends_at", "blocked_from", "blocked_until", "amount", "overridden_rules",
                                "override_reason", "sequence", "updated_at"])
        context = f"override ({', '.join(waived)}): {booking.override_reason}" if waived else "changed"
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                     after=snapshot(booking, BOOKING_AUDIT_FIELDS), context=context, subject=booking.instrument)
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


@transaction.atomic
def booking_cancel(*, actor, booking: Booking, reason: str = "", override_reason: str = "",
                   now: datetime | None = None) -> Booking:
    """Cancel a booking that holds its slot. The booker cancels no later than the rules' cancel notice (an
    administrator may override it with a reason) and owes the fee of the rules' tiers; the owner's staff and
    administrators cancelling someone else's booking do so at any time, without a fee."""
    require(access.can_cancel(actor, booking), "无权取消该预约 (you may not cancel this booking)")
    now = now or timezone.now()
    instrument = _locked(booking.instrument, now)
    rules = rules_of(instrument)
    # The owner's staff (or an administrator) cancelling someone else's booking: no notice, no fee.
    by_owner = access.can_decide(actor, booking) and booking.user_id != actor.pk
    waived: list[str] = []
    if not by_owner:
        waived = _judge(actor=actor, refusals=booking_rules.check_cancel(rules, starts_at=booking.starts_at, now=now),
                        override_reason=override_reason)
    fee = Decimal(0) if by_owner else booking_rules.cancellation_fee(rules, starts_at=booking.starts_at, now=now,
                                                                      amount=booking.amount)
    context = f"cancelled: {reason}".strip()
    if waived:
        context += f" · override ({', '.join(waived)}): {override_reason.strip()}"
    return _transition(actor=actor, booking=booking, allowed_from=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
                       to=Booking.Status.CANCELLED, context=context, now=now, cancelled_at=now,
                       cancellation_fee=fee, hold_expires_at=None)


@transaction.atomic
def booking_fee_waive(*, actor, booking: Booking, reason: str) -> Booking:
    """The owner's staff waive a cancellation fee, saying why."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    if not reason.strip():
        raise InvalidInput("请说明免除理由 (give the reason)", extra={"fields": {"reason": ["required"]}})
    locked = Booking.objects.select_for_update().get(pk=booking.pk)
    if locked.status != Booking.Status.CANCELLED or locked.cancellation_fee == 0:
        raise BookingState("该预约没有可免除的取消费 (no cancellation fee to waive)", extra={"status": locked.status})
    before = snapshot(locked, BOOKING_AUDIT_FIELDS)
    locked.cancellation_fee = Decimal(0)
    locked.fee_waived_reason = reason.strip()[:255]
    locked.save(update_fields=["cancellation_fee", "fee_waived_reason", "updated_at"])
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
