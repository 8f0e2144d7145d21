"""Recurring bookings through the service: occurrences validated one by one in one transaction (quotas count the
series' earlier occurrences), all-or-nothing or skip_conflicts, edits in place with an audit trail, cancelling
one occurrence (an EXDATE) or the rest of the series."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import services
from twincity.instruments.errors import BookingConflict, BookingRefused, BookingState
from twincity.instruments.models import Booking, BookingSeries
from twincity.instruments.tests.conftest import NOW, SH, TUE9, make_instrument

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)


def series(actor, instrument, rule="FREQ=DAILY;COUNT=3", start=TUE9, length=H, **kw):
    return services.series_create(actor=actor, instrument=instrument, rrule=rule, first_start=start,
                                  first_end=start + length, now=kw.pop("now", NOW), **kw)


def local(bookings):
    return [b.starts_at.astimezone(SH).strftime("%m-%d %H:%M") for b in bookings]


def test_a_series_books_every_occurrence_with_the_price_frozen_and_audited(cast, sem):
    made, bookings = series(cast.alice, sem, "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", purpose="周测")
    assert local(bookings) == ["12-08 09:00", "12-10 09:00", "12-15 09:00", "12-17 09:00"]
    assert {(b.series_id, b.status, b.amount, b.purpose) for b in bookings} == {
        (made.pk, "confirmed", Decimal("600.00"), "周测")}
    assert [b.occurrence_start for b in bookings] == [b.starts_at for b in bookings]
    assert (made.minutes, made.skipped, made.sequence, made.status) == (60, [], 0, "active")
    entries = AuditEntry.objects.filter(subject=f"instruments.instrument:{sem.pk}")
    assert sorted(entries.values_list("object_type", flat=True)) == ["instruments.booking"] * 4 + [
        "instruments.bookingseries"]
    assert entries.get(object_type="instruments.bookingseries").context == "4 booked, 0 skipped"


def test_the_third_occurrence_breaking_a_quota_refuses_the_whole_series(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={
        "approval": {"required": True}, "quotas": [{"per": "week", "count": 2}]})
    with pytest.raises(BookingRefused) as caught:
        series(cast.alice, sem)
    assert caught.value.code == "booking_refused"
    [third] = caught.value.extra["occurrences"]
    assert third["starts_at"] == "2026-12-10T01:00:00+00:00"
    assert [(r["rule"], r["at"], r["override"]) for r in third["refusals"]] == [
        ("quota.user.week.count", "2026-12-06T16:00:00+00:00", "administrator")]
    # Nothing at all was written: no series, no occurrence, no audit entry.
    assert not BookingSeries.objects.exists() and not Booking.objects.exists()
    assert not AuditEntry.objects.filter(object_type__in=("instruments.booking", "instruments.bookingseries")).exists()

    # With skip_conflicts, the first two are booked (pending: they count as well) and the third is reported.
    made, bookings = series(cast.alice, sem, skip_conflicts=True)
    assert [(b.status, b.starts_at) for b in bookings] == [("pending", TUE9), ("pending", TUE9 + DAY)]
    assert [s["starts_at"] for s in made.skipped] == ["2026-12-10T01:00:00+00:00"]
    assert made.skipped[0]["refusals"][0]["rule"] == "quota.user.week.count"


def test_an_overlap_refuses_the_series_as_a_conflict_or_is_skipped(cast, sem):
    taken = services.booking_create(actor=cast.bob, instrument=sem, starts_at=TUE9 + DAY + 30 * M,
                                    ends_at=TUE9 + DAY + 90 * M, now=NOW)
    with pytest.raises(BookingConflict) as caught:
        series(cast.alice, sem)
    assert [o["refusals"][0]["rule"] for o in caught.value.extra["occurrences"]] == ["overlap"]
    assert caught.value.extra["occurrences"][0]["refusals"][0]["override"] == ""
    made, bookings = series(cast.alice, sem, skip_conflicts=True)
    assert local(bookings) == ["12-08 09:00", "12-10 09:00"]
    assert made.skipped[0]["starts_at"] == "2026-12-09T01:00:00+00:00"
    # Nobody overrides an overlap, administrators included: with nothing left to book the series is refused.
    with pytest.raises(BookingConflict):
        series(cast.olivia, sem, "FREQ=DAILY;COUNT=1", start=taken.starts_at, override_reason="紧急任务")


def test_exceptions_are_left_out(cast, sem):
    made, bookings = series(cast.alice, sem, "FREQ=DAILY;COUNT=4", exdates=["2026-12-09", "2026-12-10T09:00:00+08:00"])
    assert local(bookings) == ["12-08 09:00", "12-11 09:00"]
    assert made.exdates == ["2026-12-09", "2026-12-10T09:00:00+08:00"]


def test_an_administrator_overrides_a_series_with_a_logged_reason(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"quotas": [{"per": "week", "count": 1}]})
    with pytest.raises(Forbidden):
        series(cast.alice, sem, override_reason="我需要")
    made, bookings = series(cast.olivia, sem, override_reason="管委会季度检测任务")
    assert [b.overridden_rules for b in bookings] == [[], ["quota.user.week.count"], ["quota.user.week.count"]]
    entry = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(bookings[2].pk))
    assert entry.context == f"series {made.public_id} · override (quota.user.week.count): 管委会季度检测任务"


def test_rules_that_cannot_be_used_are_422(cast, sem):
    with pytest.raises(InvalidInput) as caught:
        series(cast.alice, sem, "FREQ=DAILY")
    assert caught.value.code == "invalid_series"
    with pytest.raises(InvalidInput):
        series(cast.alice, sem, "FREQ=DAILY;COUNT=2", exdates=["2026-12-08", "2026-12-09"])  # nothing left
    assert not BookingSeries.objects.exists()


def test_a_series_is_edited_in_place_with_an_audit_trail(cast, sem):
    made, bookings = series(cast.alice, sem)
    ids = [b.pk for b in bookings]
    changed = services.series_change(actor=cast.alice, series=made, start=time(14, 0), minutes=90, now=NOW)
    after = list(Booking.objects.filter(series=made).order_by("starts_at"))
    assert [b.pk for b in after] == ids  # same rows: never deleted and recreated
    assert local(after) == ["12-08 14:00", "12-09 14:00", "12-10 14:00"]
    assert {b.ends_at - b.starts_at for b in after} == {90 * M}
    assert {b.amount for b in after} == {Decimal("900.00")}
    assert [b.occurrence_start for b in after] == [TUE9, TUE9 + DAY, TUE9 + 2 * DAY]  # RECURRENCE-ID kept
    assert (changed.minutes, changed.sequence) == (90, 1)
    moved = AuditEntry.objects.filter(object_type="instruments.booking", action="update")
    assert moved.count() == 3
    assert moved.get(object_id=str(ids[0])).changes["starts_at"] == {
        "before": "2026-12-08T01:00:00+00:00", "after": "2026-12-08T06:00:00+00:00"}

    # One clash refuses the whole edit: nothing moves.
    services.booking_create(actor=cast.bob, instrument=sem, starts_at=TUE9 + 2 * DAY, ends_at=TUE9 + 2 * DAY + H,
                            now=NOW)
    with pytest.raises(BookingConflict) as caught:
        services.series_change(actor=cast.alice, series=made, start=time(9, 0), minutes=60, now=NOW)
    assert [o["starts_at"] for o in caught.value.extra["occurrences"]] == ["2026-12-10T01:00:00+00:00"]
    assert local(Booking.objects.filter(series=made).order_by("starts_at")) == ["12-08 14:00", "12-09 14:00",
                                                                             "12-10 14:00"]
    # From a day on: only those move.
    services.series_change(actor=cast.alice, series=made, start=time(16, 0), minutes=60, from_day=date(2026, 12, 9),
                           now=NOW)
    assert local(Booking.objects.filter(series=made).order_by("starts_at")) == ["12-08 14:00", "12-09 16:00",
                                                                             "12-10 16:00"]
    with pytest.raises(Forbidden):
        services.series_change(actor=cast.bob, series=made, start=time(9, 0), minutes=60, now=NOW)


def test_one_occurrence_is_changed_in_place_and_its_quota_counts_the_others(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"quotas": [{"per": "day", "count": 1}]})
    made, bookings = series(cast.alice, sem)
    with pytest.raises(BookingRefused) as caught:  # onto the day of the next occurrence
        services.booking_change(actor=cast.alice, booking=bookings[0], starts_at=TUE9 + DAY + 3 * H,
                                ends_at=TUE9 + DAY + 4 * H, now=NOW)
    assert [r["rule"] for r in caught.value.extra["refusals"]] == ["quota.user.day.count"]
    moved = services.booking_change(actor=cast.alice, booking=bookings[0], starts_at=TUE9 + 3 * H,
                                    ends_at=TUE9 + 4 * H, now=NOW)
    assert (moved.pk, moved.series_id, moved.occurrence_start) == (bookings[0].pk, made.pk, TUE9)


def test_cancel_one_occurrence_then_the_rest_of_the_series(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={
        "notice_minutes": {"cancel": 60}, "cancellation": [{"within_hours": 24, "percent": 50}]})
    made, bookings = series(cast.alice, sem, "FREQ=DAILY;COUNT=4")
    one = services.booking_cancel(actor=cast.alice, booking=bookings[1], reason="出差", now=NOW)
    assert (one.status, one.cancellation_fee) == ("cancelled", Decimal("0.00"))
    made.refresh_from_db()
    assert (made.exdates, made.sequence) == (["2026-12-09T01:00:00+00:00"], 1)
    assert AuditEntry.objects.filter(object_type="instruments.bookingseries", action="update").count() == 1

    # The rest, from Thursday: the 10th and 11th; Tuesday's (inside 24 h) stays.
    cancelled = services.series_cancel(actor=cast.alice, series=made, from_start=TUE9 + 2 * DAY, reason="项目结束",
                                       now=NOW)
    assert [b.starts_at for b in cancelled] == [TUE9 + 2 * DAY, TUE9 + 3 * DAY]
    assert {b.cancellation_fee for b in cancelled} == {Decimal("0")}
    made.refresh_from_db()
    assert (made.status, made.sequence) == ("active", 2)
    # Cancelling the rest now (Tuesday's, 23 h ahead): the late-cancellation fee of the tiers.
    [late] = services.series_cancel(actor=cast.alice, series=made, now=NOW)
    assert (late.starts_at, late.cancellation_fee, late.fee_assessed) == (TUE9, Decimal("300.00"), Decimal("300.00"))
    made.refresh_from_db()
    assert made.status == "ended"
    with pytest.raises(BookingState):
        services.series_cancel(actor=cast.alice, series=made, now=NOW)
    assert Booking.objects.filter(series=made).count() == 4  # cancelled, never deleted


def test_cancelling_the_rest_inside_the_notice_is_refused_unless_an_administrator_overrides(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"notice_minutes": {"cancel": 24 * 60}})
    made, _ = series(cast.alice, sem)
    with pytest.raises(BookingRefused) as caught:
        services.series_cancel(actor=cast.alice, series=made, now=NOW)
    assert [o["refusals"][0]["rule"] for o in caught.value.extra["occurrences"]] == ["notice.cancel"]
    assert Booking.objects.filter(series=made, status="confirmed").count() == 3
    cancelled = services.series_cancel(actor=cast.olivia, series=made, reason="设备搬迁",
                                       override_reason="管委会决定", now=NOW)
    assert len(cancelled) == 3
    # The owner's staff cancel someone else's series without notice or fee.
    other, _ = series(cast.bob, sem, start=TUE9 + 3 * H)
    assert len(services.series_cancel(actor=cast.owen, series=other, reason="故障", now=NOW)) == 3
    with pytest.raises(Forbidden):
        services.series_cancel(actor=cast.bob, series=made, now=NOW)


def test_pending_occurrences_expire_unanswered_and_free_their_slots(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 2}})
    made, bookings = series(cast.alice, sem)
    assert {(b.status, b.hold_expires_at) for b in bookings} == {("pending", NOW + 2 * H)}
    services.booking_approve(actor=cast.owen, booking=bookings[0], now=NOW + H)
    assert services.booking_holds_expire(now=NOW + 2 * H - M) == 0
    assert services.booking_holds_expire(now=NOW + 2 * H) == 2  # the schedule's service
    assert list(Booking.objects.filter(series=made).order_by("starts_at").values_list("status", flat=True)) == [
        "confirmed", "expired", "expired"]
    # The released slots can be booked again.
    other, taken = series(cast.bob, sem, start=TUE9 + DAY, now=NOW + 2 * H)
    assert len(taken) == 3 and not other.skipped
