"""The calendar feeds, read back with an independent parser (vobject, not the generator icalendar): CRLF line
ends, 75-octet folding that never splits a UTF-8 character, stable UIDs, SEQUENCE raised by every edit, UTC
times; the public busy/free feed tells no names; the secret addresses are made, rotated and revoked."""

import hashlib
from datetime import UTC, timedelta
from unittest import mock

import pytest
import vobject

from twincity.core.models import AuditEntry
from twincity.instruments import feeds, services
from twincity.instruments.models import Booking, CalendarToken, Instrument
from twincity.instruments.tests.conftest import NOW, TUE9, make_instrument

H = timedelta(hours=1)
LONG_PURPOSE = "观察锂离子电池正极材料在循环充放电后的表面形貌与元素分布变化，并对比不同包覆工艺的样品"  # 46 characters


@pytest.fixture(autouse=True)
def frozen_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def book(actor, instrument, start, end, **kw):
    return services.booking_create(actor=actor, instrument=instrument, starts_at=start, ends_at=end, now=NOW, **kw)


def parse(body: bytes):
    return vobject.readOne(body.decode("utf-8"))


def events_by_uid(calendar) -> dict[str, object]:
    return {event.uid.value: event for event in calendar.contents.get("vevent", [])}


def assert_rfc5545_lines(body: bytes) -> None:
    """CRLF only; each physical line at most 75 octets and whole UTF-8 on its own (no character split)."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises if a fold cut a character


def test_the_user_feed_folds_chinese_at_75_octets_between_characters(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + 2 * H, purpose=LONG_PURPOSE)
    body = feeds.user_feed(user=cast.alice)

    assert_rfc5545_lines(body)
    folded = [line for line in body.split(b"\r\n") if line.startswith(b" ")]
    assert len(folded) >= 2  # the description is long enough to need folding
    assert any(len(line) in (73, 74, 75) for line in body.split(b"\r\n"))  # folded close to the limit
    event = events_by_uid(parse(body))[f"{booking.public_id}@{feeds.UID_DOMAIN}"]
    assert f"用途：{LONG_PURPOSE}" in event.description.value.split("\n")  # unfolded intact
    assert event.summary.value == f"场发射扫描电子显微镜（{Booking.Status.CONFIRMED.label}）"
    assert event.dtstart.value == TUE9.astimezone(UTC)
    assert event.dtend.value == (TUE9 + 2 * H).astimezone(UTC)
    assert event.dtstart.value.utcoffset() == timedelta(0)
    assert b"DTSTART:20261208T010000Z\r\n" in body  # 09:00 Asia/Shanghai = 01:00Z
    assert "2026-12-08 09:00 – 2026-12-08 11:00" in event.description.value  # shown in Asia/Shanghai time
    assert event.status.value == "CONFIRMED"
    assert event.sequence.value == "0"
    assert b"METHOD" not in body


def test_uid_stays_and_sequence_rises_on_every_edit(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 48}})
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    uid = f"{booking.public_id}@{feeds.UID_DOMAIN}"
    seen = []

    def snapshot():
        event = events_by_uid(parse(feeds.user_feed(user=cast.alice)))[uid]
        seen.append((int(event.sequence.value), event.status.value, event.dtstart.value))

    snapshot()
    booking = services.booking_change(
        actor=cast.alice, booking=booking, starts_at=TUE9 + 2 * H, ends_at=TUE9 + 3 * H, now=NOW
    )
    snapshot()
    booking = services.booking_approve(actor=cast.owen, booking=booking, note="同意", now=NOW)
    snapshot()
    booking = services.booking_cancel(actor=cast.alice, booking=booking, reason="样品未到", now=NOW)
    snapshot()

    assert seen == [
        (0, "TENTATIVE", TUE9.astimezone(UTC)),
        (1, "TENTATIVE", (TUE9 + 2 * H).astimezone(UTC)),
        (2, "CONFIRMED", (TUE9 + 2 * H).astimezone(UTC)),
        (3, "CANCELLED", (TUE9 + 2 * H).astimezone(UTC)),
    ]
    assert Booking.objects.get(pk=booking.pk).sequence == 3
    assert Booking.objects.count() == 1  # edited in place, one UID throughout


def test_a_refusal_and_an_expiry_raise_the_sequence_too(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 1}})
    refused = book(cast.alice, sem, TUE9, TUE9 + H)
    book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    services.booking_refuse(actor=cast.owen, booking=refused, note="设备检修", now=NOW)
    assert services.booking_holds_expire(now=NOW + 2 * H) == 1
    assert list(Booking.objects.order_by("pk").values_list("status", "sequence")) == [("refused", 1), ("expired", 1)]


def test_the_public_feed_shows_busy_periods_with_buffers_and_no_names(client, cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"setup_minutes": 15, "cleanup_minutes": 30})
    mine = book(cast.alice, sem, TUE9, TUE9 + H, purpose="机密项目")
    book(cast.bob, sem, TUE9 + 3 * H, TUE9 + 4 * H)
    services.booking_cancel(actor=cast.bob, booking=Booking.objects.get(user=cast.bob), now=NOW)

    response = client.get(f"/instruments/feeds/instruments/{sem.public_id}.ics")  # not signed in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert_rfc5545_lines(body)
    events = events_by_uid(parse(body))
    assert list(events) == [f"{mine.public_id}@{feeds.UID_DOMAIN}"]  # the cancelled one blocks nothing
    event = events[f"{mine.public_id}@{feeds.UID_DOMAIN}"]
    assert (event.dtstart.value, event.dtend.value) == (
        (TUE9 - timedelta(minutes=15)).astimezone(UTC),
        (TUE9 + H + timedelta(minutes=30)).astimezone(UTC),
    )
    assert event.summary.value == "已占用"
    text = body.decode()
    for secret in ("机密项目", "Alice", "alice", "金凤"):
        assert secret not in text


def test_blackouts_are_in_the_instrument_feed(client, cast):
    start = (TUE9 + timedelta(days=1)).isoformat()
    until = (TUE9 + timedelta(days=2)).isoformat()
    sem = make_instrument(
        cast.institute,
        actor=cast.owen,
        rules={"blackouts": [{"from": start, "until": until, "reason": "年度预防性维护"}]},
    )
    body = client.get(f"/instruments/feeds/instruments/{sem.public_id}.ics").content
    [event] = parse(body).contents["vevent"]
    assert event.summary.value == "停用维护：年度预防性维护"
    assert event.dtstart.value == (TUE9 + timedelta(days=1)).astimezone(UTC)
    # The same blackout saved again keeps its UID.
    services.instrument_rules_set(actor=cast.owen, instrument=sem, definition=sem.rules)
    again = parse(client.get(f"/instruments/feeds/instruments/{sem.public_id}.ics").content)
    assert again.contents["vevent"][0].uid.value == event.uid.value


def test_a_retired_or_unknown_instrument_has_no_feed(client, cast, sem):
    Instrument.objects.filter(pk=sem.pk).update(status=Instrument.Status.RETIRED)
    assert client.get(f"/instruments/feeds/instruments/{sem.public_id}.ics").status_code == 404
    assert client.get("/instruments/feeds/instruments/00000000-0000-0000-0000-000000000000.ics").status_code == 404


def test_a_token_is_made_rotated_and_revoked(client, cast, sem):
    book(cast.alice, sem, TUE9, TUE9 + H)
    first = feeds.calendar_token_rotate(actor=cast.alice)
    stored = CalendarToken.objects.get(user=cast.alice)
    assert stored.digest == hashlib.sha256(first.encode()).hexdigest()  # the token itself is not stored
    assert first not in stored.digest

    url = f"/instruments/feeds/{first}/bookings.ics"
    response = client.get(url)
    assert response.status_code == 200
    assert len(parse(response.content).contents["vevent"]) == 1
    assert CalendarToken.objects.get(pk=stored.pk).last_used_at == NOW

    second = feeds.calendar_token_rotate(actor=cast.alice)
    assert client.get(url).status_code == 404  # the old address is dead
    assert client.get(f"/instruments/feeds/{second}/bookings.ics").status_code == 200
    assert CalendarToken.objects.filter(user=cast.alice, revoked_at__isnull=True).count() == 1

    assert feeds.calendar_token_revoke(actor=cast.alice) == 1
    assert client.get(f"/instruments/feeds/{second}/bookings.ics").status_code == 404
    assert feeds.calendar_token_revoke(actor=cast.alice) == 0
    contexts = list(
        AuditEntry.objects.filter(object_type="instruments.calendartoken")
        .order_by("pk")
        .values_list("action", "context")
    )
    assert contexts == [
        ("create", "calendar feed address made"),
        ("update", "calendar feed address rotated"),
        ("create", "calendar feed address made"),
        ("update", "calendar feed address revoked"),
    ]


def test_a_token_feed_of_an_instrument_details_only_what_the_person_may_see(client, cast, sem):
    mine = book(cast.alice, sem, TUE9, TUE9 + H, purpose="我的实验")
    theirs = book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H, purpose="别人的实验")
    token = feeds.calendar_token_rotate(actor=cast.alice)
    body = client.get(f"/instruments/feeds/{token}/instruments/{sem.public_id}.ics").content
    events = events_by_uid(parse(body))
    assert "用途：我的实验" in events[f"{mine.public_id}@{feeds.UID_DOMAIN}"].description.value
    assert events[f"{theirs.public_id}@{feeds.UID_DOMAIN}"].summary.value == "已占用"
    assert "别人的实验" not in body.decode()


def test_only_people_who_book_get_an_address_and_the_page_makes_one(client, cast):
    from twincity.core.errors import Forbidden

    with pytest.raises(Forbidden):
        feeds.calendar_token_rotate(actor=cast.charlie)
    assert not CalendarToken.objects.exists()
    assert client.get("/instruments/feeds/not-a-token/bookings.ics").status_code == 404

    client.force_login(cast.alice)
    response = client.post("/instruments/calendar-token", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "新的日历订阅地址" in page and "/instruments/feeds/" in page
    token = page.split("/instruments/feeds/")[1].split("/bookings.ics")[0]
    assert client.get(f"/instruments/feeds/{token}/bookings.ics").status_code == 200
    client.post("/instruments/calendar-token", {"action": "revoke"})
    assert client.get(f"/instruments/feeds/{token}/bookings.ics").status_code == 404


def test_the_feed_costs_a_fixed_number_of_queries(cast, sem, django_assert_max_num_queries):
    for day in range(5):
        book(cast.alice, sem, TUE9 + timedelta(days=day), TUE9 + timedelta(days=day, hours=1))
    with django_assert_max_num_queries(2):
        feeds.instrument_feed(instrument=sem, viewer=None)
    with django_assert_max_num_queries(1):
        feeds.user_feed(user=cast.alice)
    with django_assert_max_num_queries(4):  # owen (the owner's staff) sees every booking in detail
        body = feeds.instrument_feed(instrument=sem, viewer=cast.owen)
    assert body.decode().count("用途") == 0 and body.decode().count("状态：") == 5
