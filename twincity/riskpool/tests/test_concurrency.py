"""Two people paying out the same approved claim at the same moment, with real threads on the real database
(SQLite and PostgreSQL): exactly one payout is posted, the other answers Conflict and changes nothing."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from twincity.core.errors import Conflict
from twincity.riskpool import services
from twincity.riskpool.models import Claim, LedgerTransaction, RiskPool
from twincity.testing import Cast

from .conftest import ANHUI, default, make_loan


def run_together(*jobs):
    """Start every job at once; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payouts_of_one_claim_exactly_one_succeeds():
    from twincity.accounts.models import Organisation, User

    cast = Cast.create()
    reguarantor = Organisation.objects.create(name="再担保 (concurrency)", kind="guarantor")
    second_operator = User.objects.create_user("oscar", password="x", organisation=cast.committee)
    pool = services.pool_create(actor=cast.olivia, name="并发池", operator=cast.committee, default_shares=ANHUI,
                                breaker_threshold="0.9")
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=cast.committee, amount="1000000.00")
    loan = make_loan(cast, amount="1500000.00")
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor)
    default(loan)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="1234567.89")
    for action in ("review", "approve"):
        claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)

    def pay(actor):
        return lambda: services.claim_transition(actor=actor, claim=Claim.objects.get(pk=claim.pk), action="pay")

    outcomes = run_together(pay(cast.olivia), pay(second_operator))

    paid = [o for o in outcomes if isinstance(o, Claim)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(paid) == 1 and len(refused) == 1, outcomes
    assert refused[0].code in ("illegal_transition", "already_posted")
    assert LedgerTransaction.objects.filter(kind="payout").count() == 1
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    assert services.pool_cash(RiskPool.objects.get(pk=pool.pk)) == Decimal("1000000.00") - Decimal("123456.79")
