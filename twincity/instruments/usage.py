"""The one write path of instrument usage: sessions (operator check-in/out on a booking, maintenance and
breakdown records, an instrument-PC agent's start/heartbeat/stop with its own revocable token), the booking's
final charge (reconciled with its usage, on the instrument's billing basis, at the frozen price line and rate
class), verified ratings, and monthly statements per owner and paying organisation. Every write is audited in
its transaction.

One open session per instrument: the instrument's row is locked before a session opens (on SQLite the IMMEDIATE
transaction admits one writer), and the partial unique constraint `usage_session_one_open` refuses a second one
written around the service.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import access, payments
from twincity.instruments import usage_rules as ur
from twincity.instruments.errors import ChargeFrozen, RatingState, SessionState, StatementState
from twincity.instruments.models import (
    AgentToken,
    Booking,
    BookingCharge,
    Instrument,
    SampleJob,
    SessionRating,
    SessionSource,
    Statement,
    StatementLine,
    UsageSession,
)

NOT_YOURS = "只有仪器所属单位的管理人员或平台管理员可以操作 (the owner's staff and administrators only)"
# A booking may be checked in from this long before its start.
EARLY_CHECK_IN = timedelta(minutes=60)
# An agent session whose heartbeat stops for this long is closed at its last heartbeat.
AGENT_SILENCE = timedelta(minutes=10)
SESSION_FIELDS = ("instrument_id", "booking_id", "job_id", "user_id", "organisation_id", "started_at", "ended_at",
                  "source", "kind", "agent_id", "note")
CHARGE_FIELDS = ("basis", "booked_minutes", "actual_minutes", "overrun_minutes", "idle_minutes",
                 "billable_minutes", "no_show", "flags", "rate_class", "unit_price", "price_valid_from", "quantity",
                 "amount")
STATEMENT_FIELDS = ("payer_id", "owner_id", "month", "status", "total_amount", "total_voucher", "total_cash")


def _utc(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise InvalidInput("时间须带时区 (a time needs its UTC offset)", extra={"fields": {field: [str(value)]}})
    return value.astimezone(UTC)


def _lock_instrument(instrument: Instrument) -> Instrument:
    return Instrument.objects.select_for_update(of=("self",)).select_related("owner").get(pk=instrument.pk)


def _open_session(*, instrument: Instrument, actor, source: str, started_at: datetime, kind: str = ur.NORMAL,
                  booking: Booking | None = None, job: SampleJob | None = None, user: User | None = None,
                  organisation: Organisation | None = None, agent: AgentToken | None = None,
                  note: str = "") -> UsageSession:
    """Open a session on a locked instrument: 409 session_state when one is open already."""
    current = UsageSession.objects.filter(instrument=instrument, ended_at__isnull=True).first()
    if current is not None:
        raise SessionState("该仪器已有进行中的使用记录 (a session is already open on this instrument)",
                           extra={"session": str(current.public_id)})
    session = UsageSession(instrument=instrument, booking=booking, job=job, user=user, organisation=organisation,
                           started_at=started_at, last_seen_at=started_at, source=source, kind=kind,
                           recorded_by=actor if getattr(actor, "pk", None) else None, agent=agent, note=note[:255])
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as exc:
        if "usage_session_one_open" in str(exc) or "UNIQUE" in str(exc).upper():
            raise SessionState("该仪器已有进行中的使用记录 (a session is already open on this instrument)") from exc
        raise
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=session,
                 after=snapshot(session, SESSION_FIELDS), context=f"session opened ({source})", subject=instrument)
    return session


def _close_session(session: UsageSession, *, actor, ended_at: datetime, context: str) -> UsageSession:
    before = snapshot(session, SESSION_FIELDS)
    session.ended_at = max(ended_at, session.started_at + timedelta(seconds=1))
    session.save(update_fields=["ended_at", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=session, before=before,
                 after=snapshot(session, SESSION_FIELDS), context=context, subject=session.instrument)
    return session


# --- operator check-in / check-out ------------------------------------------------------------------------------


@transaction.atomic
def session_check_in(*, actor, booking: Booking, now: datetime | None = None) -> UsageSession:
    """The owner's staff check a confirmed booking in: its session opens now (from an hour before its start
    until its end)."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    instrument = _lock_instrument(booking.instrument)
    booking = Booking.objects.select_related("user", "organisation").get(pk=booking.pk)
    if booking.status != Booking.Status.CONFIRMED:
        raise SessionState("只有已确认的预约可以上机登记 (only a confirmed booking is checked in)",
                           extra={"status": booking.status})
    if not booking.starts_at - EARLY_CHECK_IN <= now < booking.ends_at:
        raise SessionState("不在该预约的上机时间内 (outside the booking's check-in window)",
                           extra={"starts_at": booking.starts_at.isoformat(), "ends_at": booking.ends_at.isoformat()})
    return _open_session(instrument=instrument, actor=actor, source=SessionSource.OPERATOR, started_at=now,
                         booking=booking, user=booking.user, organisation=booking.organisation)


