"""Usage sessions through the services: operator check-in/out, the agent's token API, reconciliation and the
booking's charge, ratings, monthly statements."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from twincity.core.errors import Forbidden
from twincity.core.models import AuditEntry
from twincity.instruments import services, usage
from twincity.instruments.errors import ChargeFrozen, RatingState, SessionState, StatementState
from twincity.instruments.models import AgentToken, Booking, Statement, StatementLine, UsageSession
from twincity.instruments.tests.conftest import NOW, TUE9, make_instrument
from twincity.notifications.models import Notification

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def larger(cast):
    """An SEM billed on the larger of booked and actual time, actual rounded up to 15 minutes."""
    return make_instrument(cast.institute, actor=cast.owen,
                           rules={"billing": {"basis": "larger", "increment_minutes": 15}})


def book(actor, instrument, start, end):
    return services.booking_create(actor=actor, instrument=instrument, starts_at=start, ends_at=end, now=NOW)


def test_check_in_and_out_completes_and_charges_the_booking(cast, larger):
    booking = book(cast.alice, larger, TUE9, TUE9 + H)  # industry rate, 600/h frozen
    session = usage.session_check_in(actor=cast.owen, booking=booking, now=TUE9 + 5 * M)
    assert (session.user, session.organisation, session.source, session.kind) == (
        cast.alice, cast.alice_org, "operator", "normal")
    charge = usage.session_check_out(actor=cast.owen, booking=booking, now=TUE9 + 80 * M)
    # used 09:05–10:20 = 75 min (rounded up to 75); booked 60; larger → 75 min × 600/h = 750.00
    assert (charge.booked_minutes, charge.actual_minutes, charge.billable_minutes) == (60, 75, 75)
    assert (charge.overrun_minutes, charge.idle_minutes, charge.no_show) == (20, 5, False)
    assert charge.flags == ["overrun", "idle"]
    assert (charge.rate_class, charge.unit_price, charge.quantity, charge.amount) == (
        "industry", Decimal("600.00"), Decimal("1.2500"), Decimal("750.00"))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED
    assert UsageSession.objects.get().ended_at == TUE9 + 80 * M
    contexts = list(AuditEntry.objects.order_by("pk").values_list("object_type", "context"))
    assert contexts[-4:] == [("instruments.usagesession", "session opened (operator)"),
                             ("instruments.usagesession", "checked out"),
                             ("instruments.booking", "completed at check-out"),
                             ("instruments.bookingcharge", "charge on larger time: overrun, idle")]


def test_check_in_refusals(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    with pytest.raises(Forbidden):
        usage.session_check_in(actor=cast.alice, booking=booking, now=TUE9)
    with pytest.raises(SessionState):  # more than an hour early
        usage.session_check_in(actor=cast.owen, booking=booking, now=TUE9 - 61 * M)
    usage.session_check_in(actor=cast.owen, booking=booking, now=TUE9 - 60 * M)
    other = book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    with pytest.raises(SessionState):  # one open session per instrument
        usage.session_check_in(actor=cast.owen, booking=other, now=TUE9 + 2 * H)
    with pytest.raises(SessionState):
        usage.session_check_out(actor=cast.owen, booking=other, now=TUE9 + 2 * H)
    assert UsageSession.objects.count() == 1


def test_the_database_refuses_a_second_open_session(cast, sem):
    UsageSession.objects.create(instrument=sem, started_at=TUE9, source="operator")
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageSession.objects.create(instrument=sem, started_at=TUE9 + H, source="agent")


def test_a_no_show_on_booked_time_is_charged_as_booked(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    with pytest.raises(SessionState):  # not over yet
        usage.booking_settle(actor=cast.owen, booking=booking, now=TUE9 + H)
    charge = usage.booking_settle(actor=cast.owen, booking=booking, now=TUE9 + 3 * H)
    assert (charge.basis, charge.no_show, charge.flags, charge.amount) == ("booked", True, ["no_show"],
                                                                            Decimal("1200.00"))


def test_the_agent_token_api_flow(cast, sem):
    token, raw = usage.agent_token_create(actor=cast.owen, instrument=sem, name="SEM 工作站")
    assert raw.startswith("ia_") and raw not in token.key_hash and token.key_hash == AgentToken.digest(raw)
    assert usage.agent_token_authenticate(raw) == token
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    session = usage.agent_session_start(token=token, username="alice", now=TUE9 + 2 * M)
    assert (session.booking, session.organisation, session.source) == (booking, cast.alice_org, "agent")
    usage.agent_session_heartbeat(token=token, public_id=session.public_id, now=TUE9 + 30 * M)
    # Silent for 10 minutes: closed at its last heartbeat.
    assert usage.sessions_silent_close(now=TUE9 + 39 * M) == 0
    assert usage.sessions_silent_close(now=TUE9 + 41 * M) == 1
    session.refresh_from_db()
    assert session.ended_at == TUE9 + 30 * M
    with pytest.raises(SessionState):
        usage.agent_session_stop(token=token, public_id=session.public_id, now=TUE9 + 45 * M)
    usage.agent_token_revoke(actor=cast.owen, token=token)
    assert usage.agent_token_authenticate(raw) is None
    with pytest.raises(Forbidden):
        usage.agent_token_create(actor=cast.alice, instrument=sem, name="x")


def test_maintenance_is_recorded_and_overlaps_refused(cast, sem):
    s = usage.session_record(actor=cast.owen, instrument=sem, kind="maintenance", started_at=TUE9,
                             ended_at=TUE9 + 3 * H, note="更换灯丝")
    assert (s.kind, s.user, s.organisation) == ("maintenance", None, None)
    with pytest.raises(SessionState):
        usage.session_record(actor=cast.owen, instrument=sem, kind="breakdown", started_at=TUE9 + H,
                             ended_at=TUE9 + 4 * H)


def test_a_rating_is_the_users_own_once_after_the_session(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    session = usage.session_check_in(actor=cast.owen, booking=booking, now=TUE9)
    with pytest.raises(RatingState):  # still running
        usage.session_rate(actor=cast.alice, session=session, score=5)
    usage.session_check_out(actor=cast.owen, booking=booking, now=TUE9 + H)
    session.refresh_from_db()
    with pytest.raises(RatingState):
        usage.session_rate(actor=cast.bob, session=session, score=1)
    rating = usage.session_rate(actor=cast.alice, session=session, score=4, comment="操作指导很专业")
    assert (rating.score, rating.user) == (4, cast.alice)
    with pytest.raises(RatingState):
        usage.session_rate(actor=cast.alice, session=session, score=5)


def test_a_monthly_statement_with_a_booking_and_a_cancellation_fee(cast):
    sem = make_instrument(cast.institute, actor=cast.owen, rules={"cancellation": [{"within_hours": 48,
                                                                                     "percent": 50}]})
    used = book(cast.alice, sem, TUE9, TUE9 + 2 * H)
    usage.session_check_in(actor=cast.owen, booking=used, now=TUE9)
    usage.session_check_out(actor=cast.owen, booking=used, now=TUE9 + 2 * H)
    dropped = book(cast.alice, sem, TUE9 + 3 * H, TUE9 + 4 * H)
    services.booking_cancel(actor=cast.alice, booking=dropped, now=NOW)  # 23 h before: 50 % of 600 = 300
    statement = usage.statement_generate(actor=cast.owen, owner=cast.institute, payer=cast.alice_org, year=2026,
                                         month=12, now=TUE9 + 5 * H)
    lines = list(statement.lines.order_by("kind"))
    assert [(ln.kind, ln.quantity, ln.unit_price, ln.rate_class, ln.amount, ln.voucher_amount, ln.cash_amount)
            for ln in lines] == [
        ("booking", Decimal("2.0000"), Decimal("600.00"), "industry", Decimal("1200.00"), 0, Decimal("1200.00")),
        ("cancellation", Decimal("1.0000"), Decimal("300.00"), "industry", Decimal("300.00"), 0, Decimal("300.00")),
    ]
    assert (statement.total_amount, statement.total_voucher, statement.total_cash) == (
        Decimal("1500.00"), Decimal("0.00"), Decimal("1500.00"))
    assert statement.status == "draft" and not Notification.objects.exists()
    # Regenerating a draft replaces its lines; issuing freezes it and tells the payer.
    statement = usage.statement_generate(actor=cast.owen, owner=cast.institute, payer=cast.alice_org, year=2026,
                                         month=12, now=TUE9 + 5 * H)
    assert statement.lines.count() == 2
    statement = usage.statement_issue(actor=cast.owen, statement=statement, now=TUE9 + 6 * H)
    assert statement.status == "issued"
    assert list(Notification.objects.values_list("recipient__username", "event")) == [
        ("alice", "instruments.statement.issued")]
    with pytest.raises(StatementState):
        usage.statement_generate(actor=cast.owen, owner=cast.institute, payer=cast.alice_org, year=2026, month=12)
    with pytest.raises(ChargeFrozen):
        usage.booking_settle(actor=cast.owen, booking=used, now=TUE9 + 7 * H)
    with pytest.raises(Forbidden):
        usage.statement_generate(actor=cast.alice, owner=cast.institute, payer=cast.alice_org, year=2026, month=12)


def test_the_monthly_run_issues_every_statement_once(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    book(cast.bob, sem, TUE9 + 2 * H, TUE9 + 3 * H)
    usage.booking_settle(actor=cast.owen, booking=booking, now=TUE9 + 4 * H)
    assert usage.statements_month_run(year=2026, month=12, now=date(2027, 1, 1) and TUE9 + 30 * 24 * H) == 2
    assert sorted(Statement.objects.values_list("payer__name", "status", "total_amount")) == sorted([
        (cast.alice_org.name, "issued", Decimal("600.00")), (cast.bob_org.name, "issued", Decimal("600.00"))])
    assert usage.statements_month_run(year=2026, month=12, now=TUE9 + 30 * 24 * H) == 0


def test_the_database_keeps_cash_as_amount_minus_voucher(cast, sem):
    booking = book(cast.alice, sem, TUE9, TUE9 + H)
    statement = Statement.objects.create(payer=cast.alice_org, owner=cast.institute, month=date(2026, 12, 1))
    common = {"statement": statement, "kind": "booking", "booking": booking, "instrument": sem, "occurred_at": TUE9,
              "description": "x", "quantity": 1, "unit": "hour", "rate_class": "industry", "amount": Decimal(600)}
    StatementLine.objects.create(**common, voucher_amount=Decimal(400), cash_amount=Decimal(200))
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.create(**common, voucher_amount=Decimal(400), cash_amount=Decimal(600))
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.create(**common, voucher_amount=Decimal(700), cash_amount=Decimal(-100))
