"""Reads of tech finance: the published products, an enterprise's facts and its match against the products
(finance_engine), its consents and who read its data. Callers check access (`twincity.finance.access`)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

import finance_engine
from twincity.enterprises.models import Enterprise
from twincity.finance.models import AccessLog, Consent, FinancialProduct
from twincity.points.facts import registry_facts
from twincity.points.selectors import result_latest

VERDICT_ORDER = {finance_engine.ELIGIBLE: 0, finance_engine.NEEDS_REVIEW: 1, finance_engine.INELIGIBLE: 2}


# --- products ----------------------------------------------------------------------------------------------


def products_published() -> QuerySet[FinancialProduct]:
    """The products on offer: the published version of each, with its institution."""
    return (FinancialProduct.objects.filter(status=FinancialProduct.Status.PUBLISHED)
            .select_related("institution").order_by("kind", "product_id"))


def product_current(*, product_id: str) -> FinancialProduct | None:
    """A product's latest version (published, or withdrawn)."""
    return (FinancialProduct.objects.filter(product_id=product_id).select_related("institution")
            .order_by("-version").first())


def product_version(*, product_id: str, version: int) -> FinancialProduct | None:
    return (FinancialProduct.objects.filter(product_id=product_id, version=version)
            .select_related("institution").first())


def product_versions(*, product_id: str) -> QuerySet[FinancialProduct]:
    return FinancialProduct.objects.filter(product_id=product_id).select_related("created_by").order_by("-version")


# A stored version never changes: its engine product is parsed once per process (keyed by the row and its
# creation time, so a row id reused after a deletion is never taken for another product).
_ENGINE_PRODUCTS: dict[tuple, finance_engine.Product] = {}


def engine_product(product: FinancialProduct) -> finance_engine.Product:
    key = (product.pk, product.product_id, product.version, product.created_at)
    parsed = _ENGINE_PRODUCTS.get(key)
    if parsed is None:
        parsed = _ENGINE_PRODUCTS[key] = finance_engine.Product.from_dict(product.definition)
    return parsed


# --- an enterprise's facts and its match -------------------------------------------------------------------


def enterprise_facts(*, enterprise: Enterprise, on: date, standards: Iterable[str]) -> dict[str, object]:
    """The enterprise's facts on a date as the engines read them: the registry's facts (the one adapter,
    twincity.points.facts) plus, for each standard named, its latest finished points and grade
    (`score.<standard>`, `grade.<standard>`; None when it has no result, or only a range because an
    expert's input is missing)."""
    facts = dict(next(iter(registry_facts(evaluation_date=on, enterprise_ids=[enterprise.pk])))[1])
    for standard_id in sorted(set(standards)):
        result = result_latest(enterprise=enterprise, standard_id=standard_id)
        score = None
        if result is not None and result.score_min is not None and result.score_min == result.score_max:
            score = float(result.score_min)
        facts[f"score.{standard_id}"] = score
        facts[f"grade.{standard_id}"] = (result.grade or None) if result is not None else None
    return facts


@dataclass(frozen=True)
class LimitCheck:
    """Whether the amount or term asked fits the product (its range, the credit line at the grade)."""

    id: str
    met: bool
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Offer:
    product: FinancialProduct
    match: finance_engine.ProductMatch
    limits: tuple[LimitCheck, ...] = field(default=())

    @property
    def verdict(self) -> str:
        """The engine's verdict on the conditions; ineligible too when the amount or term asked does not fit."""
        if any(not check.met for check in self.limits):
            return finance_engine.INELIGIBLE
        return self.match.verdict


def _wan(amount: Decimal) -> str:
    """Yuan as 万元 text (1,500,000 → 150万)."""
    return f"{(amount / 10000).normalize():f}万"


def _limit_checks(product: FinancialProduct, line: Decimal | None, amount: Decimal,
                  term_months: int) -> tuple[LimitCheck, ...]:
    checks = []
    low, high = product.min_amount, product.max_amount
    if low is not None or high is not None:
        ok = (low is None or amount >= low) and (high is None or amount <= high)
        span_zh = f"{_wan(low) if low is not None else '—'}–{_wan(high) if high is not None else '—'}"
        checks.append(LimitCheck("amount", ok, f"{'满足' if ok else '不满足'}：金额 {_wan(amount)} 在 {span_zh} 之内",
                                 f"{'met' if ok else 'not met'}: amount {amount} yuan within {low or '—'}–{high or '—'}"))
    if line is not None:
        ok = amount <= line
        checks.append(LimitCheck("credit_line", ok, f"{'满足' if ok else '不满足'}：金额不超过授信额度 {_wan(line)}",
                                 f"{'met' if ok else 'not met'}: amount within the credit line of {line} yuan"))
    lo, hi = product.min_term_months, product.max_term_months
    if lo is not None or hi is not None:
        ok = (lo is None or term_months >= lo) and (hi is None or term_months <= hi)
        checks.append(LimitCheck("term", ok,
                                 f"{'满足' if ok else '不满足'}：期限 {term_months} 个月在 {lo or '—'}–{hi or '—'} 个月之内",
                                 f"{'met' if ok else 'not met'}: term of {term_months} months within "
                                 f"{lo or '—'}–{hi or '—'} months"))
    return tuple(checks)


