"""Reads of tech finance: the published products, an enterprise's facts and its match against the products
(finance_engine), its consents and who read its data. Callers check access (`twincity.finance.access`)."""

import bisect
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

import finance_engine
from twincity.core import caching
from twincity.core.access import visible_to
from twincity.core.caching import REGISTRY, cached, version_of
from twincity.core.keyset import Key
from twincity.core.keyset import decode as keyset_decode
from twincity.core.keyset import encode as keyset_encode
from twincity.enterprises.models import Enterprise
from twincity.finance import access
from twincity.finance.models import AccessLog, Application, Consent, EquityRound, FinancialProduct
from twincity.points.facts import registry_facts
from twincity.points.selectors import result_latest

VERDICT_ORDER = {finance_engine.ELIGIBLE: 0, finance_engine.NEEDS_REVIEW: 1, finance_engine.INELIGIBLE: 2}


# --- products ----------------------------------------------------------------------------------------------


NO_PRODUCT = "产品不存在 (no such product)"
NO_CASE = "融资事项不存在 (no such financing case)"


def products_published() -> QuerySet[FinancialProduct]:
    """The products on offer: the published version of each, with its institution."""
    return (FinancialProduct.objects.filter(status=FinancialProduct.Status.PUBLISHED)
            .select_related("institution").order_by("kind", "product_id"))


def product_current(*, product_id: str) -> FinancialProduct | None:
    """A product's latest version (published, or withdrawn)."""
    return (FinancialProduct.objects.filter(product_id=product_id).select_related("institution")
            .order_by("-version").first())


def product_for(user, product_id: str) -> FinancialProduct:
    """The product's latest version if `user` may see it (404 otherwise): its pages and its API open it so."""
    return visible_to(user, product_current(product_id=product_id), access.can_view_product, NO_PRODUCT)


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


def enterprise_facts(*, enterprise: Enterprise, on: date, standards: Iterable[str],
                     equity: bool = True) -> dict[str, object]:
    """The enterprise's facts on a date as the engines read them: the registry's facts (the one adapter,
    twincity.points.facts) plus, for each standard named, its latest finished points and grade
    (`score.<standard>`, `grade.<standard>`; None when it has no result, or only a range because an
    expert's input is missing), and with `equity` the finance facts of its equity rounds (`equity_facts`)."""
    facts = dict(next(iter(registry_facts(evaluation_date=on, enterprise_ids=[enterprise.pk])))[1])
    for standard_id in sorted(set(standards)):
        result = result_latest(enterprise=enterprise, standard_id=standard_id)
        score, grade = (None, None) if result is None else _score_facts(result.score_min, result.score_max,
                                                                          result.grade)
        facts[f"score.{standard_id}"] = score
        facts[f"grade.{standard_id}"] = grade
    if equity:
        facts.update(equity_facts(on=on, enterprise_ids=[enterprise.pk]).get(enterprise.pk, NO_ROUND))
    return facts


def _score_facts(score_min, score_max, grade) -> tuple[float | None, str | None]:
    """A result's `score.<standard>` and `grade.<standard>`: the points when known exactly (None when only a
    range is, an expert's input missing), the grade (None when it has none)."""
    score = float(score_min) if score_min is not None and score_min == score_max else None
    return score, (grade or None)


def _reads_finance_facts(products: Iterable[finance_engine.Product]) -> bool:
    return any(f in finance_engine.FINANCE_FACTS for p in products for f in p.fields)


# The finance facts of an enterprise without a round on file (finance_engine.facts): the platform records the
# rounds, so none on file means none (0), and what a round would tell is unknown.
NO_ROUND: dict[str, object] = {"equity_rounds": 0, "equity_last_round_days": None, "equity_stage": None}


def equity_facts(*, on: date, enterprise_ids: Iterable[int] | None = None) -> dict[int, dict[str, object]]:
    """enterprise pk → its finance facts from the equity rounds closed on or before `on` (`equity_rounds`,
    `equity_last_round_days`, `equity_stage`: the latest round's, by closing date then record), for the
    enterprises that have one (the others: NO_ROUND). One query; the one place both matching paths read them."""
    rounds = EquityRound.objects.filter(closed_on__lte=on)
    if enterprise_ids is not None:
        rounds = rounds.filter(enterprise_id__in=list(enterprise_ids))
    out: dict[int, dict[str, Any]] = {}
    for enterprise_id, closed_on, stage in rounds.order_by("enterprise_id", "-closed_on", "-pk").values_list(
            "enterprise_id", "closed_on", "stage"):
        facts = out.get(enterprise_id)
        if facts is None:
            out[enterprise_id] = {"equity_rounds": 1, "equity_last_round_days": (on - closed_on).days,
                                  "equity_stage": stage}
        else:
            facts["equity_rounds"] += 1
    return out


def equity_rounds_of(*, enterprise: Enterprise) -> QuerySet[EquityRound]:
    return enterprise.equity_rounds.select_related("investor", "recorded_by").order_by("-closed_on", "-pk")


# --- the whole registry against products (the batch path) ------------------------------------------------------


