"""Bookings through the service: the rules applied, prices frozen, states, overrides and the audit trail."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import services
from twincity.instruments.errors import BookingConflict, BookingRefused, BookingState
from twincity.instruments.models import Booking, Price, RateClass
from twincity.instruments.tests.conftest import NOW, SH, TUE9, make_instrument

H = timedelta(hours=1)
M = timedelta(minutes=1)


def book(actor, instrument, start, end, **kw):
    return services.booking_create(actor=actor, instrument=instrument, starts_at=start, ends_at=end,
                                   now=kw.pop("now", NOW), **kw)


def test_a_booking_is_confirmed_with_its_price_frozen(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + 90 * M, purpose="表面形貌")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.starts_at, booking.ends_at) == (TUE9, TUE9 + 90 * M)
    assert (booking.blocked_from, booking.blocked_until) == (TUE9, TUE9 + 90 * M)
    assert booking.organisation == cast.alice_org
    assert booking.rate_class == RateClass.INDUSTRY
    assert (booking.unit_price, booking.amount, booking.price_valid_from) == (
        Decimal("600.00"), Decimal("900.00"), date(2026, 1, 1))
    assert booking.hold_expires_at is None
    [entry] = AuditEntry.objects.filter(object_type="instruments.booking")
    assert (entry.action, entry.actor, entry.subject, entry.context) == (
        "create", cast.alice, f"instruments.instrument:{sem.pk}", "")
    assert entry.changes["status"] == {"before": None, "after": "confirmed"}


def test_the_rate_class_follows_the_payer(cast, sem):
    internal = book(cast.owen, sem, TUE9, TUE9 + H)
    assert (internal.rate_class, internal.amount) == (RateClass.INTERNAL, Decimal("240.00"))
    # A later price line applies to bookings that start on or after its date; earlier bookings keep theirs.
    Price.objects.create(service_item=internal.service_item, rate_class=RateClass.INDUSTRY, amount=Decimal("650"),
                         valid_from=date(2026, 12, 9))
    before = book(cast.alice, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    after = book(cast.alice, sem, TUE9 + timedelta(days=1), TUE9 + timedelta(days=1, hours=1))
    assert (before.unit_price, after.unit_price) == (Decimal("600.00"), Decimal("650.00"))
    assert after.price_valid_from == date(2026, 12, 9)


def test_an_overlap_is_refused_with_a_code_and_nothing_is_written(cast, sem):
    book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    with pytest.raises(BookingConflict) as caught:
        book(cast.bob, sem, TUE9 + H, TUE9 + 3 * H)
    assert caught.value.code == "booking_conflict"
    assert [r["rule"] for r in caught.value.extra["refusals"]] == ["overlap"]
    assert Booking.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="instruments.booking").count() == 1


def test_adjacent_half_open_bookings_are_both_fine_and_a_buffer_makes_them_conflict(cast):
    plain = make_instrument(cast.institute, name="X射线衍射仪")
    book(cast.alice, plain, TUE9, TUE9 + H)
    book(cast.bob, plain, TUE9 + H, TUE9 + 2 * H)
    assert Booking.objects.filter(instrument=plain).count() == 2

    buffered = make_instrument(cast.institute, name="透射电子显微镜", rules={"cleanup_minutes": 30}, actor=cast.owen)
    first = book(cast.alice, buffered, TUE9, TUE9 + H)
    assert first.blocked_until == TUE9 + 90 * M
    with pytest.raises(BookingConflict):
        book(cast.bob, buffered, TUE9 + H, TUE9 + 2 * H)
    book(cast.bob, buffered, TUE9 + 90 * M, TUE9 + 150 * M)
    assert Booking.objects.filter(instrument=buffered).count() == 2


def test_a_rule_refusal_names_the_rule_and_an_administrator_overrides_it_with_a_logged_reason(cast):
    sem = make_instrument(cast.institute, rules={"notice_minutes": {"create": 24 * 60}}, actor=cast.owen)
    with pytest.raises(BookingRefused) as caught:
        book(cast.alice, sem, TUE9, TUE9 + H)
    assert caught.value.code == "booking_refused"
    assert caught.value.extra["refusals"] == [{
        "rule": "notice.create", "at": "2026-12-08T01:00:00+00:00", "override": "administrator",
        "message_zh": "须在开始前 24h00 以上预约（开始 2026-12-08 09:00，现在 2026-12-07 10:00）",
        "message_en": "bookings are made at least 24h00 before the start (start 2026-12-08 09:00, now 2026-12-07 10:00)",
    }]
    # Administrators obey the rules too, unless they give a reason; a reason from anyone else is refused.
    with pytest.raises(BookingRefused):
        book(cast.olivia, sem, TUE9, TUE9 + H)
    with pytest.raises(Forbidden):
        book(cast.alice, sem, TUE9, TUE9 + H, override_reason="急需")
    assert not Booking.objects.exists()

    booking = book(cast.olivia, sem, TUE9, TUE9 + H, override_reason="管委会检查任务，已与仪器负责人确认")
    assert booking.overridden_rules == ["notice.create"]
    assert booking.override_reason == "管委会检查任务，已与仪器负责人确认"
    entry = AuditEntry.objects.get(object_type="instruments.booking", action="create")
    assert entry.context == "override (notice.create): 管委会检查任务，已与仪器负责人确认"
    assert entry.actor == cast.olivia


def test_no_one_overrides_a_double_booking(cast, sem):
    book(cast.alice, sem, TUE9, TUE9 + H)
    with pytest.raises(BookingConflict):
        book(cast.olivia, sem, TUE9, TUE9 + H, override_reason="override")
    assert Booking.objects.count() == 1


def test_who_may_book(cast, sem):
    for user in (cast.bella, cast.clara, cast.charlie):
        with pytest.raises(Forbidden):
            book(user, sem, TUE9, TUE9 + H)
    sem.status = sem.Status.MAINTENANCE
    sem.save()
    with pytest.raises(Forbidden):
        book(cast.alice, sem, TUE9, TUE9 + H)
    assert not Booking.objects.exists()


def test_naive_times_are_refused(cast, sem):
    with pytest.raises(InvalidInput):
        book(cast.alice, sem, TUE9.replace(tzinfo=None), (TUE9 + H).replace(tzinfo=None))


def test_quotas_count_pending_bookings_too(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={
        "approval": {"required": True, "hold_hours": 48}, "quotas": [{"per": "week", "count": 2}]})
    first = book(cast.alice, sem, TUE9, TUE9 + H)
    second = book(cast.alice, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    assert [first.status, second.status] == ["pending", "pending"]
    with pytest.raises(BookingRefused) as caught:
        book(cast.alice, sem, TUE9 + 4 * H, TUE9 + 5 * H)
    assert [r["rule"] for r in caught.value.extra["refusals"]] == ["quota.user.week.count"]
    # A refused request no longer counts.
    services.booking_refuse(actor=cast.owen, booking=second, note="样品不适合", now=NOW)
    assert book(cast.alice, sem, TUE9 + 4 * H, TUE9 + 5 * H).status == "pending"


def test_approval_holds_the_slot_until_it_expires(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 2}})
    pending = book(cast.alice, sem, TUE9, TUE9 + H)
    assert (pending.status, pending.hold_expires_at) == ("pending", NOW + 2 * H)
    with pytest.raises(BookingConflict):
        book(cast.bob, sem, TUE9, TUE9 + H, now=NOW + 2 * H - M)
    # After the hold, bob's request releases it (and the schedule would have too).
    taken = book(cast.bob, sem, TUE9, TUE9 + H, now=NOW + 2 * H)
    pending.refresh_from_db()
    assert (pending.status, taken.status) == ("expired", "pending")
    entry = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(pending.pk), action="update")
    assert entry.actor is None
    assert entry.changes == {"status": {"before": "pending", "after": "expired"}}
    with pytest.raises(BookingState):
        services.booking_approve(actor=cast.owen, booking=pending, now=NOW + 2 * H)


def test_the_schedule_task_releases_expired_holds(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 1}})
    pending = book(cast.alice, sem, TUE9, TUE9 + H)
    other = book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H, now=NOW + 30 * M)
    assert services.booking_holds_expire(now=NOW + H - timedelta(microseconds=1)) == 0
    assert services.booking_holds_expire(now=NOW + H) == 1
    pending.refresh_from_db()
    other.refresh_from_db()
    assert (pending.status, other.status) == ("expired", "pending")


def test_approve_and_refuse_are_for_the_owner_staff(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True}})
    pending = book(cast.alice, sem, TUE9, TUE9 + H)
    for user in (cast.alice, cast.bob, cast.bella):
        with pytest.raises(Forbidden):
            services.booking_approve(actor=user, booking=pending, now=NOW)
    approved = services.booking_approve(actor=cast.owen, booking=pending, note="请提前10分钟到场", now=NOW)
    assert (approved.status, approved.decided_by, approved.decision_note, approved.hold_expires_at) == (
        "confirmed", cast.owen, "请提前10分钟到场", None)
    with pytest.raises(BookingState):
        services.booking_refuse(actor=cast.owen, booking=approved, note="late", now=NOW)
    with pytest.raises(InvalidInput):
        services.booking_refuse(actor=cast.owen, booking=book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H), note=" ")


def test_a_change_happens_in_place_with_an_audit_trail(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    changed = services.booking_change(actor=cast.alice, booking=booking, starts_at=TUE9 + 30 * M,
                                      ends_at=TUE9 + 2 * H, now=NOW)
    assert changed.pk == booking.pk and changed.public_id == booking.public_id
    assert (changed.starts_at, changed.ends_at, changed.amount) == (TUE9 + 30 * M, TUE9 + 2 * H, Decimal("900.00"))
    assert Booking.objects.count() == 2
    entry = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(booking.pk), action="update")
    assert entry.changes["starts_at"] == {"before": "2026-12-08T01:00:00+00:00", "after": "2026-12-08T01:30:00+00:00"}
    with pytest.raises(BookingConflict):
        services.booking_change(actor=cast.alice, booking=booking, starts_at=TUE9 + H, ends_at=TUE9 + 150 * M, now=NOW)
    with pytest.raises(Forbidden):
        services.booking_change(actor=cast.bob, booking=booking, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at) == (TUE9 + 30 * M, TUE9 + 2 * H)


def test_a_late_cancellation_costs_its_fee_and_the_owner_may_waive_it(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={
        "notice_minutes": {"cancel": 60}, "cancellation": [{"within_hours": 24, "percent": 50}]})
    early = book(cast.alice, sem, TUE9 + timedelta(days=2), TUE9 + timedelta(days=2, hours=2))
    cancelled = services.booking_cancel(actor=cast.alice, booking=early, reason="计划调整", now=NOW)
    assert (cancelled.status, cancelled.cancellation_fee, cancelled.cancelled_at) == ("cancelled", Decimal("0.00"), NOW)

    late = book(cast.alice, sem, TUE9, TUE9 + 2 * H)  # 1,200 yuan, cancelled 23 h before
    cancelled = services.booking_cancel(actor=cast.alice, booking=late, now=NOW)
    assert cancelled.cancellation_fee == Decimal("600.00")
    with pytest.raises(Forbidden):
        services.booking_fee_waive(actor=cast.alice, booking=cancelled, reason="please")
    waived = services.booking_fee_waive(actor=cast.owen, booking=cancelled, reason="仪器故障导致无法使用")
    assert (waived.cancellation_fee, waived.fee_waived_reason) == (Decimal("0"), "仪器故障导致无法使用")

    too_late = book(cast.bob, sem, TUE9 + 3 * H, TUE9 + 4 * H)
    with pytest.raises(BookingRefused) as caught:
        services.booking_cancel(actor=cast.bob, booking=too_late, now=TUE9 + 2 * H + M)
    assert [r["rule"] for r in caught.value.extra["refusals"]] == ["notice.cancel"]
    # The owner's staff cancel someone else's booking at any time, without a fee.
    by_owner = services.booking_cancel(actor=cast.owen, booking=too_late, reason="设备故障", now=TUE9 + 2 * H + M)
    assert (by_owner.status, by_owner.cancellation_fee) == ("cancelled", Decimal("0"))
    # Cancelling frees the slot.
    assert book(cast.alice, sem, TUE9 + 3 * H, TUE9 + 4 * H).status == "confirmed"


def test_complete_after_the_start(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    with pytest.raises(BookingState):
        services.booking_complete(actor=cast.owen, booking=booking, now=NOW)
    done = services.booking_complete(actor=cast.owen, booking=booking, now=TUE9 + H)
    assert done.status == "completed"


def test_rules_are_validated_versioned_and_their_blackouts_mirrored(cast, sem):
    with pytest.raises(InvalidInput) as caught:
        services.instrument_rules_set(actor=cast.owen, instrument=sem, definition={"slot_minutes": 7})
    assert caught.value.extra["errors"] == [
        "min_minutes: 须为 slot_minutes 的整数倍 / a multiple of slot_minutes",
        "max_minutes: 须为 slot_minutes 的整数倍 / a multiple of slot_minutes",
        "slot_minutes: 须整除一天且与开放时间对齐 / must divide the day and align with open_from",
    ]
    assert sem.rules_version == 1
    with pytest.raises(Forbidden):
        services.instrument_rules_set(actor=cast.alice, instrument=sem, definition={})
    updated = services.instrument_rules_set(actor=cast.owen, instrument=sem, definition={"blackouts": [
        {"from": "2026-12-08T08:00:00+08:00", "until": "2026-12-08T12:00:00+08:00", "reason": "季度维护"}]})
    assert updated.rules_version == 2
    assert list(updated.blackouts.values_list("reason", flat=True)) == ["季度维护"]
    with pytest.raises(BookingRefused) as refused:
        book(cast.alice, updated, TUE9, TUE9 + H)
    assert [r["rule"] for r in refused.value.extra["refusals"]] == ["blackout"]


def test_a_weekly_quota_counts_across_the_month_boundary(cast):
    """The week of Tuesday 2026-12-01 starts on Monday 2026-11-30: bookings of that Monday count."""
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"quotas": [{"per": "week", "count": 1}]})
    now = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    book(cast.alice, sem, monday, monday + H, now=now)
    with pytest.raises(BookingRefused) as caught:
        book(cast.alice, sem, monday + timedelta(days=1), monday + timedelta(days=1, hours=1), now=now)
    assert [r["rule"] for r in caught.value.extra["refusals"]] == ["quota.user.week.count"]
    assert caught.value.extra["refusals"][0]["at"] == "2026-11-29T16:00:00+00:00"


def test_the_release_of_expired_holds_is_a_schedule_every_minute(cast):
    from twincity.core.schedules import schedule_get
    from twincity.instruments.tasks import booking_holds_expire_task

    schedule = schedule_get("instrument-holds-expire")
    assert (schedule.every, schedule.task) == (timedelta(minutes=1), booking_holds_expire_task)
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 1}})
    from django.utils import timezone

    two_hours_ago = timezone.now() - 2 * H
    stale = book(cast.alice, sem, TUE9, TUE9 + H, now=two_hours_ago)  # held until an hour ago
    assert booking_holds_expire_task.call() == 1
    stale.refresh_from_db()
    assert stale.status == "expired"


# --- no-show fee, rebooked slots ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("no_show", "fee"), [({"percent": 100}, "1200.00"), ({"percent": 25}, "300.00"),
                                              ({"fixed": "150"}, "150.00"), (None, "0.00")])
def test_a_no_show_costs_the_rules_fee_and_the_owner_may_waive_it(cast, no_show, fee):
    rules = {"no_show": no_show} if no_show else {}
    sem = make_instrument(cast.institute, actor=cast.owen, rules=rules)
    booking = book(cast.alice, sem, TUE9, TUE9 + 2 * H)  # 1,200 yuan
    with pytest.raises(BookingState):  # not before the start
        services.booking_no_show(actor=cast.owen, booking=booking, now=TUE9 - M)
    with pytest.raises(Forbidden):
        services.booking_no_show(actor=cast.alice, booking=booking, now=TUE9 + 30 * M)
    missed = services.booking_no_show(actor=cast.owen, booking=booking, note="未到场，30分钟后释放", now=TUE9 + 30 * M)
    assert (missed.status, missed.no_show_fee, missed.fee_assessed, missed.cancellation_fee) == (
        "no_show", Decimal(fee), Decimal(fee), Decimal("0"))
    assert not missed.holds_slot
    entry = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(booking.pk), action="update")
    assert entry.context == "no-show 未到场，30分钟后释放"
    if Decimal(fee):
        with pytest.raises(InvalidInput):
            services.booking_fee_waive(actor=cast.owen, booking=missed, reason="  ")
        waived = services.booking_fee_waive(actor=cast.owen, booking=missed, reason="交通管制，已提供证明")
        assert (waived.no_show_fee, waived.fee_waived_reason) == (Decimal("0"), "交通管制，已提供证明")
    with pytest.raises(BookingState):  # nothing (left) to waive
        services.booking_fee_waive(actor=cast.owen, booking=missed, reason="again")


def test_a_late_cancellation_fee_drops_by_the_share_someone_else_rebooks(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"cancellation": [{"within_hours": 24,
                                                                                     "percent": 100}]})
    late = book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    cancelled = services.booking_cancel(actor=cast.alice, booking=late, now=NOW)
    assert cancelled.cancellation_fee == Decimal("1200.00")
    # alice rebooking her own slot is no relief; bob taking the first half hour is a quarter of it.
    mine = book(cast.alice, sem, TUE9 + 90 * M, TUE9 + 2 * H)
    cancelled.refresh_from_db()
    assert cancelled.cancellation_fee == Decimal("1200.00")
    services.booking_cancel(actor=cast.alice, booking=mine, now=NOW)
    book(cast.bob, sem, TUE9, TUE9 + 30 * M)
    cancelled.refresh_from_db()
    assert (cancelled.cancellation_fee, cancelled.fee_assessed) == (Decimal("900.00"), Decimal("1200.00"))
    entry = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(late.pk), action="update",
                                   actor=None)
    assert entry.context.startswith("slot rebooked (30 min) by booking ")
    # The rest rebooked: nothing is owed.
    book(cast.bob, sem, TUE9 + 30 * M, TUE9 + 2 * H)
    cancelled.refresh_from_db()
    assert cancelled.cancellation_fee == Decimal("0.00")


def test_a_no_show_fee_drops_when_the_slot_is_rebooked(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"no_show": {"percent": 100}})
    booking = book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    missed = services.booking_no_show(actor=cast.owen, booking=booking, now=TUE9 + 30 * M)
    # A walk-in takes the rest of the slot (an administrator books into the past with a logged reason).
    book(cast.olivia, sem, TUE9 + H, TUE9 + 2 * H, now=TUE9 + 30 * M, override_reason="现场使用，补录")
    missed.refresh_from_db()
    assert missed.no_show_fee == Decimal("600.00")


# --- the qualification gate (self-run instruments) ---------------------------------------------------------------


def test_a_self_run_instrument_needs_a_valid_qualification(cast):
    sem = make_instrument(cast.institute)
    sem.operation, sem.required_qualification = sem.Operation.SELF, "场发射扫描电镜上机培训"
    sem.save()
    with pytest.raises(BookingRefused) as caught:
        book(cast.alice, sem, TUE9, TUE9 + H)
    [refusal] = caught.value.extra["refusals"]
    assert (refusal["rule"], refusal["at"], refusal["override"]) == (
        "qualification", "2026-12-08T01:00:00+00:00", "administrator")
    assert "场发射扫描电镜上机培训" in refusal["message_zh"] and "所属单位管理人员授予" in refusal["message_zh"]

    with pytest.raises(Forbidden):  # granted by the owner's staff only
        services.qualification_grant(actor=cast.alice, instrument=sem, user=cast.alice, valid_from=date(2026, 12, 1),
                                     valid_until=date(2026, 12, 31))
    with pytest.raises(InvalidInput):
        services.qualification_grant(actor=cast.owen, instrument=sem, user=cast.alice, valid_from=date(2026, 12, 9),
                                     valid_until=date(2026, 12, 8))
    expired = services.qualification_grant(actor=cast.owen, instrument=sem, user=cast.alice,
                                           valid_from=date(2025, 12, 8), valid_until=date(2026, 12, 7), note="2025年培训")
    with pytest.raises(BookingRefused):
        book(cast.alice, sem, TUE9, TUE9 + H)
    current = services.qualification_grant(actor=cast.owen, instrument=sem, user=cast.alice,
                                           valid_from=date(2026, 12, 8), valid_until=date(2027, 12, 7),
                                           note="2026-12-01 培训，考核通过")
    assert book(cast.alice, sem, TUE9, TUE9 + H).status == "confirmed"
    entry = AuditEntry.objects.get(object_type="instruments.userqualification", object_id=str(current.pk))
    assert (entry.action, entry.actor, entry.context) == ("create", cast.owen, "qualification granted")

    services.qualification_revoke(actor=cast.owen, qualification=current, reason="违规操作", now=NOW)
    with pytest.raises(BookingRefused):
        book(cast.alice, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    with pytest.raises(BookingState):
        services.qualification_revoke(actor=cast.owen, qualification=current, reason="again")
    # An administrator overrides the gate with a logged reason; bob, unqualified, is refused.
    forced = book(cast.olivia, sem, TUE9 + 2 * H, TUE9 + 3 * H, override_reason="厂家工程师陪同操作")
    assert forced.overridden_rules == ["qualification"]
    with pytest.raises(BookingRefused):
        book(cast.bob, sem, TUE9 + 4 * H, TUE9 + 5 * H)
    assert expired.revoked_at is None

    # Operator-run: no gate.
    sem.operation = sem.Operation.OPERATOR
    sem.save()
    assert book(cast.bob, sem, TUE9 + 4 * H, TUE9 + 5 * H).status == "confirmed"


# --- capacity above one ------------------------------------------------------------------------------------------


def test_capacity_two_allows_two_overlapping_bookings_and_no_third(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"capacity": 2})
    first = book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    second = book(cast.bob, sem, TUE9 + H, TUE9 + 3 * H)
    assert (first.exclusive, second.exclusive) == (False, False)
    with pytest.raises(BookingConflict) as caught:
        book(cast.owen, sem, TUE9 + 90 * M, TUE9 + 150 * M)
    [refusal] = caught.value.extra["refusals"]
    assert (refusal["rule"], refusal["override"], refusal["at"]) == ("capacity", "", "2026-12-08T02:30:00+00:00")
    with pytest.raises(BookingConflict):  # nobody overrides capacity
        book(cast.olivia, sem, TUE9 + 90 * M, TUE9 + 150 * M, override_reason="急需")
    assert book(cast.owen, sem, TUE9 + 2 * H, TUE9 + 3 * H).status == "confirmed"  # 11:00: alice is gone
    # The capacity cannot drop below what is booked; once it fits, the bookings become exclusive.
    with pytest.raises(BookingConflict):
        services.instrument_rules_set(actor=cast.owen, instrument=sem, definition={"capacity": 1})
    sem.refresh_from_db()
    assert sem.rules == {"capacity": 2}
    services.booking_cancel(actor=cast.owen, booking=second, reason="调整", now=NOW)
    services.instrument_rules_set(actor=cast.owen, instrument=sem, definition={"capacity": 1})
    assert set(Booking.objects.filter(instrument=sem, status="confirmed").values_list("exclusive", flat=True)) == {True}


# --- every rule at its boundary, through the service (the database path) ------------------------------------------

SAT9 = TUE9 + timedelta(days=4)
BOUNDARIES = [
    # (case, rules, existing bookings [(user, start, end)], request (start, end), now, the rule refused or None)
    ("grid on", {}, [], (TUE9, TUE9 + H), NOW, None),
    ("grid off", {}, [], (TUE9 + 15 * M, TUE9 + 75 * M), NOW, "grid"),
    ("opens 08:00", {}, [], (TUE9 - H, TUE9), NOW, None),
    ("before opening", {}, [], (TUE9 - 90 * M, TUE9 - 30 * M), NOW, "hours"),
    ("weekday", {"weekdays": [1, 2, 3, 4, 5]}, [], (SAT9 - timedelta(days=1), SAT9 - timedelta(days=1) + H), NOW, None),
    ("weekend", {"weekdays": [1, 2, 3, 4, 5]}, [], (SAT9, SAT9 + H), NOW, "weekdays"),
    ("min length", {"min_minutes": 60}, [], (TUE9, TUE9 + H), NOW, None),
    ("under min", {"min_minutes": 60}, [], (TUE9, TUE9 + 30 * M), NOW, "min_length"),
    ("max length", {"max_minutes": 120}, [], (TUE9, TUE9 + 2 * H), NOW, None),
    ("over max", {"max_minutes": 120}, [], (TUE9, TUE9 + 150 * M), NOW, "max_length"),
    ("advance edge", {"advance_days": 1}, [], (TUE9 + H, TUE9 + 2 * H), NOW, None),  # Tue 10:00 = now + 1 day
    ("beyond advance", {"advance_days": 1}, [], (TUE9 + 90 * M, TUE9 + 150 * M), NOW, "advance_window"),
    ("notice edge", {"notice_minutes": {"create": 23 * 60}}, [], (TUE9, TUE9 + H), NOW, None),
    ("inside notice", {"notice_minutes": {"create": 23 * 60 + 30}}, [], (TUE9, TUE9 + H), NOW, "notice.create"),
    ("past", {}, [], (NOW - H, NOW), NOW, "past"),
    ("buffer clear", {"cleanup_minutes": 30}, [("bob", TUE9, TUE9 + H)], (TUE9 + 90 * M, TUE9 + 150 * M), NOW, None),
    ("in the buffer", {"cleanup_minutes": 30}, [("bob", TUE9, TUE9 + H)], (TUE9 + H, TUE9 + 2 * H), NOW, "overlap"),
    ("setup clear", {"setup_minutes": 30}, [("bob", TUE9 + 90 * M, TUE9 + 150 * M)], (TUE9, TUE9 + H), NOW, None),
    ("in the setup", {"setup_minutes": 30}, [("bob", TUE9 + H, TUE9 + 2 * H)], (TUE9, TUE9 + H), NOW, "overlap"),
    ("gap kept", {"user_gap_minutes": 60}, [("alice", TUE9, TUE9 + H)], (TUE9 + 2 * H, TUE9 + 3 * H), NOW, None),
    ("gap short", {"user_gap_minutes": 60}, [("alice", TUE9, TUE9 + H)], (TUE9 + 90 * M, TUE9 + 150 * M), NOW,
     "user_gap"),
    ("someone else, no gap", {"user_gap_minutes": 60}, [("bob", TUE9, TUE9 + H)], (TUE9 + H, TUE9 + 2 * H), NOW,
     None),
    ("day count", {"quotas": [{"per": "day", "count": 2}]}, [("alice", TUE9, TUE9 + H)],
     (TUE9 + 2 * H, TUE9 + 3 * H), NOW, None),
    ("day count over", {"quotas": [{"per": "day", "count": 1}]}, [("alice", TUE9, TUE9 + H)],
     (TUE9 + 2 * H, TUE9 + 3 * H), NOW, "quota.user.day.count"),
    ("week hours", {"quotas": [{"per": "week", "hours": 2}]}, [("alice", TUE9, TUE9 + H)],
     (TUE9 + 2 * H, TUE9 + 3 * H), NOW, None),
    ("week hours over", {"quotas": [{"per": "week", "hours": 2}]}, [("alice", TUE9, TUE9 + H)],
     (TUE9 + 2 * H, TUE9 + 210 * M), NOW, "quota.user.week.hours"),
    ("org month", {"quotas": [{"per": "month", "scope": "organisation", "count": 1}]}, [("bob", TUE9, TUE9 + H)],
     (TUE9 + 2 * H, TUE9 + 3 * H), NOW, None),  # bob pays for another organisation
    ("org month over", {"quotas": [{"per": "month", "scope": "organisation", "count": 1}]},
     [("alice", TUE9, TUE9 + H)], (TUE9 + 2 * H, TUE9 + 3 * H), NOW, "quota.organisation.month.count"),
    ("blackout edge", {"blackouts": [{"from": "2026-12-08T10:00:00+08:00", "until": "2026-12-08T12:00:00+08:00"}]},
     [], (TUE9, TUE9 + H), NOW, None),
    ("blackout", {"blackouts": [{"from": "2026-12-08T10:00:00+08:00", "until": "2026-12-08T12:00:00+08:00"}]},
     [], (TUE9 + 90 * M, TUE9 + 150 * M), NOW, "blackout"),
    ("capacity 2 of 2", {"capacity": 2}, [("bob", TUE9, TUE9 + H)], (TUE9, TUE9 + H), NOW, None),
    ("capacity full", {"capacity": 2}, [("bob", TUE9, TUE9 + H), ("owen", TUE9, TUE9 + H)], (TUE9, TUE9 + H), NOW,
     "capacity"),
]


@pytest.mark.parametrize(("rules", "existing", "period", "now", "refused"),
                         [row[1:] for row in BOUNDARIES], ids=[row[0] for row in BOUNDARIES])
def test_every_rule_at_its_boundary_through_the_service(cast, rules, existing, period, now, refused):
    instrument = make_instrument(cast.institute, actor=cast.owen, rules=rules)
    for who, start, end in existing:
        book(getattr(cast, who), instrument, start, end, now=now, override_reason="fixture" if who == "olivia" else "")
    count = Booking.objects.count()
    if refused is None:
        assert book(cast.alice, instrument, *period, now=now).status == "confirmed"
        return
    with pytest.raises((BookingRefused, BookingConflict)) as caught:
        book(cast.alice, instrument, *period, now=now)
    assert [r["rule"] for r in caught.value.extra["refusals"]] == [refused]
    assert Booking.objects.count() == count  # nothing written
    # An administrator may override every rule but the overlap and the capacity, with a logged reason (the rules
    # about one person's or organisation's bookings do not concern the administrator's own).
    override = caught.value.extra["refusals"][0]["override"]
    assert override == ("" if refused in ("overlap", "capacity") else "administrator")
    if override and refused != "user_gap" and not refused.startswith("quota."):
        forced = book(cast.olivia, instrument, *period, now=now, override_reason="边界测试")
        assert (forced.overridden_rules, forced.override_reason) == ([refused], "边界测试")