def enterprise_match(*, enterprise: Enterprise, on: date, amount: Decimal | None = None,
                     term_months: int | None = None,
                     products: Iterable[FinancialProduct] | None = None) -> list[Offer]:
    """Every published product for the enterprise, ranked: eligible, then needs review, then ineligible (within
    each, the engine's order: cheapest net annual rate first). Each with the reason for every condition and,
    when an amount and term are asked, the net cost and whether they fit the product."""
    rows = list(products if products is not None else products_published())
    engine = [engine_product(p) for p in rows]
    facts = enterprise_facts(enterprise=enterprise, on=on, standards=[p.standard for p in engine if p.standard])
    by_id = {p.product_id: p for p in rows}
    matches = finance_engine.match(facts, engine, amount=amount, term_months=term_months, evaluation_date=on)
    offers = []
    for m in matches:
        row = by_id[m.product_id]
        limits = _limit_checks(row, m.credit_line, amount, term_months) if amount is not None and term_months else ()
        offers.append(Offer(product=row, match=m, limits=limits))
    return sorted(offers, key=lambda offer: VERDICT_ORDER[offer.verdict])  # stable: keeps the engine's order


# --- consent and the access log -----------------------------------------------------------------------------


def consents_of(*, enterprise: Enterprise) -> QuerySet[Consent]:
    return enterprise.consents.select_related("institution", "granted_by", "revoked_by").order_by("-created_at", "-pk")


def access_log_of(*, enterprise: Enterprise) -> QuerySet[AccessLog]:
    return enterprise.access_log.select_related("user", "institution").order_by("-at", "-pk")


def consent_get(*, enterprise: Enterprise, consent_id: int) -> Consent | None:
    return consents_of(enterprise=enterprise).filter(pk=consent_id).first()


def points_latest(*, enterprise: Enterprise) -> list:
    """The enterprise's latest finished result under each standard (the points domain's `result_latest`,
    per standard); callers check the access and log institution reads."""
    from twincity.points.models import StandardVersion

    standard_ids = sorted(set(StandardVersion.objects.values_list("standard_id", flat=True)))
    results = [result_latest(enterprise=enterprise, standard_id=s) for s in standard_ids]
    return [r for r in results if r is not None]


# --- demands and applications ------------------------------------------------------------------------------


def _cases():
    from twincity.finance.models import Application

    return Application.objects.select_related("enterprise", "product", "lead_institution", "partner_institution")


def cases_of_enterprise(*, enterprise: Enterprise):
    return _cases().filter(enterprise=enterprise).order_by("-created_at", "-pk")


def case_get(*, pk: int):
    return _cases().filter(pk=pk).first()


def case_timeline(*, case):
    return case.events.select_related("actor", "institution").order_by("at", "pk")


def case_decisions(*, case):
    return case.decisions.select_related("institution", "decided_by").order_by("round", "decided_at", "pk")


def work_queue(*, user) -> dict[str, list]:
    """An institution's work queue: 待认领 (published demands offered to it, applications routed to it and not
    yet accepted) and 办理中 (claimed, in due diligence, referred back, approved and lent, not finished)."""
    from twincity.finance import access

    visible = _cases().filter(pk__in=access.cases_visible(user).values("pk"))
    to_claim = visible.filter(state__in=("published", "submitted")).order_by("claim_due", "submitted_at", "pk")
    in_hand = (visible.filter(state__in=("claimed", "due_diligence", "referred_back", "approved", "disbursed",
                                         "overdue"))
               .order_by("decision_due", "pk"))
    return {"to_claim": list(to_claim), "in_hand": list(in_hand)}


@dataclass(frozen=True)
class OverdueCase:
    case: object
    clock: str  # "claim" or "decision"
    due: date
    working_days_late: int
    late: list  # the institutions that have not acted (names), or the ones a demand is offered to


def cases_overdue(*, now) -> list[OverdueCase]:
    """Every open case past a legal clock at `now`, with who is late: a published demand not claimed in its
    window (the institutions it is offered to), an accepted case not decided within the approval limit (the
    routed branches that have not decided in this round)."""
    from twincity.core import workdays
    from twincity.finance import access

    today = workdays.shanghai_date(now)
    out: list[OverdueCase] = []
    for case in _cases().filter(state="published", claim_due__lt=today).order_by("claim_due", "pk"):
        names = list(access.demand_candidates(case).values_list("name", flat=True)[:20])
        out.append(OverdueCase(case, "claim", case.claim_due, workdays.working_days_between(case.claim_due, today),
                               names))
    for case in (_cases().filter(state__in=("claimed", "due_diligence"), decision_due__lt=today)
                 .order_by("decision_due", "pk")):
        decided = set(case.decisions.filter(round=case.decision_round).values_list("institution_id", flat=True))
        late = [i.name for i in (case.lead_institution, case.partner_institution)
                if i is not None and i.pk not in decided]
        out.append(OverdueCase(case, "decision", case.decision_due,
                               workdays.working_days_between(case.decision_due, today), late))
    return sorted(out, key=lambda o: (o.due, o.case.pk))
