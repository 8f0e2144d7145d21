"""The demo's guarantees and risk pool: the Science City's risk compensation pool (funded 市:区 = 4:6, as the
知识价值 fund is, reference/finance.md §4.2), 重庆科学城融资担保 guaranteeing four demo loans with 双城信用增进 as
re-guarantor at 4:3:2:1 (guarantor:re-guarantor:bank:pool, the Anhui split of §4.1), and one default with a
payout and a recovery, so the pool, guarantee and claims pages show real figures.

Unlike the registry, these rows go through the risk-pool services (the one write path: the ledger is exactly
what the platform posts), acted by the personas who would do each step (olivia runs the pool, gary
guarantees and reviews, bella files the claim and records the recovery), so the audit trail shows those
steps. The loans themselves are financing cases written directly, in the states they would have reached."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.demo.personas import ALICE_CODE, BOB_CODE
from twincity.enterprises.models import Enterprise
from twincity.finance.models import Application, ApplicationKind, ApplicationState, FinancialProduct
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
DEMO_PURPOSE = "流动资金（担保演示）"  # marks the financing cases this module writes
SHARES = {"guarantor": 4, "reguarantor": 3, "bank": 2, "pool": 1}
# (persona organisation key of the lending branch, principal in yuan, months, defaults?)
LOANS = (
    ("crcb_kxc", Decimal("3000000.00"), 24, False),
    ("cqb_kxc", Decimal("1500000.00"), 12, False),
    ("ccb_cq", Decimal("2000000.00"), 36, False),
    ("crcb_kxc", Decimal("1500000.00"), 12, True),
)
DEFAULT_LOSS = Decimal("1234567.89")  # the unrecovered principal claimed
RECOVERED = Decimal("200000.00")


def demo_riskpool_load(orgs: dict[str, Organisation]) -> int:
    """The pool, its contributions, the demo loans' guarantees, one paid claim and a recovery; how many
    guarantees were added (0 when a pool exists already or a persona is missing)."""
    if RiskPool.objects.filter(name=POOL_NAME).exists():
        return 0
    people = {u.username: u for u in User.objects.filter(username__in=("olivia", "gary", "bella"))}
    needed = ("cq_committee", "cq_guarantee", "sc_credit", "crcb_kxc", "cqb_kxc", "ccb_cq")
    if len(people) < 3 or any(key not in orgs for key in needed):
        return 0
    olivia, gary, bella = people["olivia"], people["gary"], people["bella"]
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

    borrowers = [Enterprise.objects.get(credit_code=ALICE_CODE)] + list(
        Enterprise.objects.filter(city="chongqing").exclude(credit_code__in=(ALICE_CODE, BOB_CODE))
        .order_by("credit_code")[: len(LOANS) - 1])
    today = timezone.localdate()
    added = 0
    for (branch, principal, months, defaults), borrower in zip(LOANS, borrowers):
        disbursed = today - timedelta(days=300 if defaults else 120)
        loan = Application.objects.create(
            kind=ApplicationKind.DEMAND, enterprise=borrower, amount=principal, term_months=months,
            purpose=DEMO_PURPOSE, registered_city=borrower.city, project_city=borrower.city,
            lead_institution=orgs[branch], state=ApplicationState.DISBURSED, approved_amount=principal,
            approved_rate=Decimal("0.0345"), approved_term_months=months, disbursed_amount=principal,
            disbursed_on=disbursed, created_by=bella)
        guarantee = services.guarantee_attach(actor=gary, pool=pool, application=loan, guarantor=orgs["cq_guarantee"],
                                              reguarantor=orgs["sc_credit"], product=product,
                                              fee_rate=None if product else "0.01")
        added += 1
        if defaults:
            Application.objects.filter(pk=loan.pk).update(
                state=ApplicationState.DEFAULTED, overdue_amount=DEFAULT_LOSS,
                overdue_since=disbursed + timedelta(days=150), defaulted_on=disbursed + timedelta(days=240))
            claim = services.claim_file(actor=bella, guarantee=guarantee, amount=DEFAULT_LOSS,
                                        description="逾期超过90天，借款人无力偿还 (over 90 days overdue)")
            services.claim_transition(actor=gary, claim=claim, action="review")
            services.claim_transition(actor=gary, claim=claim, action="approve")
            services.claim_transition(actor=olivia, claim=claim, action="pay")
            services.recovery_record(actor=bella, claim=claim, amount=RECOVERED,
                                     note="处置抵押设备所得 (proceeds of the pledged equipment)")
    return added


def demo_riskpool_reset() -> None:
    """Remove the risk-pool rows and the demo's financing cases (before the registry they name is deleted)."""
    LedgerEntry.objects.all().delete()
    LedgerTransaction.objects.all().delete()
    LedgerAccount.objects.all().delete()
    Recovery.objects.all().delete()
    Claim.objects.all().delete()
    Guarantee.objects.all().delete()
    RiskPool.objects.all().delete()
    Application.objects.filter(purpose=DEMO_PURPOSE).delete()
