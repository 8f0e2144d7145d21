"""The reads of a new booking's transaction: the rules' check window, the one read of the instrument's other
bookings (held, expired holds, fee-bearing released slots) and the statements a booking costs."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from twincity.core.models import AuditEntry
from twincity.instruments import rules as booking_rules
from twincity.instruments import selectors, services
from twincity.instruments.models import Booking, Price, RateClass, ServiceItem, holds_at
from twincity.instruments.tests.conftest import NOW, SH, TUE9

H = timedelta(hours=1)
M = timedelta(minutes=1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(("rules", "start", "end", "low", "high"), [
    ({}, TUE9, TUE9 + H, TUE9, TUE9 + H),
    ({"setup_minutes": 10, "cleanup_minutes": 15}, TUE9, TUE9 + H, TUE9 - 25 * M, TUE9 + H + 25 * M),
    ({"cleanup_minutes": 15, "user_gap_minutes": 60}, TUE9, TUE9 + H, TUE9 - H, TUE9 + 2 * H),
    ({"quotas": [{"per": "day", "count": 1}]}, TUE9, TUE9 + H, local(2026, 12, 8), local(2026, 12, 9)),
    # A request ending at local midnight touches its own day only (the period of its last instant).
    ({"quotas": [{"per": "day", "count": 1}]}, local(2026, 12, 8, 23), local(2026, 12, 9), local(2026, 12, 8),
     local(2026, 12, 9)),
    ({"quotas": [{"per": "week", "hours": 8}]}, TUE9, TUE9 + H, local(2026, 12, 7), local(2026, 12, 14)),
    # A week running into the next month: the widest of the month and the week.
    ({"quotas": [{"per": "week", "hours": 8}, {"per": "month", "scope": "organisation", "count": 3}]},
     local(2026, 12, 31, 9), local(2026, 12, 31, 10), local(2026, 12, 1), local(2027, 1, 4)),
    # A request over two days, with a day quota: both days.
    ({"quotas": [{"per": "day", "count": 1}], "max_minutes": 1440, "open_until": "24:00"},
     local(2026, 12, 8, 20), local(2026, 12, 9, 2), local(2026, 12, 8), local(2026, 12, 10)),
])
def test_the_check_window_reaches_the_buffers_the_gap_and_the_quota_periods_the_rules_have(rules, start, end, low,
                                                                                          high):
    assert booking_rules.check_window(booking_rules.Rules.from_dict(rules), start, end) == (low, high)


def put(booking: Booking, start: datetime, end: datetime, **fields) -> Booking:
    """Move a booking and set its state around the service (a fixture)."""
    Booking.objects.filter(pk=booking.pk).update(starts_at=start, ends_at=end, blocked_from=start, blocked_until=end,
                                                 **fields)
    booking.refresh_from_db()
    return booking


def booked(cast, sem, n: int) -> list[Booking]:
    """n confirmed bookings of bob, an hour each on the days after Tuesday."""
    return [services.booking_create(actor=cast.bob, instrument=sem, starts_at=TUE9 + timedelta(days=2 + i // 10, hours=i % 10),
                                    ends_at=TUE9 + timedelta(days=2 + i // 10, hours=i % 10 + 1), now=NOW)
            for i in range(n)]


def test_holds_at_says_what_the_holding_query_says(cast, sem):
    combos = [(status, hold) for status in Booking.Status.values for hold in (None, NOW - M, NOW, NOW + M)]
    for booking, (status, hold) in zip(booked(cast, sem, len(combos)), combos, strict=True):
        Booking.objects.filter(pk=booking.pk).update(status=status, hold_expires_at=hold)
    in_sql = set(Booking.objects.holding(NOW).values_list("pk", flat=True))
    in_python = {b.pk for b in Booking.objects.all() if holds_at(b.status, b.hold_expires_at, NOW)}
    assert in_sql == in_python
    # Confirmed whatever the hold; pending without a hold or with one after now (a hold ending now has ended).
    assert len(in_sql) == 4 + 2


def test_one_read_finds_the_held_the_expired_holds_and_the_fee_bearing_released_slots(cast, sem):
    a, b, c, d, e, f, g = booked(cast, sem, 7)
    start, end = TUE9 + 4 * H, TUE9 + 6 * H  # 13:00–15:00, default rules: no buffer, no gap, no quota
    put(a, TUE9 + 3 * H, TUE9 + 4 * H + 30 * M)  # confirmed 12:00–13:30: held
    put(b, TUE9 + 5 * H + 30 * M, TUE9 + 6 * H + 30 * M, status="pending", hold_expires_at=NOW + H)  # held
    put(c, TUE9 + 4 * H + 30 * M, TUE9 + 5 * H, status="pending", hold_expires_at=NOW - M)  # hold expired
    put(d, TUE9 + 4 * H, TUE9 + 5 * H + 30 * M, status="cancelled", cancellation_fee=Decimal("30.00"))  # fee
    put(e, TUE9 + 4 * H, TUE9 + 5 * H, status="cancelled")  # no fee: nothing to relieve
    put(f, TUE9 + 6 * H, TUE9 + 7 * H, status="no_show", no_show_fee=Decimal("50.00"))  # after the request
    put(g, TUE9 + 7 * H, TUE9 + 8 * H)  # confirmed, outside the window
    rules = services.rules_of(sem)

    near = selectors.booking_neighbours(instrument=sem, starts_at=start, ends_at=end, rules=rules, now=NOW)

    assert sorted(h.id for h in near.held) == [a.pk, b.pk]
    assert (near.stale, near.released) == ([c.pk], [d.pk])
    assert near.held == selectors.held_for_check(instrument=sem, starts_at=start, ends_at=end, rules=rules, now=NOW)


def test_a_booking_releases_the_expired_hold_it_meets_and_leaves_the_others_to_the_schedule(cast, sem):
    near, far = booked(cast, sem, 2)
    put(near, TUE9 + 4 * H, TUE9 + 5 * H, status="pending", hold_expires_at=NOW - M)
    put(far, TUE9 + timedelta(days=3), TUE9 + timedelta(days=3, hours=1), status="pending", hold_expires_at=NOW - M)

    mine = services.booking_create(actor=cast.alice, instrument=sem, starts_at=TUE9 + 4 * H, ends_at=TUE9 + 5 * H,
                                   now=NOW)

    near.refresh_from_db()
    far.refresh_from_db()
    assert (mine.status, near.status, far.status) == ("confirmed", "expired", "pending")
    released = AuditEntry.objects.get(object_type="instruments.booking", object_id=str(near.pk), action="update")
    assert released.changes["status"] == {"before": "pending", "after": "expired"}
    assert services.booking_holds_expire(now=NOW) == 1
    far.refresh_from_db()
    assert far.status == "expired"


def test_a_booking_costs_five_statements_and_relieving_a_released_slot_four_more(cast, sem,
                                                                                 django_assert_num_queries):
    [earlier] = booked(cast, sem, 1)
    # Lock the instrument, read its bookings, the default item with its price; insert the booking and its audit
    # entry (and the savepoint of the test's transaction around it: 2).
    with django_assert_num_queries(5 + 2):
        services.booking_create(actor=cast.alice, instrument=sem, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)
    put(earlier, TUE9 + H, TUE9 + 2 * H, status="cancelled", cancellation_fee=Decimal("30.00"),
        fee_assessed=Decimal("30.00"), user_id=cast.bob.pk)
    # The released slot with a fee: read it locked, read who now holds it, lower its fee, audit it.
    with django_assert_num_queries(5 + 2 + 4):
        services.booking_create(actor=cast.alice, instrument=sem, starts_at=TUE9 + H, ends_at=TUE9 + 2 * H, now=NOW)
    earlier.refresh_from_db()
    assert earlier.cancellation_fee == Decimal("0.00")


def test_the_item_and_the_price_a_booking_is_charged_under(cast, sem):
    """One read answers both: the named item or the default one (the first active hourly item by code), and its
    price line in force on the local date of the start for the payer's rate class (or none)."""
    machine_time = sem.service_items.get(code="machine-time")
    sample = ServiceItem.objects.create(instrument=sem, code="a-sample", name_zh="送样", unit=ServiceItem.Unit.SAMPLE)
    Price.objects.create(service_item=sample, rate_class=RateClass.INDUSTRY, amount=Decimal("80"),
                         valid_from=date(2026, 1, 1))
    hourly_first = ServiceItem.objects.create(instrument=sem, code="a-hours", name_zh="机时（旧）",
                                              unit=ServiceItem.Unit.HOUR, active=False)

    def charged(item=None, start=TUE9, actor=None):
        booking = services.booking_create(actor=actor or cast.alice, instrument=sem, starts_at=start,
                                          ends_at=start + 2 * H, service_item=item, now=NOW)
        return (booking.service_item, booking.unit_price, booking.price_valid_from, booking.amount)

    # The inactive "a-hours" comes first by code but is not offered: machine time is the default.
    assert charged() == (machine_time, Decimal("600.00"), date(2026, 1, 1), Decimal("1200.00"))
    assert charged(sample, TUE9 + 2 * H) == (sample, Decimal("80.00"), date(2026, 1, 1), Decimal("80.00"))
    # No internal price for the sample item: no price, nothing to pay.
    assert charged(sample, TUE9 + 4 * H, cast.owen) == (sample, None, None, Decimal("0"))
    hourly_first.active = True
    hourly_first.save()
    assert charged(None, TUE9 + 6 * H) == (hourly_first, None, None, Decimal("0"))
    ServiceItem.objects.filter(unit=ServiceItem.Unit.HOUR).update(active=False)
    assert charged(None, TUE9 + timedelta(days=1)) == (None, None, None, Decimal("0"))
