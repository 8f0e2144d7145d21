"""The innovation-voucher JSON endpoints: an enterprise's vouchers and their uses; a city office's batches
(define, issue, the redemptions of a period, the funding office's XLSX and ZIP exports, settle claims); the
provider's redemptions; evidence and claims; the once-only registry of subsidy claims.

Paying a booking with a voucher is an instruments endpoint (POST /api/instruments/bookings/{id}/voucher).
A voucher that may not pay answers 409 `voucher_refused` with `extra.refusals` (each names its rule); a job
claimed already answers 409 `already_claimed` with `extra.claim` (the earlier claim); an incomplete evidence
bundle answers 409 `evidence_incomplete` with `extra.missing`."""

from uuid import UUID

from django.http import HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from twincity.accounts.models import Organisation
from twincity.core.access import require, visible
from twincity.core.api import errors
from twincity.core.errors import InvalidInput
from twincity.vouchers import access, exports, selectors, services
from twincity.vouchers.models import Redemption, SubsidyClaim
from twincity.vouchers.schemas import (
    BatchIn,
    BatchOut,
    ClaimIn,
    ClaimOut,
    DecisionIn,
    EvidenceKindIn,
    EvidenceOut,
    IssueIn,
    PeriodFilters,
    RedemptionDetailOut,
    RedemptionOut,
    VoucherOut,
    WithdrawIn,
)

