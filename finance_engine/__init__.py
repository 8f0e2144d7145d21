"""finance_engine: the pure tech-finance matching engine of twincity (issue #8).

Pure Python + polars; it never imports django, ninja or twincity. It reuses the points engine's expression
language (parser and both evaluators) and facts vocabulary, so the platform has one rule language.

Products (versioned data, see README.md)
    Product.from_dict(d) -> Product                    # validates; raises ProductError
    validate_product(d) -> list[str]                   # "path: 中文 / English"; [] = valid
    Product.credit_line(grade) -> Decimal | None       # yuan
    KNOWLEDGE_VALUE_LINES                              # 知识价值 A–E = 500/400/300/160/80万 (yuan), the default
                                                       # line table of a points_loan
Matching
    match(enterprise_facts, products, *, amount=None, term_months=None, evaluation_date=None)
        -> list[ProductMatch]                          # per enterprise, ranked, a reason for every condition
    match_batch(facts_frame, products, *, evaluation_date=None, detail=True) -> polars.DataFrame
        id, eligible.<product>, mask.<product>         # the whole registry in one plan; agrees with match()
    decode_mask(product, mask), whitelist(result, product_id), eligible_pairs(result)
Case lifecycle (lifecycle.py)
    lifecycle.transition(kind, state, action) -> state # or IllegalTransition: the only way between states
    lifecycle.allowed_actions, LINE_USED, REASON_REQUIRED, joint_outcome(decisions, branches)
Cost
    net_cost(pricing, amount, term_months) -> NetCost  # rate + guarantee fee − interest subsidy − fee subsidy
    net_annual_rate(pricing) -> Decimal
"""

from . import lifecycle
from .cost import FEN, NetCost, net_annual_rate, net_cost, to_fen
from .errors import FactsError, FinanceEngineError, ProductError
from .match import (
    ELIGIBLE,
    INELIGIBLE,
    NEEDS_REVIEW,
    ConditionCheck,
    ProductMatch,
    decode_mask,
    eligible_pairs,
    match,
    match_batch,
    match_product,
    prepare_facts,
    whitelist,
)
from .product import (
    KNOWLEDGE_VALUE_LINES,
    MAX_CONDITIONS,
    PRODUCT_KINDS,
    Condition,
    Pricing,
    Product,
    as_products,
    validate_product,
)

__all__ = [
    "ELIGIBLE",
    "FEN",
    "INELIGIBLE",
    "KNOWLEDGE_VALUE_LINES",
    "MAX_CONDITIONS",
    "NEEDS_REVIEW",
    "PRODUCT_KINDS",
    "Condition",
    "ConditionCheck",
    "FactsError",
    "FinanceEngineError",
    "NetCost",
    "Pricing",
    "Product",
    "ProductError",
    "ProductMatch",
    "as_products",
    "decode_mask",
    "eligible_pairs",
    "match",
    "match_batch",
    "match_product",
    "net_annual_rate",
    "net_cost",
    "prepare_facts",
    "lifecycle",
    "to_fen",
    "validate_product",
    "whitelist",
]
