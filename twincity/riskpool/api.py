"""The risk-pool JSON endpoints: pools (their figures and ledger), guarantees attached to loans, claims on
default (filed → under review → approved → paid, or rejected with a reason) and recoveries. Each party of a
guarantee (the lending bank's tree, the guarantor, the re-guarantor, the pool's operator) reads the same
figures; anything else answers 404. Money is in yuan as decimal strings, to the fen."""

from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from twincity.accounts.models import Organisation
from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.finance.models import Application, FinancialProduct
from twincity.riskpool import access, selectors, services
from twincity.riskpool.models import Guarantee, LedgerTransaction, RiskPool
from twincity.riskpool.schemas import (
    ActionIn,
    ClaimAction,
    ClaimFilters,
    ClaimIn,
    ClaimOut,
    ContributionIn,
    GuaranteeDetailOut,
    GuaranteeIn,
    GuaranteeOut,
    NoteIn,
    PoolDetailOut,
    PoolIn,
    PoolOut,
    RecoveryIn,
    RecoveryOut,
    TransactionOut,
    TrialBalanceOut,
)

router = Router(tags=["riskpool 担保与风险池"])

Id = Path(..., ge=1, le=2**31 - 1)


def _org(org_id: int | None, what: str) -> Organisation | None:
    if org_id is None:
        return None
    return visible(Organisation.objects.filter(pk=org_id).first(), f"{what}不存在 (no such organisation)")


def _pool_out(user, pool: RiskPool) -> dict:
    data = PoolOut.from_orm(pool).model_dump(by_alias=True)
    data["figures"] = vars(selectors.pool_figures(pool)) if access.can_view_pool_figures(user, pool) else None
    return data


def _txn_out(txn: LedgerTransaction) -> dict:
    return {"id": txn.pk, "kind": txn.kind, "at": txn.at, "memo": txn.memo, "guarantee_id": txn.guarantee_id,
            "claim_id": txn.claim_id, "debit_total": txn.debit_total, "credit_total": txn.credit_total,
            "lines": [{"party_id": e.account.party_id,
                       "party": e.account.party.name if e.account.party else "风险补偿资金池 (pool)",
                       "kind": e.account.kind, "debit": e.debit, "credit": e.credit} for e in txn.entries.all()]}


def _guarantee_out(guarantee: Guarantee) -> dict:
    data = GuaranteeOut.from_orm(guarantee).model_dump(by_alias=True)
    data["parties"] = [{"role": p.role, "organisation_id": p.organisation.pk if p.organisation else None,
                        "organisation": p.organisation.name if p.organisation else guarantee.pool.name,
                        "weight": p.weight, "fee": p.fee, "loss": p.loss, "recovered": p.recovered,
                        "net_loss": p.net_loss} for p in selectors.guarantee_parties(guarantee)]
    data["claims"] = list(guarantee.claims.order_by("created_at", "pk"))
    data["recoveries"] = list(selectors.recoveries_of(guarantee))
    data["ledger"] = [_txn_out(t) for t in selectors.transactions_of(guarantee=guarantee)]
    return data


# --- pools -----------------------------------------------------------------------------------------------------


@router.get("/pools", response={200: list[PoolOut], **errors()}, summary="The risk pools you may see")
@paginate(Pagination)
def pool_list_api(request):
    return access.pools_visible(request.user).select_related("operator").order_by("name")


@router.post("/pools", response={201: PoolDetailOut, **errors(403, 404, 409, 422)},
             summary="Create a risk pool (administrators)",
             description="Invalid shares or ratios answer 422 with every error; a name already taken 409.")
def pool_create_api(request, payload: PoolIn):
    require(access.can_create_pools(request.user))
    operator = _org(payload.operator_id, "运营机构")
    pool = services.pool_create(actor=request.user, name=payload.name, operator=operator, city=payload.city,
                                default_shares=payload.default_shares, product_shares=payload.product_shares,
                                breaker_threshold=payload.breaker_threshold, payout_cap_rate=payload.payout_cap_rate,
                                payout_cap_amount=payload.payout_cap_amount)
    return Status(201, _pool_out(request.user, pool))


