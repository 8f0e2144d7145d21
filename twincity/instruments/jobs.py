"""The one write path of sample jobs (送样检测): `job_request` and `job_act`, which moves a job through the pure
transition table (twincity.instruments.job_lifecycle; an illegal action answers 409 and changes nothing), checks
who acts, the quote's expiry, the operators' capacity (jobs in testing per instrument) and sets the turnaround
limit in working days (twincity.core.workdays) when the samples are received. Every step is audited and
announced to the other side (twincity.notifications)."""

import logging
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from twincity.core import workdays
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import access, job_lifecycle, selectors
from twincity.instruments import usage_rules as ur
from twincity.instruments.errors import JobCapacity, JobTransition
from twincity.instruments.models import Instrument, SampleJob, ServiceItem, rate_class_of

logger = logging.getLogger("twincity.instruments")

JOB_FIELDS = ("instrument_id", "requester_id", "organisation_id", "title", "sample_count", "state", "rate_class",
              "unit_price", "quote_amount", "quote_expires_at", "turnaround_days", "received_at", "due_on",
              "testing_started_at", "reported_at", "closed_at", "reason")
FEN = Decimal("0.01")
REPORT_MAX_BYTES = 20 * 1024 * 1024


def _snap(job: SampleJob) -> dict:
    return {**snapshot(job, JOB_FIELDS), "report": job.report.name or ""}


def _sample_item(instrument: Instrument) -> ServiceItem | None:
    return (instrument.service_items.filter(active=True, unit=ServiceItem.Unit.SAMPLE).order_by("code").first()
            or selectors.default_service_item(instrument=instrument))


def _link(job: SampleJob) -> str:
    return reverse("instruments:job", args=[job.public_id])


def _tell_owner(job: SampleJob, title: str, actor) -> None:
    from twincity.accounts.models import User
    from twincity.notifications.services import notify

    staff = list(User.objects.filter(role=User.Role.INSTRUMENT_OWNER, is_active=True,
                                     organisation_id__in=[job.instrument.owner_id, job.instrument.owner.root_id]))
    if staff:
        notify(staff, event="instruments.job.requester", title=title, link=_link(job), actor=actor)


def _tell_requester(job: SampleJob, title: str, actor) -> None:
    from twincity.notifications.services import notify

    notify(job.requester, event="instruments.job.operator", title=title, link=_link(job), actor=actor)


@transaction.atomic
def job_request(*, actor, instrument: Instrument, title: str, description: str = "", sample_count: int = 1,
                now: datetime | None = None) -> SampleJob:
    """Send samples to an operator-run instrument: a request the owner's staff quote. The rate class and the
    per-sample (or hourly) price line in force today are noted for the quote."""
    require(access.can_request_job(actor, instrument), "该仪器不接受送样，或您无权送样 (this instrument takes no samples from you)")
    if not title.strip():
        raise InvalidInput("请填写检测项目 (a title is required)", extra={"fields": {"title": ["required"]}})
    if not 1 <= sample_count <= 1000:
        raise InvalidInput("样品数须为 1–1000 (1 to 1000 samples)", extra={"fields": {"sample_count": [str(sample_count)]}})
    now = now or timezone.now()
    item = _sample_item(instrument)
    rate_class = rate_class_of(actor.organisation, instrument.owner)
    line = selectors.price_in_force(item=item, rate_class=rate_class, on=timezone.localdate(now)) if item else None
    rules = ur.JobRules.from_rules(instrument.rules)
    job = SampleJob.objects.create(
        instrument=instrument, service_item=item, requester=actor, organisation=actor.organisation,
        title=title.strip()[:200], description=description[:4000], sample_count=sample_count,
        rate_class=rate_class, unit_price=line.amount if line else None,
        price_valid_from=line.valid_from if line else None, turnaround_days=rules.turnaround_days)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=job, after=_snap(job),
                 subject=instrument)
    _tell_owner(job, f"新的送样申请：{job.title}（{instrument.name_zh}）", actor)
    return job


def _due_on(received_at: datetime, days: int):
    try:
        return workdays.add_working_days(workdays.shanghai_date(received_at), days)
    except workdays.CalendarRangeError:
        logger.warning("working-day calendar does not cover a sample job's turnaround",
                       extra={"received_at": received_at.isoformat(), "days": days})
        return None


def default_quote(job: SampleJob) -> Decimal | None:
    """The price line noted at request × the samples (an hourly line: one hour per sample)."""
    if job.unit_price is None:
        return None
    return (job.unit_price * job.sample_count).quantize(FEN, rounding=ROUND_HALF_UP)