def _latest_scores(standard_id: str) -> dict[int, tuple[float | None, str | None]]:
    """enterprise pk → (score, grade) of its latest finished result under a standard (`result_latest`'s rule:
    the finished run with the latest evaluation date, then the latest started), for the whole registry: the
    runs newest first, each enterprise taking its first."""
    from twincity.points.models import ScoreResult, ScoringRun

    out: dict[int, tuple[float | None, str | None]] = {}
    total = Enterprise.objects.count()
    runs = (ScoringRun.objects.filter(standard__standard_id=standard_id, status=ScoringRun.Status.DONE)
            .order_by("-evaluation_date", "-created_at", "-pk").values_list("pk", flat=True))
    for run_id in runs:
        for enterprise_id, score_min, score_max, grade in (
                ScoreResult.objects.filter(run_id=run_id).order_by()
                .values_list("enterprise_id", "score_min", "score_max", "grade").iterator(chunk_size=5000)):
            if enterprise_id not in out:
                out[enterprise_id] = _score_facts(score_min, score_max, grade)
        if len(out) >= total:
            break
    return out


def registry_match(*, on: date, products: Sequence[FinancialProduct]):
    """Every enterprise of the registry against `products` in one batch (finance_engine.match_batch, eligibility
    only): a polars frame of `pk`, `credit_code` and `eligible.<product id>` (true, false, or null: needs
    review). The facts are the registry's (twincity.points.facts.registry_frames) plus each product standard's
    latest points and grade and the finance facts of the equity rounds, as `enterprise_facts` gives them one by
    one."""
    import polars as pl

    from twincity.points.facts import registry_frames

    engine = [engine_product(p) for p in products]
    pks: list[int] = []
    frames = []
    for chunk_pks, frame in registry_frames(evaluation_date=on):
        pks.extend(chunk_pks)
        frames.append(frame)
    if not frames:  # an empty registry
        return pl.DataFrame(schema={"pk": pl.Int64, "credit_code": pl.String,
                                    **{f"eligible.{p.id}": pl.Boolean for p in engine}})
    facts = pl.concat(frames, how="vertical_relaxed")
    extra: dict[str, pl.Series] = {}
    for standard_id in sorted({p.standard for p in engine if p.standard}):
        latest = _latest_scores(standard_id)
        extra[f"score.{standard_id}"] = pl.Series([latest.get(pk, (None, None))[0] for pk in pks], dtype=pl.Float64)
        extra[f"grade.{standard_id}"] = pl.Series([latest.get(pk, (None, None))[1] for pk in pks], dtype=pl.String)
    if _reads_finance_facts(engine):
        rounds = equity_facts(on=on)
        for name, dtype in (("equity_rounds", pl.Int64), ("equity_last_round_days", pl.Int64),
                            ("equity_stage", pl.String)):
            extra[name] = pl.Series([rounds.get(pk, NO_ROUND)[name] for pk in pks], dtype=dtype)
    if extra:
        facts = facts.with_columns(**extra)
    result = finance_engine.match_batch(facts, engine, evaluation_date=on, detail=False)
    return result.with_columns(pl.Series("pk", pks, dtype=pl.Int64), facts["credit_code"].alias("credit_code"))


@dataclass(frozen=True)
class Member:
    """An enterprise on a product's whitelist: it qualifies, and a consent covering the reader's institution is in
    force (the one the access log names)."""

    pk: int
    credit_code: str
    consent: access.ConsentInForce


def latest_finished_run(standard_id: str | None = None) -> str:
    """The latest finished scoring run (of a standard, or of any) as a cache-key part: `pk@finish time`, or
    "none". Finished results change only with a run, and runs are not audited result by result."""
    from twincity.points.models import ScoringRun

    runs = ScoringRun.objects.filter(status=ScoringRun.Status.DONE)
    if standard_id:
        runs = runs.filter(standard__standard_id=standard_id)
    latest = runs.order_by("-finished_at", "-pk").values_list("pk", "finished_at").first()
    return f"{latest[0]}@{latest[1].timestamp() if latest[1] else 0}" if latest else "none"


def _qualifying_key(product: FinancialProduct, on: date) -> str:
    standard = engine_product(product).standard
    run = latest_finished_run(standard) if standard else "-"
    return f"finance-qualifying:{product.pk}:{on.isoformat()}:{run}"


def _qualifying(product: FinancialProduct, on: date) -> list[tuple[str, int]]:
    """(credit code, pk) of every enterprise of the registry eligible for the product on `on`, by credit code;
    cached per registry version (every audited write bumps it: declarations, titles, rounds) and the product
    standard's latest finished run (a run's results are not audited one by one)."""
    key = _qualifying_key(product, on)

    def compute() -> list[tuple[str, int]]:
        import polars as pl

        frame = registry_match(on=on, products=[product])
        rows = frame.filter(pl.col(f"eligible.{product.product_id}")).select("credit_code", "pk").sort("credit_code")
        return list(rows.iter_rows())

    return cached(REGISTRY, key, compute)