@router.get("/pools/{pool_id}", response={200: PoolDetailOut, **errors(404)},
            summary="A pool, with its balance, contributions, payouts, recoveries, loss ratio and breaker status",
            description="`figures` is null for a party that may see the pool but not its overall figures (a bank).")
def pool_detail_api(request, pool_id: int = Id):
    return _pool_out(request.user, selectors.pool_for(request.user, pool_id))


@router.post("/pools/{pool_id}/contributions", response={201: TransactionOut, **errors(403, 404, 422)},
             summary="Record a contribution to the pool (its operator, administrators)")
def contribution_api(request, payload: ContributionIn, pool_id: int = Id):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_manage_pool(request.user, pool))
    contributor = _org(payload.contributor_id, "出资机构")
    txn = services.pool_contribute(actor=request.user, pool=pool, contributor=contributor, amount=payload.amount,
                                   memo=payload.memo)
    return Status(201, _txn_out(txn))


@router.post("/pools/{pool_id}/resume", response={200: PoolDetailOut, **errors(403, 404, 409)},
             summary="Lift a tripped circuit breaker (its operator, administrators)",
             description="409 when the pool is not suspended, or while its loss ratio is still at the threshold.")
def pool_resume_api(request, payload: NoteIn, pool_id: int = Id):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_manage_pool(request.user, pool))
    return _pool_out(request.user, services.pool_resume(actor=request.user, pool=pool, note=payload.note))


@router.get("/pools/{pool_id}/ledger", response={200: list[TransactionOut], **errors(403, 404)},
            summary="The pool's whole ledger: balanced transactions with their lines (figures readers)")
@paginate(Pagination)
def pool_ledger_api(request, pool_id: int = Id):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_view_pool_figures(request.user, pool))
    return [_txn_out(t) for t in selectors.transactions_of(pool=pool)]


@router.get("/pools/{pool_id}/trial-balance", response={200: TrialBalanceOut, **errors(403, 404)},
            summary="Every account's debits, credits and balance; the balances sum to zero")
def trial_balance_api(request, pool_id: int = Id):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_view_pool_figures(request.user, pool))
    rows = selectors.trial_balance(pool)
    return {"accounts": [{"party_id": a.party.pk if a.party else None,
                          "party": a.party.name if a.party else pool.name, "kind": a.kind, "debit": a.debit,
                          "credit": a.credit, "balance": a.balance} for a in rows],
            "total": sum((a.balance for a in rows), services.ZERO)}


# --- guarantees ------------------------------------------------------------------------------------------------


@router.get("/guarantees", response={200: list[GuaranteeOut], **errors()},
            summary="The guarantees you are a party of (administrators: all)")
@paginate(Pagination)
def guarantee_list_api(request, pool_id: int | None = Query(None, ge=1, le=2**31 - 1)):
    guarantees = access.guarantees_visible(request.user).select_related("lender", "guarantor",
                                                                        "application__enterprise")
    if pool_id:
        guarantees = guarantees.filter(pool_id=pool_id)
    return guarantees.order_by("-created_at", "-pk")


@router.post("/guarantees", response={201: GuaranteeDetailOut, **errors(403, 404, 409, 422)},
             summary="Attach a guarantee to an approved or disbursed loan (the guarantor's officers)",
             description="The shares are frozen now (the pool's shares for the product, else its default) and the "
                         "fee is posted to the ledger. 409: the pool's circuit breaker has tripped "
                         "(`pool_suspended`), the loan is not approved or disbursed, or already guaranteed.")