@transaction.atomic
def session_check_out(*, actor, booking: Booking, now: datetime | None = None) -> BookingCharge:
    """The owner's staff check a booking out: its open session ends now, the booking is completed and its
    charge computed (answered)."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    _lock_instrument(booking.instrument)
    session = UsageSession.objects.select_related("instrument").filter(booking=booking, ended_at__isnull=True).first()
    if session is None:
        raise SessionState("该预约没有进行中的上机记录 (the booking has no open session)")
    _close_session(session, actor=actor, ended_at=now, context="checked out")
    booking = Booking.objects.select_related("instrument", "service_item").get(pk=booking.pk)
    if booking.status == Booking.Status.CONFIRMED:
        before = snapshot(booking, ("status",))
        booking.status = Booking.Status.COMPLETED
        booking.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=booking, before=before,
                     after=snapshot(booking, ("status",)), context="completed at check-out", subject=booking.instrument)
        # The job is done: a voucher reserved for it is used (as booking_complete does), the cash part follows.
        payments.booking_voucher_follow(actor=actor, booking=booking)
    return _settle(booking, actor=actor, now=now)


@transaction.atomic
def session_record(*, actor, instrument: Instrument, kind: str, started_at: datetime, ended_at: datetime | None,
                   note: str = "", job: SampleJob | None = None) -> UsageSession:
    """The owner's staff record a session: maintenance or breakdown (never 有效工作机时), or normal use for a
    sample job (the job's organisation is the client). Without an end it stays open."""
    require(access.can_record_usage(actor, instrument), NOT_YOURS)
    if kind not in ur.KINDS:
        raise InvalidInput("使用类型无效 (unknown session kind)", extra={"fields": {"kind": [kind]}})
    if kind == ur.NORMAL and job is None:
        raise InvalidInput("正常使用须关联预约或送样任务 (normal use belongs to a booking or a sample job)",
                           extra={"fields": {"kind": [kind]}})
    if job is not None and job.instrument_id != instrument.pk:
        raise InvalidInput("送样任务不属于该仪器 (the job is not this instrument's)")
    started_at = _utc(started_at, "started_at")
    if ended_at is not None:
        ended_at = _utc(ended_at, "ended_at")
        if ended_at <= started_at:
            raise InvalidInput("结束须晚于开始 (the end must be after the start)",
                               extra={"fields": {"ended_at": ["after started_at"]}})
    instrument = _lock_instrument(instrument)
    if ended_at is None:
        return _open_session(instrument=instrument, actor=actor, source=SessionSource.OPERATOR, started_at=started_at,
                             kind=kind, job=job, user=job.requester if job else None,
                             organisation=job.organisation if job else None, note=note)
    overlap = UsageSession.objects.filter(instrument=instrument, started_at__lt=ended_at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=started_at))
    if overlap.exists():
        raise SessionState("与已有使用记录重叠 (overlaps a recorded session)")
    session = UsageSession.objects.create(
        instrument=instrument, job=job, user=job.requester if job else None,
        organisation=job.organisation if job else None, started_at=started_at, ended_at=ended_at,
        last_seen_at=ended_at, source=SessionSource.OPERATOR, kind=kind, recorded_by=actor, note=note[:255])
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=session, after=snapshot(session, SESSION_FIELDS),
                 context=f"session recorded ({kind})", subject=instrument)
    return session


