"""The usage JSON endpoints (mounted at /api/instrument-usage/):

* the instrument-PC agent, with its own per-instrument token (`Authorization: Bearer ia_…`; not a user's):
  start, heartbeat and stop a session;
* the owner's staff: check a booking in and out, settle its charge, record maintenance and breakdowns, stop a
  session, issue and revoke agent tokens, generate and issue statements;
* a user rates a finished session of theirs; statements for the paying organisation's people;
* sample jobs: request, list, read, act (`quote`, `accept`, `receive`, `start`, `deliver` with the report file,
  `close`, `decline`, `cancel`); an illegal action answers 409 `job_transition`;
* the sharing evaluation of an owner for a year.
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from twincity.accounts.models import Organisation
from twincity.core.access import require, visible
from twincity.core.api import IsoDateTime, errors
from twincity.core.errors import InvalidInput
from twincity.instruments import access, evaluation, jobs, selectors, usage
from twincity.instruments.models import AgentToken, BookingCharge, SampleJob, Statement, UsageSession

router = Router(tags=["instrument usage 仪器使用与结算"])


class AgentAuth(HttpBearer):
    openapi_description = "An instrument-PC agent's token (`ia_…`), issued per instrument by the owner's staff."

    def authenticate(self, request: HttpRequest, token: str):
        return usage.agent_token_authenticate(token)


KindIn = Literal["normal", "maintenance", "breakdown"]


class SessionOut(Schema):
    public_id: UUID
    instrument: UUID = Field(..., alias="instrument.public_id")
    booking: UUID | None = Field(None, alias="booking.public_id")
    started_at: datetime
    ended_at: datetime | None
    kind: str
    source: str


class AgentStartIn(Schema):
    username: str = Field("", max_length=150, description="the platform user at the instrument, if known")
    kind: KindIn = "normal"


class ChargeOut(Schema):
    basis: str
    booked_minutes: Decimal
    actual_minutes: Decimal
    overrun_minutes: Decimal
    idle_minutes: Decimal
    billable_minutes: Decimal
    no_show: bool
    flags: list[str]
    rate_class: str
    unit_price: Decimal | None
    price_valid_from: str | None = None
    quantity: Decimal
    amount: Decimal


class RecordIn(Schema):
    kind: KindIn
    started_at: IsoDateTime
    ended_at: IsoDateTime | None = None
    note: str = Field("", max_length=255)
    job: UUID | None = None


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    key_prefix: str
    revoked_at: datetime | None
    key: str | None = Field(None, description="the key: answered once, at creation")


class RatingIn(Schema):
    score: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


class RatingOut(Schema):
    score: int
    comment: str


class StatementIn(Schema):
    payer_id: int = Field(..., ge=1, le=2**31 - 1)
    year: int = Field(..., ge=2000, le=2100)
    month: int = Field(..., ge=1, le=12)
    issue: bool = False


class LineOut(Schema):
    kind: str
    description: str
    occurred_at: datetime
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    rate_class: str
    amount: Decimal
    voucher_amount: Decimal
    cash_amount: Decimal


class StatementOut(Schema):
    public_id: UUID
    payer: str = Field(..., alias="payer.name")
    owner: str = Field(..., alias="owner.name")
    month: str
    status: str
    total_amount: Decimal
    total_voucher: Decimal
    total_cash: Decimal
    lines: list[LineOut]


class JobIn(Schema):
    instrument: UUID
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    sample_count: int = Field(1, ge=1, le=1000)


class JobOut(Schema):
    public_id: UUID
    instrument: UUID = Field(..., alias="instrument.public_id")
    title: str
    sample_count: int
    state: str
    rate_class: str
    quote_amount: Decimal | None
    quote_expires_at: datetime | None
    due_on: str | None = None
    reported_at: datetime | None
    has_report: bool = False


ActionIn = Literal["quote", "decline", "accept", "receive", "start", "deliver", "close", "cancel"]


def _job_out(job: SampleJob) -> dict:
    return {**{f: getattr(job, f) for f in ("public_id", "title", "sample_count", "state", "rate_class",
                                            "quote_amount", "quote_expires_at", "reported_at")},
            "instrument.public_id": job.instrument.public_id, "due_on": job.due_on.isoformat() if job.due_on else None,
            "has_report": bool(job.report)}


def _charge_out(charge) -> dict:
    return {**{f: getattr(charge, f) for f in usage.CHARGE_FIELDS},
            "price_valid_from": charge.price_valid_from.isoformat() if charge.price_valid_from else None}


def _statement_out(statement: Statement) -> dict:
    return {"public_id": statement.public_id, "payer.name": statement.payer.name, "owner.name": statement.owner.name,
            "month": f"{statement.month:%Y-%m}", "status": statement.status,
            "total_amount": statement.total_amount, "total_voucher": statement.total_voucher,
            "total_cash": statement.total_cash, "lines": list(statement.lines.all())}


# --- the agent ---------------------------------------------------------------------------------------------------


@router.post("/agent/sessions", auth=AgentAuth(), response={201: SessionOut, **errors(403, 409)},
             summary="Agent: the instrument started (a session opens now)",
             description="With `username`, the session is that user's and linked to their confirmed booking running "
                         "now (from an hour before its start). 409 `session_state` when a session is already open.")
def agent_start_api(request, payload: AgentStartIn):
    session = usage.agent_session_start(token=request.auth, username=payload.username, kind=payload.kind)
    return Status(201, session)


@router.post("/agent/sessions/{public_id}/heartbeat", auth=AgentAuth(), response={200: SessionOut, **errors(403, 404, 409)},
             summary="Agent: still running (a session silent for 10 minutes is closed at its last heartbeat)")
def agent_heartbeat_api(request, public_id: UUID):
    return usage.agent_session_heartbeat(token=request.auth, public_id=public_id)


@router.post("/agent/sessions/{public_id}/stop", auth=AgentAuth(), response={200: SessionOut, **errors(403, 404, 409)},
             summary="Agent: the instrument stopped (the session ends now)")
def agent_stop_api(request, public_id: UUID):
    return usage.agent_session_stop(token=request.auth, public_id=public_id)


# --- the owner's staff -------------------------------------------------------------------------------------------


@router.post("/bookings/{public_id}/check-in", response={201: SessionOut, **errors(403, 404, 409)},
             summary="Check a confirmed booking in (owner staff): its session opens now")
def check_in_api(request, public_id: UUID):
    return Status(201, usage.session_check_in(actor=request.user, booking=selectors.booking_for(request.user, public_id)))


@router.post("/bookings/{public_id}/check-out", response={200: ChargeOut, **errors(403, 404, 409)},
             summary="Check a booking out (owner staff): the session ends, the booking completes, its charge")
def check_out_api(request, public_id: UUID):
    return _charge_out(usage.session_check_out(actor=request.user, booking=selectors.booking_for(request.user, public_id)))


@router.post("/bookings/{public_id}/settle", response={200: ChargeOut, **errors(403, 404, 409)},
             summary="Compute a finished booking's charge from its usage (owner staff)",
             description="On the instrument's billing basis (booked, actual, larger) at the booking's frozen price "
                         "line and rate class. 409 `charge_frozen` once its statement is issued.")
def settle_api(request, public_id: UUID):
    return _charge_out(usage.booking_settle(actor=request.user, booking=selectors.booking_for(request.user, public_id)))


@router.get("/bookings/{public_id}/charge", response={200: ChargeOut, **errors(404)},
            summary="A booking's charge (whoever sees the booking)")
def charge_api(request, public_id: UUID):
    booking = selectors.booking_for(request.user, public_id)
    charge = visible(BookingCharge.objects.filter(booking=booking).first(), "尚未核算 (not settled yet)")
    return _charge_out(charge)


@router.post("/instruments/{public_id}/sessions", response={201: SessionOut, **errors(403, 404, 409)},
             summary="Record a session (owner staff): maintenance, breakdown, or a sample job's run")
def record_api(request, public_id: UUID, payload: RecordIn):
    instrument = visible(selectors.instrument_get(public_id=public_id), "仪器不存在 (no such instrument)")
    job = None
    if payload.job is not None:
        job = visible(SampleJob.objects.filter(public_id=payload.job, instrument=instrument).first(),
                      "送样任务不存在 (no such job)")
    return Status(201, usage.session_record(actor=request.user, instrument=instrument, kind=payload.kind,
                                            started_at=payload.started_at, ended_at=payload.ended_at,
                                            note=payload.note, job=job))


@router.post("/sessions/{public_id}/stop", response={200: SessionOut, **errors(403, 404, 409)},
             summary="End an open session (owner staff)")
def stop_api(request, public_id: UUID):
    session = visible(UsageSession.objects.select_related("instrument").filter(public_id=public_id).first())
    if not access.can_record_usage(request.user, session.instrument):
        visible(None)
    return usage.session_stop(actor=request.user, session=session)


@router.post("/instruments/{public_id}/agent-tokens", response={201: TokenOut, **errors(403, 404)},
             summary="Issue an agent token for the instrument (owner staff); the key is answered once")
def token_create_api(request, public_id: UUID, payload: TokenIn):
    instrument = selectors.instrument_for(request.user, public_id)
    token, raw = usage.agent_token_create(actor=request.user, instrument=instrument, name=payload.name)
    return Status(201, {"id": token.pk, "name": token.name, "key_prefix": token.key_prefix, "revoked_at": None,
                        "key": raw})


@router.post("/agent-tokens/{token_id}/revoke", response={200: TokenOut, **errors(403, 404)},
             summary="Revoke an agent token (owner staff)")
def token_revoke_api(request, token_id: int):
    token = visible(AgentToken.objects.select_related("instrument").filter(pk=token_id).first())
    if not access.can_record_usage(request.user, token.instrument):
        visible(None)
    return usage.agent_token_revoke(actor=request.user, token=token)


@router.post("/sessions/{public_id}/rating", response={201: RatingOut, **errors(403, 404, 409)},
             summary="Rate a finished session of yours (once)")
def rate_api(request, public_id: UUID, payload: RatingIn):
    session = visible(UsageSession.objects.select_related("instrument").filter(public_id=public_id,
                                                                               user_id=request.user.pk).first(),
                      "使用记录不存在 (no such session)")
    return Status(201, usage.session_rate(actor=request.user, session=session, score=payload.score,
                                          comment=payload.comment))


# --- statements --------------------------------------------------------------------------------------------------


@router.get("/statements", response={200: list[StatementOut], **errors()},
            summary="The statements I see (the paying organisation's people, the owner's staff), latest first")
def statements_api(request):
    qs = access.statements_visible(request.user).select_related("payer", "owner").prefetch_related("lines")
    return [_statement_out(s) for s in qs.order_by("-month", "pk")[:100]]


@router.get("/statements/{public_id}", response={200: StatementOut, **errors(404)}, summary="A statement")
def statement_api(request, public_id: UUID):
    statement = visible(access.statements_visible(request.user).select_related("payer", "owner")
                        .filter(public_id=public_id).first(), "结算单不存在 (no such statement)")
    return _statement_out(statement)


@router.post("/statements", response={200: StatementOut, **errors(403, 404, 409)},
             summary="Generate (and optionally issue) my institution's statement to a payer for a month",
             description="409 `statement_state` when that statement is already issued.")
def statement_generate_api(request, payload: StatementIn):
    owner = access.owner_of(request.user)
    require(owner is not None)
    payer = visible(Organisation.objects.filter(pk=payload.payer_id).first(), "单位不存在 (no such organisation)")
    statement = usage.statement_generate(actor=request.user, owner=owner, payer=payer, year=payload.year,
                                         month=payload.month, issue=payload.issue)
    return _statement_out(statement)


# --- sample jobs -------------------------------------------------------------------------------------------------


@router.post("/jobs", response={201: JobOut, **errors(403, 404)},
             summary="Send samples to an operator-run instrument (a request the owner's staff quote)")
def job_request_api(request, payload: JobIn):
    instrument = visible(selectors.instrument_get(public_id=payload.instrument), "仪器不存在 (no such instrument)")
    job = jobs.job_request(actor=request.user, instrument=instrument, title=payload.title,
                           description=payload.description, sample_count=payload.sample_count)
    return Status(201, _job_out(job))


@router.get("/jobs", response={200: list[JobOut], **errors()}, summary="The sample jobs I see, latest first")
def jobs_api(request):
    return [_job_out(j) for j in access.jobs_visible(request.user).select_related("instrument")
            .order_by("-created_at")[:200]]


@router.get("/jobs/{public_id}", response={200: JobOut, **errors(404)}, summary="A sample job")
def job_api(request, public_id: UUID):
    return _job_out(selectors.job_for(request.user, public_id))


@router.post("/jobs/{public_id}/{action}", response={200: JobOut, **errors(403, 404, 409)},
             summary="Take an action on a sample job (multipart form; `report` file for deliver)",
             description="The requester accepts (before the quote expires), cancels, closes; the owner's staff quote "
                         "(`amount`, default the price line × samples), decline (`note` required), receive (the "
                         "turnaround limit starts, in working days), start (409 `job_capacity` when the operators "
                         "are full), deliver (`report` required), close. An action the job's state does not allow "
                         "answers 409 `job_transition` with the allowed ones.")
def job_act_api(request, public_id: UUID, action: ActionIn, amount: Form[Decimal | None] = None,
                note: Form[str] = "", report: File[UploadedFile] | None = None):
    job = selectors.job_for(request.user, public_id)
    if amount is not None and amount < 0:
        raise InvalidInput("金额不能为负 (a negative amount)", extra={"fields": {"amount": [str(amount)]}})
    return _job_out(jobs.job_act(actor=request.user, job=job, action=action, amount=amount, note=note[:255],
                                 report=report))


# --- the evaluation ----------------------------------------------------------------------------------------------


class ComparisonOut(Schema):
    key: str
    label: str
    effective_hours: Decimal | None
    external_hours: Decimal | None
    share_rate: Decimal | None
    effective_vs: Decimal | None
    external_vs: Decimal | None


class InstrumentFiguresOut(Schema):
    instrument: UUID
    name_zh: str
    is_large: bool
    effective_hours: Decimal
    external_hours: Decimal
    share_rate: Decimal | None
    maintenance_hours: Decimal
    breakdown_hours: Decimal
    clients: int
    ratings: int
    rating_mean: Decimal | None
    income: Decimal


class EvaluationOut(Schema):
    owner_id: int
    year: int
    effective_hours: Decimal
    external_hours: Decimal
    share_rate: Decimal | None
    large_count: int
    avg_effective_hours: Decimal | None
    avg_external_hours: Decimal | None
    clients: list[str]
    ratings: int
    rating_mean: Decimal | None
    income: Decimal
    instruments: list[InstrumentFiguresOut]
    benchmarks: list[ComparisonOut]


@router.get("/evaluation/{owner_id}/{year}", response={200: EvaluationOut, **errors(403, 404)},
            summary="An owner legal entity's sharing evaluation for a year (its staff, administrators)")
def evaluation_api(request, owner_id: int, year: int):
    require(access.can_view_evaluation_any(request.user))
    owner = visible(access.evaluation_owners(request.user).filter(pk=owner_id).first(), "单位不存在 (no such owner)")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度无效 (invalid year)", extra={"fields": {"year": [str(year)]}})
    e = evaluation.owner_evaluation(owner=owner, year=year)
    return {
        "owner_id": owner.pk, "year": year, "effective_hours": e.effective_hours, "external_hours": e.external_hours,
        "share_rate": e.share_rate, "large_count": e.large_count, "avg_effective_hours": e.avg_effective_hours,
        "avg_external_hours": e.avg_external_hours, "clients": [o.name for o in e.clients], "ratings": e.ratings,
        "rating_mean": e.rating_mean, "income": e.income, "benchmarks": e.comparisons,
        "instruments": [{"instrument": r.instrument.public_id, "name_zh": r.instrument.name_zh,
                         "is_large": r.instrument.is_large, "effective_hours": r.figures.effective_hours,
                         "external_hours": r.figures.external_hours, "share_rate": r.figures.share_rate,
                         "maintenance_hours": r.figures.maintenance_hours,
                         "breakdown_hours": r.figures.breakdown_hours, "clients": len(r.figures.clients),
                         "ratings": r.ratings, "rating_mean": r.rating_mean, "income": r.income} for r in e.rows],
    }
