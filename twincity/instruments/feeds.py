"""RFC 5545 calendar feeds of instrument sharing, generated with `icalendar`, and the secret per-person addresses
calendar apps subscribe to.

* **An instrument's public feed** (`feeds/instruments/<public_id>.ics`, no sign-in): its busy periods as
  calendar apps show free/busy: what each booking that holds its slot (or was completed) blocks, set-up and
  clean-up included, and its blackouts; no names, no purposes.
* **An instrument's feed through a person's token** (`feeds/<token>/instruments/<public_id>.ics`): the same
  periods; the bookings the person may see (`access.can_view_booking`) carry their details.
* **A person's own bookings** (`feeds/<token>/bookings.ics`): every booking of theirs in the window, cancelled,
  refused and expired ones as `STATUS:CANCELLED` so subscribed calendars drop them.

What holds for every feed (RFC 5545 §3.1, §3.8): CRLF line ends; lines folded at 75 octets between characters,
never inside a UTF-8 sequence (icalendar's folding counts octets per character); no METHOD (a published feed,
not an invitation); one VEVENT per booking whose UID is `<booking public_id>@<UID_DOMAIN>` (never changes) and
whose SEQUENCE is the booking's `sequence` (raised by every service write that changes its period or status);
DTSTAMP and LAST-MODIFIED the booking's last change; times in UTC (`…Z`), the description repeating them in
Asia/Shanghai time.

Tokens: only a SHA-256 digest is stored; the address is shown once, when made. Rotating revokes the live token
and makes a new one; revoking stops the feed (404, like an address that never existed). Both are audited.
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.models import AuditEntry
from twincity.instruments import access
from twincity.instruments.models import Booking, BookingStatus, CalendarToken, Instrument, InstrumentBlackout

UID_DOMAIN = "instruments.twincity.cn"
PRODID = "-//twincity//西部科学城大型仪器共享//ZH"
# The window a feed covers: the recent past (so a finished booking stays on the calendar) and the months ahead.
PAST = timedelta(days=31)
AHEAD = timedelta(days=190)
REFRESH = "PT1H"  # RFC 7986 REFRESH-INTERVAL: what subscribed calendars are asked to poll at
BUSY_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
FEED_CAN_SUBSCRIBE = "只有可预约仪器的用户可以订阅预约日历 (only people who book instruments have a bookings feed)"
STATUS_ZH = dict(BookingStatus.choices)


# --- tokens (the write path of CalendarToken) -------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_token_rotate(*, actor, now: datetime | None = None) -> str:
    """Make the actor's new feed token (revoking the live one, if any); the token itself, shown once."""
    require(access.can_book_any(actor), FEED_CAN_SUBSCRIBE)
    now = now or timezone.now()
    for live in CalendarToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        _revoke(actor, live, now, "rotated")
    token = secrets.token_urlsafe(32)
    made = CalendarToken.objects.create(user=actor, digest=_digest(token))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=made,
        after={"user_id": actor.pk},
        context="calendar feed address made",
    )
    return token


@transaction.atomic
def calendar_token_revoke(*, actor, now: datetime | None = None) -> int:
    """Stop the actor's feed address; how many tokens were live (0 or 1)."""
    now = now or timezone.now()
    revoked = 0
    for live in CalendarToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        _revoke(actor, live, now, "revoked")
        revoked += 1
    return revoked


def _revoke(actor, token: CalendarToken, now: datetime, why: str) -> None:
    before = snapshot(token, ("revoked_at",))
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=token,
        before=before,
        after=snapshot(token, ("revoked_at",)),
        context=f"calendar feed address {why}",
    )