@transaction.atomic
def session_stop(*, actor, session: UsageSession, now: datetime | None = None) -> UsageSession:
    """The owner's staff end an open session (a maintenance, a breakdown, a job's run, a forgotten agent)."""
    require(access.can_record_usage(actor, session.instrument), NOT_YOURS)
    _lock_instrument(session.instrument)
    session = UsageSession.objects.select_related("instrument").get(pk=session.pk)
    if session.ended_at is not None:
        raise SessionState("该使用记录已结束 (the session has ended)")
    return _close_session(session, actor=actor, ended_at=now or timezone.now(), context="stopped by staff")


# --- the instrument-PC agent -------------------------------------------------------------------------------------


@transaction.atomic
def agent_token_create(*, actor, instrument: Instrument, name: str) -> tuple[AgentToken, str]:
    """A new agent token for the instrument; the key is answered once and only its hash is stored."""
    require(access.can_record_usage(actor, instrument), NOT_YOURS)
    if not name.strip():
        raise InvalidInput("请填写名称 (a name is required)", extra={"fields": {"name": ["required"]}})
    raw = AgentToken.new_key()
    token = AgentToken.objects.create(instrument=instrument, name=name.strip()[:100], created_by=actor,
                                      key_prefix=raw[:10], key_hash=AgentToken.digest(raw))
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=token,
                 after=snapshot(token, ("instrument_id", "name", "key_prefix")), subject=instrument)
    return token, raw


@transaction.atomic
def agent_token_revoke(*, actor, token: AgentToken) -> AgentToken:
    require(access.can_record_usage(actor, token.instrument), NOT_YOURS)
    token = AgentToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        before = snapshot(token, ("revoked_at",))
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=token, before=before,
                     after=snapshot(token, ("revoked_at",)), context="revoked", subject=token.instrument)
    return token


def agent_token_authenticate(raw: str) -> AgentToken | None:
    """The active token of this key (its last use noted at most once a minute), or None."""
    if not raw.startswith(AgentToken.PREFIX):
        return None
    token = (AgentToken.objects.select_related("instrument", "instrument__owner")
             .filter(key_hash=AgentToken.digest(raw), revoked_at__isnull=True).first())
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            AgentToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _agent_session(token: AgentToken, public_id) -> UsageSession:
    from twincity.core.errors import NotFound

    session = UsageSession.objects.select_related("instrument").filter(public_id=public_id,
                                                                       instrument=token.instrument).first()
    if session is None:
        raise NotFound("使用记录不存在 (no such session)")
    return session


@transaction.atomic
def agent_session_start(*, token: AgentToken, username: str = "", kind: str = ur.NORMAL,
                        now: datetime | None = None) -> UsageSession:
    """The agent reports the instrument started: by a platform user (named by username; linked to the user's
    confirmed booking running now, if any) or unattributed; or a maintenance/breakdown run."""
    now = now or timezone.now()
    if kind not in ur.KINDS:
        raise InvalidInput("使用类型无效 (unknown session kind)", extra={"fields": {"kind": [kind]}})
    user = None
    if username:
        user = User.objects.select_related("organisation").filter(username=username, is_active=True).first()
        if user is None:
            raise InvalidInput("用户不存在 (no such user)", extra={"fields": {"username": [username]}})
    instrument = _lock_instrument(token.instrument)
    booking = None
    if user is not None and kind == ur.NORMAL:
        booking = (Booking.objects.filter(instrument=instrument, user=user, status=Booking.Status.CONFIRMED,
                                          starts_at__lte=now + EARLY_CHECK_IN, ends_at__gt=now)
                   .order_by("starts_at").first())
    return _open_session(instrument=instrument, actor=None, source=SessionSource.AGENT, started_at=now, kind=kind,
                         booking=booking, user=user, organisation=booking.organisation if booking else
                         (user.organisation if user else None), agent=token, note=f"agent {token.name}")


