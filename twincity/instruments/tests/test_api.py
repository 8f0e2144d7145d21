"""The instrument API through real URLs (so config/api.py's error handlers run)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import make_instrument

H = timedelta(hours=1)


@pytest.fixture
def tomorrow_nine():
    """09:00 Shanghai the day after tomorrow (inside the default advance window and opening hours)."""
    day = timezone.localdate() + timedelta(days=2)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 9, 0))


def post(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_booking_through_the_api_answers_201_then_409_with_the_code(client, cast, sem, tomorrow_nine):
    url = f"/api/instruments/{sem.public_id}/bookings"
    client.force_login(cast.alice)
    r = post(client, url, {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()})
    assert r.status_code == 201, r.content
    body = r.json()
    booking = Booking.objects.get()
    assert (body["public_id"], body["status"], body["rate_class"], body["amount"]) == (
        str(booking.public_id), "confirmed", "industry", "600.00")
    client.force_login(cast.bob)
    r = post(client, url, {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()})
    assert r.status_code == 409
    assert r.json()["code"] == "booking_conflict"
    assert r.json()["extra"]["refusals"][0]["rule"] == "overlap"
    assert Booking.objects.count() == 1


def test_the_api_refuses_with_every_rule_and_its_timestamp(client, cast, sem, tomorrow_nine):
    client.force_login(cast.alice)
    start = tomorrow_nine + timedelta(minutes=15)
    r = post(client, f"/api/instruments/{sem.public_id}/bookings",
             {"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=15)).isoformat()})
    assert r.status_code == 409
    refusals = r.json()["extra"]["refusals"]
    assert [(x["rule"], x["override"]) for x in refusals] == [("grid", "administrator"), ("min_length", "administrator")]
    assert refusals[0]["at"] == start.astimezone(timezone.UTC).isoformat()


@pytest.mark.parametrize(("who", "status"), [("bella", 403), ("charlie", 403)])
def test_who_may_not_book(client, cast, sem, tomorrow_nine, who, status):
    client.force_login(getattr(cast, who))
    r = post(client, f"/api/instruments/{sem.public_id}/bookings",
             {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()})
    assert r.status_code == status
    assert not Booking.objects.exists()


def test_statuses(client, cast, sem, tomorrow_nine):
    url = f"/api/instruments/{sem.public_id}/bookings"
    body = {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()}
    assert post(client, url, body).status_code == 401
    client.force_login(cast.alice)
    assert post(client, "/api/instruments/00000000-0000-0000-0000-000000000000/bookings", body).status_code == 404
    assert post(client, url, {**body, "ends_at": (tomorrow_nine - H).isoformat()}).status_code == 422
    assert post(client, url, {**body, "service_item": "nope"}).status_code == 422
    assert post(client, url, {"starts_at": "tomorrow"}).status_code == 422
    r = client.post(url, "{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert not Booking.objects.exists()


def test_search_by_text_city_price_and_availability(client, cast, sem, tomorrow_nine):
    xrd = make_instrument(cast.bob_org, name="X射线衍射仪", city="chengdu", prices=("100", "200", "300"))
    client.force_login(cast.alice)
    r = client.get("/api/instruments/", {"q": "衍射"})
    assert [i["name_zh"] for i in r.json()["items"]] == ["X射线衍射仪"]
    assert [i["name_zh"] for i in client.get("/api/instruments/", {"city": "chongqing"}).json()["items"]] == [sem.name_zh]
    cheap = client.get("/api/instruments/", {"max_price": "300", "rate_class": "industry"}).json()["items"]
    assert [i["public_id"] for i in cheap] == [str(xrd.public_id)]
    Booking.objects.all().delete()
    post(client, f"/api/instruments/{sem.public_id}/bookings",
         {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()})
    window = {"free_from": (tomorrow_nine + H / 2).isoformat(), "free_until": (tomorrow_nine + 2 * H).isoformat()}
    assert [i["name_zh"] for i in client.get("/api/instruments/", window).json()["items"]] == ["X射线衍射仪"]
    after = {"free_from": (tomorrow_nine + H).isoformat(), "free_until": (tomorrow_nine + 2 * H).isoformat()}
    assert len(client.get("/api/instruments/", after).json()["items"]) == 2  # half-open: free from the end on
    assert client.get("/api/instruments/", {"free_from": window["free_from"]}).status_code == 422
    assert client.get("/api/instruments/", {"after": "garbage"}).status_code == 422
    assert client.get("/api/instruments/", {"category": "9999"}).json() == {"items": [], "next_cursor": None}


def test_keyset_pages_follow_the_name_order(client, cast):
    for n in range(5):
        make_instrument(cast.institute, name=f"仪器{n}")
    client.force_login(cast.bob)
    first = client.get("/api/instruments/", {"limit": 2}).json()
    second = client.get("/api/instruments/", {"limit": 2, "after": first["next_cursor"]}).json()
    third = client.get("/api/instruments/", {"limit": 2, "after": second["next_cursor"]}).json()
    names = [i["name_zh"] for page in (first, second, third) for i in page["items"]]
    assert names == ["仪器0", "仪器1", "仪器2", "仪器3", "仪器4"]
    assert third["next_cursor"] is None


def test_the_owner_approves_through_the_api(client, cast, tomorrow_nine):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"approval": {"required": True, "hold_hours": 24}})
    client.force_login(cast.alice)
    created = post(client, f"/api/instruments/{sem.public_id}/bookings",
                   {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()}).json()
    assert created["status"] == "pending"
    assert post(client, f"/api/instruments/bookings/{created['public_id']}/approve", {}).status_code == 403
    client.force_login(cast.bob)
    assert client.get(f"/api/instruments/bookings/{created['public_id']}").status_code == 404
    client.force_login(cast.owen)
    queue = client.get("/api/instruments/approvals").json()
    assert [b["public_id"] for b in queue["items"]] == [created["public_id"]]
    r = post(client, f"/api/instruments/bookings/{created['public_id']}/approve", {"note": "已安排"})
    assert (r.status_code, r.json()["status"], r.json()["decision_note"]) == (200, "confirmed", "已安排")
    assert post(client, f"/api/instruments/bookings/{created['public_id']}/approve", {}).status_code == 409
    assert client.get("/api/instruments/approvals").json()["items"] == []


def test_rules_through_the_api(client, cast, sem):
    client.force_login(cast.alice)
    assert post(client, f"/api/instruments/{sem.public_id}/rules", {"rules": {}}, "put").status_code == 403
    client.force_login(cast.owen)
    r = post(client, f"/api/instruments/{sem.public_id}/rules", {"rules": {"slot_minutes": 7}}, "put")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_rules")
    r = post(client, f"/api/instruments/{sem.public_id}/rules", {"rules": {"cleanup_minutes": 15}}, "put")
    assert (r.status_code, r.json()["rules"], r.json()["rules_version"]) == (200, {"cleanup_minutes": 15}, 2)
    detail = client.get(f"/api/instruments/{sem.public_id}").json()
    assert {(p["rate_class"], p["amount"]) for p in detail["prices"]} == {
        ("internal", "240.00"), ("academic", "420.00"), ("industry", "600.00")}
    assert detail["is_large"] is True and Decimal(detail["original_value"]) == Decimal("3200000")


def test_busy_periods_show_no_names(client, cast, sem, tomorrow_nine):
    client.force_login(cast.alice)
    post(client, f"/api/instruments/{sem.public_id}/bookings",
         {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()})
    client.force_login(cast.bob)
    r = client.get(f"/api/instruments/{sem.public_id}/bookings",
                   {"from": (tomorrow_nine - H).isoformat(), "until": (tomorrow_nine + 5 * H).isoformat()})
    assert r.status_code == 200, r.content
    [busy] = r.json()
    assert set(busy) == {"starts_at", "ends_at", "blocked_from", "blocked_until", "status"}
    assert client.get(f"/api/instruments/{sem.public_id}/bookings",
                      {"from": tomorrow_nine.isoformat(), "until": tomorrow_nine.isoformat()}).status_code == 422
