"""The demo seed publishes the demo institutions' products, so alice sees real products and figures."""

from datetime import date
from decimal import Decimal

from twincity.accounts.models import User
from twincity.demo import services as demo
from twincity.enterprises.models import Enterprise
from twincity.finance import selectors
from twincity.finance.models import FinancialProduct
from twincity.points import selectors as points_selectors
from twincity.points import services as points_services
from twincity.points import tasks as points_tasks
from twincity.testing import ALICE_CODE


def test_the_demo_publishes_products_and_alice_sees_them_with_net_costs(client, db):
    result = demo.seed(enterprises=30, seed=3)
    assert result.products == 6
    assert sorted(FinancialProduct.objects.values_list("product_id", "institution__name")) == [
        ("ccb-tech-credit", "中国建设银行重庆科学城支行"), ("cdb-twin-city-loan", "成都银行重庆分行"),
        ("cqb-srdi-loan", "重庆银行西部科学城支行"), ("cqg-tech-guarantee", "重庆科学城融资担保有限公司"),
        ("crcb-points-loan", "重庆农村商业银行科学城支行"), ("kxc-fund-equity", "西部(重庆)科学城产业引导基金"),
    ]
    points_loan = FinancialProduct.objects.get(product_id="crcb-points-loan")
    assert points_loan.definition["standard"] == "scp-v1" and points_loan.min_amount == Decimal("100000")
    assert selectors.engine_product(points_loan).credit_line("E") == Decimal("800000")  # 知识价值 E = 80万

    olivia = User.objects.get(username="olivia")
    standard = points_selectors.standard_latest(standard_id="scp-v1")
    run = points_services.scoring_run_create(actor=olivia, standard=standard, evaluation_date=date(2026, 11, 1))
    points_tasks.scoring_run_start(run=run)
    alice_co = Enterprise.objects.get(credit_code=ALICE_CODE)
    grade = points_selectors.result_latest(enterprise=alice_co, standard_id="scp-v1").grade
    offers = {o.product.product_id: o for o in selectors.enterprise_match(
        enterprise=alice_co, on=date(2026, 11, 29), amount=Decimal("800000"), term_months=12)}
    assert offers["crcb-points-loan"].match.conditions[0].met is True
    assert offers["crcb-points-loan"].match.credit_line == {"A": 5000000, "B": 4000000, "C": 3000000,
                                                            "D": 1600000, "E": 800000}[grade]
    assert offers["crcb-points-loan"].match.cost.total == Decimal("15600.00")  # 800,000 × 1.95 %

    client.force_login(User.objects.get(username="alice"))
    page = client.get("/finance/products/?amount=80&term_months=12").content.decode()
    assert page.count('class="card offer"') == 6 and "15,600.00 元" in page
    assert demo.seed(enterprises=30, seed=3).seeded is False  # a second seed adds nothing
    assert FinancialProduct.objects.count() == 6


def test_the_demo_has_cases_in_every_state_and_bobs_twin_city_loan(db):
    import time

    from twincity.finance.models import Application, ApplicationEvent, BranchDecision

    started = time.process_time()
    result = demo.seed(enterprises=30, seed=3)
    assert result.cases == 17 == Application.objects.count()
    states = set(Application.objects.values_list("state", flat=True))
    assert states == {"draft", "submitted", "published", "claimed", "due_diligence", "approved", "rejected",
                      "referred_back", "disbursed", "repaid", "overdue", "defaulted", "withdrawn"}
    assert Application.objects.filter(escalated_at__isnull=False, state="published").count() == 1
    twin = Application.objects.get(state="disbursed", partner_institution__isnull=False)
    assert (twin.enterprise.credit_code, twin.lead_institution.name, twin.partner_institution.name,
            twin.approved_amount) == ("91510100MA6CGNB36L", "成都银行重庆分行", "成都银行高新支行", Decimal("287000000.00"))
    assert sorted(BranchDecision.objects.filter(application=twin).values_list("institution__name", "share_amount")) == [
        ("成都银行重庆分行", Decimal("187000000.00")), ("成都银行高新支行", Decimal("100000000.00"))]
    assert ApplicationEvent.objects.filter(action="escalate").count() == 1
    assert time.process_time() - started < 30  # the whole seed, cases included, stays quick