def agent_session_heartbeat(*, token: AgentToken, public_id, now: datetime | None = None) -> UsageSession:
    """The agent says the session is still running (not audited: a heartbeat changes no fact)."""
    session = _agent_session(token, public_id)
    if session.ended_at is not None:
        raise SessionState("该使用记录已结束 (the session has ended)")
    session.last_seen_at = now or timezone.now()
    UsageSession.objects.filter(pk=session.pk).update(last_seen_at=session.last_seen_at)
    return session


@transaction.atomic
def agent_session_stop(*, token: AgentToken, public_id, now: datetime | None = None) -> UsageSession:
    session = _agent_session(token, public_id)
    _lock_instrument(session.instrument)
    session = UsageSession.objects.select_related("instrument").get(pk=session.pk)
    if session.ended_at is not None:
        raise SessionState("该使用记录已结束 (the session has ended)")
    return _close_session(session, actor=None, ended_at=now or timezone.now(), context=f"agent {token.name} stop")


def sessions_silent_close(*, now: datetime | None = None) -> int:
    """Close the open agent sessions whose heartbeat stopped AGENT_SILENCE ago, at their last heartbeat (the
    schedule runs this every 5 minutes); how many."""
    now = now or timezone.now()
    closed = 0
    stale = UsageSession.objects.filter(ended_at__isnull=True, source=SessionSource.AGENT,
                                        last_seen_at__lt=now - AGENT_SILENCE)
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            session = UsageSession.objects.select_for_update().select_related("instrument").get(pk=pk)
            if session.ended_at is None:
                _close_session(session, actor=None, ended_at=session.last_seen_at or session.started_at,
                               context="agent silent: closed at its last heartbeat")
                closed += 1
    return closed


# --- reconciliation and the booking's charge ----------------------------------------------------------------------


def booking_sessions(booking: Booking) -> QuerySet[UsageSession]:
    """The normal sessions that are the booking's usage: linked to it, or unlinked ones of the same person on the
    instrument overlapping its period."""
    return UsageSession.objects.filter(
        Q(booking=booking) | Q(booking__isnull=True, job__isnull=True, instrument_id=booking.instrument_id,
                               user_id=booking.user_id, started_at__lt=booking.ends_at, ended_at__gt=booking.starts_at),
        kind=ur.NORMAL)


def booking_reconcile(booking: Booking, *, now: datetime) -> ur.Reconciliation:
    billing = ur.Billing.from_rules(booking.instrument.rules)
    periods = [(s.started_at, s.ended_at or now) for s in booking_sessions(booking)]
    return ur.reconcile(starts_at=booking.starts_at, ends_at=booking.ends_at, sessions=periods, billing=billing,
                        now=now)


def _frozen(booking: Booking) -> bool:
    return StatementLine.objects.filter(booking=booking, statement__status=Statement.Status.ISSUED).exists()


