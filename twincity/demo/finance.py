"""The demo's financial products: what the demo banks, guarantor and fund publish, as finance_engine product
definitions (conditions in the points standards' rule language, pricing as annual rates, limits in yuan).
Loaded by the demo seed (no audit entries: seeding is not a user action) and used by the finance tests."""

from typing import Any

from twincity.accounts.models import Organisation
from twincity.finance.models import FinancialProduct
from twincity.finance.services import product_version_build

GRADES_A_TO_E = "grade == 'A' or grade == 'B' or grade == 'C' or grade == 'D' or grade == 'E'"

# (organisation key of twincity.demo.personas, product id, definition)
DEMO_PRODUCTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("crcb_kxc", "crcb-points-loan", {
        "kind": "points_loan", "name_zh": "知识价值信用贷（创新积分贷）", "name_en": "Knowledge-value credit loan (innovation points)",
        "standard": "scp-v1",
        "conditions": [
            {"id": "grade", "name_zh": "科学城创新积分评级 A–E", "name_en": "Science City points grade A–E",
             "expr": GRADES_A_TO_E},
            {"id": "city", "name_zh": "注册在重庆", "name_en": "registered in Chongqing", "expr": "city == 'chongqing'"},
            {"id": "age", "name_zh": "成立满1年", "name_en": "at least one year since registration",
             "expr": "reg_days >= 365"},
            {"id": "compliant", "name_zh": "近三年无重大违法违规", "name_en": "no serious violation in three years",
             "expr": "compliant and not prohibited"},
        ],
        # 知识价值信用贷款: the A–E lines (500/400/300/160/80万) are the points loan's default table.
        "pricing": {"rate": "0.0345", "interest_subsidy": "0.015"},
        "limits": {"min_amount": "100000", "max_amount": "5000000", "min_term_months": 6, "max_term_months": 36},
    }),
    ("cdb_cq", "cdb-twin-city-loan", {
        "kind": "twin_city_loan", "name_zh": "双城贷", "name_en": "Twin-city loan",
        "conditions": [
            {"id": "cities", "name_zh": "注册在重庆或成都", "name_en": "registered in Chongqing or Chengdu",
             "expr": "city == 'chongqing' or city == 'chengdu'"},
            {"id": "title", "name_zh": "高新技术企业或科技型中小企业", "name_en": "high-tech enterprise or tech-based SME",
             "expr": "hnte_valid or tsme_valid"},
            {"id": "revenue", "name_zh": "上年营业收入不低于1000万元", "name_en": "last year's revenue at least 10 million yuan",
             "expr": "oprev_y3 >= 1000"},
        ],
        "pricing": {"rate": "0.039", "guarantee_fee": "0.01", "fee_subsidy": "0.005"},
        "credit_line": {"max_amount": "300000000"},
        "limits": {"min_amount": "1000000", "max_amount": "300000000", "min_term_months": 12, "max_term_months": 60},
    }),
    ("ccb_cq", "ccb-tech-credit", {
        "kind": "credit_loan", "name_zh": "科技信用贷", "name_en": "Tech credit loan",
        "conditions": [
            {"id": "hnte", "name_zh": "有效期内的高新技术企业", "name_en": "a valid high-tech enterprise title",
             "expr": "hnte_valid"},
            {"id": "revenue", "name_zh": "上年营业收入不低于2000万元", "name_en": "last year's revenue at least 20 million yuan",
             "expr": "oprev_y3 >= 2000"},
            {"id": "profit", "name_zh": "上年盈利", "name_en": "profitable last year", "expr": "net_profit_y3 > 0"},
        ],
        "pricing": {"rate": "0.0365"},
        "limits": {"min_amount": "500000", "max_amount": "10000000", "min_term_months": 6, "max_term_months": 36},
    }),
    ("cqb_kxc", "cqb-srdi-loan", {
        "kind": "credit_loan", "name_zh": "专精特新贷", "name_en": "SRDI loan",
        "conditions": [
            {"id": "srdi", "name_zh": "专精特新中小企业", "name_en": "a specialised-and-sophisticated SME",
             "expr": "srdi_valid"},
            {"id": "city", "name_zh": "注册在重庆", "name_en": "registered in Chongqing", "expr": "city == 'chongqing'"},
        ],
        "pricing": {"rate": "0.033", "interest_subsidy": "0.01"},
        "limits": {"min_amount": "500000", "max_amount": "20000000", "min_term_months": 12, "max_term_months": 36},
    }),
    ("cq_guarantee", "cqg-tech-guarantee", {
        "kind": "guarantee", "name_zh": "科技型企业融资担保", "name_en": "Tech enterprise financing guarantee",
        "conditions": [
            {"id": "city", "name_zh": "注册在重庆", "name_en": "registered in Chongqing", "expr": "city == 'chongqing'"},
            {"id": "title", "name_zh": "科技型中小企业", "name_en": "a tech-based SME", "expr": "tsme_valid"},
        ],
        "pricing": {"rate": "0", "guarantee_fee": "0.01", "fee_subsidy": "0.005"},
        "limits": {"min_amount": "100000", "max_amount": "10000000", "min_term_months": 6, "max_term_months": 36},
    }),
    ("kxc_fund", "kxc-fund-equity", {
        "kind": "equity", "name_zh": "科学城产业引导基金直投", "name_en": "Science City guidance fund: direct equity",
        "conditions": [
            {"id": "cluster", "name_zh": "集成电路、智能网联新能源汽车或生物医药", "name_en": "IC, EV or biomedicine",
             "expr": "industry_cluster == 'ic' or industry_cluster == 'ev' or industry_cluster == 'biomed'"},
            {"id": "young", "name_zh": "成立不超过10年", "name_en": "at most ten years since registration",
             "expr": "reg_days <= 3650"},
        ],
    }),
)