@transaction.atomic
def job_act(*, actor, job: SampleJob, action: str, amount: Decimal | None = None, note: str = "",
            report: File | None = None, now: datetime | None = None) -> SampleJob:
    """Take `action` on a job (job_lifecycle.ACTIONS; "expire" is the schedule's). The actor must be on the side
    the table names; 409 job_transition for an illegal action, job_capacity when the instrument's operators are
    full, job_transition when a quote is accepted after its expiry."""
    now = now or timezone.now()
    if action not in job_lifecycle.ACTIONS or job_lifecycle.ACTOR_OF[action] == job_lifecycle.SYSTEM:
        raise InvalidInput("未知操作 (unknown action)", extra={"fields": {"action": [action]}})
    side = job_lifecycle.ACTOR_OF[action]
    allowed = (access.can_operate_job(actor, job) if side == job_lifecycle.OPERATOR
               else access.can_request_side(actor, job))
    if action == "close":  # the requester confirms the report, or the operator closes it
        allowed = access.can_operate_job(actor, job) or access.can_request_side(actor, job)
    if not allowed:
        raise Forbidden("您不能对该送样任务执行此操作 (you may not take this action on the job)")
    instrument = Instrument.objects.select_for_update(of=("self",)).select_related("owner").get(pk=job.instrument_id)
    job = SampleJob.objects.select_for_update(of=("self",)).select_related("requester").get(pk=job.pk)
    job.instrument = instrument
    try:
        new_state = job_lifecycle.transition(job.state, action)
    except job_lifecycle.IllegalTransition as exc:
        raise JobTransition(str(exc), extra={"state": job.state, "action": action,
                                             "allowed": job_lifecycle.allowed_actions(job.state)}) from exc
    before = _snap(job)
    rules = ur.JobRules.from_rules(instrument.rules)
    changed = ["state", "updated_at"]
    if action == "quote":
        amount = amount if amount is not None else default_quote(job)
        if amount is None or amount < 0:
            raise InvalidInput("请填写报价金额 (a quote amount is required)", extra={"fields": {"amount": ["required"]}})
        job.quote_amount, job.quote_note, job.quoted_by = amount.quantize(FEN), note[:255], actor
        job.quote_expires_at = now + timedelta(days=rules.quote_valid_days)
        changed += ["quote_amount", "quote_note", "quoted_by", "quote_expires_at"]
    elif action == "accept":
        assert job.quote_expires_at is not None
        if job.quote_expires_at <= now:
            raise JobTransition("报价已过期，请联系机组重新报价 (the quote has expired)",
                                extra={"state": job.state, "quote_expires_at": job.quote_expires_at.isoformat()})
    elif action == "receive":
        job.received_at, job.due_on = now, _due_on(now, job.turnaround_days)
        changed += ["received_at", "due_on"]
    elif action == "start":
        running = SampleJob.objects.filter(instrument=instrument, state=job_lifecycle.TESTING).count()
        if running >= rules.capacity:
            raise JobCapacity(f"该仪器已有 {running} 个任务在检测，达到机组容量 {rules.capacity} "
                              f"(the operators' capacity is reached)",
                              extra={"testing": running, "capacity": rules.capacity})
        job.testing_started_at = now
        changed.append("testing_started_at")
    elif action == "deliver":
        if report is None:
            raise InvalidInput("请上传检测报告 (attach the report)", extra={"fields": {"report": ["required"]}})
        if report.size is not None and report.size > REPORT_MAX_BYTES:
            raise InvalidInput("报告文件过大 (the report is too large)", extra={"fields": {"report": ["≤ 20 MB"]}})
        job.report.save(report.name or "report.pdf", report, save=False)
        job.reported_at = now
        changed += ["report", "reported_at"]
    elif action == "close":
        job.closed_at = now
        changed.append("closed_at")
    if action in job_lifecycle.REASON_REQUIRED and not note.strip():
        raise InvalidInput("请说明理由 (give the reason)", extra={"fields": {"note": ["required"]}})
    if action in ("decline", "cancel"):
        job.reason = note.strip()[:255]
        changed.append("reason")
    job.state = new_state
    job.save(update_fields=changed)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=job, before=before,
                 after=_snap(job), context=f"{action}: {note}".strip(": ")[:255], subject=instrument)
    label = job_lifecycle.ACTION_LABELS_ZH[action]
    by_operator = access.can_operate_job(actor, job) if action == "close" else side == job_lifecycle.OPERATOR
    if by_operator:
        _tell_requester(job, f"送样任务“{job.title}”：{label}", actor)
    else:
        _tell_owner(job, f"送样任务“{job.title}”：{label}", actor)
    return job


def job_quotes_expire(*, now: datetime | None = None) -> int:
    """Mark quoted jobs whose quote expired unanswered (the schedule runs this hourly); how many."""
    now = now or timezone.now()
    expired = 0
    for pk in list(SampleJob.objects.filter(state=job_lifecycle.QUOTED, quote_expires_at__lte=now)
                   .values_list("pk", flat=True)):
        with transaction.atomic():
            job = SampleJob.objects.select_for_update().get(pk=pk)
            if job.state != job_lifecycle.QUOTED:
                continue
            before = _snap(job)
            job.state = job_lifecycle.transition(job.state, "expire")
            job.save(update_fields=["state", "updated_at"])
            audit_record(actor=None, action=AuditEntry.Action.UPDATE, instance=job, before=before,
                         after=_snap(job), context="quote expired unanswered")
            expired += 1
    return expired


def job_is_overdue(job: SampleJob, *, today) -> bool:
    """Past its turnaround limit without a report."""
    return job.state in job_lifecycle.CLOCK_RUNS and job.due_on is not None and today > job.due_on
