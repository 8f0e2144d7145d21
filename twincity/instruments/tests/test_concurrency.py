"""No double booking under real concurrency, on SQLite (serialized IMMEDIATE transactions) and on PostgreSQL
(the instrument's row lock, and the exclusion constraint behind it)."""

import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from twincity.instruments import selectors, services
from twincity.instruments.errors import BookingConflict
from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import NOW, TUE9, make_instrument
from twincity.testing import Cast

H = timedelta(hours=1)


def run_together(*jobs):
    """Start every job at once (a barrier); return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def overlapping_pairs(instrument) -> int:
    held = list(Booking.objects.filter(instrument=instrument, status__in=("pending", "confirmed"))
                .order_by("blocked_from").values_list("blocked_from", "blocked_until"))
    return sum(1 for (_a, a_end), (b_start, _b) in zip(held, held[1:]) if b_start < a_end)


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_same_slot_at_once_exactly_one_succeeds(monkeypatch):
    cast = Cast.create()
    sem = make_instrument(cast.institute)
    # Widen the race: each request pauses after reading the bookings until the other has read too (or 1 s has
    # passed, when the other is queued behind our lock, as it should be). Without the lock both would see a
    # free slot and both would insert.
    both_read = threading.Barrier(2, timeout=1)
    original = selectors.booking_neighbours

    def held_after_both_read(**kwargs):
        held = original(**kwargs)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass
        return held

    monkeypatch.setattr(selectors, "booking_neighbours", held_after_both_read)

    def take(user):
        return lambda: services.booking_create(actor=user, instrument=sem, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)

    outcomes = run_together(take(cast.alice), take(cast.bob))

    won = [o for o in outcomes if isinstance(o, Booking)]
    lost = [o for o in outcomes if isinstance(o, BookingConflict)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    assert both_read.broken  # the second read waited for the first booking (the lock), it did not pass it
    assert list(Booking.objects.values_list("pk", flat=True)) == [won[0].pk]
    assert lost[0].code == "booking_conflict"


@pytest.mark.django_db(transaction=True)
def test_fifty_clients_booking_overlapping_slots_leave_no_overlap():
    cast = Cast.create()
    sem = make_instrument(cast.institute, rules={"cleanup_minutes": 30, "max_minutes": 600}, actor=cast.owen)
    users = [cast.alice, cast.bob, cast.owen, cast.olivia]
    # 50 clients at once, each asking for 2 hours starting on one of 16 half hours from 09:00: most overlap several
    # others (with the 30-minute clean-up), and some ask for exactly the same slot.
    starts = [TUE9 + timedelta(minutes=30 * (i % 16)) for i in range(50)]
    jobs = [lambda start=start, user=users[i % 4]: services.booking_create(
        actor=user, instrument=sem, starts_at=start, ends_at=start + 2 * H, now=NOW) for i, start in enumerate(starts)]

    started = time.process_time()
    outcomes = run_together(*jobs)
    cpu = time.process_time() - started

    assert all(isinstance(o, (Booking, BookingConflict)) for o in outcomes), outcomes
    won = [o for o in outcomes if isinstance(o, Booking)]
    assert len(won) == Booking.objects.filter(instrument=sem).count() >= 1
    assert overlapping_pairs(sem) == 0
    # Every refusal is a conflict with a booking that is there (never a lost or phantom write).
    held = set(Booking.objects.values_list("starts_at", flat=True))
    for o in outcomes:
        if isinstance(o, BookingConflict):
            assert o.extra.get("constraint") == "booking_no_overlap" or any(
                datetime.fromisoformat(r["at"]) in held for r in o.extra["refusals"])
    print(f"{connection.vendor}: 50 clients, {len(won)} booked, {cpu:.2f} CPU s in this process")


@pytest.mark.django_db
def test_the_exclusion_constraint_rejects_an_overlap_written_around_the_service(cast):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on the serialized service")
    sem = make_instrument(cast.institute)
    first = services.booking_create(actor=cast.alice, instrument=sem, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)
    row = {f.attname: getattr(first, f.attname) for f in Booking._meta.concrete_fields
           if f.attname not in ("id", "public_id")}
    row["starts_at"] = row["blocked_from"] = TUE9 + H / 2
    row["ends_at"] = row["blocked_until"] = TUE9 + 2 * H
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        Booking.objects.create(**row)
    # Statuses that do not hold the slot are not covered; adjacent half-open periods are fine.
    Booking.objects.create(**{**row, "status": "cancelled"})
    Booking.objects.create(**{**row, "starts_at": TUE9 + H, "blocked_from": TUE9 + H})
    assert Booking.objects.filter(instrument=sem).count() == 3


def peak_concurrency(instrument) -> int:
    """The most bookings holding slots at one instant (their buffered periods, half-open)."""
    events = []
    for start, end in Booking.objects.filter(instrument=instrument, status__in=("pending", "confirmed")).values_list(
            "blocked_from", "blocked_until"):
        events += [(start, 1), (end, -1)]
    current = best = 0
    for _at, step in sorted(events):
        current += step
        best = max(best, current)
    return best


@pytest.mark.django_db(transaction=True)
def test_fifty_clients_on_a_two_seat_instrument_never_hold_more_than_two_at_once():
    cast = Cast.create()
    station = make_instrument(cast.institute, name="双工位手套箱", rules={"capacity": 2, "max_minutes": 600},
                              actor=cast.owen)
    users = [cast.alice, cast.bob, cast.owen, cast.olivia]
    starts = [TUE9 + timedelta(minutes=30 * (i % 16)) for i in range(50)]
    jobs = [lambda start=start, user=users[i % 4]: services.booking_create(
        actor=user, instrument=station, starts_at=start, ends_at=start + 2 * H, now=NOW)
        for i, start in enumerate(starts)]

    outcomes = run_together(*jobs)

    assert all(isinstance(o, (Booking, BookingConflict)) for o in outcomes), outcomes
    won = [o for o in outcomes if isinstance(o, Booking)]
    assert len(won) == Booking.objects.filter(instrument=station).count()
    assert peak_concurrency(station) == 2  # full, never over
    assert {r["rule"] for o in outcomes if isinstance(o, BookingConflict) for r in o.extra["refusals"]} == {"capacity"}
    print(f"{connection.vendor}: capacity 2, 50 clients, {len(won)} booked")


@pytest.mark.django_db(transaction=True)
def test_fifty_clients_booking_series_and_single_slots_at_once_leave_no_overlap():
    """Recurring series are checked and written in one transaction under the same lock: racing single bookings
    and other series never slip in between their occurrences."""
    cast = Cast.create()
    sem = make_instrument(cast.institute, rules={"max_minutes": 600}, actor=cast.owen)
    users = [cast.alice, cast.bob, cast.owen, cast.olivia]

    def job(i):
        start = TUE9 + timedelta(minutes=30 * (i % 12))
        if i % 2:
            return lambda: services.series_create(actor=users[i % 4], instrument=sem, rrule="FREQ=DAILY;COUNT=3",
                                                  first_start=start, first_end=start + H, now=NOW,
                                                  skip_conflicts=i % 4 == 1)
        return lambda: services.booking_create(actor=users[i % 4], instrument=sem, starts_at=start + timedelta(days=1),
                                               ends_at=start + timedelta(days=1) + H, now=NOW)

    outcomes = run_together(*(job(i) for i in range(50)))

    assert all(isinstance(o, (Booking, tuple, BookingConflict)) for o in outcomes), outcomes
    assert overlapping_pairs(sem) == 0
    written = sum(1 for o in outcomes if isinstance(o, Booking)) + sum(len(o[1]) for o in outcomes
                                                                       if isinstance(o, tuple))
    assert written == Booking.objects.filter(instrument=sem).count() >= 3


@pytest.mark.django_db
def test_the_exclusion_constraint_covers_exclusive_bookings_only(cast):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on the serialized service")
    station = make_instrument(cast.institute, name="双工位手套箱", rules={"capacity": 2}, actor=cast.owen)
    first = services.booking_create(actor=cast.alice, instrument=station, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)
    assert first.exclusive is False
    row = {f.attname: getattr(first, f.attname) for f in Booking._meta.concrete_fields
           if f.attname not in ("id", "public_id")}
    # Seats of a shared instrument may overlap in the table (the service counts them under the lock)…
    Booking.objects.create(**row)
    # …but an exclusive booking written around the service over a held slot is still refused.
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        Booking.objects.create(**{**row, "exclusive": True})
        Booking.objects.create(**{**row, "exclusive": True})
