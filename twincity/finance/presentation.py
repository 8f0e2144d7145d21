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
        "version": offer.product.version,
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