def guarantee_attach_api(request, payload: GuaranteeIn):
    require(access.can_attach_any(request.user))
    pool = _pool_for_attach(request, payload.pool_id)
    application = visible(Application.objects.select_related("lead_institution")
                          .filter(pk=payload.application_id).first(), "贷款不存在 (no such loan)")
    product = None
    if payload.product_id:
        product = visible(FinancialProduct.objects.filter(product_id=payload.product_id,
                                                          status=FinancialProduct.Status.PUBLISHED).first(),
                          "产品不存在 (no such product)")
    guarantee = services.guarantee_attach(
        actor=request.user, pool=pool, application=application, guarantor=_org(payload.guarantor_id, "担保机构"),
        reguarantor=_org(payload.reguarantor_id, "再担保机构"), product=product,
        covered_amount=payload.covered_amount, fee_rate=payload.fee_rate, term_months=payload.term_months)
    return Status(201, _guarantee_out(selectors.guarantee_detail(guarantee.pk)))


def _pool_for_attach(request, pool_id: int) -> RiskPool:
    """Any pool may take a guarantee: a guarantor sees the pool it attaches to (not its figures)."""
    return visible(RiskPool.objects.filter(pk=pool_id).first(), selectors.NO_POOL)


@router.get("/guarantees/{guarantee_id}", response={200: GuaranteeDetailOut, **errors(404)},
            summary="A guarantee: its frozen shares, each party's fee, loss and recoveries, claims and ledger lines",
            description="The same figures for every party of the guarantee; 404 for anyone else.")
def guarantee_detail_api(request, guarantee_id: int = Id):
    return _guarantee_out(selectors.guarantee_for(request.user, guarantee_id))


@router.post("/guarantees/{guarantee_id}/claims", response={201: ClaimOut, **errors(403, 404, 409, 422)},
             summary="File a claim on a defaulted loan (the lending bank)",
             description="409 when the loan has not defaulted, its guarantee is released (the loan repaid) or "
                         "already has a live claim; 422 for "
                         "more than the covered amount.")
def claim_file_api(request, payload: ClaimIn, guarantee_id: int = Id):
    guarantee = selectors.guarantee_for(request.user, guarantee_id)
    return Status(201, services.claim_file(actor=request.user, guarantee=guarantee, amount=payload.amount,
                                           description=payload.description))


# --- claims ----------------------------------------------------------------------------------------------------


@router.get("/claims", response={200: list[ClaimOut], **errors()},
            summary="The claims queue: claims on the guarantees you are a party of")
@paginate(Pagination)
def claim_list_api(request, filters: Query[ClaimFilters]):
    return selectors.claims_queue(access.claims_visible(request.user), filters.status)


@router.post("/claims/{claim_id}/recoveries", response={201: RecoveryOut, **errors(403, 404, 409, 422)},
             summary="Record money recovered after a payout; shared back by the same shares",
             description="409 unless the claim is paid; 422 when the recoveries would exceed the loss.")
def recovery_api(request, payload: RecoveryIn, claim_id: int = Id):
    claim = selectors.claim_for(request.user, claim_id)
    return Status(201, services.recovery_record(actor=request.user, claim=claim, amount=payload.amount,
                                                note=payload.note))


# Registered after /recoveries, which the {action} pattern would otherwise take.
@router.post("/claims/{claim_id}/{action}", response={200: ClaimOut, **errors(403, 404, 409, 422)},
             summary="Move a claim: review, approve, reject (with a reason) or pay",
             description="review: filed → under review; approve: under review → approved; reject: filed or under "
                         "review → rejected (a reason is required, 422 without); pay: approved → paid (each "
                         "party's loss by the frozen shares, the pool up to its cap; posted to the ledger; may trip "
                         "the pool's circuit breaker). Any other move answers 409 `illegal_transition` and changes "
                         "nothing. The guarantor or the pool's operator reviews; the operator pays.")
def claim_action_api(request, payload: ActionIn, action: ClaimAction, claim_id: int = Id):
    claim = selectors.claim_for(request.user, claim_id)
    return services.claim_transition(actor=request.user, claim=claim, action=action, reason=payload.reason)