def calendar_token_user(*, token: str, now: datetime | None = None):
    """The person a live token belongs to (and still may book), or None. Notes when it was last used, at most
    once an hour (a calendar polls often; that is not worth a write each time)."""
    if not token or len(token) > 100:
        return None
    row = (
        CalendarToken.objects.select_related("user", "user__organisation")
        .filter(digest=_digest(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active or not access.can_book_any(row.user):
        return None
    now = now or timezone.now()
    if row.last_used_at is None or now - row.last_used_at > timedelta(hours=1):
        CalendarToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def calendar_token_live(*, user) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()


# --- rendering ---------------------------------------------------------------------------------------------------


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)  # what Apple and Google calendars read
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    return calendar


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.UTC)


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def booking_uid(booking: Booking) -> str:
    return f"{booking.public_id}@{UID_DOMAIN}"


def _booking_event(booking: Booking, *, detailed: bool, instrument: Instrument) -> Event:
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", _utc(booking.updated_at))
    event.add("created", _utc(booking.created_at))
    event.add("last-modified", _utc(booking.updated_at))
    if booking.status in BUSY_STATUSES:
        event.add("status", "TENTATIVE" if booking.status == BookingStatus.PENDING else "CONFIRMED")
        event.add("transp", "OPAQUE")
    else:
        event.add("status", "CANCELLED")
        event.add("transp", "TRANSPARENT")
    status = STATUS_ZH[booking.status]
    if detailed:
        event.add("dtstart", _utc(booking.starts_at))
        event.add("dtend", _utc(booking.ends_at))
        event.add("summary", f"{instrument.name_zh}（{status}）")
        lines = [
            f"仪器：{instrument.name_zh} {instrument.model}".strip(),
            f"单位：{instrument.owner.name}",
            f"时间（北京时间 Asia/Shanghai）：{_local(booking.starts_at)} – {_local(booking.ends_at)}",
            f"状态：{status}",
        ]
        if booking.blocked_from != booking.starts_at or booking.blocked_until != booking.ends_at:
            lines.append(f"含准备与清理：{_local(booking.blocked_from)} – {_local(booking.blocked_until)}")
        if booking.purpose:
            lines.append(f"用途：{booking.purpose}")
        event.add("description", "\n".join(lines))
        if instrument.site:
            event.add("location", instrument.site)
    else:
        # Busy/free: what the booking blocks (set-up and clean-up included), nothing about who or why.
        event.add("dtstart", _utc(booking.blocked_from))
        event.add("dtend", _utc(booking.blocked_until))
        event.add("summary", "已占用（待审批）" if booking.status == BookingStatus.PENDING else "已占用")
        event.add("description", f"北京时间 {_local(booking.blocked_from)} – {_local(booking.blocked_until)}")
    event.add("class", "PRIVATE" if detailed else "PUBLIC")
    return event


def _blackout_event(blackout: InstrumentBlackout, instrument: Instrument, stamp: datetime) -> Event:
    # Blackout rows are rewritten whenever the rules are saved: the UID comes from what they are, not their id.
    key = f"{instrument.public_id}:{_utc(blackout.starts_at).isoformat()}:{_utc(blackout.ends_at).isoformat()}"
    event = Event()
    event.add("uid", f"blackout-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{UID_DOMAIN}")
    event.add("sequence", instrument.rules_version)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(blackout.starts_at))
    event.add("dtend", _utc(blackout.ends_at))
    event.add("summary", f"停用维护：{blackout.reason}" if blackout.reason else "停用维护")
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _window(now: datetime) -> tuple[datetime, datetime]:
    return now - PAST, now + AHEAD


def instrument_feed(*, instrument: Instrument, viewer=None, now: datetime | None = None) -> bytes:
    """The instrument's busy periods in the window; with a viewer, the bookings they may see in detail."""
    now = now or timezone.now()
    low, high = _window(now)
    calendar = _calendar(f"{instrument.name_zh} · 占用情况")
    bookings = (
        Booking.objects.filter(
            instrument=instrument, status__in=BUSY_STATUSES, blocked_from__lt=high, blocked_until__gt=low
        )
        .select_related("instrument", "instrument__owner")
        .order_by("blocked_from", "pk")
    )
    rows = list(_holding_or_done(bookings, now))
    # The list form of access.can_view_booking: one query, whatever the number of bookings.
    seen = (
        set(access.bookings_visible(viewer).filter(pk__in=[b.pk for b in rows]).values_list("pk", flat=True))
        if viewer is not None and rows
        else set()
    )
    for booking in rows:
        calendar.add_component(_booking_event(booking, detailed=booking.pk in seen, instrument=instrument))
    for blackout in instrument.blackouts.filter(starts_at__lt=high, ends_at__gt=low).order_by("starts_at"):
        calendar.add_component(_blackout_event(blackout, instrument, instrument.updated_at))
    return calendar.to_ical()


def _holding_or_done(bookings: Iterable[Booking], now: datetime) -> Iterable[Booking]:
    """Leave out pending bookings whose hold has expired (they no longer block, the schedule releases them)."""
    for booking in bookings:
        if booking.status == BookingStatus.PENDING and booking.hold_expires_at and booking.hold_expires_at <= now:
            continue
        yield booking


def user_feed(*, user, now: datetime | None = None) -> bytes:
    """A person's bookings in the window, with their details; the ones that no longer hold as CANCELLED."""
    now = now or timezone.now()
    low, high = _window(now)
    calendar = _calendar("我的仪器预约")
    bookings = (
        Booking.objects.filter(user=user, starts_at__lt=high, ends_at__gt=low)
        .select_related("instrument", "instrument__owner")
        .order_by("starts_at", "pk")
    )
    for booking in bookings:
        calendar.add_component(_booking_event(booking, detailed=True, instrument=booking.instrument))
    return calendar.to_ical()


def instrument_for_feed(*, public_id: UUID) -> Instrument | None:
    """An instrument whose public feed exists: any not retired."""
    return (
        Instrument.objects.select_related("owner")
        .exclude(status=Instrument.Status.RETIRED)
        .filter(public_id=public_id)
        .first()
    )