@dataclass(frozen=True)
class Whitelist:
    members: list[Member]
    consented: int  # enterprises whose consent covering the reader is in force (qualifying or not)


def whitelist(*, user, product: FinancialProduct, at: datetime) -> Whitelist:
    """The product's whitelist as this person's institution may see it at `at`: the enterprises of the whole
    registry that qualify (`_qualifying`, today's facts) and whose consent covering the institution is in force
    at `at` (checked now, never cached: a revocation takes them off at once), by credit code. Callers check
    `access.can_view_whitelist` and log each member they show (services.whitelist_read_record)."""
    consents = access.consent_for_each(user, at)
    qualifying = _qualifying_by_pk(product, timezone.localdate(at))
    members = sorted((Member(pk, qualifying[pk], consent) for pk, consent in consents.items() if pk in qualifying),
                     key=lambda m: m.credit_code)
    return Whitelist(members=members, consented=len(consents))


# pk → credit code of the qualifying set, per process, under the shared cache's own key and registry version (a
# few entries, each for at most FIGURE_SECONDS as the shared entries): a page reads it without unpickling the whole
# set each time.
_QUALIFYING_MEMO: dict[tuple, tuple[float, dict[int, str]]] = {}


def _qualifying_by_pk(product: FinancialProduct, on: date) -> dict[int, str]:
    version = version_of(REGISTRY)
    memo_key = (caching.PREFIX, connection.settings_dict["NAME"], version, _qualifying_key(product, on))
    now = time.monotonic()
    found = _QUALIFYING_MEMO.get(memo_key)
    if found is not None and now - found[0] < caching.FIGURE_SECONDS:
        return found[1]
    qualifying = {pk: code for code, pk in _qualifying(product, on)}
    if len(_QUALIFYING_MEMO) >= 8:
        _QUALIFYING_MEMO.clear()
    if version is not None:
        _QUALIFYING_MEMO[memo_key] = (now, qualifying)
    return qualifying


def whitelist_page(members: Sequence[Member], *, size: int, after: str | None = None) -> tuple[list[Member], str | None]:
    """Keyset pagination of a whitelist (ordered by credit code, unique): the `size` members after the cursor
    `after` (the last credit code shown, as core.keyset encodes it), and the cursor of the next page."""
    keys = (Key("credit_code", False),)
    start = 0
    if after:
        last = keyset_decode(keys, after)[0]
        start = bisect.bisect_right([m.credit_code for m in members], str(last))
    page = list(members[start:start + size])
    more = start + size < len(members)
    return page, (keyset_encode(keys, [page[-1].credit_code]) if page and more else None)


@dataclass(frozen=True)
class MemberDetail:
    enterprise: Enterprise
    consent_valid_until: datetime


def member_details(members: Sequence[Member]) -> dict[int, MemberDetail]:
    """enterprise pk → what a list shows of a member: its registry row (public profile columns) and until when
    its consent runs; read for the members shown only, in chunks that stay under every database's limit."""
    out: dict[int, MemberDetail] = {}
    for i in range(0, len(members), 500):
        consent_of = {m.pk: m.consent.pk for m in members[i:i + 500]}
        until = dict(Consent.objects.filter(pk__in=list(consent_of.values())).values_list("pk", "valid_until"))
        for e in Enterprise.objects.filter(pk__in=list(consent_of)).only(
                "pk", "credit_code", "name", "city", "district", "industry_cluster", "registered_on"):
            out[e.pk] = MemberDetail(e, until[consent_of[e.pk]])
    return out


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
    facts = enterprise_facts(enterprise=enterprise, on=on, standards=[p.standard for p in engine if p.standard],
                             equity=_reads_finance_facts(engine))
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


def case_for(user, pk: int):
    """The financing case if `user` may see it (404 otherwise): its pages and its API open it so."""
    return visible_to(user, case_get(pk=pk), access.can_view_case, NO_CASE)


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
    case: Application
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
    # A fixed number of queries whatever the number of late cases: the candidates depend only on the city and
    # on whether the demand was escalated, and the decisions come in one prefetch.
    candidates: dict[tuple[bool, str], list[str]] = {}
    for case in _cases().filter(state="published", claim_due__lt=today).order_by("claim_due", "pk"):
        key = (case.escalated_at is not None, case.project_city or case.registered_city)
        if key not in candidates:
            candidates[key] = list(access.demand_candidates(case).values_list("name", flat=True)[:20])
        out.append(OverdueCase(case, "claim", case.claim_due, workdays.working_days_between(case.claim_due, today),
                               candidates[key]))
    for case in (_cases().filter(state__in=("claimed", "due_diligence"), decision_due__lt=today)
                 .prefetch_related("decisions").order_by("decision_due", "pk")):
        decided = {d.institution_id for d in case.decisions.all() if d.round == case.decision_round}
        late = [i.name for i in (case.lead_institution, case.partner_institution)
                if i is not None and i.pk not in decided]
        out.append(OverdueCase(case, "decision", case.decision_due,
                               workdays.working_days_between(case.decision_due, today), late))
    return sorted(out, key=lambda o: (o.due, o.case.pk))
