"""Matching alice's company against the demo products: exact verdicts, reasons, credit lines and net costs
(rate + guarantee fee − interest subsidy − fee subsidy), through the selector, the API and the page."""

from datetime import date
from decimal import Decimal

import pytest

from twincity.finance import selectors
from twincity.testing import ALICE_CODE

ON = date(2026, 11, 29)  # y3 = 2025 in the points scenario's figures


def _table(offers):
    return [(o.product.product_id, o.verdict, o.match.annual_rate, o.match.cost.total if o.match.cost else None)
            for o in offers]


def test_alices_products_ranked_with_net_cost_for_one_million_over_a_year(cast, products, scored):
    offers = selectors.enterprise_match(enterprise=cast.alice_co, on=ON, amount=Decimal("1000000"), term_months=12)
    assert _table(offers) == [
        # eligible, cheapest net annual rate first, the unpriced equity product last
        ("cqg-tech-guarantee", "eligible", Decimal("0.005"), Decimal("5000.00")),      # 1 % fee − 0.5 % subsidy
        ("crcb-points-loan", "eligible", Decimal("0.0195"), Decimal("19500.00")),      # 3.45 % − 1.5 % 贴息
        ("ccb-tech-credit", "eligible", Decimal("0.0365"), Decimal("36500.00")),
        ("cdb-twin-city-loan", "eligible", Decimal("0.044"), Decimal("44000.00")),     # 3.9 % + 1 % − 0.5 %
        ("kxc-fund-equity", "eligible", None, None),
        ("cqb-srdi-loan", "ineligible", Decimal("0.023"), Decimal("23000.00")),        # no SRDI title
    ]
    points_loan = offers[1]
    cost = points_loan.match.cost
    assert (cost.interest, cost.guarantee_fee, cost.interest_subsidy, cost.fee_subsidy) == (
        Decimal("34500.00"), Decimal("0.00"), Decimal("15000.00"), Decimal("0.00"))
    assert points_loan.match.credit_line == Decimal("5000000")  # grade A on scp-v1: 知识价值 A = 500万
    assert [c.reason_zh for c in points_loan.match.conditions] == [
        "满足：科学城创新积分评级 A–E", "满足：注册在重庆", "满足：成立满1年", "满足：近三年无重大违法违规"]
    assert [c.reason_zh for c in points_loan.limits] == [
        "满足：金额 100万 在 10万–500万 之内", "满足：金额不超过授信额度 500万", "满足：期限 12 个月在 6–36 个月之内"]
    assert [c.reason_en for c in offers[-1].match.conditions] == [
        "not met: a specialised-and-sophisticated SME", "met: registered in Chongqing"]


def test_an_amount_or_term_outside_the_product_makes_it_ineligible_with_the_reason(cast, products, scored):
    offers = {o.product.product_id: o for o in selectors.enterprise_match(
        enterprise=cast.alice_co, on=ON, amount=Decimal("6000000"), term_months=48)}
    loan = offers["crcb-points-loan"]
    assert loan.match.verdict == "eligible" and loan.verdict == "ineligible"
    assert [c.reason_zh for c in loan.limits if not c.met] == [
        "不满足：金额 600万 在 10万–500万 之内", "不满足：金额不超过授信额度 500万", "不满足：期限 48 个月在 6–36 个月之内"]
    assert loan.match.cost.total == Decimal("468000.00")  # 6,000,000 × 1.95 % × 4 years
    assert offers["cdb-twin-city-loan"].verdict == "eligible"  # 100万–3亿, 12–60 months


def test_without_points_the_points_loan_needs_review(cast, products):
    offers = {o.product.product_id: o for o in selectors.enterprise_match(enterprise=cast.alice_co, on=ON)}
    loan = offers["crcb-points-loan"]
    assert loan.verdict == "needs_review" and loan.match.credit_line is None
    assert loan.match.conditions[0].reason_zh == "待核实：科学城创新积分评级 A–E（缺少：scp-v1 等级）"


def test_the_facts_are_the_registrys_plus_the_latest_points(cast, scored):
    facts = selectors.enterprise_facts(enterprise=cast.alice_co, on=ON, standards=["scp-v1", "tsme-2017"])
    assert (facts["id"], facts["city"], facts["oprev_y3"], facts["hnte_valid"]) == (ALICE_CODE, "chongqing", 5000.0,
                                                                                    True)
    assert facts["grade.scp-v1"] == "A"
    assert (facts["score.tsme-2017"], facts["grade.tsme-2017"]) == (None, None)  # no tsme run


