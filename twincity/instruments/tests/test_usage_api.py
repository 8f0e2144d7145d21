"""Usage through HTTP: the agent's token API, the owner's check-in/out page and API, ratings, statements (page,
XLSX, access)."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from twincity.instruments.models import AgentToken, Booking, Statement, UsageSession
from twincity.instruments.usage_rules import previous_month

H = timedelta(hours=1)


@pytest.fixture
def running(cast, sem):
    """alice's confirmed two-hour booking on the SEM that began 30 to 60 minutes ago (written directly: the clock
    of the test run may put it across local midnight, which the opening-hours rule would refuse)."""
    start = (timezone.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 30)
    return Booking.objects.create(
        instrument=sem, user=cast.alice, organisation=cast.alice_org, starts_at=start, ends_at=start + 2 * H,
        blocked_from=start, blocked_until=start + 2 * H, status="confirmed", rate_class="industry",
        unit_price=Decimal("600.00"), amount=Decimal("1200.00"), service_item=sem.service_items.get())


def agent(client, token, path, **body):
    return client.post(f"/api/instrument-usage/agent/sessions{path}", body, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})


def test_the_agent_starts_beats_and_stops_with_its_token(client, cast, sem, running):
    client.force_login(cast.owen)
    r = client.post(f"/api/instrument-usage/instruments/{sem.public_id}/agent-tokens", {"name": "SEM-PC"},
                    content_type="application/json")
    assert r.status_code == 201
    key, token_id = r.json()["key"], r.json()["id"]
    assert key.startswith("ia_") and AgentToken.objects.get().key_hash != key
    client.logout()
    r = agent(client, key, "", username="alice")
    assert r.status_code == 201
    session = r.json()
    assert session["booking"] == str(running.public_id) and session["source"] == "agent"
    assert agent(client, key, "", username="bob").status_code == 409  # one open session per instrument
    assert agent(client, key, f"/{session['public_id']}/heartbeat").status_code == 200
    r = agent(client, key, f"/{session['public_id']}/stop")
    assert r.status_code == 200 and r.json()["ended_at"] is not None
    assert agent(client, "ia_wrong", "").status_code == 401
    client.force_login(cast.owen)
    assert client.post(f"/api/instrument-usage/agent-tokens/{token_id}/revoke").status_code == 200
    client.logout()
    assert agent(client, key, "").status_code == 401
    assert UsageSession.objects.count() == 1


def test_the_owner_checks_in_and_out_on_the_page(client, cast, running):
    client.force_login(cast.owen)
    page = client.get("/instruments/usage/").content.decode()
    assert f'data-booking="{running.public_id}"' in page and 'data-action="check-in"' in page
    assert client.post(f"/instruments/bookings/{running.public_id}/check-in").status_code == 302
    page = client.get("/instruments/usage/").content.decode()
    assert 'data-action="check-out"' in page
    assert client.post(f"/instruments/bookings/{running.public_id}/check-out").status_code == 302
    running.refresh_from_db()
    assert running.status == Booking.Status.COMPLETED and running.charge.amount > 0
    # alice rates her session on her page, once
    session = UsageSession.objects.get()
    client.force_login(cast.alice)
    assert f'data-session="{session.public_id}"' in client.get("/instruments/usage/mine/").content.decode()
    client.post(f"/instruments/usage/sessions/{session.public_id}/rate", {"score": "5", "comment": "好"})
    assert session.__class__.objects.get().rating.score == 5
    r = client.post(f"/api/instrument-usage/sessions/{session.public_id}/rating", {"score": 4},
                    content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "rating_state"
    # not the owner's staff: no check-in
    assert client.get("/instruments/usage/").status_code == 403


def test_check_in_through_the_api(client, cast, running):
    client.force_login(cast.alice)
    assert client.post(f"/api/instrument-usage/bookings/{running.public_id}/check-in").status_code == 403
    client.force_login(cast.owen)
    r = client.post(f"/api/instrument-usage/bookings/{running.public_id}/check-in")
    assert r.status_code == 201
    r = client.post(f"/api/instrument-usage/bookings/{running.public_id}/check-out")
    assert r.status_code == 200
    # Checked in 30+ minutes late: a no-show by the default 30-minute rule, charged on booked time all the same.
    assert (r.json()["basis"], r.json()["amount"], r.json()["flags"]) == ("booked", "1200.00", ["no_show"])


def test_statements_page_xlsx_and_access(client, cast, sem):
    year, month = previous_month(timezone.localdate())  # a month that is over
    start = timezone.make_aware(timezone.datetime(year, month, 1, 9))
    booking = Booking.objects.create(
        instrument=sem, user=cast.alice, organisation=cast.alice_org, starts_at=start, ends_at=start + H,
        blocked_from=start, blocked_until=start + H, status="confirmed", rate_class="industry",
        unit_price=Decimal("600.00"), amount=Decimal("600.00"), service_item=sem.service_items.get())
    client.force_login(cast.owen)
    r = client.post("/instruments/statements/generate", {"payer": cast.alice_org.pk, "month": f"{year}-{month:02d}"})
    statement = Statement.objects.get()
    assert r.status_code == 302 and statement.total_amount == Decimal("600.00")
    assert statement.lines.get().booking == booking
    client.force_login(cast.alice)
    page = client.get(f"/instruments/statements/{statement.public_id}/").content.decode()
    assert 'data-total="amount">600.00<' in page and 'data-total="cash">600.00<' in page
    book = load_workbook(io.BytesIO(client.get(f"/instruments/statements/{statement.public_id}/xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][-3:] == ("金额（元）", "创新券抵扣（元）", "现金（元）")
    assert rows[1][-3:] == (600, 0, 600) and rows[-1][0] == "合计"
    r = client.get("/api/instrument-usage/statements")
    assert [s["total_amount"] for s in r.json()] == ["600.00"]
    client.force_login(cast.bob)
    assert client.get(f"/instruments/statements/{statement.public_id}/").status_code == 404
    assert client.get("/api/instrument-usage/statements").json() == []
    client.force_login(cast.owen)
    assert client.post(f"/instruments/statements/{statement.public_id}/issue").status_code == 302
    statement.refresh_from_db()
    assert statement.status == "issued"


def test_the_usage_page_lists_tomorrows_bookings_not_yet_open_for_check_in(client, cast, sem):
    """使用登记 shows today's and tomorrow's confirmed bookings (as it says); tomorrow's has no check-in button
    (the window opens an hour before the start); the day after tomorrow's is not listed."""
    today = timezone.localdate()

    def confirmed(days: int) -> Booking:
        start = timezone.make_aware(datetime.combine(today + timedelta(days=days), time(14, 0)))
        return Booking.objects.create(
            instrument=sem, user=cast.alice, organisation=cast.alice_org, starts_at=start, ends_at=start + 2 * H,
            blocked_from=start, blocked_until=start + 2 * H, status="confirmed", rate_class="industry",
            unit_price=Decimal("600.00"), amount=Decimal("1200.00"), service_item=sem.service_items.get())

    tomorrow, later = confirmed(1), confirmed(2)
    client.force_login(cast.owen)
    page = client.get("/instruments/usage/").content.decode()
    assert f'data-booking="{tomorrow.public_id}"' in page
    assert f'data-booking="{later.public_id}"' not in page
    assert 'data-action="check-in"' not in page and "未上机" in page
