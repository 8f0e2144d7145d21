"""The instrument API through real URLs (so config/api.py's error handlers run)."""

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import SH, make_instrument

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


# --- recurring series, no-shows, qualifications ------------------------------------------------------------------


def test_a_series_through_the_api_is_all_or_nothing_or_skips_with_reasons(client, cast, tomorrow_nine):
    from twincity.instruments.models import BookingSeries

    sem = make_instrument(cast.institute, actor=cast.owen, rules={"quotas": [{"per": "day", "count": 2}]})
    url = f"/api/instruments/{sem.public_id}/series"
    body = {"first_start": tomorrow_nine.isoformat(), "first_end": (tomorrow_nine + H).isoformat(),
            "rrule": "FREQ=HOURLY;INTERVAL=2;COUNT=3"}
    client.force_login(cast.alice)
    r = post(client, url, body)
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "booking_refused"
    [third] = r.json()["extra"]["occurrences"]
    assert third["starts_at"] == (tomorrow_nine + 4 * H).astimezone(timezone.UTC).isoformat()
    assert [(x["rule"], x["override"]) for x in third["refusals"]] == [("quota.user.day.count", "administrator")]
    assert not Booking.objects.exists() and not BookingSeries.objects.exists()

    r = post(client, url, {**body, "skip_conflicts": True})
    assert r.status_code == 201, r.content
    made = r.json()
    assert [datetime.fromisoformat(b["starts_at"]) for b in made["bookings"]] == [tomorrow_nine,
                                                                                    tomorrow_nine + 2 * H]
    assert {b["series"] for b in made["bookings"]} == {made["public_id"]}
    assert [s["refusals"][0]["rule"] for s in made["skipped"]] == ["quota.user.day.count"]
    assert client.get(f"/api/instruments/series/{made['public_id']}").json()["sequence"] == 0

    # Moving both occurrences of one day to the same time makes them collide with each other: refused.
    r = post(client, f"/api/instruments/series/{made['public_id']}/change", {"start": "14:00", "minutes": 60})
    assert (r.status_code, r.json()["code"]) == (409, "booking_conflict")
    r = post(client, f"/api/instruments/series/{made['public_id']}/change", {"start": "13:30", "minutes": 30,
                                                                             "from_day": str(tomorrow_nine.date())})
    assert (r.status_code, r.json()["code"]) == (409, "booking_conflict")
    client.force_login(cast.bob)  # (alice has her two a day)
    daily = post(client, url, {**body, "first_start": (tomorrow_nine + 8 * H).isoformat(),
                               "first_end": (tomorrow_nine + 9 * H).isoformat(), "rrule": "FREQ=DAILY;COUNT=2"})
    assert daily.status_code == 201, daily.content
    r = post(client, f"/api/instruments/series/{daily.json()['public_id']}/change", {"start": "18:00", "minutes": 60})
    assert r.status_code == 200, r.content
    assert {datetime.fromisoformat(b["starts_at"]).astimezone(SH).hour for b in r.json()["bookings"]} == {18}
    client.force_login(cast.alice)
    assert r.json()["sequence"] == 1
    client.force_login(cast.alice)
    r = post(client, f"/api/instruments/series/{made['public_id']}/cancel", {"reason": "课题结束"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], {b["status"] for b in r.json()["bookings"]}) == ("ended", {"cancelled"})

    client.force_login(cast.bob)  # another person's series is not found
    assert client.get(f"/api/instruments/series/{made['public_id']}").status_code == 404


@pytest.mark.parametrize(("rule", "exdates"), [("FREQ=DAILY", []), ("FREQ=FORTNIGHTLY;COUNT=2", []),
                                               ("FREQ=DAILY;COUNT=2", ["someday"])])
def test_a_series_rule_that_cannot_be_used_is_422(client, cast, sem, tomorrow_nine, rule, exdates):
    client.force_login(cast.alice)
    r = post(client, f"/api/instruments/{sem.public_id}/series", {
        "first_start": tomorrow_nine.isoformat(), "first_end": (tomorrow_nine + H).isoformat(), "rrule": rule,
        "exdates": exdates})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_series"


def test_no_show_and_its_waiver_through_the_api(client, cast):
    from twincity.instruments import services

    sem = make_instrument(cast.institute, actor=cast.owen, rules={"no_show": {"fixed": "200"}})
    start = timezone.now().astimezone(timezone.get_current_timezone()).replace(
        minute=0, second=0, microsecond=0) - 2 * H
    start = start.replace(hour=10) if not 8 <= start.hour <= 18 else start
    booking = services.booking_create(actor=cast.alice, instrument=sem, starts_at=start, ends_at=start + H,
                                      now=start - timedelta(days=1))
    client.force_login(cast.alice)
    assert post(client, f"/api/instruments/bookings/{booking.public_id}/no-show", {}).status_code == 403
    client.force_login(cast.owen)
    r = post(client, f"/api/instruments/bookings/{booking.public_id}/no-show", {"note": "未到场"})
    if start > timezone.now():  # (only when this runs before 10:00 local: the booking has not started)
        assert r.status_code == 409
        return
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["no_show_fee"]) == ("no_show", "200.00")
    r = post(client, f"/api/instruments/bookings/{booking.public_id}/waive-fee", {"reason": "设备预热故障"})
    assert (r.status_code, r.json()["no_show_fee"], r.json()["fee_waived_reason"]) == (200, "0.00", "设备预热故障")


def test_qualifications_through_the_api(client, cast, tomorrow_nine):
    sem = make_instrument(cast.institute)
    sem.operation, sem.required_qualification = sem.Operation.SELF, "上机培训"
    sem.save()
    url = f"/api/instruments/{sem.public_id}/qualifications"
    day = tomorrow_nine.date()
    grant = {"username": cast.alice.username, "valid_from": str(day), "valid_until": str(day), "note": "培训合格"}
    client.force_login(cast.alice)
    booking = {"starts_at": tomorrow_nine.isoformat(), "ends_at": (tomorrow_nine + H).isoformat()}
    r = post(client, f"/api/instruments/{sem.public_id}/bookings", booking)
    assert (r.status_code, r.json()["extra"]["refusals"][0]["rule"]) == (409, "qualification")
    assert post(client, url, grant).status_code == 403
    assert client.get(url).status_code == 403
    client.force_login(cast.owen)
    assert post(client, url, {**grant, "username": "nobody"}).status_code == 422
    r = post(client, url, grant)
    assert r.status_code == 201, r.content
    qualification = r.json()
    assert (qualification["user"], qualification["granted_by"], qualification["revoked_at"]) == (
        cast.alice.username, cast.owen.username, None)
    assert [q["id"] for q in client.get(url).json()] == [qualification["id"]]
    client.force_login(cast.alice)
    assert post(client, f"/api/instruments/{sem.public_id}/bookings", booking).status_code == 201
    client.force_login(cast.owen)
    r = post(client, f"/api/instruments/qualifications/{qualification['id']}/revoke", {"reason": "违规"})
    assert (r.status_code, r.json()["revoke_reason"]) == (200, "违规")
    assert post(client, f"/api/instruments/qualifications/{qualification['id']}/revoke",
                {"reason": "again"}).status_code == 409
