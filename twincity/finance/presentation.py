"""How the finance pages show products and offers: rates as percentages, yuan to the fen, reasons in the
viewer's language."""

from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

import finance_engine
from twincity.finance.models import FinancialProduct
from twincity.finance.selectors import Offer, engine_product


def english() -> bool:
    return (get_language() or "").startswith("en")


def percent(rate: Decimal | None) -> str:
    """0.0245 → 2.45%."""
    if rate is None:
        return "—"
    return f"{(rate * 100).quantize(Decimal('0.01')):f}%"


def yuan(amount: Decimal | None) -> str:
    """1234567.5 → 1,234,567.50 元 (to the fen)."""
    if amount is None:
        return "—"
    text = f"{amount.quantize(Decimal('0.01')):,f}"
    unit = _("yuan")
    return f"{text} {unit}"


def wan(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    unit = _("10,000 yuan")
    return f"{(amount / 10000).normalize():,f} {unit}"


def verdict_label(verdict: str) -> str:
    return {finance_engine.ELIGIBLE: _("Eligible"), finance_engine.NEEDS_REVIEW: _("Needs review"),
            finance_engine.INELIGIBLE: _("Ineligible")}[verdict]


VERDICT_BADGE = {finance_engine.ELIGIBLE: "ok", finance_engine.NEEDS_REVIEW: "warn", finance_engine.INELIGIBLE: "bad"}


def name(product: FinancialProduct) -> str:
    return product.name_en if english() else product.name_zh


def offer_row(offer: Offer) -> dict[str, Any]:
    en = english()
    m = offer.match
    reasons = [{"state": "met" if c.met else ("unknown" if c.met is None else "failed"),
                "text": c.reason_en if en else c.reason_zh} for c in m.conditions]
    reasons += [{"state": "met" if c.met else "failed", "text": c.reason_en if en else c.reason_zh}
                for c in offer.limits]
    cost = m.cost
    return {
        "product_id": offer.product.product_id,
        "pk": offer.product.pk,
        "version": offer.product.version,
        "applicable": offer.product.kind in ("credit_loan", "points_loan", "twin_city_loan")
                      and offer.verdict != finance_engine.INELIGIBLE,
        "name": name(offer.product),
        "institution": offer.product.institution.name,
        "kind": offer.product.get_kind_display(),
        "verdict": offer.verdict,
        "verdict_label": verdict_label(offer.verdict),
        "badge": VERDICT_BADGE[offer.verdict],
        "reasons": reasons,
        "credit_line": yuan(m.credit_line) if m.credit_line is not None else "",
        "annual_rate": percent(m.annual_rate),
        "cost": None if cost is None else {
            "interest": yuan(cost.interest), "guarantee_fee": yuan(cost.guarantee_fee),
            "interest_subsidy": yuan(cost.interest_subsidy), "fee_subsidy": yuan(cost.fee_subsidy),
            "total": yuan(cost.total),
        },
    }


def span(low: str | None, high: str | None) -> str:
    """A range as a person reads it: "low – high", "≥ low", "≤ high", or "—" when the product sets no limit."""
    if low and high:
        return f"{low} – {high}"
    if low:
        return f"≥ {low}"
    if high:
        return f"≤ {high}"
    return "—"


def product_row(product: FinancialProduct) -> dict[str, Any]:
    engine = engine_product(product)
    pricing = engine.pricing
    return {
        "product_id": product.product_id,
        "version": product.version,
        "name": name(product),
        "institution": product.institution.name,
        "kind": product.get_kind_display(),
        "rate": percent(product.rate),
        "net_rate": percent(finance_engine.net_annual_rate(pricing)) if pricing else "—",
        "amounts": span(wan(product.min_amount) if product.min_amount is not None else None,
                        wan(product.max_amount) if product.max_amount is not None else None),
        "terms": span(str(product.min_term_months or "") or None, str(product.max_term_months or "") or None),
        "status": product.status,
        "status_label": product.get_status_display(),
    }


def product_detail(product: FinancialProduct) -> dict[str, Any]:
    engine = engine_product(product)
    lines = engine.lines_by_grade or {}
    return {
        **product_row(product),
        "standard": engine.standard or "",
        "guarantee_fee": percent(product.guarantee_fee),
        "interest_subsidy": percent(product.interest_subsidy),
        "fee_subsidy": percent(product.fee_subsidy),
        "conditions": [{"id": c.id, "name": c.name_en if english() else c.name_zh, "expr": c.expr}
                       for c in engine.conditions],
        "lines": [{"grade": grade, "line": wan(line)} for grade, line in lines.items()],
        "max_line": wan(engine.max_amount) if engine.max_amount is not None else "",
    }


# --- demands and applications ------------------------------------------------------------------------------

STATE_BADGE = {
    "draft": "", "submitted": "", "published": "", "claimed": "", "due_diligence": "", "approved": "ok",
    "rejected": "bad", "referred_back": "warn", "disbursed": "ok", "repaid": "ok", "overdue": "bad",
    "defaulted": "bad", "withdrawn": "",
}


def _local(at):
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def _city(value: str) -> str:
    from twincity.accounts.models import City

    return str(City(value).label) if value in City.values else (value or "—")


def decision_row(decision) -> dict[str, Any]:
    return {"round": decision.round, "institution": decision.institution.name,
            "decision": decision.get_decision_display(),
            "share": yuan(decision.share_amount) if decision.share_amount is not None else "",
            "rate": percent(decision.rate) if decision.rate is not None else "",
            "term_months": decision.term_months or "", "comment": decision.comment,
            "by": (decision.decided_by.display_name or decision.decided_by.username) if decision.decided_by_id else ""}


def case_row(case) -> dict[str, Any]:
    """A case as the pages show it (amounts in yuan to the fen, rates in %, times in Asia/Shanghai)."""
    return {
        "pk": case.pk, "kind": case.kind, "kind_label": case.get_kind_display(), "state": case.state,
        "state_label": case.get_state_display(), "badge": STATE_BADGE.get(case.state, ""),
        "enterprise": case.enterprise.name,
        "product": case.product.name_zh if case.product_id else "—",
        "product_version": case.product.version if case.product_id else None,
        "amount": yuan(case.amount), "term_months": case.term_months, "purpose": case.purpose,
        "registered_city": _city(case.registered_city), "project_city": _city(case.project_city),
        "lead": case.lead_institution.name if case.lead_institution_id else "—",
        "partner": case.partner_institution.name if case.partner_institution_id else "",
        "approved_amount": yuan(case.approved_amount) if case.approved_amount is not None else "",
        "approved_rate": percent(case.approved_rate) if case.approved_rate is not None else "",
        "approved_term_months": case.approved_term_months,
        "disbursed_amount": yuan(case.disbursed_amount) if case.disbursed_amount is not None else "",
        "disbursed_on": case.disbursed_on, "repaid_amount": yuan(case.repaid_amount), "repaid_on": case.repaid_on,
        "overdue_amount": yuan(case.overdue_amount) if case.overdue_amount is not None else "",
        "overdue_since": case.overdue_since, "defaulted_on": case.defaulted_on, "reason": case.reason,
        "submitted_at": _local(case.submitted_at), "claim_due": case.claim_due, "decision_due": case.decision_due,
        "escalated": case.escalated_at is not None, "joint": case.is_joint, "round": case.decision_round,
    }


def event_row(event) -> dict[str, Any]:
    from twincity.finance.models import ApplicationState

    labels = dict(ApplicationState.choices)
    return {
        "at": _local(event.at), "action": event.action,
        "from": labels.get(event.from_state, ""), "to": labels.get(event.to_state, event.to_state),
        "actor": (event.actor.display_name or event.actor.username) if event.actor_id else _("the platform"),
        "institution": event.institution.name if event.institution_id else "", "comment": event.comment,
        "data": event.data,
    }