def _settle(booking: Booking, *, actor, now: datetime) -> BookingCharge:
    if _frozen(booking):
        raise ChargeFrozen("该预约的费用已出具结算单，不再变更 (the charge is on an issued statement)")
    result = booking_reconcile(booking, now=now)
    unit = booking.service_item.unit if booking.service_item else "hour"
    quantity, amount = ur.charge(unit=unit, unit_price=booking.unit_price, billable_minutes=result.billable_minutes)
    values = {"basis": ur.Billing.from_rules(booking.instrument.rules).basis, "booked_minutes": result.booked_minutes,
              "actual_minutes": result.actual_minutes, "overrun_minutes": result.overrun_minutes,
              "idle_minutes": result.idle_minutes, "billable_minutes": result.billable_minutes,
              "no_show": result.no_show, "flags": result.flags, "rate_class": booking.rate_class,
              "unit_price": booking.unit_price, "price_valid_from": booking.price_valid_from, "quantity": quantity,
              "amount": amount, "computed_at": now}
    charge = BookingCharge.objects.filter(booking=booking).first()
    before = snapshot(charge, CHARGE_FIELDS) if charge else None
    if charge is None:
        charge = BookingCharge(booking=booking, **values)
    else:
        for name, value in values.items():
            setattr(charge, name, value)
    charge.full_clean(exclude=["booking"])
    charge.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE if before else AuditEntry.Action.CREATE,
                 instance=charge, before=before, after=snapshot(charge, CHARGE_FIELDS),
                 context=f"charge on {values['basis']} time: {', '.join(result.flags) or 'as booked'}",
                 subject=booking)
    return charge


@transaction.atomic
def booking_settle(*, actor, booking: Booking, now: datetime | None = None) -> BookingCharge:
    """Compute (or recompute) a booking's final charge from its usage: the booking must be confirmed or completed
    and over. Audited; refused (409) once its statement is issued."""
    require(access.can_decide(actor, booking), NOT_YOURS)
    now = now or timezone.now()
    booking = Booking.objects.select_for_update(of=("self",)).select_related("instrument", "service_item").get(
        pk=booking.pk)
    if booking.status not in (Booking.Status.CONFIRMED, Booking.Status.COMPLETED) or booking.ends_at > now:
        raise SessionState("只有已结束的已确认预约可以结算 (only a confirmed booking that is over is settled)",
                           extra={"status": booking.status})
    return _settle(booking, actor=actor, now=now)


# --- ratings ------------------------------------------------------------------------------------------------------


@transaction.atomic
def session_rate(*, actor, session: UsageSession, score: int, comment: str = "") -> SessionRating:
    """The session's own user rates it once it ended (one rating per session)."""
    if not access.can_rate_session(actor, session):
        raise RatingState("只能在本人的使用结束后评价 (only your own finished session can be rated)")
    if not 1 <= score <= 5:
        raise InvalidInput("评分须为 1–5 (a score from 1 to 5)", extra={"fields": {"score": [str(score)]}})
    if SessionRating.objects.filter(session=session).exists():
        raise RatingState("该次使用已评价 (this session has been rated)")
    try:
        with transaction.atomic():
            rating = SessionRating.objects.create(session=session, user=actor, score=score, comment=comment[:500])
    except IntegrityError as exc:
        raise RatingState("该次使用已评价 (this session has been rated)") from exc
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=rating,
                 after=snapshot(rating, ("session_id", "score", "comment")), subject=session.instrument)
    return rating


# --- monthly statements -------------------------------------------------------------------------------------------


def _owner_instruments(owner: Organisation) -> QuerySet[Instrument]:
    return Instrument.objects.filter(Q(owner_id=owner.pk) | Q(owner__parent_id=owner.pk))


def _month_first(year: int, month: int) -> date:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise InvalidInput("月份无效 (invalid month)", extra={"fields": {"month": [f"{year}-{month}"]}})
    return date(year, month, 1)


