"""Reads of guarantees and the risk pool: a pool's figures and trial balance from its ledger, a guarantee's
parties with the figures every party sees, the ledger lines of a guarantee, the claims queue. Callers check
access (twincity.riskpool.access)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from finance_engine import risk
from twincity.accounts.models import Organisation
from twincity.core.access import visible_to
from twincity.finance.models import Application
from twincity.riskpool import access
from twincity.riskpool.models import GUARANTEEABLE, Claim, Guarantee, LedgerEntry, LedgerTransaction, Recovery, RiskPool

NO_POOL = "资金池不存在 (no such pool)"
NO_GUARANTEE = "担保不存在 (no such guarantee)"
NO_CLAIM = "代偿申请不存在 (no such claim)"

ZERO = risk.ZERO


def fen(value: Decimal | None) -> Decimal:
    """A database sum as yuan to the fen (SQLite sums decimals with more places; None is 0)."""
    return (value or ZERO).quantize(risk.FEN)


@dataclass(frozen=True)
class PoolFigures:
    balance: Decimal  # the pool's cash
    contributions: Decimal  # from every contributor
    fees: Decimal  # the pool's share of guarantee fees
    payouts: Decimal  # the pool's losses borne
    recoveries: Decimal  # the pool's share of recoveries
    net_losses: Decimal  # payouts − recoveries
    loss_ratio: Decimal | None  # net losses / contributions
    threshold: Decimal
    tripped: bool  # what the rule says now (the pool's status is what was recorded)
    guarantees: int
    covered: Decimal
    open_claims: int


def _sides(entries) -> dict[tuple[bool, str], tuple[Decimal, Decimal]]:
    rows = entries.values("account__kind").annotate(
        d_own=Sum("debit", filter=Q(account__party__isnull=True)),
        c_own=Sum("credit", filter=Q(account__party__isnull=True)),
        d=Sum("debit"), c=Sum("credit"))
    out = {}
    for r in rows:
        out[(True, r["account__kind"])] = (fen(r["d_own"]), fen(r["c_own"]))
        out[(False, r["account__kind"])] = (fen(r["d"]), fen(r["c"]))
    return out


def pool_figures(pool: RiskPool) -> PoolFigures:
    sides = _sides(LedgerEntry.objects.filter(account__pool=pool))

    def net(own: bool, kind: str, normal: str) -> Decimal:
        d, c = sides.get((own, kind), (ZERO, ZERO))
        return d - c if normal == "debit" else c - d

    contributions = net(False, risk.CONTRIBUTED, "credit")
    payouts, recoveries = net(True, risk.LOSS, "debit"), net(True, risk.RECOVERY, "credit")
    g = pool.guarantees.aggregate(n=Count("pk"), covered=Sum("covered_amount"))
    return PoolFigures(
        balance=net(True, risk.CASH, "debit"), contributions=contributions, fees=net(True, risk.FEE, "credit"),
        payouts=payouts, recoveries=recoveries, net_losses=payouts - recoveries,
        loss_ratio=risk.loss_ratio(contributions, payouts - recoveries), threshold=pool.breaker_threshold,
        tripped=risk.breaker_tripped(contributions, payouts - recoveries, pool.breaker_threshold),
        guarantees=g["n"] or 0, covered=fen(g["covered"]),
        open_claims=Claim.objects.filter(guarantee__pool=pool).exclude(
            status__in=(Claim.Status.PAID, Claim.Status.REJECTED)).count(),
    )


@dataclass(frozen=True)
class AccountBalance:
    party: Organisation | None  # None: the pool itself
    kind: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit − credit."""
        return self.debit - self.credit


def trial_balance(pool: RiskPool) -> list[AccountBalance]:
    """Every account of the pool with its debits and credits; the balances sum to zero."""
    rows = (LedgerEntry.objects.filter(account__pool=pool)
            .values("account__party", "account__kind").annotate(d=Sum("debit"), c=Sum("credit"))
            .order_by("account__party", "account__kind"))
    orgs = Organisation.objects.in_bulk([r["account__party"] for r in rows if r["account__party"]])
    return [AccountBalance(orgs.get(r["account__party"]), r["account__kind"], fen(r["d"]), fen(r["c"]))
            for r in rows]


