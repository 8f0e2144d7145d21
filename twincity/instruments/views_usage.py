"""The usage pages: 使用登记 (the owner's staff check bookings in and out, record maintenance and breakdowns, settle
charges, manage agent tokens), 我的使用记录 (rate a finished session), 结算单 (monthly statements, XLSX), 送样检测
(requests, quotes, the job's steps, the report) and 共享评价 (the owner's figures against the benchmarks, charts,
the annual pack)."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from twincity.accounts.models import Organisation
from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError
from twincity.core.exports import xlsx_bytes
from twincity.instruments import access, evaluation, job_lifecycle, jobs, presentation, selectors, usage
from twincity.instruments.models import AgentToken, Booking, Instrument, Statement, UsageSession

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_ZH = {"hour": "小时", "sample": "样品", "fee": "项"}
RATE_ZH = {"internal": "校内/所内", "academic": "外单位（科研）", "industry": "企业"}


def _run(request, action, done: str) -> bool:
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, done)
    return True


def _local(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


# --- 使用登记 (owner staff) ------------------------------------------------------------------------------------------


@login_required
@require_GET
def usage_view(request):
    require(access.can_approve_any(request.user))
    now = timezone.now()
    instruments = access.instruments_managed(request.user)
    today = presentation.local_midnight(timezone.localdate())
    # Today's and tomorrow's (as the page says), and yesterday's that may still need checking out.
    current = (Booking.objects.filter(instrument__in=instruments, status=Booking.Status.CONFIRMED,
                                      starts_at__lt=today + timedelta(days=2), ends_at__gt=today - timedelta(days=1))
               .select_related("instrument", "user", "organisation").order_by("starts_at")[:100])
    open_sessions = {s.booking_id: s for s in UsageSession.objects.filter(instrument__in=instruments,
                                                                         ended_at__isnull=True)}
    rows = [{"booking": b, "open": open_sessions.get(b.pk), "name": presentation.name(b.instrument),
             "can_check_in": b.pk not in open_sessions and b.starts_at - usage.EARLY_CHECK_IN <= now < b.ends_at}
            for b in current]
    unsettled = (Booking.objects.filter(instrument__in=instruments, ends_at__lte=now, charge__isnull=True,
                                        status__in=(Booking.Status.CONFIRMED, Booking.Status.COMPLETED))
                 .select_related("instrument", "user").order_by("-ends_at")[:50])
    to_settle = [{"booking": b, "r": usage.booking_reconcile(b, now=now)} for b in unsettled]
    context = {
        "rows": rows, "to_settle": to_settle,
        "sessions": UsageSession.objects.filter(instrument__in=instruments).select_related(
            "instrument", "user", "booking").order_by("-started_at")[:50],
        "instruments": instruments.order_by("name_zh")[:200],
        "tokens": AgentToken.objects.filter(instrument__in=instruments).select_related("instrument")[:100],
        "kinds": [("maintenance", "维护保养"), ("breakdown", "故障停机")],
    }
    return render(request, "instruments/usage.html", context)


@login_required
@require_POST
def check_in_view(request, public_id: UUID):
    booking = selectors.booking_for(request.user, public_id)
    _run(request, lambda: usage.session_check_in(actor=request.user, booking=booking), "已上机登记。")
    return redirect("instruments:usage")


@login_required
@require_POST
def check_out_view(request, public_id: UUID):
    booking = selectors.booking_for(request.user, public_id)
    _run(request, lambda: usage.session_check_out(actor=request.user, booking=booking), "已下机登记，费用已核算。")
    return redirect("instruments:usage")


@login_required
@require_POST
def settle_view(request, public_id: UUID):
    booking = selectors.booking_for(request.user, public_id)
    _run(request, lambda: usage.booking_settle(actor=request.user, booking=booking), "费用已核算。")
    return redirect("instruments:usage")


@login_required
@require_POST
def session_record_view(request, public_id: UUID):
    instrument = visible(selectors.instrument_get(public_id=public_id))
    require(access.can_record_usage(request.user, instrument))
    start, end = _local(request.POST.get("started_at", "")), _local(request.POST.get("ended_at", ""))
    if start is None:
        messages.error(request, "请填写开始时间。")
        return redirect("instruments:usage")
    _run(request, lambda: usage.session_record(actor=request.user, instrument=instrument,
                                               kind=request.POST.get("kind", ""), started_at=start, ended_at=end,
                                               note=request.POST.get("note", "")[:255]), "已登记。")
    return redirect("instruments:usage")


@login_required
@require_POST
def session_stop_view(request, public_id: UUID):
    session = visible(UsageSession.objects.select_related("instrument").filter(public_id=public_id).first())
    require(access.can_record_usage(request.user, session.instrument))
    _run(request, lambda: usage.session_stop(actor=request.user, session=session), "已结束该使用记录。")
    return redirect("instruments:usage")


@login_required
@require_POST
def agent_token_create_view(request, public_id: UUID):
    instrument = visible(selectors.instrument_get(public_id=public_id))
    require(access.can_record_usage(request.user, instrument))
    try:
        _token, raw = usage.agent_token_create(actor=request.user, instrument=instrument,
                                               name=request.POST.get("name", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"代理令牌已生成，仅显示这一次，请妥善保存：{raw}")
    return redirect("instruments:usage")


@login_required
@require_POST
def agent_token_revoke_view(request, pk: int):
    token = visible(AgentToken.objects.select_related("instrument").filter(pk=pk).first())
    require(access.can_record_usage(request.user, token.instrument))
    _run(request, lambda: usage.agent_token_revoke(actor=request.user, token=token), "令牌已吊销。")
    return redirect("instruments:usage")


# --- 我的使用记录 (rating) -----------------------------------------------------------------------------------------


@login_required
@require_GET
def my_usage_view(request):
    require(access.can_book_any(request.user))
    sessions = (UsageSession.objects.filter(user=request.user, kind="normal").select_related("instrument", "rating")
                .order_by("-started_at")[:100])
    rows = [{"session": s, "name": presentation.name(s.instrument), "rating": getattr(s, "rating", None),
             "can_rate": access.can_rate_session(request.user, s) and not hasattr(s, "rating")} for s in sessions]
    return render(request, "instruments/my_usage.html", {"rows": rows})


@login_required
@require_POST
def rate_view(request, public_id: UUID):
    session = visible(UsageSession.objects.select_related("instrument").filter(public_id=public_id,
                                                                               user=request.user).first())
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        score = 0
    _run(request, lambda: usage.session_rate(actor=request.user, session=session, score=score,
                                             comment=request.POST.get("comment", "")[:500]), "感谢评价。")
    return redirect("instruments:my-usage")


# --- 结算单 -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def statements_view(request):
    require(access.can_view_statements_any(request.user))
    statements = access.statements_visible(request.user).select_related("payer", "owner").order_by(
        "-month", "owner__name", "payer__name")[:200]
    owner = access.owner_of(request.user)
    payers = Organisation.objects.none()
    if owner is not None:
        payers = Organisation.objects.filter(pk__in=Booking.objects.filter(
            instrument__in=access.instruments_managed(request.user), organisation__isnull=False).values(
            "organisation_id")).order_by("name")
    return render(request, "instruments/statements.html", {
        "statements": statements, "owner": owner, "payers": payers,
        "default_month": f"{timezone.localdate():%Y-%m}"})


STATEMENT_HEADER = ["日期", "仪器", "摘要", "数量", "单位", "单价（元）", "费率类别", "价目表生效日", "金额（元）",
                    "创新券抵扣（元）", "现金（元）"]


def _statement_rows(statement: Statement) -> list[list]:
    return [[f"{timezone.localtime(ln.occurred_at):%Y-%m-%d}", ln.instrument.name_zh, ln.description,
             ln.quantity.normalize(), UNIT_ZH.get(ln.unit, ln.unit), ln.unit_price, RATE_ZH.get(ln.rate_class, ""),
             ln.price_valid_from.isoformat() if ln.price_valid_from else "", ln.amount, ln.voucher_amount,
             ln.cash_amount] for ln in statement.lines.select_related("instrument")]


@login_required
@require_GET
def statement_view(request, public_id: UUID):
    statement = selectors.statement_for(request.user, public_id)
    return render(request, "instruments/statement.html", {
        "statement": statement, "header": STATEMENT_HEADER, "rows": _statement_rows(statement),
        "can_issue": statement.status == Statement.Status.DRAFT and access.can_issue_statements(request.user,
                                                                                                 statement.owner)})


@login_required
@require_GET
def statement_xlsx_view(request, public_id: UUID):
    statement = selectors.statement_for(request.user, public_id)
    rows = _statement_rows(statement)
    rows.append(["合计", "", "", "", "", None, "", "", statement.total_amount, statement.total_voucher,
                 statement.total_cash])
    response = HttpResponse(xlsx_bytes(f"{statement.month:%Y-%m}", STATEMENT_HEADER, rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.month:%Y-%m}-{statement.pk}.xlsx"'
    return response


@login_required
@require_POST
def statement_generate_view(request):
    owner = access.owner_of(request.user)
    require(owner is not None)
    assert owner is not None
    payer = visible(Organisation.objects.filter(pk=request.POST.get("payer") or 0).first())
    try:
        year, month = (int(x) for x in request.POST.get("month", "").split("-"))
    except ValueError:
        messages.error(request, "月份格式应为 YYYY-MM。")
        return redirect("instruments:statements")
    try:
        statement = usage.statement_generate(actor=request.user, owner=owner, payer=payer, year=year, month=month)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("instruments:statements")
    messages.success(request, "结算单已生成（草稿）。")
    return redirect("instruments:statement", public_id=statement.public_id)


@login_required
@require_POST
def statement_issue_view(request, public_id: UUID):
    statement = selectors.statement_for(request.user, public_id)
    _run(request, lambda: usage.statement_issue(actor=request.user, statement=statement), "结算单已出具。")
    return redirect("instruments:statement", public_id=statement.public_id)


# --- 送样检测 -----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def jobs_view(request):
    require(access.can_view_jobs_any(request.user))
    today = timezone.localdate()
    rows = [{"job": j, "overdue": jobs.job_is_overdue(j, today=today), "label": job_lifecycle.LABELS_ZH[j.state]}
            for j in access.jobs_visible(request.user).select_related("instrument", "requester", "organisation")
            .order_by("-created_at")[:200]]
    operator_run = (Instrument.objects.filter(operation=Instrument.Operation.OPERATOR,
                                              status=Instrument.Status.IN_SERVICE).order_by("name_zh")[:200]
                    if access.can_book_any(request.user) else [])
    return render(request, "instruments/jobs.html", {"rows": rows, "instruments": operator_run})


@login_required
@require_POST
def job_request_view(request):
    instrument = visible(Instrument.objects.select_related("owner").filter(
        public_id=request.POST.get("instrument") or None).first() if request.POST.get("instrument") else None)
    try:
        count = int(request.POST.get("sample_count", "1"))
    except ValueError:
        count = 0
    try:
        job = jobs.job_request(actor=request.user, instrument=instrument, title=request.POST.get("title", ""),
                               description=request.POST.get("description", ""), sample_count=count)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("instruments:jobs")
    messages.success(request, "送样申请已提交，等待机组报价。")
    return redirect("instruments:job", public_id=job.public_id)


@login_required
@require_GET
def job_view(request, public_id: UUID):
    job = selectors.job_for(request.user, public_id)
    operator = access.can_operate_job(request.user, job)
    requester = access.can_request_side(request.user, job)
    actions = [a for a in job_lifecycle.allowed_actions(job.state)
               if job_lifecycle.ACTOR_OF[a] == job_lifecycle.OPERATOR and operator
               or job_lifecycle.ACTOR_OF[a] == job_lifecycle.REQUESTER and requester
               or a == "close" and requester]
    return render(request, "instruments/job.html", {
        "job": job, "label": job_lifecycle.LABELS_ZH[job.state], "operator": operator,
        "actions": [(a, job_lifecycle.ACTION_LABELS_ZH[a]) for a in actions],
        "default_quote": jobs.default_quote(job), "overdue": jobs.job_is_overdue(job, today=timezone.localdate()),
        "history": job.sessions.order_by("started_at"),
    })


@login_required
@require_POST
def job_act_view(request, public_id: UUID, action: str):
    job = selectors.job_for(request.user, public_id)
    amount = None
    if request.POST.get("amount"):
        try:
            amount = Decimal(request.POST["amount"])
        except InvalidOperation:
            messages.error(request, "金额格式不正确。")
            return redirect("instruments:job", public_id=job.public_id)
    _run(request, lambda: jobs.job_act(actor=request.user, job=job, action=action, amount=amount,
                                       note=request.POST.get("note", "")[:255], report=request.FILES.get("report")),
         f"已{job_lifecycle.ACTION_LABELS_ZH.get(action, action)}。")
    return redirect("instruments:job", public_id=job.public_id)


@login_required
@require_GET
def job_report_view(request, public_id: UUID):
    job = selectors.job_for(request.user, public_id)
    if not job.report:
        visible(None)
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=job.report.name.rsplit("/", 1)[-1])


# --- 共享评价 -----------------------------------------------------------------------------------------------------


def _evaluation(request) -> evaluation.OwnerEvaluation | None:
    owners = access.evaluation_owners(request.user)
    owner = owners.filter(pk=request.GET.get("owner") or 0).first() or owners.first()
    if owner is None:
        return None
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2015), timezone.localdate().year)
    return evaluation.owner_evaluation(owner=owner, year=year)


@login_required
@require_GET
def evaluation_view(request):
    require(access.can_view_evaluation_any(request.user))
    result = _evaluation(request)
    this_year = timezone.localdate().year
    return render(request, "instruments/evaluation.html", {
        "e": result, "owners": access.evaluation_owners(request.user),
        "years": list(range(this_year, this_year - 5, -1)),
        "charts": evaluation.chart_data(result) if result else None,
    })


@login_required
@require_GET
def evaluation_xlsx_view(request):
    require(access.can_view_evaluation_any(request.user))
    result = _evaluation(request)
    if result is None:
        visible(None)
    assert result is not None
    response = HttpResponse(evaluation.evaluation_pack_xlsx(result), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="sharing-evaluation-{result.year}-{result.owner.pk}.xlsx"'
    return response