def _lines_for(*, owner: Organisation, payer: Organisation, year: int, month: int, now: datetime,
               actor) -> list[StatementLine]:
    low, high = ur.month_bounds(year, month)
    instruments = _owner_instruments(owner)
    lines: list[StatementLine] = []
    bookings = (Booking.objects.filter(instrument__in=instruments, organisation=payer, starts_at__gte=low,
                                       starts_at__lt=high, ends_at__lte=now,
                                       status__in=(Booking.Status.CONFIRMED, Booking.Status.COMPLETED))
                .select_related("instrument", "service_item").order_by("starts_at", "pk"))
    for booking in bookings:
        charge = _settle(booking, actor=actor, now=now)
        flags = "、".join({"no_show": "未到", "overrun": "超时", "idle": "空闲"}[f] for f in charge.flags)
        lines.append(StatementLine(
            kind=StatementLine.Kind.BOOKING, booking=booking, instrument=booking.instrument,
            occurred_at=booking.starts_at,
            description=(f"{booking.instrument.name_zh} {timezone.localtime(booking.starts_at):%m-%d %H:%M}"
                         f"（按{ {'booked': '预约', 'actual': '实际', 'larger': '较大'}[charge.basis] }机时"
                         f"{'；' + flags if flags else ''}）")[:255],
            quantity=charge.quantity, unit=booking.service_item.unit if booking.service_item else "hour",
            unit_price=charge.unit_price, rate_class=charge.rate_class, price_valid_from=charge.price_valid_from,
            amount=charge.amount, voucher_amount=min(booking.voucher_amount, charge.amount),
            cash_amount=charge.amount - min(booking.voucher_amount, charge.amount)))
    cancelled = (Booking.objects.filter(instrument__in=instruments, organisation=payer, status=Booking.Status.CANCELLED,
                                        cancelled_at__gte=low, cancelled_at__lt=high, cancellation_fee__gt=0)
                 .select_related("instrument").order_by("cancelled_at", "pk"))
    for booking in cancelled:
        assert booking.cancelled_at is not None
        lines.append(StatementLine(
            kind=StatementLine.Kind.CANCELLATION, booking=booking, instrument=booking.instrument,
            occurred_at=booking.cancelled_at,
            description=f"{booking.instrument.name_zh} 取消费（{timezone.localtime(booking.starts_at):%m-%d %H:%M}）"[:255],
            quantity=Decimal(1), unit="fee", unit_price=booking.cancellation_fee, rate_class=booking.rate_class,
            price_valid_from=booking.price_valid_from, amount=booking.cancellation_fee, cash_amount=booking.cancellation_fee))
    jobs = (SampleJob.objects.filter(instrument__in=instruments, organisation=payer, reported_at__gte=low,
                                     reported_at__lt=high, state__in=("reported", "closed"), quote_amount__isnull=False)
            .select_related("instrument").order_by("reported_at", "pk"))
    for job in jobs:
        assert job.reported_at is not None and job.quote_amount is not None
        lines.append(StatementLine(
            kind=StatementLine.Kind.JOB, job=job, instrument=job.instrument, occurred_at=job.reported_at,
            description=f"{job.instrument.name_zh} 送样检测：{job.title}"[:255], quantity=Decimal(job.sample_count),
            unit="sample", unit_price=job.unit_price, rate_class=job.rate_class, price_valid_from=job.price_valid_from,
            amount=job.quote_amount, cash_amount=job.quote_amount))
    return lines


def _statement_build(*, owner: Organisation, payer: Organisation, year: int, month: int, now: datetime, actor,
                     issue: bool = False) -> Statement:
    first = _month_first(year, month)
    statement, created = Statement.objects.select_for_update().get_or_create(payer=payer, owner=owner, month=first)
    if statement.status == Statement.Status.ISSUED:
        raise StatementState("该结算单已出具，不再重新生成 (the statement is issued)",
                             extra={"statement": str(statement.public_id)})
    before = None if created else snapshot(statement, STATEMENT_FIELDS)
    lines = _lines_for(owner=owner, payer=payer, year=year, month=month, now=now, actor=actor)
    statement.lines.all().delete()
    for line in lines:
        line.statement = statement
    StatementLine.objects.bulk_create(lines)
    totals = statement.lines.aggregate(a=Sum("amount"), v=Sum("voucher_amount"), c=Sum("cash_amount"))
    statement.total_amount = totals["a"] or Decimal(0)
    statement.total_voucher = totals["v"] or Decimal(0)
    statement.total_cash = totals["c"] or Decimal(0)
    if issue:
        statement.status, statement.issued_at = Statement.Status.ISSUED, now
    statement.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
                 instance=statement, before=before, after=snapshot(statement, STATEMENT_FIELDS),
                 context=f"{'issued' if issue else 'generated'}: {len(lines)} lines")
    if issue:
        _announce(statement)
    return statement


