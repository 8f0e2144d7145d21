"""The instrument pages: the catalogue, an instrument's week and booking form (refusals explained), my bookings
and the approval queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from twincity.instruments import services
from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import make_instrument

H = timedelta(hours=1)


@pytest.fixture
def day():
    return timezone.localdate() + timedelta(days=2)


def at(day, hour, minute=0):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour, minute))


def test_the_catalogue_lists_and_filters(client, cast, sem):
    make_instrument(cast.institute, name="核磁共振波谱仪", city="chengdu")
    client.force_login(cast.alice)
    page = client.get("/instruments/").content.decode()
    assert "场发射扫描电子显微镜" in page and "核磁共振波谱仪" in page
    page = client.get("/instruments/", {"city": "chengdu"}, headers={"HX-Request": "true"}).content.decode()
    assert "核磁共振波谱仪" in page and "场发射扫描电子显微镜" not in page
    assert "<html" not in page  # the partial only


def test_the_catalogue_is_for_signed_in_people(client, cast, sem):
    assert client.get("/instruments/").status_code == 302


def test_booking_from_the_page_and_seeing_it_in_the_week(client, cast, sem, day):
    client.force_login(cast.alice)
    r = client.post(f"/instruments/{sem.public_id}/book", {"day": day.isoformat(), "start": "09:00", "end": "10:30"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    booking = Booking.objects.get()
    assert (booking.starts_at, booking.ends_at, booking.user) == (at(day, 9), at(day, 10, 30), cast.alice)
    assert f'data-booked="{booking.public_id}"' in r.content.decode()
    week = client.get(f"/instruments/{sem.public_id}/", {"week": day.isoformat()}).content.decode()
    assert "09:00–10:30" in week
    # bob sees the slot taken, not by whom.
    client.force_login(cast.bob)
    week = client.get(f"/instruments/{sem.public_id}/", {"week": day.isoformat()}).content.decode()
    assert "09:00–10:30" in week and str(cast.alice) not in week


def test_a_refusal_is_explained_on_the_page(client, cast, sem, day):
    services.booking_create(actor=cast.bob, instrument=sem, starts_at=at(day, 9), ends_at=at(day, 10))
    client.force_login(cast.alice)
    r = client.post(f"/instruments/{sem.public_id}/book", {"day": day.isoformat(), "start": "09:30", "end": "10:00"},
                    headers={"HX-Request": "true"})
    page = r.content.decode()
    assert 'data-rule="overlap"' in page
    assert f"{day.isoformat()} 09:00" in page  # the timestamp the rule used, in Asia/Shanghai
    assert Booking.objects.count() == 1


def test_my_bookings_and_cancel(client, cast, sem, day):
    booking = services.booking_create(actor=cast.alice, instrument=sem, starts_at=at(day, 9), ends_at=at(day, 10))
    client.force_login(cast.alice)
    page = client.get("/instruments/bookings/").content.decode()
    assert f'data-booking="{booking.public_id}"' in page
    r = client.post(f"/instruments/bookings/{booking.public_id}/cancel")
    assert r.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    client.force_login(cast.bob)
    assert client.post(f"/instruments/bookings/{booking.public_id}/cancel").status_code == 404


def test_the_owner_approves_from_the_queue(client, cast, day):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True}})
    booking = services.booking_create(actor=cast.alice, instrument=sem, starts_at=at(day, 9), ends_at=at(day, 10))
    client.force_login(cast.alice)
    assert client.get("/instruments/approvals/").status_code == 403
    client.force_login(cast.owen)
    assert f'data-booking="{booking.public_id}"' in client.get("/instruments/approvals/").content.decode()
    client.post(f"/instruments/bookings/{booking.public_id}/approve", {"note": "OK"})
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by) == ("confirmed", cast.owen)
    assert f'data-booking="{booking.public_id}"' not in client.get("/instruments/approvals/").content.decode()


def test_the_navigation_shows_each_persona_its_pages(client, cast):
    client.force_login(cast.owen)
    page = client.get("/instruments/").content.decode()
    assert 'href="/instruments/approvals/"' in page and 'href="/instruments/bookings/"' in page
    client.force_login(cast.bella)
    page = client.get("/instruments/").content.decode()
    assert 'href="/instruments/approvals/"' not in page and 'href="/instruments/bookings/"' not in page


def test_booking_a_series_from_the_page_all_or_nothing_then_skipping(client, cast, day):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"quotas": [{"per": "day", "count": 2}]})
    client.force_login(cast.alice)
    page = client.get(f"/instruments/{sem.public_id}/").content.decode()
    assert "周期预约" in page and 'name="rrule"' in page
    form = {"first_day": day.isoformat(), "start": "09:00", "end": "10:00", "rrule": "FREQ=HOURLY;INTERVAL=2;COUNT=3",
            "exdates": "", "purpose": "表征"}
    r = client.post(f"/instruments/{sem.public_id}/series", form, headers={"HX-Request": "true"})
    page = r.content.decode()
    assert "<html" not in page and 'data-rule="quota.user.day.count"' in page
    assert f'data-occurrence="{day.isoformat()} 13:00"' in page
    assert not Booking.objects.exists()

    r = client.post(f"/instruments/{sem.public_id}/series", {**form, "skip_conflicts": "on"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "已预约 2 次，跳过 1 次" in page and 'data-rule="quota.user.day.count"' in page
    assert list(Booking.objects.order_by("starts_at").values_list("starts_at", flat=True)) == [
        at(day, 9), at(day, 11)]


def test_a_series_form_with_a_rule_that_cannot_be_used(client, cast, sem, day):
    client.force_login(cast.alice)
    r = client.post(f"/instruments/{sem.public_id}/series", {
        "first_day": day.isoformat(), "start": "09:00", "end": "10:00", "rrule": "FREQ=DAILY"})
    assert r.status_code == 422
    assert "COUNT 或 UNTIL" in r.content.decode()
    assert not Booking.objects.exists()
