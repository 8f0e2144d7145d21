"""The risk-pool cast: the persona cast plus a re-guarantor and a second contributor, a pool run by the
Science City committee (olivia's organisation), and loans (finance.Application) of the cast's banks."""

from datetime import date
from decimal import Decimal

import pytest

from twincity.accounts.models import Organisation, User
from twincity.finance.models import Application, ApplicationState
from twincity.riskpool import services

ANHUI = {"guarantor": 4, "reguarantor": 3, "bank": 2, "pool": 1}  # reference/finance.md §4.1


def make_loan(cast, *, enterprise=None, lender=None, amount="2000000.00", state=ApplicationState.DISBURSED,
              term=12) -> Application:
    amount = Decimal(amount)
    return Application.objects.create(
        kind="demand", enterprise=enterprise or cast.alice_co, amount=amount, term_months=term,
        purpose="流动资金 working capital", lead_institution=lender or cast.bank_a_branch, state=state,
        approved_amount=amount, approved_rate=Decimal("0.0345"), approved_term_months=term,
        disbursed_amount=amount if state != ApplicationState.APPROVED else None,
        disbursed_on=date(2026, 3, 2) if state != ApplicationState.APPROVED else None)


def default(loan: Application) -> None:
    """The loan defaults (the loans domain's state machine does this in the platform)."""
    Application.objects.filter(pk=loan.pk).update(state=ApplicationState.DEFAULTED, defaulted_on=date(2026, 9, 30))
    loan.refresh_from_db()


@pytest.fixture
def reguarantor(db):
    return Organisation.objects.create(name="四川再担保 (test)", kind="guarantor", city="chengdu")


@pytest.fixture
def district(db):
    return Organisation.objects.create(name="重庆高新区财政局 (test)", kind="government", city="chongqing")


@pytest.fixture
def pool(cast, district):
    pool = services.pool_create(actor=cast.olivia, name="科学城风险补偿资金池", operator=cast.committee,
                                city="chongqing", default_shares=ANHUI, breaker_threshold="0.5",
                                product_shares={"two-eight": {"bank": 2, "pool": 8}})
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=cast.committee, amount="4000000.00")
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=district, amount="6000000.00")
    pool.refresh_from_db()
    return pool


@pytest.fixture
def operator(cast):
    """A member of the pool's operator who is not an administrator."""
    return User.objects.create_user("oscar", password="x", role=User.Role.CLERK, organisation=cast.committee)