def contributions_of(pool: RiskPool) -> QuerySet[LedgerEntry]:
    """The contribution lines (credit to a contributor), newest first."""
    return (LedgerEntry.objects.filter(account__pool=pool, account__kind=risk.CONTRIBUTED)
            .select_related("account__party", "transaction").order_by("-transaction__at", "-pk"))


def transactions_of(*, pool: RiskPool | None = None, guarantee: Guarantee | None = None) -> list[LedgerTransaction]:
    """Ledger transactions with their lines (accounts and parties loaded), oldest first."""
    qs = LedgerTransaction.objects.all()
    if pool is not None:
        qs = qs.filter(pool=pool)
    if guarantee is not None:
        qs = qs.filter(guarantee=guarantee)
    return list(qs.select_related("actor").prefetch_related("entries__account__party").order_by("at", "pk"))


@dataclass(frozen=True)
class PartyFigures:
    role: str
    organisation: Organisation | None
    weight: str
    fee: Decimal
    loss: Decimal
    recovered: Decimal

    @property
    def net_loss(self) -> Decimal:
        return self.loss - self.recovered


def guarantee_parties(guarantee: Guarantee) -> list[PartyFigures]:
    """Each party of the guarantee with its frozen share, the fee it earned, the loss it bore and what it got
    back: the figures every party sees alike."""
    fee = loss = recovered = {}
    if guarantee.fee_amount:
        fee = risk.fee_split(guarantee.fee_amount, guarantee.shares)
    claim = guarantee.claims.filter(status=Claim.Status.PAID).first()
    if claim is not None:
        loss = {k: Decimal(v) for k, v in claim.allocation.get("borne", {}).items()}
        recovered = {}
        for parts in claim.recoveries.values_list("parts", flat=True):
            for role, value in parts.items():
                recovered[role] = recovered.get(role, ZERO) + Decimal(value)
    orgs = {risk.BANK: guarantee.lender, risk.GUARANTOR: guarantee.guarantor,
            risk.REGUARANTOR: guarantee.reguarantor, risk.POOL: None}
    return [PartyFigures(role, orgs[role], str(guarantee.shares.get(role, 0)), fee.get(role, ZERO),
                         loss.get(role, ZERO), recovered.get(role, ZERO))
            for role in risk.PARTY_ROLES if role in guarantee.shares or loss.get(role)]


def recoveries_of(guarantee: Guarantee) -> QuerySet[Recovery]:
    return Recovery.objects.filter(claim__guarantee=guarantee).order_by("created_at", "pk")


def guaranteeable_loans(limit: int = 200):
    """The loans a guarantee can still be attached to: approved or disbursed, with a lending bank, no guarantee
    yet (what `services.guarantee_attach` accepts), the oldest decisions first."""
    return (Application.objects.filter(state__in=GUARANTEEABLE, lead_institution__kind=Organisation.Kind.BANK,
                                       guarantee__isnull=True)
            .select_related("enterprise", "lead_institution").order_by("updated_at", "pk")[:limit])


def guarantee_detail(guarantee_id: int) -> Guarantee | None:
    return (Guarantee.objects.select_related("pool", "pool__operator", "application", "application__enterprise",
                                             "lender", "guarantor", "reguarantor", "product")
            .filter(pk=guarantee_id).first())


def claims_queue(claims: QuerySet[Claim], status: str | None = None) -> QuerySet[Claim]:
    """Claims waiting first (filed, under review, approved), then the decided; newest first within each."""
    if status:
        claims = claims.filter(status=status)
    return claims.select_related("guarantee", "guarantee__pool", "guarantee__lender", "guarantee__guarantor",
                                 "guarantee__application__enterprise").order_by("-created_at", "-pk")


# --- what a person may open (404 otherwise): the pages and the API call these ---------------------------------


def pool_for(user, pool_id: int) -> RiskPool:
    return visible_to(user, RiskPool.objects.select_related("operator").filter(pk=pool_id).first(),
                      access.can_view_pool, NO_POOL)


def guarantee_for(user, guarantee_id: int) -> Guarantee:
    return visible_to(user, guarantee_detail(guarantee_id), access.can_view_guarantee, NO_GUARANTEE)


def claim_for(user, claim_id: int) -> Claim:
    return visible_to(user, Claim.objects.select_related("guarantee__pool").filter(pk=claim_id).first(),
                      access.can_view_claim, NO_CLAIM)