router = Router(tags=["vouchers 科技创新券"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _detail(redemption: Redemption) -> Redemption:
    redemption.evidence_files = list(redemption.evidence.all())  # type: ignore[attr-defined]
    redemption.missing = services.evidence_missing(redemption)  # type: ignore[attr-defined]
    return redemption


# --- enterprises -----------------------------------------------------------------------------------------------


@router.get("/mine", response={200: list[VoucherOut], **errors(401, 403)},
            summary="My enterprise's vouchers: amount, reserved, used, balance, validity (enterprise users)")
def my_vouchers_api(request):
    require(access.can_hold_vouchers(request.user))
    return selectors.vouchers_of(queryset=access.vouchers_held(request.user))


@router.get("/mine/{public_id}/uses", response={200: list[RedemptionOut], **errors(401, 403, 404, 422)},
            summary="The uses of one of my enterprise's vouchers, the latest first")
def my_voucher_uses_api(request, public_id: UUID):
    voucher = selectors.voucher_for(request.user, public_id)
    return selectors.redemptions_of(voucher=voucher).select_related("voucher__holder")


# --- city offices ----------------------------------------------------------------------------------------------


@router.get("/batches", response={200: list[BatchOut], **errors(401, 403)},
            summary="The batches of the cities I act for as voucher office")
def batch_list_api(request):
    require(access.is_office(request.user), services.NOT_OFFICE)
    return access.batches_managed(request.user).select_related("office")


@router.post("/batches", response={201: BatchOut, **errors(403, 422)},
             summary="Define a batch of my city (city office)",
             description="422 with `extra.fields` for invalid terms (an unknown region or provider, a co-pay share "
                         "of 1 or more, an end before the start, a code taken); 403 for another city's batch.")
def batch_create_api(request, payload: BatchIn):
    batch = services.batch_create(actor=request.user, **payload.model_dump())
    return Status(201, batch)


@router.post("/batches/{public_id}/issue", response={201: list[VoucherOut], **errors(403, 404, 409, 422)},
             summary="Issue one voucher of the batch to each enterprise (city office)",
             description="Each enterprise's users are notified. 422 when one is not an enterprise or already "
                         "holds a voucher of the batch; 409 `voucher_state` when the batch is closed or over.")
def vouchers_issue_api(request, public_id: UUID, payload: IssueIn):
    batch = selectors.batch_for(request.user, public_id)
    holders = list(Organisation.objects.filter(pk__in=payload.holders))
    if len(holders) != len(set(payload.holders)):
        missing = sorted(set(payload.holders) - {h.pk for h in holders})
        raise InvalidInput("企业不存在 (no such organisation)", extra={"fields": {"holders": [str(pk) for pk in missing]}})
    return Status(201, services.vouchers_issue(actor=request.user, batch=batch, holders=holders))


@router.get("/batches/{public_id}/redemptions", response={200: list[RedemptionOut], **errors(401, 403, 404, 422)},
            summary="The batch's done jobs (used, claimed, settled) whose service date is in the period")
def batch_redemptions_api(request, public_id: UUID, filters: Query[PeriodFilters]):
    batch = selectors.batch_for(request.user, public_id)
    return selectors.batch_redemptions(batch=batch, period_from=filters.period_from,
                                       period_until=filters.period_until)


@router.get("/batches/{public_id}/export.xlsx", response={200: None, **errors(401, 403, 404, 422)},
            summary="The funding office's settlement sheet of the batch and period (XLSX)",
            openapi_extra={"responses": {"200": {"description": "the sheet",
                                                 "content": {XLSX: {"schema": {"type": "string",
                                                                               "format": "binary"}}}}}})
def batch_export_xlsx_api(request, public_id: UUID, filters: Query[PeriodFilters]):
    batch = selectors.batch_for(request.user, public_id)
    redemptions = list(selectors.batch_redemptions(batch=batch, period_from=filters.period_from,
                                                   period_until=filters.period_until))
    response = HttpResponse(exports.settlement_xlsx(redemptions), content_type=XLSX)
    name = exports.export_name(batch, filters.period_from, filters.period_until)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@router.get("/batches/{public_id}/export.zip", response={200: None, **errors(401, 403, 404, 422)},
            summary="The batch and period's evidence bundle for the funding office (ZIP: the sheet and every "
                    "job's files under <voucher code>/<job>/)",
            openapi_extra={"responses": {"200": {"description": "the bundle",
                                                 "content": {"application/zip": {"schema": {"type": "string",
                                                                                            "format": "binary"}}}}}})
def batch_export_zip_api(request, public_id: UUID, filters: Query[PeriodFilters]):
    batch = selectors.batch_for(request.user, public_id)
    redemptions = list(selectors.batch_redemptions(batch=batch, period_from=filters.period_from,
                                                   period_until=filters.period_until))
    name = exports.export_name(batch, filters.period_from, filters.period_until)
    response = HttpResponse(exports.evidence_zip(batch, redemptions, name=name), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    return response


@router.post("/claims", response={201: ClaimOut, **errors(403, 404, 409, 422)},
             summary="Record a test-subsidy (检测补贴) or post-subsidy (后补助) claim on a job (city office)",
             description="409 `already_claimed` with `extra.claim` when the job has an active claim, a voucher's "
                         "included: a job is claimed once across voucher, test subsidy and post-subsidy.")
def claim_register_api(request, payload: ClaimIn):
    require(access.can_register_subsidy(request.user), services.NOT_OFFICE)
    claimant = visible(Organisation.objects.filter(pk=payload.claimant_id).first(), "单位不存在 (no such organisation)")
    claim = services.subsidy_claim_register(actor=request.user, kind=payload.kind, job_kind=payload.job_kind,
                                            job_ref=payload.job_ref, claimant=claimant, amount=payload.amount,
                                            note=payload.note)
    return Status(201, claim)


@router.get("/claims", response={200: list[ClaimOut], **errors(401, 403, 422)},
            summary="The claims on a job, active and withdrawn (city office)")
def claim_list_api(request, job_key: str):
    require(access.can_register_subsidy(request.user), services.NOT_OFFICE)
    return selectors.claims_for(job_key=job_key[:120])


@router.post("/claims/{claim_id}/withdraw", response={200: ClaimOut, **errors(403, 404, 409, 422)},
             summary="Withdraw a test-subsidy or post-subsidy claim with the reason (city office)",
             description="409 `voucher_state` for a voucher's claim (it follows its redemption) or one withdrawn.")
def claim_withdraw_api(request, claim_id: int, payload: WithdrawIn):
    require(access.can_register_subsidy(request.user), services.NOT_OFFICE)
    claim = visible(SubsidyClaim.objects.filter(pk=claim_id).first(), "申请不存在 (no such claim)")
    return services.subsidy_claim_withdraw(actor=request.user, claim=claim, reason=payload.reason)


# --- redemptions: providers, evidence, settlement --------------------------------------------------------------


@router.get("/redemptions", response={200: list[RedemptionOut], **errors(401, 403)},
            summary="The voucher redemptions at my institution (provider staff; offices: their cities')")
def provider_redemptions_api(request):
    require(access.can_view_provider_redemptions(request.user))
    return (access.redemptions_at_provider(request.user).select_related("voucher__holder", "provider")
            .order_by("-created_at")[:500])


@router.get("/redemptions/{public_id}", response={200: RedemptionDetailOut, **errors(401, 404, 422)},
            summary="A redemption with its evidence bundle and what it still lacks")
def redemption_detail_api(request, public_id: UUID):
    return _detail(selectors.redemption_for(request.user, public_id))


@router.post("/redemptions/{public_id}/evidence", response={201: EvidenceOut, **errors(403, 404, 409, 413, 422)},
             summary="Attach a file to the job's evidence bundle (holder's users, provider staff)",
             description="multipart: `kind` (contract, report, invoice, payment) and `file` (at most 20 MB). 409 "
                         "`voucher_state` once the job is claimed or released.")
def evidence_attach_api(request, public_id: UUID, kind: Form[EvidenceKindIn], file: File[UploadedFile]):
    redemption = selectors.redemption_for(request.user, public_id)
    evidence = services.evidence_attach(actor=request.user, redemption=redemption, kind=kind, upload=file)
    return Status(201, evidence)


@router.post("/redemptions/{public_id}/claim", response={200: RedemptionOut, **errors(403, 404, 409, 422)},
             summary="Claim the voucher part of a done job (the enterprise in the reimbursement mode, the "
                     "provider in the direct mode)",
             description="409 `evidence_incomplete` with `extra.missing`; 409 `voucher_state` unless the job is "
                         "done and not yet claimed.")
def settlement_claim_api(request, public_id: UUID):
    return services.settlement_claim(actor=request.user, redemption=selectors.redemption_for(request.user, public_id))


@router.post("/redemptions/{public_id}/decide", response={200: RedemptionOut, **errors(403, 404, 409, 422)},
             summary="Settle a claim (兑付核销) or send it back with the reason (the voucher's city office)")
def settlement_decide_api(request, public_id: UUID, payload: DecisionIn):
    return services.settlement_decide(actor=request.user, redemption=selectors.redemption_for(request.user, public_id),
                                      approve=payload.approve, note=payload.note)
