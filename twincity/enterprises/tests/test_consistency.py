"""Consistency checks on one year's figures: each condition flags on one side of its boundary and not the other."""

from decimal import Decimal

import pytest

from twincity.enterprises.consistency import Flag, declaration_flags


def codes(figures) -> list[str]:
    return [flag.code for flag in declaration_flags(figures)]


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        # no figures, nothing to check
        ({}, []),
        ({"employees": None, "rd_staff": None, "rd": "", "cost": ""}, []),
        # R&D staff against employees
        ({"employees": 10, "rd_staff": 11}, ["rd_staff_exceeds_employees"]),
        ({"employees": 10, "rd_staff": 10}, []),
        ({"employees": None, "rd_staff": 11}, []),
        # technical staff against employees
        ({"employees": 10, "tech_staff": 11}, ["tech_staff_exceeds_employees"]),
        ({"employees": 10, "tech_staff": 10}, []),
        # R&D expense against total cost
        ({"rd": "100.0001", "cost": "100"}, ["rd_exceeds_cost"]),
        ({"rd": "100", "cost": "100"}, []),
        ({"rd": Decimal("99.5"), "cost": None}, []),
        # domestic R&D against R&D
        ({"rd_dom": "51", "rd": "50", "cost": "1000"}, ["rd_dom_exceeds_rd"]),
        ({"rd_dom": "50", "rd": "50", "cost": "1000"}, []),
        # negative headcounts
        ({"employees": -1}, ["negative_headcount"]),
        ({"employees": 0, "tech_staff": 0, "rd_staff": 0}, []),
        ({"rd_staff": -3, "employees": 5}, ["negative_headcount"]),
        # negative amounts
        ({"sales": "-0.0001"}, ["negative_amount"]),
        ({"sales": "0"}, []),
        ({"net_profit": "-500"}, []),  # a loss is not an inconsistency
        # assets below liabilities with positive net assets declared
        ({"assets": "100", "liab": "150", "na": "10"}, ["net_assets_positive_but_insolvent"]),
        ({"assets": "100", "liab": "150", "na": "-50"}, []),
        ({"assets": "100", "liab": "150", "na": "0"}, ["net_assets_mismatch"]),
        ({"assets": "100", "liab": "150"}, []),
        ({"assets": "150", "liab": "100", "na": "50"}, []),
        ({"assets": "150", "liab": "100", "na": "40"}, ["net_assets_mismatch"]),
        # high-tech revenue against total income
        ({"hitech_rev": "81", "total_income": "80"}, ["hitech_exceeds_income"]),
        ({"hitech_rev": "80", "total_income": "80"}, []),
        # main business against sales
        ({"main": "90.5", "sales": "90"}, ["main_exceeds_sales"]),
        ({"main": "90", "sales": "90"}, []),
        # several at once, in a stable order
        (
            {"employees": 10, "rd_staff": 12, "rd": "200", "cost": "100", "assets": "10", "liab": "20", "na": "5"},
            ["rd_staff_exceeds_employees", "rd_exceeds_cost", "net_assets_positive_but_insolvent"],
        ),
    ],
)
def test_declaration_flags(figures, expected):
    assert codes(figures) == expected


def test_each_negative_headcount_is_named():
    flags = declaration_flags({"employees": -1, "tech_staff": -2, "rd_staff": None})
    assert [(f.code, f.fields) for f in flags] == [
        ("negative_headcount", ("employees",)),
        ("negative_headcount", ("tech_staff",)),
    ]


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ({"employees": 10, "rd_staff": 11},
         Flag("rd_staff_exceeds_employees", ("rd_staff", "employees"), "研发人员数大于职工总数",
              "R&D staff exceed total employees")),
        ({"rd": "2", "cost": "1"},
         Flag("rd_exceeds_cost", ("rd", "cost"), "研发费用大于成本费用支出总额",
              "R&D expense exceeds total cost and expense")),
        ({"employees": -1},
         Flag("negative_headcount", ("employees",), "职工总数不能为负数", "employees cannot be negative")),
        ({"assets": "100", "liab": "150", "na": "10"},
         Flag("net_assets_positive_but_insolvent", ("assets", "liab", "na"),
              "资产总额小于负债总额，但申报的净资产为正",
              "assets are below liabilities yet positive net assets were declared")),
        ({"assets": "150", "liab": "100", "na": "40"},
         Flag("net_assets_mismatch", ("assets", "liab", "na"), "净资产应等于资产总额减负债总额(50)",
              "net assets should equal assets minus liabilities (50)")),
    ],
)
def test_each_flag_gives_its_reason_in_both_languages(figures, expected):
    assert declaration_flags(figures) == [expected]


def test_a_flag_serialises_for_storage():
    flag = declaration_flags({"employees": 10, "rd_staff": 11})[0]
    assert flag.as_dict() == {
        "code": "rd_staff_exceeds_employees",
        "fields": ["rd_staff", "employees"],
        "message_zh": "研发人员数大于职工总数",
        "message_en": "R&D staff exceed total employees",
    }


def test_whole_numbers_are_checked_as_their_decimals():
    """Head counts arrive as ints and are checked as they are (no Decimal made of each): every flag, message
    included, is the one their Decimals give, over many random declarations and years before."""
    import random

    from twincity.enterprises.consistency import PREVIOUS_YEAR_FIGURES, declaration_flags

    rng = random.Random(3)
    counts = ("employees", "tech_staff", "rd_staff")
    amounts = ("sales", "oprev", "rd", "cost", "assets", "liab", "na", "main", "hitech_rev", "total_income", "tax",
               "tech_contract", "rd_dom")

    def figures() -> dict:
        out: dict = {name: rng.choice([None, rng.randint(-50, 5000), rng.randint(0, 30)]) for name in counts}
        out.update({name: rng.choice([None, Decimal(rng.randint(-10**6, 10**8)).scaleb(-4)]) for name in amounts})
        return out

    def as_decimals(values: dict) -> dict:
        return {name: Decimal(value) if type(value) is int else value for name, value in values.items()}

    flagged = 0
    for _ in range(4000):
        now, before = figures(), rng.choice([None, figures()])
        if before is not None:
            before = {name: before[name] for name in PREVIOUS_YEAR_FIGURES}
        mine = [flag.as_dict() for flag in declaration_flags(now, previous_year=before)]
        theirs = [flag.as_dict() for flag in declaration_flags(
            as_decimals(now), previous_year=None if before is None else as_decimals(before))]
        assert mine == theirs
        flagged += any(flag["code"] == "year_over_year_jump" and flag["fields"][0] in counts for flag in mine)
    assert flagged > 100  # the jumps of head counts were compared, not only their absence
