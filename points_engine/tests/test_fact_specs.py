"""FACTS: the engine's one vocabulary of facts.md (names, types, labels, units, groups, years)."""

import re
from pathlib import Path

import polars as pl
import pytest

from points_engine import FACTS, FactSpec
from points_engine.facts import (
    DEFAULTS,
    FACT_GROUPS,
    FACT_TYPES,
    FACT_UNITS,
    FIELD_TYPES,
    KNOWN_FIELDS,
    coerce_value,
)

FACTS_MD = Path("/work/shared/reference/facts.md")

# facts.md's names in order, for a checkout without the shared reference (keep in step with facts.md)
EXPLICIT = (
    "id credit_code name city industry_cluster reg_days registered_on op_years resident prohibited compliant "
    "is_sme employees tech_staff rd_staff sales_y* oprev_y* main_y* na_y* assets_y* liab_y* rd_y* rd_dom_3y "
    "cost_y* total_income_y* hitech_rev_y* net_profit_y* tax_y* equity_2y equity_3y tech_contract_y* ip_I_self "
    "ip_I_acq ip_I_hv ip_II transforms_3y hnte_valid prov_rd_inst nat_award_5y_top3 sci_award_3y "
    "led_standard_5y innov_title sei niche_years maker_top500_3y tsme_valid innov_valid srdi_valid "
    "award_3y_top3 nat_award_3y_top3 market_position_ok market_top3_cn key_chain_link market_share "
    "quality_score quality_score_prev x_ip_adv x_ip_sup x_ip_count x_ip_acq x_std x_transform x_rdmgmt "
    "x_growth_na x_growth_sales x_field x_digital x_quality_items x_local x_inst"
).split()


def _expand(names: list[str]) -> list[str]:
    out = []
    for n in names:
        out += [n[:-1] + str(y) for y in (1, 2, 3)] if n.endswith("_y*") else [n]
    return out


def facts_md_names() -> list[str]:
    """The field names of the tables in facts.md (first column, in backticks), `_y*` expanded."""
    names = []
    for line in FACTS_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first = line.strip("|").split("|")[0]
            names += re.findall(r"`([A-Za-z0-9_*]+)`", first)
    return _expand(names)


def test_every_facts_md_field_is_in_facts_in_order():
    expected = _expand(EXPLICIT)
    if FACTS_MD.exists():
        assert facts_md_names() == expected, "facts.md changed: update FACTS and EXPLICIT"
    assert list(FACTS) == expected


@pytest.mark.parametrize("name", [
    "tsme_valid", "innov_valid", "srdi_valid", "award_3y_top3", "nat_award_3y_top3", "market_position_ok",
    "market_top3_cn", "key_chain_link", "market_share", "quality_score", "quality_score_prev",
])
def test_new_2026_fields(name):
    assert name in FACTS and name in KNOWN_FIELDS


def test_specs_are_complete_and_consistent():
    for name, f in FACTS.items():
        assert isinstance(f, FactSpec) and f.name == name
        assert f.label_zh.strip() and f.label_en.strip(), name
        assert f.type in FACT_TYPES and f.unit in FACT_UNITS and f.group in FACT_GROUPS, name
        m = re.fullmatch(r"(.+)_y([123])", name)
        if m:
            assert (f.stem, f.year, f.group, f.unit) == (m.group(1), int(m.group(2)), "finance", "万元")
        else:
            assert (f.stem, f.year) == (name, None)
        assert FIELD_TYPES[name] == f.dtype
    assert FACTS["equity_2y"].year is None and FACTS["equity_2y"].unit == "万元"
    assert FACTS["rd_y3"].label_zh == "研发费用" and FACTS["rd_y3"].title_zh == "研发费用（上年度）"
    assert FACTS["market_share"].unit == "ratio" and FACTS["reg_days"].unit == "days"
    assert FACTS["niche_years"].type == "int" and FACTS["x_inst"].type == "text"
    assert FACTS["quality_score"].group == "sourced" and FACTS["x_local"].group == "expert"


def test_derived_tables():
    assert DEFAULTS == {"resident": True, "prohibited": False, "compliant": True}
    assert FIELD_TYPES["quality_score"] == pl.Float64 and FIELD_TYPES["key_chain_link"] == pl.Boolean
    assert coerce_value("market_top3_cn", "是") is True
    assert coerce_value("quality_score", " 55.5 ") == 55.5