def test_the_match_api_for_alice(client, cast, products, scored):
    client.force_login(cast.alice)
    r = client.get("/api/finance/match?amount=1500000&term_months=24")
    assert r.status_code == 200
    body = r.json()
    assert body["credit_code"] == ALICE_CODE and body["amount"] == "1500000.00" and body["term_months"] == 24
    loan = next(o for o in body["offers"] if o["product_id"] == "crcb-points-loan")
    assert loan["verdict"] == "eligible" and loan["credit_line"] == "5000000" and loan["annual_rate"] == "0.0195"
    assert loan["cost"] == {"amount": "1500000.00", "term_months": 24, "annual_rate": "0.0195", "interest": "103500.00",
                            "guarantee_fee": "0.00", "interest_subsidy": "45000.00", "fee_subsidy": "0.00",
                            "total": "58500.00"}
    assert [c["met"] for c in loan["conditions"]] == [True, True, True, True]
    assert [c["id"] for c in loan["limits"]] == ["amount", "credit_line", "term"]


def test_the_match_api_counts_an_amount_to_the_fen_over_twelve_months_by_default(client, cast, products, scored):
    client.force_login(cast.alice)
    body = client.get("/api/finance/match?amount=1000000.005").json()
    assert (body["amount"], body["term_months"]) == ("1000000.01", 12)
    assert next(o for o in body["offers"] if o["product_id"] == "crcb-points-loan")["cost"]["total"] == "19500.00"
    body = client.get("/api/finance/match?term_months=24").json()  # no amount: eligibility alone
    assert body["amount"] is None and body["term_months"] is None
    assert all(o["cost"] is None and o["limits"] == [] for o in body["offers"])


@pytest.mark.parametrize("query", ["amount=0.001", "amount=-5&term_months=12", "amount=1e12",
                                   "amount=100&term_months=0", "enterprise=nope"])
def test_the_match_api_refuses_bad_input_in_the_one_error_shape(client, cast, products, query):
    client.force_login(cast.alice)
    r = client.get(f"/api/finance/match?{query}")
    assert r.status_code == 422 and set(r.json()) == {"message", "code", "extra"}


def test_the_page_shows_alice_her_products_with_net_cost(client, cast, products, scored):
    client.force_login(cast.alice)
    page = client.get("/finance/products/?amount=100&term_months=12").content.decode()
    assert 'data-product="crcb-points-loan" data-verdict="eligible"' in page
    assert "19,500.00 元" in page and "1.95%" in page and "5,000,000.00 元" in page
    assert "满足：金额不超过授信额度 500万" in page
    assert 'data-product="cqb-srdi-loan" data-verdict="ineligible"' in page
    partial = client.get("/finance/products/?amount=100&term_months=12", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "19,500.00 元" in partial


def test_the_page_in_english(client, cast, products, scored):
    client.force_login(cast.alice)
    client.cookies["django_language"] = "en"
    page = client.get("/finance/products/?amount=100&term_months=12").content.decode()
    assert "Financial products" in page and "Net annual rate" in page and "19,500.00 yuan" in page
    assert "met: registered in Chongqing" in page


def test_others_see_the_catalogue_and_products(client, cast, products):
    for persona in ("bella", "olivia", "owen"):
        client.force_login(getattr(cast, persona))
        page = client.get("/finance/products/").content.decode()
        assert 'data-product="crcb-points-loan"' in page and "1.95%" in page
        detail = client.get("/finance/products/crcb-points-loan/").content.decode()
        assert 'data-grade="A"' in detail and "500" in detail and 'data-version="1"' in detail
    client.logout()
    assert client.get("/finance/products/").status_code == 302  # to the login page
    client.force_login(cast.alice)
    assert client.get("/finance/products/no-such-product/").status_code == 404


def test_the_products_api(client, cast, products):
    client.force_login(cast.bruno)
    r = client.get("/api/finance/products?kind=points_loan")
    assert r.status_code == 200 and [p["product_id"] for p in r.json()["items"]] == ["crcb-points-loan"]
    r = client.get("/api/finance/products/crcb-points-loan")
    body = r.json()
    assert (body["version"], body["rate"], body["institution"]) == (1, "0.034500", "重庆农村商业银行科学城支行")
    assert body["definition"]["standard"] == "scp-v1" and [v["version"] for v in body["versions"]] == [1]
    assert client.get("/api/finance/products/nope").status_code == 404


def test_the_catalogue_says_a_range_as_a_person_reads_it(products):
    from twincity.finance.presentation import product_row, span

    assert [span("1", "2"), span("1", None), span(None, "2"), span(None, None)] == ["1 – 2", "≥ 1", "≤ 2", "—"]
    points_loan = product_row(products["crcb-points-loan"])
    assert (points_loan["amounts"], points_loan["terms"]) == ("10 万元 – 500 万元", "6 – 36")
    equity = next(p for p in products.values() if p.kind == "equity")
    assert (product_row(equity)["amounts"], product_row(equity)["terms"]) == ("—", "—")
