"""The one adapter from the registry to the engine's facts (shared/reference/facts.md names).

For an evaluation date D, `_y3` is the last fiscal year completed before D, `_y2` the one before, `_y1` the
one before that. A figure the registry does not hold is None (unknown), never 0.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import batched

from django.db.models import FloatField
from django.db.models.functions import Cast

from twincity.enterprises.fields import ENTERPRISE_FACT_NAMES, FIGURE_NAMES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification

YEARLY = ("sales", "oprev", "main", "na", "assets", "liab", "rd", "cost", "total_income", "hitech_rev",
          "net_profit", "tax", "tech_contract")
POINT_IN_TIME_STAFF = ("employees", "tech_staff", "rd_staff")
ENTERPRISE_FACTS = ENTERPRISE_FACT_NAMES
ENTERPRISE_COLUMNS = ("pk", "credit_code", "name", "city", "industry_cluster", "registered_on", *ENTERPRISE_FACTS)


MONEY_FIGURES = tuple(name for name in FIGURE_NAMES if name not in POINT_IN_TIME_STAFF)
# The engine computes in float64; reading money as floats in SQL skips building a Decimal per cell only
# to turn it back into the same float (the stored 4-place decimal's nearest double either way).
AS_FLOAT = {f"{name}_as_float": Cast(name, FloatField()) for name in MONEY_FIGURES}
FLOAT_ALIAS_TO_NAME = {f"{name}_as_float": name for name in MONEY_FIGURES}


def fiscal_years_for(evaluation_date: date) -> tuple[int, int, int]:
    y3 = evaluation_date.year - 1
    return (y3 - 2, y3 - 1, y3)


def operating_years(registered_on: date | None, evaluation_date: date) -> int | None:
    """Full fiscal years of operation before the evaluation, capped at 3."""
    if registered_on is None:
        return None
    first_full_year = registered_on.year if (registered_on.month, registered_on.day) == (1, 1) else registered_on.year + 1
    last_completed = evaluation_date.year - 1
    return max(0, min(3, last_completed - first_full_year + 1))


def _sum_or_none(values: Iterable[float | Decimal | None]) -> Decimal | None:
    """The exact decimal sum of figures held to four places (repr of such a float is its decimal)."""
    values = list(values)
    if any(v is None for v in values):
        return None
    return sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in values), Decimal(0))


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def facts_for(
    enterprise: dict, declarations: dict[int, dict], qualifications: list[dict], evaluation_date: date
) -> dict[str, object]:
    y1, y2, y3 = fiscal_years_for(evaluation_date)
    by_suffix = {"_y1": declarations.get(y1, {}), "_y2": declarations.get(y2, {}), "_y3": declarations.get(y3, {})}
    registered_on = enterprise["registered_on"]
    facts: dict[str, object] = {
        "id": enterprise["credit_code"],
        "credit_code": enterprise["credit_code"],
        "name": enterprise["name"],
        "city": enterprise["city"],
        "industry_cluster": enterprise["industry_cluster"],
        "registered_on": registered_on.isoformat() if registered_on else None,
        "reg_days": (evaluation_date - registered_on).days if registered_on else None,
        "op_years": operating_years(registered_on, evaluation_date),
    }
    for name in ENTERPRISE_FACTS:
        facts[name] = enterprise[name]
    latest = by_suffix["_y3"]
    for name in POINT_IN_TIME_STAFF:
        facts[name] = latest.get(name)
    for name in YEARLY:
        for suffix, figures in by_suffix.items():
            facts[f"{name}{suffix}"] = _plain(figures.get(name))
    facts["rd_dom_3y"] = _plain(_sum_or_none(d.get("rd_dom") for d in by_suffix.values()))
    facts["equity_2y"] = _plain(_sum_or_none(by_suffix[s].get("equity_new") for s in ("_y2", "_y3")))
    facts["equity_3y"] = _plain(_sum_or_none(d.get("equity_new") for d in by_suffix.values()))

    def holds(kind: str) -> bool:
        return any(
            q["kind"] == kind and q["valid_from"] <= evaluation_date
            and (q["valid_until"] is None or evaluation_date <= q["valid_until"])
            for q in qualifications
        )

    facts["hnte_valid"] = holds(Qualification.Kind.HNTE)
    # The platform records qualifications as certificates: no certificate on file means not held.
    facts["prov_rd_inst"] = holds(Qualification.Kind.PROV_RD_INST)
    return facts


def registry_facts(
    *, evaluation_date: date, enterprise_ids: Iterable[int] | None = None, chunk_size: int = 5000
) -> Iterator[tuple[int, dict[str, object]]]:
    """(enterprise pk, facts) for the registry (or the given enterprises), a bounded number of queries per chunk."""
    years = fiscal_years_for(evaluation_date)
    enterprises = Enterprise.objects.order_by("pk").values(*ENTERPRISE_COLUMNS)
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=list(enterprise_ids))
    for chunk in batched(enterprises.iterator(chunk_size=chunk_size), chunk_size):
        pks = [row["pk"] for row in chunk]
        declarations: dict[int, dict[int, dict]] = defaultdict(dict)
        for row in AnnualDeclaration.objects.filter(enterprise_id__in=pks, fiscal_year__in=years).values(
            "enterprise_id", "fiscal_year", *POINT_IN_TIME_STAFF, **AS_FLOAT
        ):
            declarations[row["enterprise_id"]][row["fiscal_year"]] = {
                FLOAT_ALIAS_TO_NAME.get(key, key): value for key, value in row.items()
            }
        qualifications: dict[int, list[dict]] = defaultdict(list)
        for row in Qualification.objects.filter(enterprise_id__in=pks).values(
            "enterprise_id", "kind", "valid_from", "valid_until"
        ):
            qualifications[row["enterprise_id"]].append(row)
        for row in chunk:
            yield row["pk"], facts_for(row, declarations[row["pk"]], qualifications[row["pk"]], evaluation_date)
