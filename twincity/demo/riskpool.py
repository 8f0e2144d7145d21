"""The demo's guarantees and risk pool: the Science City's risk compensation pool (funded 市:区 = 4:6, as the
知识价值 fund is, reference/finance.md §4.2), 重庆科学城融资担保 guaranteeing demo loans with 双城信用增进 as
re-guarantor at 4:3:2:1 (guarantor:re-guarantor:bank:pool, the Anhui split of §4.1), and one default with a
payout and a recovery, so the pool, guarantee and claims pages show real figures.

Everything goes through the services (the one write path: the ledger is exactly what the platform posts),
acted by the personas who would do each step: olivia runs the pool, gary guarantees and reviews, bella files
the claim and records the recovery; the guaranteed loan that defaults is alice's demand taken through the
finance services (claimed, approved, disbursed, overdue, defaulted) like the other demo cases. The other
guarantees go on the demo's disbursed loans (twincity.demo.finance.demo_cases_load)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.demo.personas import ALICE_CODE
from twincity.enterprises.models import Enterprise
from twincity.finance import services as finance_services
from twincity.finance.models import Application, ApplicationState, FinancialProduct
from twincity.riskpool import services
from twincity.riskpool.models import (
    Claim,
    Guarantee,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Recovery,
    RiskPool,
)

POOL_NAME = "西部(重庆)科学城科技型企业融资风险补偿资金池"
CITY_FUND = "重庆市科学技术局"  # the city-level contributor (the district level is the Science City committee)
SHARES = {"guarantor": 4, "reguarantor": 3, "bank": 2, "pool": 1}
EXISTING_LOANS = 3  # guarantees on the demo's approved or disbursed loans (within the product's limit)
PRINCIPAL = Decimal("1500000.00")  # the guaranteed loan that defaults
DEFAULT_LOSS = Decimal("1234567.89")  # its unrecovered principal, claimed
RECOVERED = Decimal("200000.00")


def demo_riskpool_load(orgs: dict[str, Organisation], *, now=None) -> int:
    """The pool, its contributions, guarantees on the demo's disbursed loans, one guaranteed loan that
    defaults with a paid claim and a recovery; how many guarantees were added (0 when the pool exists
    already or a persona is missing)."""
    if RiskPool.objects.filter(name=POOL_NAME).exists():
        return 0
    people = {u.username: u for u in User.objects.filter(username__in=("olivia", "gary", "bella", "alice"))}
    if len(people) < 4 or any(key not in orgs for key in ("cq_committee", "cq_guarantee", "sc_credit")):
        return 0
    olivia, gary, bella, alice = (people[n] for n in ("olivia", "gary", "bella", "alice"))
    now = now or timezone.now()
    city_fund, _created = Organisation.objects.get_or_create(kind=Organisation.Kind.GOVERNMENT, name=CITY_FUND,
                                                             defaults={"city": "chongqing"})
    product = FinancialProduct.objects.filter(product_id="cqg-tech-guarantee",
                                              status=FinancialProduct.Status.PUBLISHED).first()
    pool = services.pool_create(actor=olivia, name=POOL_NAME, operator=orgs["cq_committee"], city="chongqing",
                                default_shares=SHARES, product_shares={"cqg-tech-guarantee": SHARES},
                                breaker_threshold="0.3", payout_cap_rate="0.8")
    services.pool_contribute(actor=olivia, pool=pool, contributor=city_fund, amount="4000000.00",
                             memo="市级出资 (city, 4 of 4:6)")
    services.pool_contribute(actor=olivia, pool=pool, contributor=orgs["cq_committee"], amount="6000000.00",
                             memo="区级出资 (district, 6 of 4:6)")

    def guarantee(loan: Application) -> Guarantee:
        return services.guarantee_attach(actor=gary, pool=pool, application=loan, guarantor=orgs["cq_guarantee"],
                                         reguarantor=orgs["sc_credit"], product=product,
                                         fee_rate=None if product else "0.01")

    added = 0
    cap = product.max_amount if product is not None and product.max_amount else Decimal("10000000")
    disbursed = (Application.objects.filter(state__in=(ApplicationState.APPROVED, ApplicationState.DISBURSED),
                                            lead_institution__kind="bank", approved_amount__lte=cap,
                                            guarantee__isnull=True).order_by("pk")[:EXISTING_LOANS])
    for loan in disbursed:
        guarantee(loan)
        added += 1

    alice_co = Enterprise.objects.filter(credit_code=ALICE_CODE).first()
    if alice_co is None or bella.organisation_id is None:
        return added

    def ago(days: int):
        return now - timedelta(days=days)

    loan = finance_services.case_create(actor=alice, enterprise=alice_co, kind="demand", amount=PRINCIPAL,
                                        term_months=12, purpose="订单备货（科学城担保）", submit=True, at=ago(280))
    loan = finance_services.case_claim(actor=bella, case=loan, at=ago(279))
    loan = finance_services.case_decide(actor=bella, case=loan, decision="approve", amount=PRINCIPAL,
                                        rate="0.0345", comment="担保增信后同意授信", at=ago(275))
    loan = finance_services.case_disburse(actor=bella, case=loan, at=ago(270))
    g = guarantee(loan)
    added += 1
    loan = finance_services.case_mark_overdue(actor=bella, case=loan, amount=DEFAULT_LOSS, on=ago(120).date(),
                                              at=ago(120))
    finance_services.case_default(actor=bella, case=loan, comment="逾期超过90天，借款人无力偿还", at=ago(20))
    claim = services.claim_file(actor=bella, guarantee=g, amount=DEFAULT_LOSS,
                                description="逾期超过90天，借款人无力偿还 (over 90 days overdue)")
    services.claim_transition(actor=gary, claim=claim, action="review")
    services.claim_transition(actor=gary, claim=claim, action="approve")
    services.claim_transition(actor=olivia, claim=claim, action="pay")
    services.recovery_record(actor=bella, claim=claim, amount=RECOVERED,
                             note="处置抵押设备所得 (proceeds of the pledged equipment)")
    return added


def demo_riskpool_reset() -> None:
    """Remove every risk-pool row (before the financing cases they name are reset)."""
    LedgerEntry.objects.all().delete()
    LedgerTransaction.objects.all().delete()
    LedgerAccount.objects.all().delete()
    Recovery.objects.all().delete()
    Claim.objects.all().delete()
    Guarantee.objects.all().delete()
    RiskPool.objects.all().delete()
