"""The risk-pool pages: 担保与风险池 (the pools and the guarantees one is a party of), a pool's overview (balance,
contributions, payouts, recoveries, loss ratio, breaker status), a guarantee's detail (the frozen shares, each
party's figures, its claims and ledger lines, with the actions the person may take) and the claims queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from finance_engine import risk
from twincity.accounts.models import Organisation, User
from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError
from twincity.finance.models import Application, FinancialProduct, ProductKind
from twincity.riskpool import access, selectors, services
from twincity.riskpool.models import CLAIM_ACTIONS, TRANSITIONS, Claim, RiskPool

ACTION_LABELS = {"review": gettext_lazy("Start review"), "approve": gettext_lazy("Approve"),
                 "reject": gettext_lazy("Reject"), "pay": gettext_lazy("Pay out")}


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


def percent(ratio) -> str:
    """0.0103456789 → "1.03%"; None → "—"."""
    return "—" if ratio is None else f"{ratio * 100:.2f}%"


def _shares_rows(shares: dict) -> list[dict]:
    total = sum(float(v) for v in shares.values()) or 1
    return [{"role": role, "label": _(risk.PARTY_LABELS[role][1]), "weight": shares[role],
             "percent": float(shares[role]) / total} for role in risk.PARTY_ROLES if role in shares]


@login_required
@require_GET
def index_view(request):
    require(access.can_use_riskpool(request.user))
    pools = list(access.pools_visible(request.user).select_related("operator").order_by("name"))
    for pool in pools:
        pool.shares_rows = _shares_rows(pool.default_shares)
    guarantees = (access.guarantees_visible(request.user)
                  .select_related("pool", "lender", "guarantor", "application__enterprise")
                  .order_by("-created_at", "-pk")[:200])
    return render(request, "riskpool/index.html", {
        "pools": pools, "guarantees": guarantees,
        "open_claims": access.claims_visible(request.user).exclude(
            status__in=(Claim.Status.PAID, Claim.Status.REJECTED)).count(),
        "attach": _attach_form(request.user),
    })


def _attach_form(user) -> dict | None:
    """What the 提供担保 form offers a guarantee officer (their own institution as guarantor) or an
    administrator (any guarantor): the pools taking guarantees, the loans still without one, the re-guarantors
    and the guarantor's published guarantee products."""
    if not access.can_attach_any(user):
        return None
    guarantors = Organisation.objects.filter(kind=Organisation.Kind.GUARANTOR).order_by("name")
    if not user.is_superuser and getattr(user, "role", "") == User.Role.GUARANTEE_OFFICER:
        own = guarantors.filter(pk=user.organisation_id)
    else:
        own = guarantors
    return {
        "pools": RiskPool.objects.filter(status=RiskPool.Status.ACTIVE).order_by("name"),
        "loans": selectors.guaranteeable_loans(),
        "guarantors": own, "reguarantors": guarantors,
        "products": FinancialProduct.objects.filter(kind=ProductKind.GUARANTEE, institution__in=own,
                                                    status=FinancialProduct.Status.PUBLISHED).order_by("product_id"),
    }


def _pick(model, value, label: str):
    """The chosen row of a select (None when nothing is chosen), or a clear error for a stale choice."""
    if not value:
        return None
    try:
        return model.objects.get(pk=int(value))
    except (ValueError, model.DoesNotExist):
        raise ApplicationError(_("Choose a valid %(what)s.") % {"what": label}) from None


@login_required
@require_POST
def guarantee_attach_view(request):
    require(access.can_attach_any(request.user))
    post = request.POST
    try:
        pool = _pick(RiskPool, post.get("pool"), _("pool"))
        loan = _pick(Application, post.get("application"), _("loan"))
        guarantor = _pick(Organisation, post.get("guarantor"), _("guarantor"))
        if pool is None or loan is None or guarantor is None:
            raise ApplicationError(_("Choose a pool, a loan and a guarantor."))
        product = None
        if post.get("product"):
            product = FinancialProduct.objects.filter(product_id=post["product"],
                                                      status=FinancialProduct.Status.PUBLISHED).first()
            if product is None:
                raise ApplicationError(_("Choose a valid %(what)s.") % {"what": _("product")})
        term = post.get("term_months") or None
        guarantee = services.guarantee_attach(
            actor=request.user, pool=pool, application=loan, guarantor=guarantor,
            reguarantor=_pick(Organisation, post.get("reguarantor"), _("re-guarantor")), product=product,
            covered_amount=post.get("covered_amount") or None, fee_rate=post.get("fee_rate") or None,
            term_months=int(term) if term and term.isdigit() else None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("riskpool:index")
    messages.success(request, _("Guarantee attached."))
    return redirect("riskpool:guarantee", guarantee_id=guarantee.pk)


@login_required
@require_GET
def pool_view(request, pool_id: int):
    pool = selectors.pool_for(request.user, pool_id)
    figures_allowed = access.can_view_pool_figures(request.user, pool)
    figures = selectors.pool_figures(pool) if figures_allowed else None
    return render(request, "riskpool/pool.html", {
        "loss_ratio": percent(figures.loss_ratio) if figures else "", "threshold": percent(pool.breaker_threshold),
        "pool": pool, "shares": _shares_rows(pool.default_shares),
        "product_shares": [{"product_id": k, "shares": risk.shares_text(v)} for k, v in pool.product_shares.items()],
        "figures": figures,
        "contributions": selectors.contributions_of(pool)[:100] if figures_allowed else [],
        "guarantees": (access.guarantees_visible(request.user).filter(pool=pool)
                       .select_related("lender", "guarantor", "application__enterprise")
                       .order_by("-created_at", "-pk")[:200]),
        "can_manage": access.can_manage_pool(request.user, pool),
        "contributors": Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT).order_by("name"),
    })


