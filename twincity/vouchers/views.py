"""The voucher pages (Chinese): 我的创新券 (an enterprise's vouchers: balance, validity, uses), the office's batches
(define, issue, settle, export for the funding office), the provider's redemptions (evidence, claims), and a
redemption with its evidence bundle."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError
from twincity.vouchers import access, exports, selectors, services
from twincity.vouchers.forms import BatchForm, EvidenceForm, IssueForm, PeriodForm
from twincity.vouchers.models import EvidenceFile, EvidenceKind, Redemption, RedemptionStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(request, exc: ApplicationError) -> None:
    messages.error(request, exc.message)
    for refusal in exc.extra.get("refusals", []):
        messages.error(request, f"{refusal['rule']}: {refusal['message']}")


@login_required
@require_GET
def my_vouchers_view(request):
    require(access.can_hold_vouchers(request.user))
    vouchers = list(selectors.vouchers_of(queryset=access.vouchers_held(request.user)))
    today = timezone.localdate()
    rows = [{"voucher": v, "batch": v.batch, "valid": v.valid_from <= today <= v.valid_until and v.status == "active",
             "uses": list(selectors.redemptions_of(voucher=v))} for v in vouchers]
    return render(request, "vouchers/mine.html", {"rows": rows, "today": today})


@login_required
@require_http_methods(["GET", "POST"])
def batches_view(request):
    require(access.is_office(request.user))
    form = BatchForm(request.POST or None, initial={"city": access.office_cities(request.user)[0]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_create(
                actor=request.user, code=data["code"], name=data["name"], city=data["city"], amount=data["amount"],
                valid_from=data["valid_from"], valid_until=data["valid_until"], categories=form.category_codes(),
                providers=[o.pk for o in data["providers"]], regions=data["regions"],
                settlement_mode=data["settlement_mode"], copay_share=data["copay_share"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已创建批次 {batch.code}。")
            return redirect("vouchers:batch", public_id=batch.public_id)
    batches = access.batches_managed(request.user).select_related("office")
    return render(request, "vouchers/batches.html", {"form": form, "batches": batches},
                  status=422 if form.errors else 200)


@login_required
@require_GET
def batch_view(request, public_id: UUID):
    batch = selectors.batch_for(request.user, public_id)
    period = PeriodForm(request.GET or None)
    dates = period.cleaned_data if period.is_valid() else {}
    redemptions = list(selectors.batch_redemptions(batch=batch, period_from=dates.get("period_from"),
                                                   period_until=dates.get("period_until"),
                                                   statuses=RedemptionStatus.values))
    context = {"batch": batch, "vouchers": batch.vouchers.select_related("holder").order_by("code"),
               "issue_form": IssueForm(), "period": period, "redemptions": redemptions,
               "query": request.GET.urlencode()}
    return render(request, "vouchers/batch.html", context)


@login_required
@require_POST
def issue_view(request, public_id: UUID):
    batch = selectors.batch_for(request.user, public_id)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            issued = services.vouchers_issue(actor=request.user, batch=batch, holders=list(form.cleaned_data["holders"]))
        except ApplicationError as exc:
            _error(request, exc)
        else:
            messages.success(request, f"已发放 {len(issued)} 张创新券。")
    else:
        messages.error(request, "请选择发放企业。")
    return redirect("vouchers:batch", public_id=batch.public_id)


def _export(request, public_id: UUID):
    batch = selectors.batch_for(request.user, public_id)
    period = PeriodForm(request.GET or None)
    dates = period.cleaned_data if period.is_valid() else {}
    redemptions = list(selectors.batch_redemptions(batch=batch, period_from=dates.get("period_from"),
                                                   period_until=dates.get("period_until")))
    return batch, redemptions, exports.export_name(batch, dates.get("period_from"), dates.get("period_until"))


@login_required
@require_GET
def export_xlsx_view(request, public_id: UUID):
    _batch_, redemptions, name = _export(request, public_id)
    response = HttpResponse(exports.settlement_xlsx(redemptions), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
@require_GET
def export_zip_view(request, public_id: UUID):
    batch, redemptions, name = _export(request, public_id)
    response = HttpResponse(exports.evidence_zip(batch, redemptions, name=name), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    return response


@login_required
@require_GET
def provider_view(request):
    require(access.can_view_provider_redemptions(request.user))
    redemptions = (access.redemptions_at_provider(request.user)
                   .select_related("voucher__batch", "voucher__holder", "provider").order_by("-created_at")[:300])
    return render(request, "vouchers/provider.html", {"redemptions": redemptions})


def _redemption_context(request, redemption: Redemption, form=None) -> dict:
    return {"r": redemption, "evidence": list(redemption.evidence.all()),
            "missing": [EvidenceKind(k).label for k in services.evidence_missing(redemption)],
            "form": form or EvidenceForm(), "can_attach": access.can_attach_evidence(request.user, redemption),
            "can_claim": access.can_claim_settlement(request.user, redemption),
            "can_settle": access.can_settle(request.user, redemption),
            "claims": list(selectors.claims_for(job_key=redemption.job_key))}


@login_required
@require_GET
def redemption_view(request, public_id: UUID):
    redemption = selectors.redemption_for(request.user, public_id)
    return render(request, "vouchers/redemption.html", _redemption_context(request, redemption))


@login_required
@require_POST
def evidence_view(request, public_id: UUID):
    redemption = selectors.redemption_for(request.user, public_id)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.evidence_attach(actor=request.user, redemption=redemption, kind=form.cleaned_data["kind"],
                                     upload=form.cleaned_data["file"])
        except ApplicationError as exc:
            _error(request, exc)
        else:
            messages.success(request, "材料已上传。")
            return redirect("vouchers:redemption", public_id=public_id)
    return render(request, "vouchers/redemption.html", _redemption_context(request, redemption, form), status=422)


@login_required
@require_POST
def claim_view(request, public_id: UUID):
    redemption = selectors.redemption_for(request.user, public_id)
    try:
        services.settlement_claim(actor=request.user, redemption=redemption)
    except ApplicationError as exc:
        _error(request, exc)
    else:
        messages.success(request, "已提交兑付申请。")
    return redirect("vouchers:redemption", public_id=public_id)


@login_required
@require_POST
def decide_view(request, public_id: UUID):
    redemption = selectors.redemption_for(request.user, public_id)
    try:
        services.settlement_decide(actor=request.user, redemption=redemption,
                                   approve=request.POST.get("decision") == "settle",
                                   note=request.POST.get("note", "")[:255])
    except ApplicationError as exc:
        _error(request, exc)
    else:
        messages.success(request, "已处理兑付申请。")
    return redirect("vouchers:redemption", public_id=public_id)


@login_required
@require_GET
def evidence_download_view(request, evidence_id: int):
    evidence = visible(EvidenceFile.objects.select_related("redemption__voucher__batch").filter(pk=evidence_id)
                       .first())
    if not access.can_view_redemption(request.user, evidence.redemption):
        visible(None)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.name)