def _announce(statement: Statement) -> None:
    from django.urls import reverse

    from twincity.notifications.services import notify

    notify(statement.payer, event="instruments.statement.issued",
           title=f"{statement.owner.name} {statement.month:%Y年%m月} 仪器使用结算单已出具",
           body=f"合计 {statement.total_amount} 元（创新券 {statement.total_voucher} 元，现金 {statement.total_cash} 元）",
           link=reverse("instruments:statement", args=[statement.public_id]))


@transaction.atomic
def statement_generate(*, actor, owner: Organisation, payer: Organisation, year: int, month: int,
                       issue: bool = False, now: datetime | None = None) -> Statement:
    """Generate (or regenerate) an owner's statement to a paying organisation for a month: a line per booking
    (its charge, settled now), per cancellation fee and per sample job reported; issue it if asked (then it
    never changes and the payer is notified). An issued statement answers 409."""
    require(access.can_issue_statements(actor, owner), NOT_YOURS)
    return _statement_build(owner=owner, payer=payer, year=year, month=month, now=now or timezone.now(),
                            actor=actor, issue=issue)


@transaction.atomic
def statement_issue(*, actor, statement: Statement, now: datetime | None = None) -> Statement:
    """Issue a draft statement as it stands after regenerating it."""
    require(access.can_issue_statements(actor, statement.owner), NOT_YOURS)
    return _statement_build(owner=statement.owner, payer=statement.payer, year=statement.month.year,
                            month=statement.month.month, now=now or timezone.now(), actor=actor, issue=True)


def statements_month_run(*, year: int, month: int, now: datetime | None = None) -> int:
    """The monthly run (schedule, first of the month): issue every owner's statement to every organisation that
    had bookings, cancellation fees or reported jobs in the month; statements already issued are left alone.
    How many were issued."""
    now = now or timezone.now()
    low, high = ur.month_bounds(year, month)
    pairs: set[tuple[int, int]] = set()
    for owner_id, parent_id, payer_id in Booking.objects.filter(
            Q(starts_at__gte=low, starts_at__lt=high, status__in=(Booking.Status.CONFIRMED, Booking.Status.COMPLETED))
            | Q(status=Booking.Status.CANCELLED, cancelled_at__gte=low, cancelled_at__lt=high, cancellation_fee__gt=0),
            organisation__isnull=False).values_list("instrument__owner_id", "instrument__owner__parent_id",
                                                    "organisation_id").distinct():
        pairs.add((parent_id or owner_id, payer_id))
    for owner_id, parent_id, payer_id in SampleJob.objects.filter(
            reported_at__gte=low, reported_at__lt=high, organisation__isnull=False).values_list(
            "instrument__owner_id", "instrument__owner__parent_id", "organisation_id").distinct():
        pairs.add((parent_id or owner_id, payer_id))
    issued = 0
    orgs = Organisation.objects.in_bulk({pk for pair in pairs for pk in pair})
    for owner_id, payer_id in sorted(pairs):
        if Statement.objects.filter(owner_id=owner_id, payer_id=payer_id, month=date(year, month, 1),
                                    status=Statement.Status.ISSUED).exists():
            continue
        with transaction.atomic():
            _statement_build(owner=orgs[owner_id], payer=orgs[payer_id], year=year, month=month, now=now, actor=None,
                             issue=True)
        issued += 1
    return issued