@login_required
@require_POST
def pool_contribute_view(request, pool_id: int):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_manage_pool(request.user, pool))
    contributor = Organisation.objects.filter(pk=request.POST.get("contributor") or 0).first()
    try:
        if contributor is None:
            raise ApplicationError(_("Choose a contributor."))
        services.pool_contribute(actor=request.user, pool=pool, contributor=contributor,
                                 amount=request.POST.get("amount", ""), memo=request.POST.get("memo", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Contribution recorded."))
    return redirect("riskpool:pool", pool_id=pool.pk)


@login_required
@require_POST
def pool_resume_view(request, pool_id: int):
    pool = selectors.pool_for(request.user, pool_id)
    require(access.can_manage_pool(request.user, pool))
    try:
        services.pool_resume(actor=request.user, pool=pool, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The pool takes new guarantees again."))
    return redirect("riskpool:pool", pool_id=pool.pk)


@login_required
@require_GET
def guarantee_view(request, guarantee_id: int):
    guarantee = selectors.guarantee_for(request.user, guarantee_id)
    user = request.user
    claims = []
    for claim in guarantee.claims.order_by("created_at", "pk"):
        actions = [(a, ACTION_LABELS[a]) for a in CLAIM_ACTIONS
                   if (claim.status, a) in TRANSITIONS and access.can_act_on_claim(user, claim, a)]
        claims.append({"claim": claim, "actions": actions,
                       "can_recover": claim.status == Claim.Status.PAID and access.can_record_recovery(user, claim)})
    return render(request, "riskpool/guarantee.html", {
        "g": guarantee, "shares": _shares_rows(guarantee.shares), "parties": selectors.guarantee_parties(guarantee),
        "claims": claims, "recoveries": selectors.recoveries_of(guarantee),
        "ledger": selectors.transactions_of(guarantee=guarantee),
        "can_file": access.can_file_claim(user, guarantee) and services.claim_file_refusal(guarantee) is None,
    })


@login_required
@require_POST
def claim_file_view(request, guarantee_id: int):
    guarantee = selectors.guarantee_for(request.user, guarantee_id)
    require(access.can_file_claim(request.user, guarantee))
    try:
        services.claim_file(actor=request.user, guarantee=guarantee, amount=request.POST.get("amount", ""),
                            description=request.POST.get("description", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Claim filed."))
    return redirect("riskpool:guarantee", guarantee_id=guarantee.pk)


@login_required
@require_POST
def claim_action_view(request, claim_id: int, action: str):
    claim = selectors.claim_for(request.user, claim_id)
    if action not in CLAIM_ACTIONS:
        visible(None)
    require(access.can_act_on_claim(request.user, claim, action))
    try:
        services.claim_transition(actor=request.user, claim=claim, action=action,
                                  reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Claim updated."))
    return redirect("riskpool:guarantee", guarantee_id=claim.guarantee_id)


@login_required
@require_POST
def recovery_view(request, claim_id: int):
    claim = selectors.claim_for(request.user, claim_id)
    require(access.can_record_recovery(request.user, claim))
    try:
        services.recovery_record(actor=request.user, claim=claim, amount=request.POST.get("amount", ""),
                                 note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Recovery recorded and shared back."))
    return redirect("riskpool:guarantee", guarantee_id=claim.guarantee_id)


@login_required
@require_GET
def claims_view(request):
    require(access.can_use_riskpool(request.user))
    status = request.GET.get("status") or ""
    if status not in Claim.Status.values:
        status = ""
    claims = selectors.claims_queue(access.claims_visible(request.user), status or None)[:200]
    context = {"claims": claims, "status": status, "statuses": Claim.Status.choices}
    return render(request, "riskpool/_claims.html" if _htmx(request) else "riskpool/claims.html", context)