def demo_products(organisations: dict[str, Organisation]) -> list[FinancialProduct]:
    """Version 1 of every demo product, unsaved, for the organisations by persona key (those present)."""
    return [product_version_build(institution=organisations[key], product_id=product_id, version=1,
                                  definition=definition)
            for key, product_id, definition in DEMO_PRODUCTS if key in organisations]


def demo_products_load(organisations: dict[str, Organisation]) -> int:
    """Publish the demo products that are not there yet; how many were added."""
    have = set(FinancialProduct.objects.values_list("product_id", flat=True))
    new = [p for p in demo_products(organisations) if p.product_id not in have]
    FinancialProduct.objects.bulk_create(new)
    return len(new)


# --- demands and applications over the last year, through the finance services (the one write path) ----------

DEMO_OFFICERS = (  # a credit officer of the twin-city loan's lead branch (not a PRODUCT.md persona)
    ("dora", "cdb_cq", "Dora 朵拉"),
)


def demo_cases_reset() -> None:
    """Forget every financing case (with its timeline and decisions), before the registry is reset."""
    from twincity.finance.models import Application

    Application.objects.all().delete()


def demo_cases_load(organisations: dict[str, Organisation], *, now=None) -> int:
    """alice's and bob's demands and applications in every state over the last year, and bob's twin-city loan
    (成都 registered, 重庆 project: 成都银行重庆分行 leads, 成都银行高新支行 partners), made by the finance
    services with the persona officers as actors; how many cases. Skipped when there are cases already."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from twincity.accounts.models import User
    from twincity.demo.personas import DEMO_PASSWORD
    from twincity.enterprises.models import Enterprise
    from twincity.finance import services
    from twincity.finance.models import Application

    if Application.objects.exists() or "alice_org" not in organisations or "cdb_cq" not in organisations:
        return 0
    now = now or timezone.now()
    users = {u.username: u for u in User.objects.filter(username__in=("alice", "bob", "bella", "bruno"))}
    if len(users) < 4:
        return 0
    for username, key, name in DEMO_OFFICERS:
        users[username], _created = User.objects.update_or_create(
            username=username, defaults={"role": User.Role.BANK_OFFICER, "organisation": organisations[key],
                                         "display_name": name, "password": make_password(DEMO_PASSWORD)})
    alice, bob, bella, bruno, dora = (users[n] for n in ("alice", "bob", "bella", "bruno", "dora"))
    alice_co = Enterprise.objects.get(organisation=organisations["alice_org"])
    bob_co = Enterprise.objects.get(organisation=organisations["bob_org"])
    products = {p.product_id: p for p in FinancialProduct.objects.filter(status=FinancialProduct.Status.PUBLISHED)}

    def ago(days: int, hours: int = 0):
        return now - timedelta(days=days, hours=hours)

    def demand(actor, company, amount, term, purpose, days, submit=True, project_city=""):
        return services.case_create(actor=actor, enterprise=company, kind="demand", amount=amount, term_months=term,
                                    purpose=purpose, project_city=project_city, submit=submit, at=ago(days))

    def claimed(case, officer, days):
        return services.case_claim(actor=officer, case=case, at=ago(days))

    def approved(case, officer, amount, rate, days):
        return services.case_decide(actor=officer, case=case, decision="approve", amount=amount, rate=rate,
                                    comment="经审查同意授信", at=ago(days))

    made = []
    # alice (重庆): a full life, repaid; one overdue then defaulted; one in each open state.
    case = claimed(demand(alice, alice_co, "3000000", 12, "28nm 流片与封测费用", 340), bella, 339)
    case = services.case_start_review(actor=bella, case=case, at=ago(338))
    case = approved(case, bella, "2800000", "0.0345", 332)
    case = services.case_disburse(actor=bella, case=case, at=ago(330))
    case = services.case_repay(actor=bella, case=case, amount="800000", at=ago(200))
    made.append(services.case_repay(actor=bella, case=case, at=ago(5)))
    case = approved(claimed(demand(alice, alice_co, "1000000", 12, "研发设备采购", 300), bella, 299), bella,
                    "1000000", "0.0380", 293)
    case = services.case_disburse(actor=bella, case=case, at=ago(290))
    case = services.case_mark_overdue(actor=bella, case=case, amount="250000", on=ago(60).date(), at=ago(60))
    made.append(services.case_default(actor=bella, case=case, comment="逾期超过90天，进入代偿程序", at=ago(1)))
    case = approved(claimed(demand(alice, alice_co, "1500000", 24, "产线扩建", 150), bella, 149), bella,
                    "1200000", "0.0360", 140)
    made.append(services.case_disburse(actor=bella, case=case, at=ago(138)))  # disbursed, being repaid
    case = approved(claimed(demand(alice, alice_co, "800000", 12, "流动资金", 120), bella, 119), bella,
                    "800000", "0.0390", 112)
    case = services.case_disburse(actor=bella, case=case, at=ago(110))
    made.append(services.case_mark_overdue(actor=bella, case=case, amount="120000", on=ago(10).date(),
                                           at=ago(10)))
    case = claimed(demand(alice, alice_co, "5000000", 36, "新厂房建设", 90), bella, 89)
    made.append(services.case_decide(actor=bella, case=case, decision="reject", at=ago(80),
                                     comment="申请金额超过企业经营规模可承受范围"))
    case = claimed(demand(alice, alice_co, "2000000", 24, "EDA 软件许可", 40), bella, 39)
    made.append(services.case_decide(actor=bella, case=case, decision="refer_back", at=ago(33),
                                     comment="请补充近两年审计报告"))
    made.append(approved(claimed(demand(alice, alice_co, "600000", 12, "人才引进", 20), bella, 19), bella,
                         "600000", "0.0350", 12))  # approved, not yet disbursed
    made.append(services.case_start_review(actor=bella, case=claimed(
        demand(alice, alice_co, "1200000", 24, "测试设备", 30), bella, 29), at=ago(28)))  # past its 10 days
    made.append(claimed(demand(alice, alice_co, "900000", 12, "原材料备货", 4), bella, 3))
    made.append(services.case_withdraw(actor=alice, case=demand(alice, alice_co, "500000", 6, "临时周转", 60),
                                       comment="已通过其他渠道解决", at=ago(59)))
    escalated = demand(alice, alice_co, "700000", 12, "市场拓展", 25)
    services.demands_escalate(now=ago(18))
    made.append(escalated)  # published, not claimed in 3 working days: escalated
    made.append(demand(alice, alice_co, "400000", 12, "知识产权质押补充资金", 0))  # published today
    made.append(demand(alice, alice_co, "300000", 6, "草稿：设备租赁", 2, submit=False))  # draft
    if "crcb-points-loan" in products:
        made.append(services.case_create(actor=alice, enterprise=alice_co, kind="application",
                                         product=products["crcb-points-loan"], amount="1000000", term_months=12,
                                         purpose="创新积分贷：研发投入", submit=True, at=ago(1)))  # submitted
    # bob (成都): a demand claimed by bruno, repaid; his twin-city loan, approved by both branches and lent.
    case = approved(claimed(demand(bob, bob_co, "2000000", 12, "软件研发", 200), bruno, 199), bruno,
                    "2000000", "0.0370", 192)
    case = services.case_disburse(actor=bruno, case=case, at=ago(190))
    made.append(services.case_repay(actor=bruno, case=case, at=ago(8)))
    if "cdb-twin-city-loan" in products:
        case = services.case_create(actor=bob, enterprise=bob_co, kind="application",
                                    product=products["cdb-twin-city-loan"], amount="287000000", term_months=60,
                                    purpose="重庆高新区储能电站项目（成都注册主体）", registered_city="chengdu",
                                    project_city="chongqing", submit=True, at=ago(45))
        case = services.case_claim(actor=dora, case=case, at=ago(44))
        case = services.case_start_review(actor=dora, case=case, at=ago(43))
        case = services.case_decide(actor=dora, case=case, decision="approve", amount="187000000", rate="0.0390",
                                    term_months=60, comment="牵头行：项目现金流可覆盖", at=ago(30))
        case = services.case_decide(actor=bruno, case=case, decision="approve", amount="100000000",
                                    rate="0.0390", term_months=60, comment="参贷行：主体信用良好", at=ago(24))
        made.append(services.case_disburse(actor=dora, case=case, at=ago(20)))
        # A second twin-city application, waiting for the partner branch's decision.
        case = services.case_create(actor=bob, enterprise=bob_co, kind="application",
                                    product=products["cdb-twin-city-loan"], amount="50000000", term_months=36,
                                    purpose="重庆研发中心装修与设备", registered_city="chengdu",
                                    project_city="chongqing", submit=True, at=ago(6))
        case = services.case_claim(actor=dora, case=case, at=ago(5))
        made.append(services.case_decide(actor=dora, case=case, decision="approve", amount="30000000",
                                         rate="0.0395", term_months=36, comment="牵头行同意", at=ago(2)))
    return len(made)
