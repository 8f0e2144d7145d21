"""Reads of instrument sharing: the catalogue search (text, category, city, owner, price, availability in a
window), an instrument's prices in force and its week, the bookings a rule check needs, a person's bookings and
an owner's approval queue. Callers check access (`twincity.instruments.access`)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from twincity.core.access import visible_to
from twincity.core.prepared import Prepared
from twincity.instruments import access
from twincity.instruments import rules as booking_rules
from twincity.instruments.models import (
    Booking,
    BookingSeries,
    Instrument,
    InstrumentBlackout,
    InstrumentCategory,
    Price,
    RateClass,
    SampleJob,
    ServiceItem,
    Statement,
    holds_at,
)

NO_INSTRUMENT = "仪器不存在 (no such instrument)"
NO_BOOKING = "预约不存在 (no such booking)"
NO_SERIES = "周期预约不存在 (no such series)"
NO_JOB = "送样任务不存在 (no such job)"
NO_STATEMENT = "对账单不存在 (no such statement)"


def categories() -> QuerySet[InstrumentCategory]:
    return InstrumentCategory.objects.order_by("code")


def category_get(*, code: str) -> InstrumentCategory | None:
    return InstrumentCategory.objects.filter(code=code).first()


def instrument_get(*, public_id: UUID) -> Instrument | None:
    return Instrument.objects.select_related("owner", "category").filter(public_id=public_id).first()


def _current_price(rate_class: str, on: date) -> Subquery:
    return Subquery(Price.objects.filter(service_item=OuterRef("pk"), rate_class=rate_class, valid_from__lte=on)
                    .order_by("-valid_from").values("amount")[:1])


def catalogue_search(*, text: str = "", category: InstrumentCategory | None = None, city: str = "",
                     owner_id: int | None = None, max_price: Decimal | None = None,
                     rate_class: str = RateClass.INDUSTRY, on: date | None = None,
                     free_from: datetime | None = None, free_until: datetime | None = None,
                     now: datetime | None = None) -> QuerySet[Instrument]:
    """Instruments not retired that match every filter given:

    * `text`: each word (Chinese or not) in the name, model, maker, category or specifications;
    * `category`: the class itself or one of its subclasses;
    * `max_price`: an active service item whose price in force on `on` for `rate_class` is at most this;
    * `free_from`/`free_until`: in service, and no booking holding its slot (with its set-up and clean-up) nor a
      blackout overlaps the whole window [free_from, free_until) (`now` decides which pending holds still hold).
    """
    qs = Instrument.objects.exclude(status=Instrument.Status.RETIRED).select_related("owner", "category")
    for word in text.split():
        qs = qs.filter(Q(name_zh__icontains=word) | Q(name_en__icontains=word) | Q(model__icontains=word)
                       | Q(maker__icontains=word)
                       # A subquery, not a join: every condition stays on the instrument's row, so the planner
                       # tests the text before the availability probes.
                       | Q(category__in=InstrumentCategory.objects.filter(name_zh__icontains=word))
                       | Q(specifications__icontains=word))
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if city:
        qs = qs.filter(city=city)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if max_price is not None:
        assert on is not None
        priced = (ServiceItem.objects.filter(active=True).annotate(current=_current_price(rate_class, on))
                  .filter(current__lte=max_price))
        qs = qs.filter(Exists(priced.filter(instrument=OuterRef("pk"))))
    if free_from is not None and free_until is not None:
        assert now is not None
        # "No overlapping booking nor blackout" as NOT COALESCE(EXISTS(…), false), probed per instrument. A bare
        # NOT EXISTS is turned by PostgreSQL into an anti-join whose estimate (the two range conditions taken
        # apart) says nearly every instrument is busy, so it checked all 10,000 and sorted them (~480 ms at
        # 1,000,000 bookings); inside COALESCE the subquery stays a per-row filter estimated at one half, and the
        # plan walks the name order and stops at the page (under a millisecond). SQLite walks the name order
        # either way. The probe uses an index on the instrument (booking_instrument_until, see Booking.Meta).
        busy = Booking.objects.holding(now).filter(instrument=OuterRef("pk"), blocked_until__gt=free_from,
                                                    blocked_from__lt=free_until)
        closed = InstrumentBlackout.objects.filter(instrument=OuterRef("pk"), starts_at__lt=free_until,
                                                   ends_at__gt=free_from)
        qs = (qs.filter(status=Instrument.Status.IN_SERVICE)
              .alias(busy=Coalesce(Exists(busy), Value(False)), closed=Coalesce(Exists(closed), Value(False)))
              .filter(busy=False, closed=False))
    return qs


@dataclass(frozen=True)
class PriceLine:
    item: ServiceItem
    prices: dict[str, Price | None]  # rate class → the line in force (None: no price for that class)


def prices_in_force(*, instrument: Instrument, on: date) -> list[PriceLine]:
    """Each active service item of the instrument with its price line in force on `on` for every rate class."""
    items = list(instrument.service_items.filter(active=True).order_by("code"))
    lines = (Price.objects.filter(service_item__in=items, valid_from__lte=on)
             .order_by("service_item_id", "rate_class", "-valid_from"))
    latest: dict[tuple[int, str], Price] = {}
    for line in lines:
        latest.setdefault((line.service_item_id, line.rate_class), line)
    return [PriceLine(item, {rc: latest.get((item.pk, rc)) for rc in RateClass.values}) for item in items]


def _lines_in_force(item, rate_class: str, on: date) -> QuerySet[Price]:
    """The price lines of `item` (an item, or OuterRef) for `rate_class` from `on` back: the first is in force."""
    return Price.objects.filter(service_item=item, rate_class=rate_class, valid_from__lte=on).order_by("-valid_from")


def _hourly_items(instrument_id: int) -> QuerySet[ServiceItem]:
    """The items a booking of machine time is charged under when none is named, the first first."""
    return ServiceItem.objects.filter(instrument_id=instrument_id, active=True,
                                      unit=ServiceItem.Unit.HOUR).order_by("code")


def price_in_force(*, item: ServiceItem, rate_class: str, on: date) -> Price | None:
    return _lines_in_force(item, rate_class, on).first()


def default_service_item(*, instrument: Instrument) -> ServiceItem | None:
    """The item a booking of machine time is charged under when none is named: the first active hourly item."""
    return _hourly_items(instrument.pk).first()


@dataclass(frozen=True)
class ChargeTerms:
    """What a booking is charged under: the service item (None: none) and its price line in force (None: none)."""

    item: ServiceItem | None
    unit_price: Decimal | None
    valid_from: date | None


_ITEM_COLUMNS = [f.attname for f in ServiceItem._meta.concrete_fields]


def _terms(items: QuerySet[ServiceItem], rate_class: str, on: date) -> QuerySet:
    lines = _lines_in_force(OuterRef("pk"), rate_class, on)
    return items.annotate(line_amount=Subquery(lines.values("amount")[:1]),
                          line_valid_from=Subquery(lines.values("valid_from")[:1])).values_list(
        *_ITEM_COLUMNS, "line_amount", "line_valid_from")[:1]


def _terms_of_item(*, item_id: int, rate_class: str, on: date) -> QuerySet:
    return _terms(ServiceItem.objects.filter(pk=item_id), rate_class, on)


def _terms_by_default(*, instrument_id: int, rate_class: str, on: date) -> QuerySet:
    return _terms(_hourly_items(instrument_id), rate_class, on)


_DAYS = (date(2000, 1, 1), date(2000, 1, 2))
TERMS_OF_ITEM = Prepared(_terms_of_item, item_id=(1, 2), rate_class=("internal", "industry"), on=_DAYS)
TERMS_BY_DEFAULT = Prepared(_terms_by_default, instrument_id=(1, 2), rate_class=("internal", "industry"), on=_DAYS)


def charge_terms(*, instrument: Instrument, item: ServiceItem | None, rate_class: str, on: date) -> ChargeTerms:
    """`item`, else the default item (`default_service_item`), with its price line in force on `on` for
    `rate_class` (`price_in_force`), in one query (prepared once: twincity.core.prepared)."""
    if item is not None:
        rows = TERMS_OF_ITEM.rows(item_id=item.pk, rate_class=rate_class, on=on)
    else:
        rows = TERMS_BY_DEFAULT.rows(instrument_id=instrument.pk, rate_class=rate_class, on=on)
    if not rows:
        return ChargeTerms(None, None, None)
    *columns, amount, valid_from = rows[0]
    return ChargeTerms(ServiceItem.from_db("default", _ITEM_COLUMNS, columns), amount, valid_from)


def held_for_check(*, instrument: Instrument, starts_at: datetime, ends_at: datetime, rules: booking_rules.Rules,
                   now: datetime) -> list[booking_rules.Held]:
    """The bookings holding slots on the instrument that a check of [starts_at, ends_at) can need: those whose
    held period meets the rules' check window (the buffers and the gap around the request, and the quota periods
    it touches: `rules.check_window`)."""
    low, high = booking_rules.check_window(rules, starts_at, ends_at)
    rows = (Booking.objects.holding(now).filter(instrument=instrument, blocked_from__lt=high, blocked_until__gt=low)
            .values_list("pk", "user_id", "organisation_id", "starts_at", "ends_at", "blocked_from", "blocked_until"))
    return [booking_rules.Held(*row) for row in rows]


@dataclass(frozen=True)
class Neighbours:
    """What a new booking's transaction needs of the instrument's other bookings, read at once."""

    held: list[booking_rules.Held]  # holding their slot in the rules' check window
    stale: list[int]  # pending in that window, their hold expired: to be released first
    released: list[int]  # cancelled or no-show with a fee, overlapping the request: fee relief candidates


def _neighbours(*, instrument_id: int, low: datetime, high: datetime) -> QuerySet:
    Status = Booking.Status
    return (Booking.objects.filter(instrument_id=instrument_id, blocked_from__lt=high, blocked_until__gt=low)
            .filter(Q(status__in=(Status.CONFIRMED, Status.PENDING))
                    | Q(status__in=(Status.CANCELLED, Status.NO_SHOW)) & (Q(cancellation_fee__gt=0)
                                                                        | Q(no_show_fee__gt=0)))
            .values_list("pk", "user_id", "organisation_id", "starts_at", "ends_at", "blocked_from", "blocked_until",
                         "status", "hold_expires_at"))


_SAMPLE = datetime(2000, 1, 1, tzinfo=UTC)
NEIGHBOURS = Prepared(_neighbours, instrument_id=(1, 2), low=(_SAMPLE, _SAMPLE + timedelta(hours=1)),
                      high=(_SAMPLE + timedelta(hours=2), _SAMPLE + timedelta(hours=3)))


def booking_neighbours(*, instrument: Instrument, starts_at: datetime, ends_at: datetime, rules: booking_rules.Rules,
                       now: datetime) -> Neighbours:
    """`held_for_check`, the expired holds the check window meets and the fee-bearing released slots the request
    overlaps, in one read (a new booking's three questions; the instrument is locked, so the answers stand). The
    read is prepared once (twincity.core.prepared): it runs on every booking attempt."""
    low, high = booking_rules.check_window(rules, starts_at, ends_at)
    held, stale, released = [], [], []
    for *row, status, hold_expires_at in NEIGHBOURS.rows(instrument_id=instrument.pk, low=low, high=high):
        if holds_at(status, hold_expires_at, now):
            held.append(booking_rules.Held(*row))
        elif status == Booking.Status.PENDING:
            stale.append(row[0])
        elif row[3] < ends_at and starts_at < row[4]:
            released.append(row[0])
    return Neighbours(held, stale, released)


def week_bookings(*, instrument: Instrument, week_start: datetime, now: datetime) -> QuerySet[Booking]:
    """The bookings of the instrument in the week from `week_start` that hold their slot or were completed."""
    week_end = week_start + timedelta(days=7)
    return (Booking.objects.filter(Q(pk__in=Booking.objects.holding(now).values("pk"))
                                   | Q(status=Booking.Status.COMPLETED),
                                   instrument=instrument, starts_at__lt=week_end, ends_at__gt=week_start)
            .select_related("user").order_by("starts_at"))


def week_blackouts(*, instrument: Instrument, week_start: datetime) -> QuerySet[InstrumentBlackout]:
    return instrument.blackouts.filter(starts_at__lt=week_start + timedelta(days=7), ends_at__gt=week_start)


def bookings_of(*, user) -> QuerySet[Booking]:
    return (Booking.objects.filter(user=user).select_related("instrument", "instrument__owner", "service_item")
            .order_by("-starts_at", "-pk"))


def approval_queue(*, instruments: QuerySet[Instrument], now: datetime) -> QuerySet[Booking]:
    """The pending bookings still held on these instruments, the soonest hold to expire first."""
    return (Booking.objects.holding(now).filter(status=Booking.Status.PENDING, instrument__in=instruments)
            .select_related("instrument", "user", "organisation").order_by("hold_expires_at", "starts_at", "pk"))


def booking_get(*, public_id: UUID) -> Booking | None:
    return (Booking.objects.select_related("instrument", "instrument__owner", "user", "organisation", "service_item")
            .filter(public_id=public_id).first())


def stale_holds(*, now: datetime, instrument: Instrument | None = None) -> QuerySet[Booking]:
    """Pending bookings whose hold has expired (to be released)."""
    qs = Booking.objects.filter(status=Booking.Status.PENDING, hold_expires_at__lte=now)
    return qs.filter(instrument=instrument) if instrument is not None else qs



def prices_from(*, instruments, rate_class: str, on: date) -> dict[int, Decimal]:
    """The lowest price in force on `on` for `rate_class` among each instrument's active items (for a list)."""
    items = (ServiceItem.objects.filter(instrument__in=instruments, active=True)
             .annotate(current=_current_price(rate_class, on)).filter(current__isnull=False)
             .values_list("instrument_id", "current"))
    lowest: dict[int, Decimal] = {}
    for instrument_id, amount in items:
        if instrument_id not in lowest or amount < lowest[instrument_id]:
            lowest[instrument_id] = amount
    return lowest


# --- what a person may open (404 otherwise): the pages and the API call these ---------------------------------


def instrument_for(user, public_id: UUID) -> Instrument:
    return visible_to(user, instrument_get(public_id=public_id), access.can_view_instrument, NO_INSTRUMENT)


def booking_for(user, public_id: UUID) -> Booking:
    return visible_to(user, booking_get(public_id=public_id), access.can_view_booking, NO_BOOKING)


def series_for(user, public_id: UUID) -> BookingSeries:
    series = (BookingSeries.objects.select_related("instrument", "instrument__owner", "user")
              .filter(public_id=public_id).first())
    return visible_to(user, series, access.can_view_series, NO_SERIES)


def job_for(user, public_id: UUID) -> SampleJob:
    job = (SampleJob.objects.select_related("instrument", "instrument__owner", "requester", "organisation")
           .filter(public_id=public_id).first())
    return visible_to(user, job, access.can_view_job, NO_JOB)


def statement_for(user, public_id: UUID) -> Statement:
    statement = Statement.objects.select_related("payer", "owner").filter(public_id=public_id).first()
    return visible_to(user, statement, access.can_view_statement, NO_STATEMENT)
