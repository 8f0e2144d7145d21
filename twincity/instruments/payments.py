"""Paying a booking with an innovation voucher (twincity.vouchers): the booking is the job
"instruments.booking:<public_id>"; the voucher part and the cash part are stored on the booking
(amount = voucher_amount + cash_amount).

* `booking_voucher_apply`: the booker applies a voucher at booking time or before approval (a pending booking, or
  a confirmed one no one approved, that has not started): part of the voucher is reserved.
* `booking_voucher_remove`: the booker takes it off again, under the same conditions.
* `booking_voucher_follow`: the booking services call it after every change of a booking: a refused, cancelled
  or expired booking releases its reservation, a completed one uses it (the voucher settles), a changed one is
  repriced (the voucher part never exceeds the cap of the new amount), and the cash part follows.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.models import AuditEntry
from twincity.instruments.errors import BookingState
from twincity.instruments.models import Booking
from twincity.vouchers import services as vouchers
from twincity.vouchers.models import Voucher
from twincity.vouchers.rules import Job

JOB_KIND = "instruments.booking"
PAYMENT_FIELDS = ("amount", "voucher_amount", "cash_amount")
ZERO = Decimal("0.00")
ENDED = (Booking.Status.REFUSED, Booking.Status.CANCELLED, Booking.Status.EXPIRED, Booking.Status.NO_SHOW)


def job_ref(booking: Booking) -> str:
    return str(booking.public_id)


def booking_job(booking: Booking) -> Job:
    """The booking as a job a voucher may pay for: its payer, the owner institution and city, the category, the
    local date of its start and its amount."""
    instrument = booking.instrument
    return Job(payer_id=booking.organisation_id, provider_id=instrument.owner.root_id, provider_city=instrument.city,
               category_code=instrument.category.code, on=timezone.localtime(booking.starts_at).date(),
               amount=booking.amount)


def _payable_now(booking: Booking, now: datetime) -> bool:
    """At booking time or before approval: pending, or confirmed without anyone's approval; not started."""
    before_approval = booking.status == Booking.Status.PENDING or (
        booking.status == Booking.Status.CONFIRMED and booking.decided_at is None)
    return before_approval and booking.starts_at > now


def _payment_save(actor, booking: Booking, before: dict, context: str) -> None:
    booking.save(update_fields=["voucher_amount", "cash_amount", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                 after=snapshot(booking, PAYMENT_FIELDS), context=context, subject=booking.instrument)


def booking_voucher_apply(*, actor, booking: Booking, voucher: Voucher, wanted: Decimal | None = None,
                          now: datetime | None = None) -> Booking:
    """Pay part of a booking with a voucher (its booker; the voucher's holder must be the paying organisation):
    reserves min(wanted, the cap above the co-pay, the balance). 409 `voucher_refused` names each voucher rule
    broken; 409 `already_claimed` when the booking is claimed already (voucher, test subsidy, post-subsidy); 409
    `booking_state` after approval or once started."""
    require(booking.user_id == getattr(actor, "pk", None), "只有预约人可以使用创新券支付 (the booker only)")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (Booking.objects.select_for_update(of=("self",))
                  .select_related("instrument__owner", "instrument__category").get(pk=booking.pk))
        if not _payable_now(locked, now):
            raise BookingState("只能在预约时或审批前、开始前使用创新券 (at booking time or before approval only)",
                               extra={"status": locked.status})
        if locked.voucher_amount > 0:
            raise BookingState("该预约已使用创新券 (already paid with a voucher)",
                               extra={"voucher_amount": str(locked.voucher_amount)})
        redemption = vouchers.redemption_reserve(
            actor=actor, voucher=voucher, job_kind=JOB_KIND, job_ref=job_ref(locked), job=booking_job(locked),
            job_label=f"{locked.instrument.name_zh} {timezone.localtime(locked.starts_at):%Y-%m-%d %H:%M}",
            wanted=wanted)
        before = snapshot(locked, PAYMENT_FIELDS)
        locked.voucher_amount = redemption.voucher_amount
        locked.cash_amount = locked.amount - redemption.voucher_amount
        _payment_save(actor, locked, before, f"paid with voucher {voucher.code}")
    return locked


def booking_voucher_remove(*, actor, booking: Booking, now: datetime | None = None) -> Booking:
    """Take the voucher off a booking (its booker, before approval and before it starts): the reservation is
    released, the booking is paid in cash."""
    require(booking.user_id == getattr(actor, "pk", None), "只有预约人可以取消创新券支付 (the booker only)")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Booking.objects.select_for_update(of=("self",)).select_related("instrument").get(pk=booking.pk)
        if not _payable_now(locked, now) or locked.voucher_amount == 0:
            raise BookingState("该预约当前不能取消创新券支付 (no voucher to take off now)",
                               extra={"status": locked.status})
        vouchers.redemption_release(actor=actor, job_kind=JOB_KIND, job_ref=job_ref(locked),
                                    reason="voucher taken off by the booker")
        before = snapshot(locked, PAYMENT_FIELDS)
        locked.voucher_amount, locked.cash_amount = ZERO, locked.amount
        _payment_save(actor, locked, before, "voucher taken off")
    return locked


def booking_voucher_follow(*, actor, booking: Booking) -> None:
    """Keep the voucher's reservation and the booking's parts in step with the booking (inside the caller's
    transaction, the booking's row locked): released when it ended unused, used when completed, repriced while it
    holds its slot; cash = amount - voucher."""
    before = snapshot(booking, PAYMENT_FIELDS)
    if booking.voucher_amount > 0:
        if booking.status in ENDED:
            vouchers.redemption_release(actor=actor, job_kind=JOB_KIND, job_ref=job_ref(booking),
                                        reason=f"booking {booking.status}")
            booking.voucher_amount = ZERO
        elif booking.status == Booking.Status.COMPLETED:
            vouchers.redemption_use(actor=actor, job_kind=JOB_KIND, job_ref=job_ref(booking))
        elif booking.amount != booking.voucher_amount + booking.cash_amount:
            redemption = vouchers.redemption_reprice(actor=actor, job_kind=JOB_KIND, job_ref=job_ref(booking),
                                                     job_amount=booking.amount)
            released = redemption is None or redemption.status != redemption.Status.RESERVED
            booking.voucher_amount = ZERO if released or redemption is None else redemption.voucher_amount
    cash = booking.amount - booking.voucher_amount
    if snapshot(booking, PAYMENT_FIELDS) != before:
        booking.cash_amount = cash
        _payment_save(actor, booking, before, "voucher follows the booking")
    elif booking.cash_amount != cash:  # no voucher involved: the cash part is the amount (derived, not audited)
        booking.cash_amount = cash
        Booking.objects.filter(pk=booking.pk).update(cash_amount=cash)
