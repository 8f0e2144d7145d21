"""The registry → engine facts adapter (shared/reference/facts.md names)."""

from datetime import date

import pytest

from points_engine.facts import KNOWN_FIELDS
from twincity.enterprises.models import Qualification
from twincity.enterprises.services import declaration_upsert
from twincity.points.facts import NOT_IN_REGISTRY, fiscal_years_for, operating_years, produced_facts, registry_facts
from twincity.points.tests import scenario


def facts_of(enterprise, evaluation_date=scenario.EVAL):
    return dict(registry_facts(evaluation_date=evaluation_date, enterprise_ids=[enterprise.pk]))[enterprise.pk]


def test_fiscal_years_are_the_three_completed_before_the_evaluation():
    assert fiscal_years_for(date(2026, 6, 30)) == (2023, 2024, 2025)
    assert fiscal_years_for(date(2026, 1, 1)) == (2023, 2024, 2025)
    assert fiscal_years_for(date(2025, 12, 31)) == (2022, 2023, 2024)


@pytest.mark.parametrize(("registered_on", "evaluation_date", "expected"), [
    (date(2018, 5, 9), date(2026, 6, 30), 3),   # capped
    (date(2024, 1, 1), date(2026, 6, 30), 2),   # 2024 and 2025 are full years
    (date(2024, 1, 2), date(2026, 6, 30), 1),   # 2024 is not
    (date(2026, 2, 1), date(2026, 6, 30), 0),
    (None, date(2026, 6, 30), None),
])
def test_operating_years(registered_on, evaluation_date, expected):
    assert operating_years(registered_on, evaluation_date) == expected


def test_yearly_figures_map_to_y1_y2_y3_and_sums(cast):
    scenario.seed(cast)
    facts = facts_of(cast.alice_co)
    assert facts["id"] == facts["credit_code"] == cast.alice_co.credit_code
    assert (facts["sales_y1"], facts["sales_y2"], facts["sales_y3"]) == (3000.0, 4000.0, 5000.0)
    assert (facts["rd_y1"], facts["rd_y2"], facts["rd_y3"]) == (250.0, 320.0, 400.0)
    # point-in-time staff come from the latest year
    assert (facts["employees"], facts["tech_staff"], facts["rd_staff"]) == (100, 35, 20)
    assert facts["rd_dom_3y"] == 250.0 + 300.0 + 380.0
    assert facts["equity_2y"] == 0.0 + 1000.0
    assert facts["equity_3y"] == 500.0 + 0.0 + 1000.0
    assert facts["op_years"] == 3
    assert facts["reg_days"] == (scenario.EVAL - date(2018, 5, 9)).days
    assert facts["registered_on"] == "2018-05-09"
    assert (facts["ip_I_self"], facts["ip_I_acq"], facts["ip_II"]) == (6, 0, 14)
    assert facts["city"] == "chongqing" and facts["industry_cluster"] == "ic"


def test_an_unknown_figure_stays_none_and_a_missing_year_breaks_the_sums(cast):
    declaration_upsert(actor=cast.olivia, enterprise=cast.bob_co, fiscal_year=2025,
                       figures={"sales": 100, "rd_dom": 10, "equity_new": 5})
    declaration_upsert(actor=cast.olivia, enterprise=cast.bob_co, fiscal_year=2024, figures={"equity_new": 7})
    facts = facts_of(cast.bob_co)
    assert facts["sales_y3"] == 100.0
    assert facts["sales_y2"] is None and facts["sales_y1"] is None  # not 0
    assert facts["rd_y3"] is None
    assert facts["employees"] is None
    assert facts["rd_dom_3y"] is None  # 2023 and 2024 unknown
    assert facts["equity_2y"] == 12.0
    assert facts["equity_3y"] is None  # 2023 unknown
    assert facts["ip_I_acq"] is None and facts["resident"] is None


def test_hnte_valid_follows_the_certificate_dates(cast):
    Qualification.objects.create(enterprise=cast.alice_co, kind=Qualification.Kind.HNTE, certificate_no="GR2023",
                                 valid_from=date(2023, 11, 1), valid_until=date(2026, 10, 31))
    assert facts_of(cast.alice_co)["hnte_valid"] is True
    assert facts_of(cast.alice_co, date(2026, 11, 1))["hnte_valid"] is False
    assert facts_of(cast.alice_co, date(2023, 10, 31))["hnte_valid"] is False
    assert facts_of(cast.bob_co)["hnte_valid"] is False
    assert facts_of(cast.bob_co)["prov_rd_inst"] is False  # no certificate on file: not held


def test_the_facts_vocabulary_is_one(cast):
    """Every fact the registry produces is a field the engine knows, and every engine field either has a
    source in the registry or is declared unknown to it, with the reason."""
    scenario.seed(cast)
    produced = set(facts_of(cast.alice_co))
    assert produced == produced_facts()
    assert produced <= KNOWN_FIELDS, sorted(produced - KNOWN_FIELDS)
    assert KNOWN_FIELDS - produced == set(NOT_IN_REGISTRY), sorted((KNOWN_FIELDS - produced) ^ set(NOT_IN_REGISTRY))
    assert all(reason for reason in NOT_IN_REGISTRY.values())


def test_titles_come_from_certificates_valid_on_the_evaluation_date(cast):
    Qualification.objects.create(enterprise=cast.alice_co, kind="tsme", certificate_no="2026500107A0000954",
                                 valid_from=date(2026, 4, 10), valid_until=date(2026, 12, 31))
    Qualification.objects.create(enterprise=cast.alice_co, kind="innov", certificate_no="CQCX202300100",
                                 valid_from=date(2023, 6, 1), valid_until=date(2026, 5, 31))
    facts = facts_of(cast.alice_co, date(2026, 6, 30))
    assert (facts["tsme_valid"], facts["innov_valid"], facts["srdi_valid"], facts["hnte_valid"]) == (
        True, False, False, False)
    assert facts_of(cast.alice_co, date(2026, 4, 9))["tsme_valid"] is False
    assert facts_of(cast.alice_co, date(2026, 5, 31))["innov_valid"] is True
